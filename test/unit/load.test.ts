import { strict as assert } from 'node:assert';
import type { MoodleResponse } from '../../src/moodle/client';
import { loadOptions, statusSources } from '../../src/load/command';
import { parseDuration, parseFaultSpec } from '../../src/load/faults';
import { Outcome, runUsers } from '../../src/load/generator';
import { IntegrityLedger } from '../../src/load/integrity';
import { NodeProbes, ProbeSample } from '../../src/load/node-probes';
import { clusterSource, haproxySource, pauseAfterPoll } from '../../src/load/snapshots';
import { courseId, linkIds, pluginfileLinks, scrapeForm } from '../../src/load/scrape';
import type { Sample } from '../../src/metrics/types';
import type { LabStatus } from '../../src/protocol/status';
import { fakeClock, virtualClock } from '../support/clock';

const ok = (url: string): Outcome => ({ status: 200, bytes: 1, url });

function response(status: number, body: unknown): MoodleResponse {
  const buf = Buffer.from(typeof body === 'string' ? body : JSON.stringify(body));
  return { status, url: 'http://x/', headers: {}, body: buf, text: () => buf.toString() };
}

describe('load generator', () => {
  it('closed loop with think time; a request that overran charges its overrun to the next one', async () => {
    const clock = fakeClock();
    const samples: Sample[] = [];
    let n = 0;
    await runUsers(
      async (vu) => {
        // The first request of user 1 hangs 3 s; everything else takes 100 ms.
        await vu.request('a', 'u', async () => {
          await clock.sleep(vu.id === 1 && n++ === 0 ? 3000 : 100);
          return { value: undefined, outcome: ok('u') };
        });
        await vu.think();
        await vu.request('b', 'u', async () => {
          await clock.sleep(100);
          return { value: undefined, outcome: ok('u') };
        });
      },
      { users: 1, durationMs: 10_000, rampUpMs: 0, thinkMinMs: 500, thinkMaxMs: 500, clock, random: () => 0 },
      (s) => samples.push(s),
    );
    const u1 = samples.filter((s) => s.thread === 'vu 1');
    assert.equal(u1[0]!.elapsedMs, 3000);
    // Sent at 3500 (3 s hang + 500 ms think); intended at 0 + 500 budget + 500 think.
    assert.equal(u1[1]!.startMs, 3500);
    assert.equal(u1[1]!.intendedStartMs, 1000);
    // The next one is on time again (no carried lag).
    assert.equal(u1[2]!.intendedStartMs, u1[2]!.startMs);
    assert.ok(samples.every((s) => s.startMs < 10_000));
    assert.ok(u1.length > 10);
    // 3 s hang, then 100 ms requests with 500 ms think, until 10 s.
    assert.equal(u1.length, 1 + Math.ceil((10_000 - 3500) / 600));
  });

  it("paced: one slot schedule shared by all users (JMeter's shared Constant Throughput Timer); a slot is the request's intended start", async () => {
    const clock = virtualClock();
    const samples: Sample[] = [];
    await clock.run(
      runUsers(
        async (vu) => {
          await vu.request('a', 'u', async () => {
            await clock.sleep(vu.id === 2 && vu.iteration === 0 ? 2500 : 100);
            return { value: undefined, outcome: ok('u') };
          });
        },
        // 120 samples per minute = one request every 500 ms, whatever the number of users.
        { users: 5, durationMs: 10_000, rampUpMs: 0, thinkMinMs: 0, thinkMaxMs: 0, throughputPerMin: 120, clock },
        (s) => samples.push(s),
      ),
    );
    const starts = samples.map((s) => s.startMs).sort((a, b) => a - b);
    assert.equal(samples.length, 20);
    // Never two requests in one slot, and every slot used (users are idle most of the time).
    starts.forEach((t, i) => assert.equal(t, i * 500));
    assert.ok(samples.every((s) => s.intendedStartMs === s.startMs));
    // The user stuck 2.5 s simply misses the slots the others take: the rate holds.
    assert.equal(samples.filter((s) => s.thread === 'vu 2').length < samples.filter((s) => s.thread === 'vu 1').length, true);
  });

  it('ramp-up: user i of N starts (i-1)/N of the ramp-up in', async () => {
    const clock = fakeClock();
    const firstSleeps: number[] = [];
    const seen = new Set<number>();
    await runUsers(
      async (vu) => {
        seen.add(vu.id);
        await vu.request('a', 'u', async () => ({ value: undefined, outcome: ok('u') }));
      },
      {
        users: 4,
        durationMs: 5000,
        rampUpMs: 1000,
        thinkMinMs: 1000,
        thinkMaxMs: 1000,
        clock: { now: clock.now, sleep: (ms) => (firstSleeps.length < 4 && firstSleeps.push(ms), clock.sleep(ms)) },
      },
      () => undefined,
    );
    assert.deepEqual(firstSleeps, [0, 250, 500, 750]);
    assert.deepEqual([...seen].sort(), [1, 2, 3, 4]);
  });

  it('a failed request ends the iteration and is recorded with its reason; the user starts over', async () => {
    const clock = fakeClock();
    const samples: Sample[] = [];
    await runUsers(
      async (vu) => {
        await vu.request('login', 'u', async () => {
          await clock.sleep(50);
          if (vu.iteration === 0) throw Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' });
          return { value: undefined, outcome: ok('u') };
        });
        await vu.request('after', 'u', async () => ({ value: undefined, outcome: { status: 503, failure: 'HTTP 503', bytes: 0, url: 'u' } }));
      },
      { users: 1, durationMs: 2000, rampUpMs: 0, thinkMinMs: 500, thinkMaxMs: 500, clock },
      (s) => samples.push(s),
    );
    assert.deepEqual(samples[0]!.message, 'ECONNREFUSED: connect ECONNREFUSED');
    assert.equal(samples[0]!.status, 0);
    assert.equal(samples[0]!.success, false);
    assert.equal(samples[1]!.label, 'login'); // started over
    assert.equal(samples[2]!.label, 'after');
    assert.equal(samples[2]!.success, false);
  });

  it('durations and fault specs', () => {
    assert.equal(parseDuration('60s'), 60_000);
    assert.equal(parseDuration('500ms'), 500);
    assert.equal(parseDuration('2m'), 120_000);
    assert.equal(parseDuration('1.5'), 1500);
    assert.throws(() => parseDuration('soon'), /invalid duration/);
    assert.deepEqual(parseFaultSpec('kill web2@20s'), { req: { kind: 'kill', nodes: ['web2'] }, atMs: 20_000, text: 'kill web2' });
    assert.deepEqual(parseFaultSpec('delay web1 300@5s').req, { kind: 'delay', nodes: ['web1'], delayMs: 300 });
    assert.throws(() => parseFaultSpec('kill web2'), /expected "<kind> <node>@<time>"/);
    assert.throws(() => parseFaultSpec('explode web2@1s'), /kind must be one of/);
  });

  it('options: journey defaults to moodle when installed, else probe; bad input is a usage error', () => {
    const status = (installed: boolean) => ({ moodle: { installed } }) as LabStatus;
    const usage = (m: string) => new SyntaxError(m);
    assert.equal(loadOptions({}, status(true), usage).journey, 'moodle');
    assert.equal(loadOptions({}, status(false), usage).journey, 'probe');
    const o = loadOptions({ users: '30', duration: '60s', think: '200ms-1s', fault: ['kill web2@20s'], 'heal-at': '40s' }, status(true), usage);
    assert.deepEqual([o.users, o.durationMs, o.thinkMinMs, o.thinkMaxMs, o.faults.length, o.healAtMs], [30, 60_000, 200, 1000, 1, 40_000]);
    assert.equal(o.throughputPerMin, 0, '--think alone: unpaced users');
    // The Moodle journey defaults to Moodle's JMeter plan pace; the probe journey is unpaced.
    const plan = loadOptions({}, status(true), usage);
    assert.deepEqual([plan.throughputPerMin, plan.thinkMinMs, plan.thinkMaxMs], [120, 0, 0]);
    const probe = loadOptions({}, status(false), usage);
    assert.deepEqual([probe.throughputPerMin, probe.thinkMinMs, probe.thinkMaxMs], [0, 500, 1000]);
    assert.equal(loadOptions({ throughput: '0' }, status(true), usage).thinkMaxMs, 1000, 'unpaced: the default think time');
    assert.throws(() => loadOptions({ throughput: '-1' }, status(true), usage), /--throughput must be/);
    assert.throws(() => loadOptions({ users: '0' }, status(true), usage), SyntaxError);
    assert.throws(() => loadOptions({ journey: 'browse' }, status(true), usage), /--journey must be moodle or probe/);
    assert.throws(() => loadOptions({ fault: ['kill web2'] }, status(true), usage), SyntaxError);
    assert.throws(() => loadOptions({ 'heal-at': '5s' }, status(true), usage), /needs at least one --fault/);
  });
});

