/** The replicated Gluster volume: created idempotently by the image's helper, read back as JSON. */
import type { ContainerClient } from '../docker/types';
import { Clock, notYet, ready, realClock, waitFor } from '../core/wait';
import { errText } from '../core/errors';

export interface VolumeStatus {
  volume: string;
  exists: boolean;
  started: boolean;
  bricks: { host: string; path?: string; online: boolean; arbiter?: boolean }[];
  healPending: number;
}

export function parseVolumeStatus(text: string): VolumeStatus {
  const line = text
    .trim()
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .pop();
  if (!line) throw new Error(`lab-volume-status printed no JSON: ${text.trim().slice(0, 200)}`);
  const v = JSON.parse(line) as Partial<VolumeStatus>;
  return {
    volume: String(v.volume ?? ''),
    exists: Boolean(v.exists),
    started: Boolean(v.started),
    bricks: Array.isArray(v.bricks)
      ? v.bricks.map((b) => ({
          host: String(b.host),
          ...(typeof b.path === 'string' && b.path ? { path: b.path } : {}),
          online: Boolean(b.online),
          ...(b.arbiter === true ? { arbiter: true } : {}),
        }))
      : [],
    healPending: Number(v.healPending ?? 0),
  };
}

/** `arbiter`: `replica 3 arbiter 1` (the last host's brick holds metadata only). */
export async function setupVolume(containers: ContainerClient, onNode: string, volume: string, hosts: string[], arbiter = false): Promise<void> {
  const r = await containers.exec(onNode, ['lab-volume-setup', ...(arbiter ? ['--arbiter'] : []), volume, ...hosts], { timeoutMs: 180_000 });
  if (r.exitCode !== 0) throw new Error(`gluster volume setup failed: ${(r.stderr || r.stdout).trim().split('\n').slice(-5).join(' | ')}`);
}

export async function volumeStatus(containers: ContainerClient, onNode: string, volume: string): Promise<VolumeStatus> {
  const r = await containers.exec(onNode, ['lab-volume-status', volume], { timeoutMs: 15_000 });
  if (r.exitCode !== 0 && !r.stdout.includes('{')) throw new Error((r.stderr || r.stdout).trim() || `lab-volume-status exited ${r.exitCode}`);
  return parseVolumeStatus(r.stdout);
}

/** Asks the self-heal daemon to heal now (it otherwise waits up to 600 s). */
export async function triggerHeal(containers: ContainerClient, onNode: string, volume: string): Promise<void> {
  const r = await containers.exec(onNode, ['gluster', '--mode=script', 'volume', 'heal', volume], { timeoutMs: 30_000 });
  if (r.exitCode !== 0) throw new Error(`gluster volume heal ${volume} failed: ${(r.stderr || r.stdout).trim()}`);
}

export interface HealOptions {
  timeoutMs?: number;
  /** Minimum time between two heal triggers the daemon refused. */
  retryMs?: number;
  clock?: Clock;
  report?: (line: string) => void;
  detail?: (line: string) => void;
}

/**
 * After brick loss: asks the self-heal daemon to heal now, and waits until nothing is pending.
 * Right after a brick comes back its self-heal daemons may not be connected yet and refuse the
 * trigger ("brick op 'Heal' failed"): it is retried while waiting; they also heal by themselves
 * once connected, so only the pending count decides.
 */
export async function healVolume(containers: ContainerClient, onNode: string, volume: string, opts: HealOptions = {}): Promise<void> {
  const clock = opts.clock ?? realClock;
  const report = opts.report ?? (() => undefined);
  const detail = opts.detail ?? (() => undefined);
  const retryMs = opts.retryMs ?? 5000;
  const initially = (await volumeStatus(containers, onNode, volume)).healPending;
  if (initially === 0) {
    report('gluster: nothing pending heal (every brick is in sync)');
    return;
  }
  report(`gluster: ${initially} entries pending heal (written while a brick was down)`);
  let triggered = false;
  let lastTry = -Infinity;
  let refusal = '';
  await waitFor(
    async () => {
      const n = (await volumeStatus(containers, onNode, volume)).healPending;
      if (n === 0) return ready(undefined);
      detail(`gluster: ${n} entries pending heal`);
      if (!triggered && clock.now() - lastTry >= retryMs) {
        lastTry = clock.now();
        try {
          await triggerHeal(containers, onNode, volume);
          triggered = true;
          report('gluster: self-heal triggered');
        } catch (err) {
          refusal = errText(err);
          detail(`gluster: heal trigger refused, retrying: ${refusal}`);
        }
      }
      return notYet(`${n} entries pending heal${triggered ? '' : refusal ? ` (heal trigger refused: ${refusal})` : ''}`);
    },
    { what: 'gluster self-heal', timeoutMs: opts.timeoutMs ?? 180_000, intervalMs: 1000, clock },
  );
  report('gluster: heal complete, nothing pending');
}

/** `gluster volume start <volume> force`: glusterd starts every brick it does not believe running. */
export async function forceStart(containers: ContainerClient, onNode: string, volume: string): Promise<void> {
  const r = await containers.exec(onNode, ['gluster', '--mode=script', 'volume', 'start', volume, 'force'], { timeoutMs: 30_000 });
  if (r.exitCode !== 0) throw new Error(`gluster volume start ${volume} force failed: ${(r.stderr || r.stdout).trim()}`);
}

/** Where glusterd keeps the PID of a brick's glusterfsd on the brick's host (/var/run is /run). */
export function brickPidfile(volume: string, host: string, brickPath: string): string {
  return `/run/gluster/vols/${volume}/${host}${brickPath.replace(/\//g, '-')}.pid`;
}

