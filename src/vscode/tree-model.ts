/**
 * Snapshot → tree items, as plain data (no vscode import): tiers (the snapshot's `roles`), then
 * nodes with an icon, a description (container state, HAProxy status, Galera state, brick online)
 * and a tooltip. No switch on a role's name: a role's display says what its nodes show.
 * The TreeDataProvider only maps these to vscode.TreeItem. Unit-tested directly.
 */
import { runSummary } from '../core/summary';
import { nodePart, withPart } from '../protocol/node-part';
import type { LabSnapshot } from '../protocol/snapshot';
import type { NodeStateSource, NodeStatus, Role, RoleDisplay } from '../protocol/status';

export interface NodeItemModel {
  kind: 'node';
  node: string;
  role: Role;
  label: string;
  description: string;
  tooltip: string;
  /** codicon id and theme colour id */
  icon: { id: string; color?: string };
  /** contextValue: drives which context actions show (package.json menus). */
  contextValue: string;
}

export interface TierItemModel {
  kind: 'tier';
  id: string;
  label: string;
  description: string;
  icon: { id: string; color?: string };
  children: NodeItemModel[];
}

/** The tree's tiers: the roles the snapshot carries (their modules' display), in order. */
export function tiers(s: Pick<LabSnapshot, 'roles'>): RoleDisplay[] {
  return [...s.roles].sort((a, b) => a.order - b.order);
}

/** Tooltip lines of a service section a role's nodes show (by section, not by role). */
const SERVICE_TIPS: Partial<Record<NodeStateSource, (s: LabSnapshot, n: NodeStatus) => string>> = {
  redis: (s, n) => {
    const base = `redis: ${s.redis.up ? 'answers' : 'does not answer'}${s.redis.keys !== undefined ? `, ${s.redis.keys} keys` : ''}`;
    if (s.redis.mode !== 'sentinel') return base;
    const r = s.redis.replicas?.find((x) => x.name === n.name);
    const role =
      s.redis.master === n.name
        ? 'master'
        : r
          ? `replica of ${r.masterHost ?? '?'}${r.linkUp ? (r.lagBytes !== undefined ? `, lag ${r.lagBytes} B` : '') : ', link DOWN'}`
          : 'no role';
    const sentinel = s.redis.sentinels?.find((x) => x.name === n.name);
    return `${base}; ${n.name}: ${role}; its sentinel: ${sentinel?.up ? `names ${sentinel.master ?? 'no master'}` : 'does not answer'}`;
  },
  vip: (s) => (s.lb ? `forwards to the virtual IP ${s.lb.vip}, held by ${s.lb.holder ?? 'no HAProxy'}` : 'no virtual IP'),
};

const OK = 'testing.iconPassed';
const BAD = 'testing.iconFailed';
const WARN = 'list.warningForeground';