describe('Moodle page scraping', () => {
  const course = `<body id="page-course-view-topics" class="format-topics course-7 path-course">
    <a href="http://localhost:8080/mod/forum/view.php?id=11">Announcements</a>
    <a href="http://localhost:8080/mod/page/view.php?id=12">Page 1</a>
    <a href="http://localhost:8080/mod/resource/view.php?id=14">Small files</a>
    <a href="http://localhost:8080/mod/forum/view.php?id=13">Forum</a>
    <a href="http://localhost:8080/pluginfile.php/33/mod_resource/content/1/smallfile0.dat?forcedownload=1&amp;x=1">f</a>`;

  it('links, course id, pluginfile links', () => {
    assert.deepEqual(linkIds(course, '/mod/forum/view.php'), [11, 13]);
    assert.deepEqual(linkIds(course, '/mod/page/view.php'), [12]);
    assert.deepEqual(linkIds('<a href="/mod/forum/post.php?reply=99#mformforum">', '/mod/forum/post.php', 'reply'), [99]);
    assert.deepEqual(linkIds('<a href="/x/discuss.php?foo=1&amp;d=5">', '/x/discuss.php', 'd'), [5]);
    assert.equal(courseId(course), 7);
    assert.deepEqual(pluginfileLinks(course), ['http://localhost:8080/pluginfile.php/33/mod_resource/content/1/smallfile0.dat?forcedownload=1&x=1']);
  });

  it('a form: hidden and text inputs, checked boxes, textareas; buttons left out', () => {
    const html = `<form class="x" action="http://localhost/search.php"><input name="q" value="no"></form>
      <form autocomplete="off" action="http://localhost/mod/forum/post.php" method="post" id="mformforum">
      <input name="reply" type="hidden" value="99" /><input type="hidden" name="sesskey" value="abc&amp;1">
      <input type="checkbox" name="discussionsubscribe" value="1" checked="checked"><input type="checkbox" name="pinned" value="1">
      <textarea id="id_message" name="message[text]" rows="15">&lt;p&gt;hi&lt;/p&gt;</textarea>
      <input type="submit" name="submitbutton" value="Post"></form>`;
    const f = scrapeForm(html, 'post.php')!;
    assert.equal(f.action, 'http://localhost/mod/forum/post.php');
    assert.deepEqual(f.fields, { reply: '99', sesskey: 'abc&1', discussionsubscribe: '1', 'message[text]': '<p>hi</p>' });
    assert.equal(scrapeForm(html, 'nothing.php'), undefined);
  });
});

