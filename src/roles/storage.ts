/** `storage`: the GlusterFS replica holding moodledata (volume setup: ./gluster.ts). */
import { GLUSTER_VOLUME } from './env';
import { ensureBricksOnline, healVolume, setupVolume, storageWriteProbe, volumeStatus, VolumeStatus } from './gluster';
import { nodesOf, RoleModule, roleOptions, RUNTIME_TMPFS } from './types';
import type { DerivedEvent } from './types';
import { forAll, forContainerRunning, forExec } from './wait-strategies';
import { errText } from '../core/errors';

export const storageRole: RoleModule = {
  role: 'storage',
  memoryMiB: 30, // measured idle: gluster1-3 25-26
  maxCount: 3,
  options: ['arbiter'],
  checkOptions(opts) {
    if (opts.count !== 3) return `count must be 3 (or the role left out): the volume is \`replica 3\``;
    return undefined;
  },
  spec: {
    role: 'storage',
    prefix: 'gluster',
    bareWhenAlone: false,
    image: 'gluster',
    ports: [],
    volumes: [
      { suffix: 'glusterd', path: '/var/lib/glusterd' },
      { suffix: 'bricks', path: '/bricks' },
    ],
    capAdd: ['SYS_ADMIN'],
    devices: [],
    tmpfs: RUNTIME_TMPFS,
    stopTimeoutS: 15,
    readiness: 'glusterd',
    dependsOn: [],
    sequential: false,
    stateless: false,
  },
  readiness: (t) =>
    forAll('glusterd', [
      forContainerRunning(t.docker.containers, t.node, t.containerId),
      forExec(t.docker.containers, t.containerId, 'glusterd', 60_000, ['gluster', 'peer', 'status'], { timeoutMs: 10_000 }, (r) =>
        r.exitCode === 0 ? undefined : (r.stderr || r.stdout).trim(),
      ),
    ]),
  hooks: {
    /** After brick loss: trigger Gluster's self-heal and report it until nothing is pending. */
    async afterHeal(ctx, nodes, ids) {
      const first = ids.get(nodes[0]!.name);
      if (!first) return;
      await healVolume(ctx.docker.containers, first, GLUSTER_VOLUME, { report: (m) => ctx.reporter.step(m), detail: (m) => ctx.reporter.detail(m) });
    },
    async afterStart(ctx, nodes, ids) {
      const { docker, reporter } = ctx;
      const first = ids.get(nodes[0]!.name)!;
      const arbiter = roleOptions(ctx.topology, 'storage').arbiter === true;
      reporter.step(`gluster: volume ${GLUSTER_VOLUME} (replica ${nodes.length}${arbiter ? ' arbiter 1' : ''})`);
      // Every brick online; a brick glusterd wrongly believes running (stale pidfile) is restarted.
      // A started volume is repaired first: the setup helper would wait for its bricks in vain.
      const bricks = () =>
        ensureBricksOnline(
          docker.containers,
          nodes.map((n) => ({ name: n.name, id: ids.get(n.name)! })),
          GLUSTER_VOLUME,
          { clock: ctx.clock, report: (m) => reporter.step(m) },
        );
      const before = await volumeStatus(docker.containers, first, GLUSTER_VOLUME).catch(() => undefined);
      if (before?.started) await bricks();
      await setupVolume(
        docker.containers,
        first,
        GLUSTER_VOLUME,
        nodes.map((n) => n.name),
        arbiter,
      );
      await bricks();
    },
  },
  collectStatus(ctx, storage) {
    if (storage.length === 0) return [];
    const { docker, status, byNode, running, health, topology } = ctx;
    return [
      // Ask any running storage node about the volume.
      (async () => {
        status.gluster.volume = GLUSTER_VOLUME;
        const asker = storage.map((n) => byNode.get(n.name)).find((c) => c?.state === 'running');
        let vs: VolumeStatus | undefined;
        if (asker) {
          try {
            vs = await volumeStatus(docker.containers, asker.id, GLUSTER_VOLUME);
          } catch (err) {
            status.gluster.error = errText(err);
          }
        } else status.gluster.error = 'no storage node running';
        status.gluster.started = vs?.started ?? false;
        status.gluster.healPending = vs?.healPending ?? 0;
        status.gluster.bricks = storage.map((n) => {
          const b = vs?.bricks.find((x) => x.host === n.name);
          // The volume's own word (volume info's isArbiter), not the lab file's.
          return { name: n.name, online: Boolean(running(n.name) && b?.online), ...(b?.arbiter ? { arbiter: true } : {}) };
        });
        for (const b of status.gluster.bricks)
          health.set(
            b.name,
            b.online ? { healthy: true } : { healthy: false, detail: running(b.name) ? 'brick offline' : (byNode.get(b.name)?.state ?? 'missing') },
          );
      })(),
      // Does the volume really take a write? Asked of one running web node's FUSE mount, in
      // parallel with the volume status: what the client does, not what the brick count predicts.
      (async () => {
        const webName = nodesOf(topology, 'web')
          .map((n) => n.name)
          .find((n) => running(n));
        if (!webName) {
          status.gluster.writeError = 'no web node running to probe the mount';
          return;
        }
        status.gluster.writeNode = webName;
        try {
          const p = await storageWriteProbe(docker.containers, byNode.get(webName)!.id);
          status.gluster.writable = p.writable;
          if (p.error) status.gluster.writeError = p.error;
        } catch (err) {
          // The probe itself could not run (not a verdict on the volume): writable stays unknown.
          status.gluster.writeError = `write probe on ${webName}: ${errText(err)}`;
        }
      })(),
    ];
  },
  greenProblems(s, count) {
    const out: string[] = [];
    const online = s.gluster.bricks.filter((b) => b.online).length;
    if (online !== count) out.push(`gluster ${online}/${count} bricks online`);
    if (s.gluster.healPending) out.push(`gluster ${s.gluster.healPending} pending heal`);
    if (s.gluster.writable === false) out.push(`gluster not writable: ${s.gluster.writeError ?? '?'}`);
    return out;
  },
  diff(prev, next) {
    const out: DerivedEvent[] = [];
    const prevB = new Map(prev.gluster.bricks.map((b) => [b.name, b]));
    for (const b of next.gluster.bricks) {
      const p = prevB.get(b.name);
      if (p && p.online !== b.online)
        out.push({ source: 'gluster', severity: b.online ? 'ok' : 'error', node: b.name, text: `brick ${b.name} ${b.online ? 'online' : 'offline'}` });
    }
    if (prev.gluster.healPending !== next.gluster.healPending && (prev.gluster.healPending === 0 || next.gluster.healPending === 0)) {
      out.push({
        source: 'gluster',
        severity: next.gluster.healPending ? 'warn' : 'ok',
        text: next.gluster.healPending ? `${next.gluster.healPending} pending heals` : 'no pending heals',
      });
    }
    return out;
  },
  failover: 'brick',
  display: {
    role: 'storage',
    order: 3,
    label: 'Storage (Gluster)',
    icon: 'files',
    reportTitle: 'GlusterFS (storage)',
    status: 'brick',
    panel: 'gluster',
    diagram: { title: 'Gluster', group: true, from: 'web' },
  },
};
