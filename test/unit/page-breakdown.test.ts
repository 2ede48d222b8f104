import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { breakdown, parseHops } from '../../bench/page-breakdown';
import { LAB_SCRIPTS } from '../../src/moodle/install';
import { MOODLEDATA } from '../../src/roles/env';

const conf = fs.readFileSync(path.join(__dirname, '..', '..', 'lab', 'web', 'apache', 'moodle-lab.conf'), 'utf8');

describe('page breakdown bench (bench/page-breakdown.ts)', () => {
  it('the access log format ends with %D, the labperf note and X-Lab-Seq, which parseHops reads', () => {
    assert.match(conf, /LogFormat ".* %D \\"%\{labperf\}n\\" \\"%\{X-Lab-Seq\}i\\"" labcombined/);
    assert.match(conf, /CustomLog \S+ labcombined env=!dontlog/);
  });

  it('parseHops keeps only the lines of this run and reads %D (µs) and the note', () => {
    const text = [
      '172.18.0.5 - - [30/Nov/2026:22:50:01 +0000] "GET /login/index.php HTTP/1.1" 200 5120 "-" "moodle-ha-lab" 48211 "t=45.2 db=6.5 q=14 sess=1.2 inc=612 och=600 ocm=12" "ab12.3"',
      '172.18.0.5 - - [30/Nov/2026:22:50:01 +0000] "GET / HTTP/1.1" 200 5120 "-" "moodle-ha-lab" 1000 "-" "-"',
      '172.18.0.5 - - [30/Nov/2026:22:50:02 +0000] "GET / HTTP/1.1" 200 5120 "-" "moodle-ha-lab" 2000 "t=1" "warm.1"',
      'some PHP warning line',
    ].join('\n');
    const hops = parseHops('web1', text, 'ab12');
    assert.equal(hops.length, 1);
    assert.deepEqual(hops[0], { seq: 'ab12.3', node: 'web1', apacheMs: 48.211, perf: { t: 45.2, db: 6.5, q: 14, sess: 1.2, inc: 612, och: 600, ocm: 12 } });
  });

  it('breakdown sums the hops of a page, then takes medians per page; failed pages are left out', () => {
    const samples = [
      { seq: 'r.1', label: 'login', totalMs: 100, status: 200 },
      { seq: 'r.2', label: 'login', totalMs: 300, status: 200 },
      { seq: 'r.3', label: 'login', totalMs: 900, status: 500, failure: 'HTTP 500' },
      { seq: 'r.4', label: 'course', totalMs: 50, status: 200 },
    ];
    const hop = (seq: string, apacheMs: number, perf: Record<string, number>) => ({ seq, node: 'web1', apacheMs, perf });
    const rows = breakdown(samples, [
      hop('r.1', 30, { t: 28, db: 10, q: 20, sess: 2, inc: 500, och: 90, ocm: 10 }),
      hop('r.1', 50, { t: 48, db: 20, q: 30, sess: 2, inc: 600, och: 100, ocm: 0 }),
      hop('r.2', 200, { t: 190, db: 40, q: 50, sess: 10, inc: 1100, och: 200, ocm: 0 }),
      hop('r.3', 800, { t: 800, db: 1, q: 1, sess: 1, inc: 1, och: 0, ocm: 1000 }),
      hop('r.4', 40, { t: 38, db: 5, q: 7, sess: 1, inc: 700, och: 700, ocm: 0 }),
    ]);
    assert.deepEqual(
      rows.map((r) => r.page),
      ['login', 'course'],
    );
    const login = rows[0]!;
    assert.equal(login.n, 2);
    assert.equal(login.hops, 1.5);
    assert.equal(login.totalMs, 200); // median of 100 and 300
    assert.equal(login.apacheMs, 140); // median of 80 and 200
    assert.equal(login.outsideApacheMs, 60); // median of 20 and 100
    assert.equal(login.dbMs, 35); // median of 30 and 40
    assert.equal(login.phpNonDbMs, 91); // median of 76-30-4 = 42 and 190-40-10 = 140
    assert.equal(login.opcacheHitPct, (100 * 390) / 400);
  });
});

describe('PHP settings of the web image (lab/web/php, lab/moodle/config.php)', () => {
  const root = path.join(__dirname, '..', '..');
  const read = (rel: string) => fs.readFileSync(path.join(root, rel), 'utf8');
  const ini = Object.fromEntries(
    read('lab/web/php/90-moodle-lab.ini')
      .split('\n')
      .filter((l) => /^[a-z_.]+\s*=/.test(l))
      .map((l) => l.split('=').map((x) => x.trim()) as [string, string]),
  );

  it('opcache is sized for Moodle 5.1 (about 18,000 PHP files)', () => {
    assert.ok(Number(ini['opcache.max_accelerated_files']) >= 32531);
    assert.ok(Number(ini['opcache.memory_consumption']) >= 128);
  });

  it('without timestamp checks, every path whose PHP can change under a running node is blacklisted', () => {
    assert.equal(ini['opcache.validate_timestamps'], '0');
    const blacklistPath = ini['opcache.blacklist_filename']!;
    const dockerfile = read('lab/web/Dockerfile');
    assert.match(dockerfile, new RegExp(`COPY php/opcache-blacklist\\.txt ${blacklistPath.replace(/\./g, '\\.')}\\n`));
    const blacklist = read('lab/web/php/opcache-blacklist.txt').split('\n').filter(Boolean);
    const covered = (p: string) => blacklist.some((b) => `${p}/x.php`.startsWith(b.replace(/\*$/, '')));
    // The lab's endpoints (bind-mountable), its scripts, the env.php the entrypoint writes, the MUC config in the dataroot.
    for (const p of ['/var/www/lab', LAB_SCRIPTS, '/etc/moodle-lab', `${MOODLEDATA}/muc`]) assert.ok(covered(p), `${p} is not blacklisted`);
    // Moodle's baked code stays cached, and so does its 800 KB component cache in the dataroot.
    assert.ok(!covered('/var/www/moodle'));
    assert.ok(!covered(`${MOODLEDATA}/cache`));
  });
});