/** What a brick's pidfile says, read in the brick's container. */
export interface BrickPid {
  pidfile: string;
  /** The PID the file names; undefined when there is no file (or no number in it). */
  pid?: number;
  /** That PID is alive and is the glusterfsd serving this brick. */
  glusterfsd: boolean;
}

/** Reads the brick's pidfile and asks /proc whether its PID is the glusterfsd of this brick. */
export async function readBrickPid(containers: ContainerClient, container: string, volume: string, host: string, brickPath: string): Promise<BrickPid> {
  const pidfile = brickPidfile(volume, host, brickPath);
  const text = (await containers.exec(container, ['cat', pidfile], { timeoutMs: 5000 })).stdout.trim();
  const pid = /^\d+$/.test(text) ? Number(text) : undefined;
  if (pid === undefined) return { pidfile, glusterfsd: false };
  const r = await containers.exec(container, ['cat', `/proc/${pid}/cmdline`], { timeoutMs: 5000 });
  const argv = r.exitCode === 0 ? r.stdout.split('\0') : [];
  const glusterfsd = /(^|\/)glusterfsd$/.test(argv[0] ?? '') && argv.includes(brickPath);
  return { pidfile, pid, glusterfsd };
}

export interface BrickNode {
  name: string;
  /** Container id. */
  id: string;
}

export interface EnsureBricksOptions {
  timeoutMs?: number;
  /** How long an offline brick with no stale pidfile is given to come up on its own before `start force`. */
  graceMs?: number;
  clock?: Clock;
  report?: (line: string) => void;
}

/**
 * Waits until every brick of the started volume is online, repairing what keeps one offline:
 * a pidfile whose PID is not the brick's glusterfsd (left by an earlier run; its PID number now
 * belongs to another process, so glusterd believes the brick runs and never starts it, not even
 * with `start force`) is removed, then `gluster volume start <volume> force` starts the brick.
 * A brick still offline after the grace period without such a file gets `start force` too.
 */
export async function ensureBricksOnline(
  containers: ContainerClient,
  nodes: BrickNode[],
  volume: string,
  opts: EnsureBricksOptions = {},
): Promise<VolumeStatus> {
  const clock = opts.clock ?? realClock;
  const report = opts.report ?? (() => undefined);
  const graceMs = opts.graceMs ?? 10_000;
  const t0 = clock.now();
  let lastForce = t0;
  const first = nodes[0];
  if (!first) throw new Error('no storage node');
  return waitFor(
    async () => {
      const s = await volumeStatus(containers, first.id, volume);
      if (!s.started) return notYet(`volume ${volume} not started`);
      const offline = s.bricks.filter((b) => !b.online);
      if (offline.length === 0 && s.bricks.length >= nodes.length) return ready(s);
      let repaired = false;
      for (const b of offline) {
        const node = nodes.find((n) => n.name === b.host);
        if (!node) continue;
        const brickPath = b.path ?? `/bricks/${volume}`;
        const p = await readBrickPid(containers, node.id, volume, b.host, brickPath);
        if (p.pid !== undefined && !p.glusterfsd) {
          const rm = await containers.exec(node.id, ['rm', '-f', p.pidfile], { timeoutMs: 5000 });
          if (rm.exitCode !== 0) throw new Error(`could not remove ${p.pidfile} on ${b.host}: ${(rm.stderr || rm.stdout).trim()}`);
          report(`gluster: ${b.host}:${brickPath} offline, its pidfile names PID ${p.pid}, which is not its glusterfsd (a stale file): removed`);
          repaired = true;
        }
      }
      const now = clock.now();
      if (repaired || (offline.length > 0 && now - lastForce >= graceMs)) {
        // Counted before the call: a refused start (glusterd busy) is retried a grace period later.
        lastForce = now;
        report(`gluster: starting the offline brick${offline.length > 1 ? 's' : ''} (${offline.map((b) => b.host).join(', ')}): volume start ${volume} force`);
        await forceStart(containers, first.id, volume);
      }
      return notYet(`bricks online ${s.bricks.length - offline.length}/${nodes.length} (offline: ${offline.map((b) => b.host).join(', ') || 'none'})`);
    },
    { what: `all ${nodes.length} bricks of ${volume} online`, timeoutMs: opts.timeoutMs ?? 180_000, intervalMs: 1000, clock },
  );
}

/** What the web image's `lab-storage-probe` saw: create + fsync + remove of a small file on moodledata. */
export interface WriteProbe {
  writable: boolean;
  ms?: number;
  error?: string;
}

export const STORAGE_PROBE = 'lab-storage-probe';

export function parseStorageProbe(text: string): WriteProbe {
  const line = text
    .trim()
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .pop();
  if (!line) throw new Error(`${STORAGE_PROBE} printed no JSON: ${text.trim().slice(0, 200) || '(nothing)'}`);
  const v = JSON.parse(line) as { ok?: unknown; ms?: unknown; error?: unknown };
  const out: WriteProbe = { writable: v.ok === true };
  if (typeof v.ms === 'number' && Number.isFinite(v.ms)) out.ms = v.ms;
  if (!out.writable) out.error = typeof v.error === 'string' && v.error ? v.error : 'write failed';
  return out;
}

/**
 * Writes through the Gluster mount of one web node (the probe bounds itself to 3 s; the exec gets
 * a little more). The answer is what the FUSE client really did: read-only without client quorum.
 */
export async function storageWriteProbe(containers: ContainerClient, webNode: string): Promise<WriteProbe> {
  const r = await containers.exec(webNode, [STORAGE_PROBE], { timeoutMs: 5000 });
  if (r.exitCode !== 0 && !r.stdout.includes('{')) throw new Error((r.stderr || r.stdout).trim() || `${STORAGE_PROBE} exited ${r.exitCode}`);
  return parseStorageProbe(r.stdout);
}