describe('integrity probes', () => {
  it('reads every acknowledged write back and reports what is lost, by id; failing reads are unchecked', async () => {
    const ledger = new IntegrityLedger();
    ledger.dbWrite(1, 'a');
    ledger.dbWrite(2, 'b');
    ledger.dbWrite(3, 'c');
    ledger.file('f1', 'x');
    ledger.file('f2', 'y');
    ledger.session({ key: 'u1', value: 'v', client: { get: async () => response(200, { ok: true, value: 'v' }) } });
    const reads: string[] = [];
    const report = await ledger.verify('http://lab', {
      read: async (path, session) => {
        reads.push(path);
        if (session) return session.client.get(path);
        if (path.endsWith('read=1')) return response(200, { ok: true, row: { value: 'a' } });
        if (path.endsWith('read=2')) return response(404, { ok: false, error: 'no row with id 2' });
        if (path.endsWith('read=3')) return response(500, { ok: false, error: 'database down' });
        if (path.endsWith('read=f1')) return response(200, { ok: true, value: 'x' });
        return response(200, { ok: true, value: 'changed' });
      },
    });
    assert.deepEqual(report.lostDbWrites, ['db:2']);
    assert.deepEqual(report.lostFiles, ['file:f2']);
    assert.deepEqual(report.lostSessions, []);
    assert.deepEqual(report.unchecked, ['db:3']);
    assert.equal(reads.filter((r) => r.endsWith('read=3')).length, 3); // retried
    assert.deepEqual([report.dbWrites, report.files, report.sessions], [3, 2, 1]);
  });
});

