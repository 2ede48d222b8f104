import { strict as assert } from 'node:assert';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { runUsers } from '../../src/load/generator';
import { IntegrityLedger } from '../../src/load/integrity';
import { MOODLE_LABELS, moodleJourney } from '../../src/load/journey-moodle';
import { PROBE_LABELS, probeJourney } from '../../src/load/journey-probe';
import type { Sample } from '../../src/metrics/types';

/** A tiny stand-in for Moodle's pages: just the markup the journey reads, and the redirects. */
function fakeMoodle(): http.Server {
  const posts: string[] = [];
  const server = http.createServer((req, res) => {
    const base = `http://localhost:${(server.address() as AddressInfo).port}`;
    const u = new URL(req.url!, base);
    const logged = /MoodleSession=in/.test(req.headers.cookie ?? '');
    const html = (body: string, cls = 'x') => {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'x-served-by': 'web1' });
      res.end(
        `<html><body id="page-${cls}" class="course-7 ${cls}">${logged ? `<a href="${base}/login/logout.php?sesskey=SK">Log out</a><script>M.cfg = {"sesskey":"SK"};</script>` : ''}${body}</body></html>`,
      );
    };
    const redirect = (to: string, cookie?: string) => {
      res.writeHead(303, { location: to, ...(cookie ? { 'set-cookie': cookie } : {}) });
      res.end();
    };
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      const p = u.pathname;
      if (p === '/') return html('front');
      if (p === '/login/index.php' && req.method === 'GET')
        return html('<form action="/login/index.php"><input type="hidden" name="logintoken" value="TOKEN1"></form>', 'login-index');
      if (p === '/login/index.php')
        return new URLSearchParams(body).get('logintoken') === 'TOKEN1' ? redirect(`${base}/`, 'MoodleSession=in; path=/') : html('bad token', 'login-index');
      if (!logged) return redirect(`${base}/login/index.php`);
      if (p === '/course/view.php' && u.searchParams.get('name') === 'halab')
        return html(
          `<a href="${base}/mod/forum/view.php?id=11">News</a><a href="${base}/mod/page/view.php?id=12">P</a><a href="${base}/mod/resource/view.php?id=14">R</a><a href="${base}/mod/forum/view.php?id=13">F</a>`,
        );
      if (p === '/mod/page/view.php') return html('page');
      if (p === '/mod/forum/view.php' && u.searchParams.get('id') === '13') return html(`<a href="${base}/mod/forum/discuss.php?d=5">D</a>`);
      if (p === '/mod/forum/discuss.php') return html(`<a href="${base}/mod/forum/post.php?reply=55#mformforum">Reply</a>`);
      if (p === '/mod/forum/post.php' && req.method === 'GET')
        return html(
          `<form action="${base}/mod/forum/post.php" method="post"><input name="reply" type="hidden" value="55"><input type="hidden" name="sesskey" value="SK"><input name="subject" value="Re: D"><textarea name="message[text]"></textarea><input type="submit" name="submitbutton" value="Post"></form>`,
        );
      if (p === '/mod/forum/post.php') {
        const f = new URLSearchParams(body);
        posts.push(f.get('message[text]') ?? '');
        return f.get('reply') === '55' && f.get('sesskey') === 'SK' ? redirect(`${base}/mod/forum/discuss.php?d=5#p99`) : html('error', 'errorbox');
      }
      if (p === '/user/index.php' && u.searchParams.get('id') === '7') return html('participants');
      if (p === '/mod/resource/view.php' && u.searchParams.get('redirect') === '1')
        return redirect(`${base}/pluginfile.php/33/mod_resource/content/1/smallfile0.dat`);
      if (p.startsWith('/pluginfile.php/')) {
        res.writeHead(200, { 'content-type': 'application/octet-stream' });
        return res.end(Buffer.alloc(1000));
      }
      if (p === '/login/logout.php') return redirect(`${base}/`, 'MoodleSession=deleted; path=/');
      res.writeHead(404);
      res.end('not found');
    });
  });
  return Object.assign(server, { posts });
}

