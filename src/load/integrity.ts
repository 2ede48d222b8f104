/**
 * Integrity probes: every acknowledged DB write (db.php?write=), every written file
 * (file.php?write=) and every live session value is remembered, and read back after the run
 * (after recovery). Something acknowledged that cannot be read back is LOST, reported by id.
 * A read that itself fails (after retries) is "unchecked", not lost.
 */
import { MoodleClient, MoodleResponse } from '../moodle/client';
import type { IntegrityReport } from '../metrics/export';

export interface SessionRecord {
  key: string;
  value: string;
  /** The client holding the session's cookie (read back through it). */
  client: { get(path: string): Promise<MoodleResponse> };
}

type Reader = (path: string, session?: SessionRecord) => Promise<MoodleResponse>;

export class IntegrityLedger {
  readonly dbWrites = new Map<number, string>();
  readonly files = new Map<string, string>();
  readonly sessions = new Map<string, SessionRecord>();

  dbWrite(id: number, value: string): void {
    this.dbWrites.set(id, value);
  }

  file(name: string, value: string): void {
    this.files.set(name, value);
  }

  /** The latest acknowledged value of one session (one per key, e.g. per virtual user). */
  session(rec: SessionRecord): void {
    this.sessions.set(rec.key, rec);
  }

  get size(): number {
    return this.dbWrites.size + this.files.size + this.sessions.size;
  }

  /**
   * Reads everything back through `entry` (HAProxy), `concurrency` at a time, 3 tries each.
   * DB rows are read through the writer listener, or with `dbVia: 'reader'` through the
   * reader listener (leastconn over every Galera node; causal reads, wsrep_sync_wait=1).
   */
  async verify(entry: string, opts: { concurrency?: number; timeoutMs?: number; read?: Reader; dbVia?: 'writer' | 'reader' } = {}): Promise<IntegrityReport> {
    const read: Reader =
      opts.read ??
      ((path, session) => (session ? session.client.get(path) : new MoodleClient({ wwwroot: entry, timeoutMs: opts.timeoutMs ?? 10_000 }).get(path)));
    const report: IntegrityReport = {
      dbWrites: this.dbWrites.size,
      files: this.files.size,
      sessions: this.sessions.size,
      lostDbWrites: [],
      lostFiles: [],
      lostSessions: [],
      unchecked: [],
    };
    type Job = { id: string; path: string; session?: SessionRecord; expect: (j: Record<string, unknown>) => boolean; lost: string[] };
    const jobs: Job[] = [
      ...[...this.dbWrites].map(([id, v]): Job => ({
        id: `db:${id}`,
        path: `/lab/probe/db.php?read=${id}${opts.dbVia === 'reader' ? '&via=reader' : ''}`,
        expect: (j) => (j.row as { value?: string } | undefined)?.value === v,
        lost: report.lostDbWrites,
      })),
      ...[...this.files].map(([n, v]): Job => ({
        id: `file:${n}`,
        path: `/lab/probe/file.php?read=${encodeURIComponent(n)}`,
        expect: (j) => j.value === v,
        lost: report.lostFiles,
      })),
      ...[...this.sessions.values()].map((s): Job => ({
        id: `session:${s.key}`,
        path: '/lab/probe/session.php',
        session: s,
        expect: (j) => j.value === s.value,
        lost: report.lostSessions,
      })),
    ];
    const work = async () => {
      for (let job = jobs.shift(); job; job = jobs.shift()) {
        let verdict: 'ok' | 'lost' | 'unchecked' = 'unchecked';
        for (let attempt = 0; attempt < 3 && verdict === 'unchecked'; attempt++) {
          try {
            const res = await read(job.path, job.session);
            const j = JSON.parse(res.text()) as Record<string, unknown>;
            if (res.status === 404) verdict = 'lost';
            else if (res.status === 200 && j.ok) verdict = job.expect(j) ? 'ok' : 'lost';
          } catch {
            // unreadable answer or no answer: try again
          }
        }
        if (verdict === 'lost') job.lost.push(job.id);
        else if (verdict === 'unchecked') report.unchecked.push(job.id);
      }
    };
    await Promise.all(Array.from({ length: opts.concurrency ?? 8 }, work));
    return report;
  }
}