function nodeItem(s: LabSnapshot, n: NodeStatus, d: RoleDisplay | undefined): NodeItemModel {
  const parts: string[] = [n.container];
  const tip: string[] = [
    `${n.name} — ${n.role}`,
    `container: ${n.container}`,
    `health: ${n.healthy ? 'healthy' : `unhealthy${n.detail ? ` (${n.detail})` : ''}`}`,
  ];
  let icon =
    n.container === 'running'
      ? n.healthy
        ? { id: 'pass-filled', color: OK }
        : { id: 'warning', color: WARN }
      : n.container === 'paused'
        ? { id: 'debug-pause', color: WARN }
        : { id: 'error', color: BAD };
  const hap = s.haproxy.servers.find((x) => x.server === n.name && (!d?.haproxyBackend || x.backend === d.haproxyBackend));
  if (hap) {
    parts.push(`HAProxy ${hap.status}`);
    tip.push(
      `HAProxy ${hap.backend}/${hap.server}: ${hap.status}${hap.checkStatus ? ` (check ${hap.checkStatus})` : ''}${hap.sessions !== undefined ? `, ${hap.sessions} sessions` : ''}`,
    );
    if (n.container === 'running' && /^(DRAIN|MAINT)/.test(hap.status)) icon = { id: 'circle-slash', color: WARN };
    if (n.container === 'running' && /^DOWN/.test(hap.status) && d?.status === 'haproxy-server') icon = { id: 'error', color: BAD };
  }
  const g = s.galera.nodes.find((x) => x.name === n.name);
  if (g) {
    parts.push(g.state);
    tip.push(`wsrep: ${g.state}${g.clusterSize !== undefined ? `, cluster size ${g.clusterSize}` : ''}${g.clusterStatus ? `, ${g.clusterStatus}` : ''}`);
  }
  const v = s.lb?.nodes.find((x) => x.name === n.name);
  if (v) {
    parts.push(`${v.vrrp}${v.holdsVip ? ' · VIP' : ''}`);
    tip.push(`keepalived: ${v.vrrp}${v.detail ? ` (${v.detail})` : ''}; virtual IP ${s.lb!.vip} ${v.holdsVip ? 'held here' : 'not here'}`);
    if (v.vrrp === 'FAULT' && n.container === 'running') icon = { id: 'warning', color: WARN };
  }
  const b = s.gluster.bricks.find((x) => x.name === n.name);
  if (b) {
    parts.push(b.online ? 'brick online' : 'brick offline');
    tip.push(`brick: ${b.online ? 'online' : 'OFFLINE'}; pending heals on the volume: ${s.gluster.healPending}`);
    if (!b.online && n.container === 'running') icon = { id: 'warning', color: WARN };
  }
  const serviceTip = d?.status ? SERVICE_TIPS[d.status] : undefined;
  if (serviceTip) tip.push(serviceTip(s, n));
  if (n.url) tip.push(`direct URL: ${n.url}`);
  const faults = s.activeFaults.filter((f) => f.nodes.includes(n.name));
  if (faults.length) {
    parts.push(`⚡ ${faults.map((f) => f.kind).join(',')}`);
    tip.push(`active faults: ${faults.map((f) => f.detail).join('; ')}`);
  }
  // contextValue: "node role-web state-running [hap-drain] [openable]" (menus match with regex)
  const ctx = ['node', `role-${n.role}`, `state-${n.container}`];
  if (hap && /^(DRAIN|MAINT)/.test(hap.status)) ctx.push('hap-drain');
  if ((d?.opens === 'url' && n.url) || (d?.opens === 'haproxy-stats' && s.endpoints.haproxyStats)) ctx.push('openable');
  return {
    kind: 'node',
    node: n.name,
    role: n.role,
    // A Sentinel group's node says its part now: `redis1 (master)` (its role's display.part).
    label: withPart(n.name, n.container === 'running' ? nodePart(s, n.name, d) : undefined),
    description: parts.join(' · '),
    tooltip: tip.join('\n'),
    icon,
    contextValue: ctx.join(' '),
  };
}

export function treeModel(s: LabSnapshot | undefined): TierItemModel[] {
  if (!s || s.state === 'absent') return [];
  return tiers(s)
    .map((t) => {
      const children = s.nodes.filter((n) => n.role === t.role).map((n) => nodeItem(s, n, t));
      const healthy = children.filter((c) => c.icon.color === OK).length;
      return {
        kind: 'tier' as const,
        id: t.role,
        label: t.label,
        description: `${healthy}/${children.length} healthy`,
        icon: { id: t.icon, color: healthy === children.length ? undefined : healthy === 0 ? BAD : WARN },
        children,
      };
    })
    .filter((t) => t.children.length > 0);
}

/** The status bar text: lab state, and availability/p95 when load metrics exist. */
export function statusBarText(s: LabSnapshot | undefined): { text: string; tooltip: string } {
  if (!s) return { text: '$(server-environment) Moodle lab: …', tooltip: 'Moodle HA Lab: connecting to Docker' };
  const up = s.nodes.filter((n) => n.container === 'running' && n.healthy).length;
  const icon = s.state === 'running' && up === s.nodes.length ? '$(pass)' : s.state === 'absent' || s.state === 'stopped' ? '$(circle-slash)' : '$(warning)';
  let text = `${icon} ${s.lab}: ${s.state}${s.nodes.length ? ` ${up}/${s.nodes.length}` : ''}`;
  // Live figures only while a load runs (metrics without `running` come from older hosts: shown too).
  const m = s.metrics && s.metrics.running !== false ? s.metrics : undefined;
  if (m) text += ` · $(pulse) ${(m.availability * 100).toFixed(2)}% · p95 ${Math.round(m.p95Ms)} ms`;
  const load = m ? ` Load: ${m.users ?? '?'} users, ${runSummary({ requests: m.requests ?? 0, failures: m.failures ?? 0, apdex: m.apdex.toFixed(2) })}.` : '';
  const scen = s.scenario?.running ? ` Scenario ${s.scenario.name}: step ${(s.scenario.current ?? 0) + 1}/${s.scenario.steps.length}.` : '';
  return {
    text,
    tooltip: `Moodle HA Lab "${s.lab}": ${s.state}, ${up}/${s.nodes.length} nodes healthy${s.activeFaults.length ? `, ${s.activeFaults.length} active faults` : ''}.${load}${scen} Click to open the dashboard.`,
  };
}
