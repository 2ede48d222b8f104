/**
 * Real Moodle on the real cluster. Needs a Moodle 5.x source tree (folder or archive):
 *   MOODLE_LAB_TEST_SOURCE=/path/to/moodle npm run test:integration
 * Without it these tests are skipped with a message saying so (no Moodle source ships with the
 * repository, and the default download needs the internet).
 *
 * The first `up` runs Moodle's installer and saves the site in the site cache; the lab is then
 * destroyed and brought up again, restoring the site from the cache: every later test (login,
 * session across a node kill, file download, maintenance, paper-failover) runs on the restored site.
 */
import { strict as assert } from 'node:assert';
import { randomUUID } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { chromium } from 'playwright-core';
import { freshLabOrSkip, LabUnderTest } from '../support/integration';
import { CHROMIUM_ARGS, CHROMIUM_PATH, screenshot } from '../support/ui';
import type { ScenarioResult } from '../../src/scenarios/types';
import { isLoggedIn, MoodleClient } from '../../src/moodle/client';
import type { LabStatus } from '../../src/protocol/status';

const SOURCE = process.env.MOODLE_LAB_TEST_SOURCE;
const LAB = process.env.LAB_TEST_MOODLE_NAME ?? 'mlt-moodle';

function directTo(status: LabStatus, node: string): { host: string; port: number } {
  const url = status.nodes.find((n) => n.name === node)?.url;
  assert.ok(url, `${node} has no direct URL`);
  const u = new URL(url);
  return { host: u.hostname, port: Number(u.port) };
}

async function coursePage(c: MoodleClient) {
  return c.get('/course/view.php?name=halab');
}

