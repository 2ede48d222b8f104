/**
 * The audit and external faults on a real `--no-moodle` `ha` lab (one lab for the file):
 * - a load run notices a `fault kill web2` applied by a second process (the CLI) and analyses it
 *   like its own fault (source external, detection, failed requests, blackout);
 * - bad input to `audit` → exit 2, the lab untouched;
 * - `audit --nodes web2,redis --faults kill` → Redis a single point of failure, web2 not; the
 *   HTML report and JUnit written; the lab green afterwards.
 */
import { strict as assert } from 'node:assert';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { notYet, ready, waitFor } from '../../src/core/wait';
import { labProblems } from '../../src/roles/green';
import { freshLabOrSkip, LabUnderTest, ROOT } from '../support/integration';

describe('audit and external faults (real lab)', function () {
  this.timeout(1_800_000);
  const lab = new LabUnderTest('audit-it');

  before(async function () {
    await freshLabOrSkip(this, lab);
    await lab.cliOk(['up', '--no-moodle']);
  });

  after(async () => {
    await lab.destroyLeavingNothing();
  });

  it('a load run analyses a kill applied from another process: source external, detection, failed requests, blackout', async () => {
    const child = spawn(
      process.execPath,
      [path.join(ROOT, 'scripts', 'lab.mjs'), 'load', '--users', '10', '--duration', '30s', '--journey', 'probe', '--json', '--lab', lab.lab],
      {
        cwd: ROOT,
        env: { ...process.env, MOODLE_LAB_HOME: lab.home },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c) => (stdout += c));
    child.stderr.on('data', (c) => (stderr += c));
    const exited = new Promise<number>((resolve) => child.on('close', (code) => resolve(code ?? -1)));
    // The load has been running ~10 s (its own per-second progress says so): now the second process.
    await waitFor(async () => (/\[\s*10 s\]/.test(stderr) ? ready(true) : notYet('the load at 10 s')), {
      what: 'the load running 10 s',
      timeoutMs: 120_000,
      intervalMs: 200,
    });
    await lab.cliOk(['fault', 'kill', 'web2']);
    const code = await exited;
    assert.equal(code, 0, stderr.slice(-3000));
    const r = JSON.parse(stdout) as {
      faults: { fault: string; source: string; atMs: number; detectedMs: number | null; failedRequests: number; blackoutMs: number }[];
    };
    const f = r.faults[0];
    assert.ok(f, `a fault was analysed: ${stdout.slice(0, 2000)}`);
    assert.equal(f.fault, 'kill web2');
    assert.equal(f.source, 'external');
    assert.ok(f.atMs > 8000 && f.atMs < 25_000, `at ${f.atMs} ms`);
    assert.ok(f.detectedMs !== null && f.detectedMs >= 0, 'HAProxy showed it');
    assert.equal(typeof f.failedRequests, 'number');
    assert.equal(typeof f.blackoutMs, 'number');
    assert.match(stderr, /external fault noticed: kill web2/);
    await lab.cliOk(['heal']);
  });

  it('bad input: an unknown fault kind or node → exit 2, one clear line, the lab untouched', async () => {
    const kind = await lab.cli(['audit', '--faults', 'kill,melt']);
    assert.equal(kind.code, 2);
    assert.match(kind.stderr, /unknown fault kind "melt"/);
    const node = await lab.cli(['audit', '--nodes', 'web9', '--faults', 'kill']);
    assert.equal(node.code, 2);
    assert.match(node.stderr, /unknown node "web9"/);
    const s = await lab.status();
    assert.deepEqual(labProblems(s), [], 'still green, nothing faulted');
  });

  it('audit web2 and redis (kill): Redis a single point of failure, web2 not; report and JUnit written; the lab green after', async () => {
    const report = path.join(lab.home, 'audit.html');
    const junit = path.join(lab.home, 'audit.xml');
    const r = await lab.cli([
      'audit',
      '--nodes',
      'web2,redis',
      '--faults',
      'kill',
      '--per-fault',
      '15s',
      '--users',
      '10',
      '--journey',
      'probe',
      '--json',
      '--report',
      report,
      '--junit',
      junit,
    ]);
    assert.equal(r.code, 1, `exit 1: a SPOF was found\n${r.stderr.slice(-3000)}`);
    const a = JSON.parse(r.stdout) as {
      topology: string;
      results: {
        node: string;
        role: string;
        fault: string;
        detectedMs: number | null;
        failedRequests: number;
        blackoutMs: number;
        p99Ms: number;
        recoveredMs: number | null;
        lost: { writes: number; files: number; sessions: number };
      }[];
      nodes: { node: string; spof: boolean; reasons: string[] }[];
      baseline?: { blackoutMs: number; failedRequests: number; requests: number };
    };
    assert.equal(a.topology, 'ha');
    // The fault-free run first, over a fault's window: the lab's own gaps at this load.
    assert.ok(a.baseline && a.baseline.requests > 0, `a measured baseline: ${JSON.stringify(a.baseline)}`);
    assert.match(r.stderr, /\[baseline\] no fault \(baseline\)/);
    assert.match(r.stderr, /baseline: \d+\/\d+ failed, longest gap \d+ ms/);
    assert.deepEqual(
      a.results.map((x) => [x.node, x.fault]),
      [
        ['web2', 'kill web2'],
        ['redis', 'kill redis'],
      ],
    );
    for (const x of a.results)
      for (const k of ['detectedMs', 'failedRequests', 'blackoutMs', 'p99Ms', 'recoveredMs', 'lost']) assert.ok(k in x, `${k} in ${x.fault}`);
    assert.ok(a.results[0]!.detectedMs !== null, 'HAProxy showed web2 down');
    assert.deepEqual(
      a.nodes.map((n) => [n.node, n.spof]),
      [
        ['web2', false],
        ['redis', true],
      ],
      JSON.stringify(a.nodes),
    );
    assert.ok(a.nodes[1]!.reasons.length > 0);
    assert.match(r.stderr, /\[1\/2\] kill web2/);
    const html = fs.readFileSync(report, 'utf8');
    assert.match(html, /data-node="redis" data-verdict="spof"/);
    assert.doesNotMatch(html, /<script|<link|src="http/);
    assert.match(fs.readFileSync(junit, 'utf8'), /failures="1"/);
    assert.deepEqual(labProblems(await lab.status()), [], 'green after the audit');
  });
});
