/**
 * The probe journey, for labs without Moodle: the lab's own endpoints through HAProxy —
 * health, session set/get (Redis), DB write/read (Galera writer), file write/read (Gluster).
 * Every acknowledged write goes into the integrity ledger.
 */
import { MoodleClient } from '../moodle/client';
import type { Journey, VirtualUser } from './generator';
import { jsonOk, okPage, timedRequest } from './http';
import type { IntegrityLedger } from './integrity';

export const PROBE_LABELS = ['health', 'session-set', 'session-get', 'db-write', 'db-read', 'file-write', 'file-read'] as const;

export interface ProbeJourneyOptions {
  /** Through HAProxy: status.endpoints.moodle. */
  entry: string;
  ledger: IntegrityLedger;
  /** Distinguishes this run's values from earlier runs'. */
  runId: string;
  timeoutMs?: number;
}

export function probeJourney(opts: ProbeJourneyOptions): Journey {
  return async (vu: VirtualUser) => {
    const c = new MoodleClient({ wwwroot: opts.entry, timeoutMs: opts.timeoutMs ?? 15_000 });
    const key = `${opts.runId}-u${vu.id}-i${vu.iteration}`;
    const url = (p: string) => new URL(p, opts.entry).toString();
    const json = (label: string, path: string, check = jsonOk) =>
      vu.request(label, url(path), async () => {
        const r = await timedRequest(c, 'GET', path, check);
        return { value: JSON.parse(r.value.text() || '{}') as Record<string, unknown>, outcome: r.outcome };
      });

    await vu.request('health', url('/lab/health.php'), () => timedRequest(c, 'GET', '/lab/health.php', okPage));
    await vu.think();
    await json('session-set', `/lab/probe/session.php?set=${key}`);
    opts.ledger.session({ key: `u${vu.id}`, value: key, client: c });
    await vu.think();
    await json(
      'session-get',
      '/lab/probe/session.php',
      (res) => jsonOk(res) ?? ((JSON.parse(res.text()) as { value?: string }).value === key ? undefined : 'session value lost'),
    );
    await vu.think();
    const w = await json('db-write', `/lab/probe/db.php?write=${key}`);
    const id = Number(w.id);
    opts.ledger.dbWrite(id, key);
    await vu.think();
    await json(
      'db-read',
      `/lab/probe/db.php?read=${id}`,
      (res) => jsonOk(res) ?? ((JSON.parse(res.text()) as { row?: { value?: string } }).row?.value === key ? undefined : `row ${id} has another value`),
    );
    await vu.think();
    await json('file-write', `/lab/probe/file.php?write=${key}&value=${key}`);
    opts.ledger.file(key, key);
    await vu.think();
    await json(
      'file-read',
      `/lab/probe/file.php?read=${key}`,
      (res) => jsonOk(res) ?? ((JSON.parse(res.text()) as { value?: string }).value === key ? undefined : `file ${key} has another value`),
    );
  };
}