describe(`real Moodle on the cluster (lab "${LAB}")`, function () {
  this.timeout(2_400_000);
  const lab = new LabUnderTest(LAB);
  let status: LabStatus;

  before(async function () {
    if (!SOURCE) {
      console.log('    skipped: set MOODLE_LAB_TEST_SOURCE to a Moodle 5.x source folder or archive to run the Moodle tier (none ships with the repository).');
      this.skip();
    }
    await freshLabOrSkip(this, lab);
  });

  after(async function () {
    if (SOURCE && !process.env.LAB_TEST_KEEP) await lab.cli(['destroy']);
  });

  it('`up --moodle-source` installs Moodle once and saves the site in the site cache; status --json lists the admin and the generated users', async () => {
    const r = await lab.cliOk(['up', '--moodle-source', SOURCE!]);
    assert.match(r.stderr, /moodle: installing /);
    assert.match(r.stderr, /moodle: site saved in the site cache/);
    status = await lab.status();
    assert.equal(status.moodle.installed, true);
    assert.equal(status.moodle.url, status.endpoints.moodle);
    assert.match(status.moodle.url!, /^http:\/\/localhost:\d+$/);
    assert.ok(status.moodle.users.length >= 30, 'enough users for 30 virtual users');
    assert.equal(status.moodle.course, 'halab');
    assert.ok(status.nodes.every((n) => n.healthy));
  });

  it('`destroy` keeps the site cache; the next `up` restores the site from it (no installer) with new secrets, on every Galera node', async () => {
    const listed = JSON.parse((await lab.cliOk(['cache', 'list', '--json'])).stdout) as {
      entries: { usable: boolean; release: string; madeBy: { lab: string } }[];
    };
    assert.equal(listed.entries.length, 1);
    assert.equal(listed.entries[0]!.usable, true);
    assert.equal(listed.entries[0]!.madeBy.lab, LAB);
    const installed = status;
    await lab.cliOk(['destroy']);
    const t0 = Date.now();
    const r = await lab.cliOk(['up', '--moodle-source', SOURCE!]);
    const seconds = (Date.now() - t0) / 1000;
    console.log(
      `      second up (restore from the site cache): ${seconds.toFixed(0)} s; ${/restored from the site cache in \d+ s/.exec(r.stderr)?.[0] ?? '?'}`,
    );
    assert.match(r.stderr, /moodle: restored from the site cache in \d+ s/);
    assert.doesNotMatch(r.stderr, /moodle: installing|creating the test course/);
    status = await lab.status();
    assert.equal(status.moodle.installed, true);
    assert.equal(status.moodle.course, 'halab');
    assert.ok(
      status.nodes.every((n) => n.healthy),
      JSON.stringify(status.nodes.filter((n) => !n.healthy)),
    );
    // A new lab, new secrets: the cached site took this lab's passwords.
    assert.notEqual(status.moodle.admin!.password, installed.moodle.admin!.password);
    assert.notEqual(status.moodle.users[0]!.password, installed.moodle.users[0]!.password);
    const admin = new MoodleClient({ wwwroot: status.moodle.url! });
    await admin.login(status.moodle.admin!.username, status.moodle.admin!.password);
    await assert.rejects(
      new MoodleClient({ wwwroot: status.moodle.url! }).login(installed.moodle.admin!.username, installed.moodle.admin!.password),
      /login of admin failed/,
    );
    // Galera carried the import to every node: the same tables and users everywhere.
    const state = JSON.parse(fs.readFileSync(path.join(lab.home, LAB, 'state.json'), 'utf8')) as { secrets: { dbRootPassword: string } };
    const counts: string[] = [];
    for (const node of ['galera1', 'galera2', 'galera3']) {
      const q =
        "SET SESSION wsrep_sync_wait=1; SELECT CONCAT((SELECT COUNT(*) FROM information_schema.tables WHERE table_schema='moodle'), '/', (SELECT COUNT(*) FROM moodle.mdl_user))";
      const x = await lab.docker.containers.exec(await lab.containerId(node), ['mariadb', '-uroot', '-N', '-B', '-e', q], {
        env: [`MYSQL_PWD=${state.secrets.dbRootPassword}`],
        timeoutMs: 30_000,
      });
      assert.equal(x.exitCode, 0, x.stderr);
      counts.push(x.stdout.trim());
    }
    assert.ok(Number(counts[0]!.split('/')[0]) > 300 && Number(counts[0]!.split('/')[1]) > 100, counts.join(' '));
    assert.deepEqual(counts, [counts[0], counts[0], counts[0]]);
  });

  it('a generated user logs in through HAProxy (logintoken scraped) and the course page loads', async () => {
    const c = new MoodleClient({ wwwroot: status.moodle.url! });
    const user = status.moodle.users[0]!;
    await c.login(user.username, user.password);
    const page = await coursePage(c);
    assert.equal(page.status, 200);
    assert.ok(isLoggedIn(page.text()), 'logged in on the course page');
    assert.match(page.text(), /Moodle HA Lab course/);
  });

  it('the session survives the death of the web node that served the login (sessions in Redis)', async () => {
    const c = new MoodleClient({ wwwroot: status.moodle.url! });
    const user = status.moodle.users[1]!;
    const login = await c.login(user.username, user.password);
    const victim = login.servedBy;
    assert.ok(victim && /^web\d$/.test(victim), `HAProxy names the node that served the login (${victim})`);
    await lab.docker.containers.kill(await lab.containerId(victim));
    const page = await coursePage(c);
    assert.equal(page.status, 200);
    assert.ok(isLoggedIn(page.text()), 'still logged in after the node died');
    assert.notEqual(page.servedBy, victim);
    // `up` brings the killed node back.
    await lab.cliOk(['up']);
    status = await lab.status();
    assert.ok(status.nodes.every((n) => n.healthy));
  });

  it('a file uploaded through web1 downloads through web2 (moodledata on Gluster)', async () => {
    const viaHaproxy = new MoodleClient({ wwwroot: status.moodle.url! });
    const user = status.moodle.users[2]!;
    await viaHaproxy.login(user.username, user.password);
    const name = `lab-${randomUUID().slice(0, 8)}.txt`;
    const content = Buffer.from(`uploaded through web1 at ${new Date().toISOString()}\n`);
    const path = await viaHaproxy.via(directTo(status, 'web1')).uploadPrivateFile(name, content);
    const dl = await viaHaproxy.via(directTo(status, 'web2')).get(path);
    assert.equal(dl.status, 200);
    assert.deepEqual(dl.body, content);
  });

  it('`maintenance on` → every web node answers 503 through HAProxy within 2 s; `off` → 200 again', async () => {
    const on = await lab.cliOk(['maintenance', 'on']);
    // From the moment Moodle's CLI switched it on to the first 503 through HAProxy:
    const ms = Number(/answers 503 after (\d+) ms/.exec(on.stdout)?.[1]);
    assert.ok(ms <= 2000, `503 within 2 s (${on.stdout.trim()})`);
    const c = new MoodleClient({ wwwroot: status.moodle.url! });
    const seen = new Map<string, number>();
    for (let i = 0; i < 12 && seen.size < 3; i++) {
      const r = await c.get('/');
      seen.set(r.servedBy ?? '?', r.status);
    }
    assert.deepEqual([...seen.keys()].sort(), ['web1', 'web2', 'web3']);
    assert.ok(
      [...seen.values()].every((s) => s === 503),
      `every node 503: ${JSON.stringify([...seen])}`,
    );
    assert.equal((await lab.status()).moodle.maintenance, true);
    await lab.cliOk(['maintenance', 'off']);
    assert.equal((await c.get('/')).status, 200);
    assert.equal((await lab.status()).moodle.maintenance, false);
  });

  it('`scenario run paper-failover --json --report out.html` → exit 0, failures 0, Apdex ≥ 0.85; the report opens offline', async () => {
    const report = path.join(lab.home, 'paper-failover.html');
    const r = await lab.cli(['scenario', 'run', 'paper-failover', '--json', '--report', report]);
    const result = JSON.parse(r.stdout) as ScenarioResult;
    assert.equal(
      r.code,
      0,
      `${result.steps
        .filter((x) => !x.passed)
        .map((x) => `${x.step}: ${x.detail}`)
        .join('\n')}\n${r.stderr.slice(-2000)}`,
    );
    assert.equal(result.failures, 0);
    assert.ok(result.apdex >= 0.85, `Apdex ${result.apdex}`);
    assert.deepEqual(
      result.faults.map((f) => f.fault),
      ['stop web2', 'stop web3'],
    );
    const browser = await chromium.launch({ executablePath: CHROMIUM_PATH, args: CHROMIUM_ARGS });
    try {
      const page = await browser.newPage({ viewport: { width: 1440, height: 900 } });
      const network: string[] = [];
      await page.route('**/*', (route) =>
        route.request().url().startsWith('file:') ? route.continue() : (network.push(route.request().url()), route.abort()),
      );
      await page.goto(`file://${report}`);
      assert.ok(await page.locator('svg').first().isVisible());
      assert.ok(await page.getByText('PASSED').first().isVisible());
      assert.ok((await page.locator('table').count()) >= 2);
      assert.deepEqual(network, []);
      await screenshot(page, 'report-paper-failover-real.png');
    } finally {
      await browser.close();
    }
  });

  it('`down` then `up` with the same source: no reinstall, the same users still log in', async () => {
    await lab.cliOk(['down']);
    const r = await lab.cliOk(['up', '--moodle-source', SOURCE!]);
    assert.doesNotMatch(r.stderr, /installing/);
    const s = await lab.status();
    assert.equal(s.moodle.users[0]!.password, status.moodle.users[0]!.password);
    const c = new MoodleClient({ wwwroot: s.moodle.url! });
    await c.login(s.moodle.users[0]!.username, s.moodle.users[0]!.password);
    assert.ok(isLoggedIn((await coursePage(c)).text()));
  });
});
