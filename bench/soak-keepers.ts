/**
 * Long-lived things the soak keeps across its fault windows, checked after every window (lab
 * green again) and at the end:
 * - session keepers: a lab session (session.php, Redis) per keeper, set once and read back
 *   after every window; one lost though no window since its set loses sessions is a LOST session;
 * - Moodle keepers (Moodle labs): a logged-in Moodle user each (real login form), still logged in
 *   after every window, and one private file uploaded through Moodle's file picker per window
 *   (moodledata on Gluster), downloaded at the end through every web node.
 */
import { randomBytes } from 'node:crypto';
import { isLoggedIn, MoodleClient } from '../src/moodle/client';
import { RanWindow, shouldSurvive } from './soak-checks';
import { errText } from '../src/core/errors';

type Verdict = 'ok' | 'lost' | 'unchecked';

/** Up to `tries` reads; a read that fails (no answer, unreadable) is retried, then "unchecked". */
async function verdict(tries: number, read: () => Promise<Verdict>): Promise<Verdict> {
  for (let i = 0; i < tries; i++) {
    try {
      const v = await read();
      if (v !== 'unchecked') return v;
    } catch {
      // no answer: try again
    }
  }
  return 'unchecked';
}

export interface SessionTally {
  checks: number;
  lostLegit: number;
  /** "keeper k3 after window 4 (kill web2)". */
  lostShouldSurvive: string[];
  unchecked: number;
}

const newTally = (): SessionTally => ({ checks: 0, lostLegit: 0, lostShouldSurvive: [], unchecked: 0 });

interface SessionKeeper {
  key: string;
  client: MoodleClient;
  value?: string;
  setAtMs?: number;
}

export class SessionKeepers {
  readonly tally = newTally();
  private readonly keepers: SessionKeeper[];
  private n = 0;

  constructor(
    private readonly entry: string,
    count: number,
    private readonly runId = randomBytes(3).toString('hex'),
  ) {
    this.keepers = Array.from({ length: count }, (_, i) => ({ key: `k${i + 1}`, client: this.client() }));
  }

  private client(): MoodleClient {
    return new MoodleClient({ wwwroot: this.entry, timeoutMs: 10_000 });
  }

  /** (Re)sets every keeper without a live value; returns how many hold one. */
  async fill(): Promise<number> {
    for (const k of this.keepers.filter((x) => x.value === undefined)) {
      const value = `soak-${this.runId}-${k.key}-${++this.n}`;
      const at = Date.now();
      try {
        const r = await k.client.get(`/lab/probe/session.php?set=${value}`);
        if (r.status === 200 && (JSON.parse(r.text()) as { ok?: boolean }).ok) Object.assign(k, { value, setAtMs: at });
      } catch {
        // not set: tried again after the next window
      }
    }
    return this.keepers.filter((k) => k.value !== undefined).length;
  }

  /** Reads every keeper back; a lost one is judged against the windows so far, then set again. */
  async check(windows: RanWindow[], after: string): Promise<void> {
    for (const k of this.keepers.filter((x) => x.value !== undefined)) {
      const v = await verdict(3, async () => {
        const r = await k.client.get('/lab/probe/session.php');
        const j = JSON.parse(r.text()) as { ok?: boolean; value?: string | null };
        return r.status === 200 && j.ok ? (j.value === k.value ? 'ok' : 'lost') : 'unchecked';
      });
      this.tally.checks++;
      if (v === 'unchecked') this.tally.unchecked++;
      if (v !== 'lost') continue;
      if (shouldSurvive(k.setAtMs!, windows)) this.tally.lostShouldSurvive.push(`session keeper ${k.key} after ${after}`);
      else this.tally.lostLegit++;
      Object.assign(k, { value: undefined, setAtMs: undefined, client: this.client() });
    }
    await this.fill();
  }
}

interface MoodleKeeper {
  username: string;
  password: string;
  client?: MoodleClient;
  loggedInAtMs?: number;
  files: { path: string; content: string }[];
}