describe('node probes', () => {
  it('probe every target, at most one in flight each, and emit samples', async () => {
    const seen: ProbeSample[] = [];
    const probes = new NodeProbes(
      [
        { name: 'haproxy', url: 'http://h' },
        { name: 'web1', url: 'http://w1' },
      ],
      {
        fetch: async (url) => {
          if (url.startsWith('http://w1')) throw new Error('connect ECONNREFUSED');
          return { status: 200, servedBy: 'web2' };
        },
      },
    );
    probes.on('sample', (s: ProbeSample) => seen.push(s));
    await Promise.all([probes.round(), probes.round()]);
    assert.equal(seen.length, 2); // the second round found both still in flight
    assert.deepEqual(seen.map((s) => [s.target, s.ok, s.servedBy]).sort(), [
      ['haproxy', true, 'web2'],
      ['web1', false, undefined],
    ]);
    assert.deepEqual(Object.keys(probes.summary()), ['haproxy', 'web1']);
    assert.equal(probes.summary().web1!.failures, 1);
  });
});

describe('status snapshots during a run', () => {
  it('the cluster view polls at its interval on a quick host, and never more than half the time on a slow one', () => {
    const cluster = clusterSource(async () => {
      throw new Error('not polled here');
    });
    assert.equal(cluster.maxDuty, 0.5);
    assert.equal(pauseAfterPoll(cluster, 200), 800); // 1 s interval
    assert.equal(pauseAfterPoll(cluster, 900), 900);
    assert.equal(pauseAfterPoll(cluster, 3000), 3000); // was 0: the next poll at once
    // HAProxy's runtime API (no exec): its interval only, even when a poll is slow.
    const haproxy = haproxySource('tcp://127.0.0.1:9999');
    assert.equal(haproxy.maxDuty, undefined);
    assert.equal(pauseAfterPoll(haproxy, 40), 60);
    assert.equal(pauseAfterPoll(haproxy, 500), 0);
  });
});

describe('the cluster view polled during a run', () => {
  it('asks only for the Galera and Gluster slices when the lab can give them (a whole status is an exec into most nodes)', async () => {
    const asked: string[] = [];
    const status = { endpoints: {}, galera: { clusterSize: 3 }, gluster: { bricks: [{ name: 'gluster1', online: true }] } } as unknown as LabStatus;
    const lab = {
      status: async () => {
        asked.push('whole');
        return status;
      },
      componentStatus: async (roles: readonly string[]) => {
        asked.push(roles.join(','));
        return status;
      },
    };
    const [cluster] = statusSources(status, lab, true);
    assert.deepEqual(await cluster!.poll(), { galeraSize: 3, bricks: [{ name: 'gluster1', online: true }] });
    assert.deepEqual(asked, ['db,storage']);
    // A lab without it (a fake, an older host): the whole status, as before.
    const [fallback] = statusSources(status, { status: lab.status }, true);
    await fallback!.poll();
    assert.deepEqual(asked, ['db,storage', 'whole']);
  });
});
