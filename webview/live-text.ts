/** Texts of the live panel, pure (unit-tested in node). */
import type { LabSnapshot } from '../src/protocol/snapshot';

/** The load panel's status line (pure). */
export function loadLine(s: Pick<LabSnapshot, 'metrics'>): string {
  const m = s.metrics;
  if (!m) return 'No load running.';
  const what = `${m.label ?? 'load'}: ${m.users ?? '?'} users, ${m.journey ?? '?'} journey`;
  if (m.running) {
    const elapsed = m.startedAtMs ? Math.max(0, Math.round((Date.now() - m.startedAtMs) / 1000)) : 0;
    return `Running — ${what}, ${elapsed}/${Math.round((m.durationMs ?? 0) / 1000)} s, ${m.requests ?? 0} requests, ${m.failures ?? 0} failed${m.throughputRps ? `, ${m.throughputRps} req/s` : ''}`;
  }
  return `Last run — ${what}: ${m.requests ?? 0} requests, ${m.failures ?? 0} failed.`;
}