export interface UploadTally {
  uploaded: number;
  uploadFailed: string[];
  /** Checked at the end: "user/file through web2". */
  lost: string[];
  unchecked: number;
  reads: number;
}

export class MoodleKeepers {
  readonly sessions = newTally();
  readonly uploads: UploadTally = { uploaded: 0, uploadFailed: [], lost: [], unchecked: 0, reads: 0 };
  readonly loginErrors: string[] = [];
  private readonly keepers: MoodleKeeper[];
  private n = 0;

  constructor(
    private readonly wwwroot: string,
    users: { username: string; password: string }[],
    private readonly runId = randomBytes(3).toString('hex'),
  ) {
    this.keepers = users.map((u) => ({ ...u, files: [] }));
  }

  /** Logs in every keeper that is not logged in; returns how many are. */
  async login(): Promise<number> {
    for (const k of this.keepers.filter((x) => !x.client)) {
      const c = new MoodleClient({ wwwroot: this.wwwroot, timeoutMs: 30_000 });
      const at = Date.now();
      try {
        await c.login(k.username, k.password);
        Object.assign(k, { client: c, loggedInAtMs: at });
      } catch (err) {
        this.loginErrors.push(`${k.username}: ${errText(err)}`);
      }
    }
    return this.keepers.filter((k) => k.client).length;
  }

  /** Still logged in? (judged like the session keepers), then one more private file each. */
  async check(windows: RanWindow[], after: string): Promise<void> {
    for (const k of this.keepers.filter((x) => x.client)) {
      const v = await verdict(3, async () => {
        const r = await k.client!.get('/user/profile.php');
        if (r.status !== 200) return 'unchecked';
        return isLoggedIn(r.text()) ? 'ok' : 'lost';
      });
      this.sessions.checks++;
      if (v === 'unchecked') this.sessions.unchecked++;
      if (v !== 'lost') continue;
      if (shouldSurvive(k.loggedInAtMs!, windows)) this.sessions.lostShouldSurvive.push(`Moodle login of ${k.username} after ${after}`);
      else this.sessions.lostLegit++;
      Object.assign(k, { client: undefined, loggedInAtMs: undefined });
    }
    await this.login();
    await this.upload();
  }

  private async upload(): Promise<void> {
    for (const k of this.keepers.filter((x) => x.client)) {
      const name = `soak-${this.runId}-${++this.n}.txt`;
      const content = `${name} ${randomBytes(8).toString('hex')}\n`;
      try {
        const path = await k.client!.uploadPrivateFile(name, Buffer.from(content));
        k.files.push({ path, content });
        this.uploads.uploaded++;
      } catch (err) {
        this.uploads.uploadFailed.push(`${k.username}/${name}: ${errText(err)}`);
      }
    }
  }

  /** Every uploaded file downloaded by its owner through each web node directly. */
  async verifyFiles(webNodes: { name: string; port: number }[]): Promise<void> {
    await this.login();
    for (const k of this.keepers) {
      if (!k.client) {
        this.uploads.unchecked += k.files.length * webNodes.length;
        continue;
      }
      for (const w of webNodes) {
        const c = k.client.via({ host: '127.0.0.1', port: w.port });
        for (const f of k.files) {
          this.uploads.reads++;
          const v = await verdict(3, async () => {
            const r = await c.get(f.path);
            if (r.status === 404) return 'lost';
            if (r.status !== 200) return 'unchecked';
            if (r.text() === f.content) return 'ok';
            return /\/login\/index\.php/.test(r.url) ? 'unchecked' : 'lost'; // logged out meanwhile: cannot tell
          });
          if (v === 'lost') this.uploads.lost.push(`${k.username}${decodeURIComponent(f.path.slice(f.path.lastIndexOf('/')))} through ${w.name}`);
          else if (v === 'unchecked') this.uploads.unchecked++;
        }
      }
    }
  }
}
