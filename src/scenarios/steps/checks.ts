/**
 * What asserts and comparisons measure: a metric of a load run, a threshold compared, the
 * cluster's state checked against state predicates. Pure functions.
 */
import type { LoadResult } from '../../metrics/export';
import type { LabStatus } from '../../protocol/status';
import type { MetricKey, StatePredicates, Threshold } from '../types';

export function compareOp(actual: number, t: Threshold): boolean {
  switch (t.op) {
    case '<':
      return actual < t.value;
    case '<=':
      return actual <= t.value;
    case '==':
      return actual === t.value;
    case '>=':
      return actual >= t.value;
    case '>':
      return actual > t.value;
    case '!=':
      return actual !== t.value;
  }
}

/** A metric of a load result (null when the run has nothing to say, e.g. no fault → no detection). */
export function metricOf(r: LoadResult, key: MetricKey): number | null {
  const worst = (f: (x: LoadResult['faults'][number]) => number | null | undefined) => {
    const xs = r.faults.map(f).filter((x): x is number => typeof x === 'number');
    return xs.length ? Math.max(...xs) : null;
  };
  switch (key) {
    case 'failures':
      return r.failures;
    case 'errorRate':
      return r.errorRate;
    case 'apdex':
      return r.apdex;
    case 'p50':
      return r.latencyMs.p50;
    case 'p95':
      return r.latencyMs.p95;
    case 'p99':
      return r.latencyMs.p99;
    case 'max':
      return r.latencyMs.max;
    case 'requests':
      return r.requests;
    case 'throughput':
      return r.throughputRps;
    case 'detection':
      return r.faults.length ? (r.faults.some((f) => f.detectedMs === null) ? Infinity : worst((f) => f.detectedMs)) : null;
    case 'blackout':
      return r.faults.length ? worst((f) => f.blackoutMs) : null;
    case 'recovery':
      return r.faults.length ? (r.faults.some((f) => f.recoveredMs === null) ? Infinity : worst((f) => f.recoveredMs)) : null;
    case 'failedDuringFaults':
      return r.faults.reduce((n, f) => n + f.failedRequests, 0);
    case 'lostWrites':
      return r.integrity ? r.integrity.lostDbWrites.length : null;
    case 'lostFiles':
      return r.integrity ? r.integrity.lostFiles.length : null;
    case 'lostSessions':
      return r.integrity ? r.integrity.lostSessions.length : null;
  }
}

/** Which state predicates fail on this status, as short sentences (empty = all hold). */
export function checkState(s: LabStatus, p: StatePredicates): string[] {
  const bad: string[] = [];
  const node = (n: string) => s.nodes.find((x) => x.name === n);
  for (const n of p.healthy ?? []) {
    const x = node(n);
    if (!x?.healthy) bad.push(`${n} is not healthy (${x ? `${x.container}${x.detail ? `, ${x.detail}` : ''}` : 'missing'})`);
  }
  for (const n of p.unhealthy ?? []) if (node(n)?.healthy) bad.push(`${n} is still healthy`);
  for (const [n, want] of Object.entries(p.haproxy ?? {})) {
    const got = s.haproxy.servers.find((x) => x.backend === 'web' && x.server === n)?.status ?? s.haproxy.servers.find((x) => x.server === n)?.status;
    if (!got || !got.toUpperCase().startsWith(want.toUpperCase())) bad.push(`HAProxy shows ${n} ${got ?? 'absent'}, expected ${want}`);
  }
  if (p.galeraSize && !compareOp(s.galera.clusterSize, p.galeraSize)) bad.push(`Galera cluster size is ${s.galera.clusterSize}, expected ${p.galeraSize.text}`);
  if (p.galeraStatus && s.galera.status.toLowerCase() !== p.galeraStatus.toLowerCase())
    bad.push(`Galera status is ${s.galera.status || 'unknown'}, expected ${p.galeraStatus}`);
  const online = s.gluster.bricks.filter((b) => b.online).length;
  if (p.bricksOnline && !compareOp(online, p.bricksOnline)) bad.push(`${online} bricks online, expected ${p.bricksOnline.text}`);
  if (p.healPending && !compareOp(s.gluster.healPending, p.healPending)) bad.push(`${s.gluster.healPending} heals pending, expected ${p.healPending.text}`);
  if (p.vipHeld !== undefined) {
    const held = !!s.lb?.holder && s.lb.master === s.lb.holder && !s.lb.splitBrain;
    const now = s.lb?.holder
      ? `VIP ${s.lb.vip} on ${s.lb.holder} (MASTER: ${s.lb.master ?? 'none'}${s.lb.splitBrain ? ', split brain' : ''})`
      : `no HAProxy holds the VIP${s.lb ? ` ${s.lb.vip}` : ''}`;
    if (held !== p.vipHeld) bad.push(`${now}, expected ${p.vipHeld ? 'one MASTER holding it' : 'none holding it'}`);
  }
  if (p.redisUp !== undefined && s.redis.up !== p.redisUp) bad.push(`Redis is ${s.redis.up ? 'up' : 'down'}, expected ${p.redisUp ? 'up' : 'down'}`);
  if (p.moodleMaintenance !== undefined && s.moodle.maintenance !== p.moodleMaintenance)
    bad.push(`Moodle maintenance is ${s.moodle.maintenance ? 'on' : 'off'}, expected ${p.moodleMaintenance ? 'on' : 'off'}`);
  return bad;
}

/** The state predicates as one line, for reports (`healthy web1,web3; galeraSize >= 2`). */
export function describeState(p: StatePredicates): string {
  const parts: string[] = [];
  if (p.healthy?.length) parts.push(`healthy ${p.healthy.join(',')}`);
  if (p.unhealthy?.length) parts.push(`unhealthy ${p.unhealthy.join(',')}`);
  for (const [n, want] of Object.entries(p.haproxy ?? {})) parts.push(`HAProxy ${n} ${want}`);
  if (p.galeraSize) parts.push(`Galera size ${p.galeraSize.text}`);
  if (p.galeraStatus) parts.push(`Galera ${p.galeraStatus}`);
  if (p.bricksOnline) parts.push(`bricks online ${p.bricksOnline.text}`);
  if (p.healPending) parts.push(`heals pending ${p.healPending.text}`);
  if (p.vipHeld !== undefined) parts.push(p.vipHeld ? 'the VIP held by a MASTER' : 'no VIP holder');
  if (p.redisUp !== undefined) parts.push(`Redis ${p.redisUp ? 'up' : 'down'}`);
  if (p.moodleMaintenance !== undefined) parts.push(`maintenance ${p.moodleMaintenance ? 'on' : 'off'}`);
  return parts.join('; ');
}

/** A measured value in a message: whole numbers as they are, Infinity as never, else 3 decimals. */
export const fmt = (v: number) => (Number.isInteger(v) ? String(v) : v === Infinity ? 'never' : String(Math.round(v * 1000) / 1000));