describe('journeys against a stand-in server', () => {
  let server: http.Server & { posts?: string[] };
  let base: string;
  before(async () => {
    server = fakeMoodle();
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `http://localhost:${(server.address() as AddressInfo).port}`;
  });
  after(() => server.close());

  it('the Moodle journey walks every step, scraping token, links, form and ids', async () => {
    const samples: Sample[] = [];
    const journey = moodleJourney({ wwwroot: base, course: 'halab', users: [{ username: 'u1', password: 'p' }] });
    const stop = new AbortController();
    await runUsers(
      async (vu) => {
        await journey(vu);
        stop.abort(); // one iteration is enough
      },
      { users: 1, durationMs: 10_000, rampUpMs: 0, thinkMinMs: 0, thinkMaxMs: 0 },
      (s) => samples.push(s),
      stop.signal,
    );
    assert.deepEqual(
      samples.filter((s) => !s.success).map((s) => `${s.label}: ${s.message}`),
      [],
    );
    assert.deepEqual(
      samples.map((s) => s.label),
      [
        'front',
        'login-page',
        'login',
        'front',
        'course',
        'page',
        'course',
        'forum',
        'discussion',
        'reply-form',
        'reply-post',
        'course',
        'participants',
        'download',
        'logout',
      ],
    );
    assert.ok(samples.every((s) => (MOODLE_LABELS as readonly string[]).includes(s.label)));
    assert.equal(samples.find((s) => s.label === 'download')!.bytes, 1000);
    assert.equal(samples[0]!.node, 'web1');
    assert.match(server.posts![0]!, /Reply from u1/);
  });

  it('the probe journey records every acknowledged write in the ledger', async () => {
    const store = new Map<string, string>();
    let nextId = 1;
    const probe = http.createServer((req, res) => {
      const u = new URL(req.url!, 'http://x');
      const json = (o: object, status = 200) => {
        res.writeHead(status, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ ok: status === 200, node: 'web2', ...o }));
      };
      if (u.pathname === '/lab/health.php') return void res.end('ok web2');
      if (u.pathname === '/lab/probe/session.php') {
        const set = u.searchParams.get('set');
        if (set) {
          res.setHeader('set-cookie', `LABSESSID=${set}; path=/`);
          return json({ value: set });
        }
        return json({ value: /LABSESSID=([^;]+)/.exec(req.headers.cookie ?? '')?.[1] ?? null });
      }
      if (u.pathname === '/lab/probe/db.php') {
        const w = u.searchParams.get('write');
        if (w) {
          store.set(`db${nextId}`, w);
          return json({ id: nextId++ });
        }
        return json({ row: { value: store.get(`db${u.searchParams.get('read')}`) } });
      }
      if (u.pathname === '/lab/probe/file.php') {
        const w = u.searchParams.get('write');
        if (w) {
          store.set(`f${w}`, u.searchParams.get('value')!);
          return json({});
        }
        return json({ value: store.get(`f${u.searchParams.get('read')}`) });
      }
      json({ error: '?' }, 404);
    });
    await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
    const entry = `http://localhost:${(probe.address() as AddressInfo).port}`;
    try {
      const ledger = new IntegrityLedger();
      const samples: Sample[] = [];
      await runUsers(probeJourney({ entry, ledger, runId: 't' }), { users: 2, durationMs: 300, rampUpMs: 0, thinkMinMs: 0, thinkMaxMs: 0 }, (s) =>
        samples.push(s),
      );
      assert.deepEqual(
        samples.filter((s) => !s.success).map((s) => `${s.label}: ${s.message}`),
        [],
      );
      assert.deepEqual([...new Set(samples.map((s) => s.label))].sort(), [...PROBE_LABELS].sort());
      assert.ok(ledger.dbWrites.size >= 2 && ledger.files.size >= 2 && ledger.sessions.size === 2);
      store.delete('db1');
      const report = await ledger.verify(entry);
      assert.deepEqual(report.lostDbWrites, ['db:1']);
      assert.deepEqual([report.lostFiles, report.lostSessions, report.unchecked], [[], [], []]);
    } finally {
      probe.close();
    }
  });
});
