import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { CliIo, runCli, UsageError } from '../../src/cli';
import { StateStore } from '../../src/engine/state';
import { FakeDocker } from '../support/fake-docker';

describe('CLI load', () => {
  const deps = () => ({
    docker: new FakeDocker(),
    store: new StateStore(fs.mkdtempSync(path.join(os.tmpdir(), 'cli-load-'))),
    labRoot: path.resolve(__dirname, '../../lab'),
  });
  const io = (): CliIo => ({ out: () => undefined, err: () => undefined, env: {} });

  it('bad options are usage errors, before Docker is touched', async () => {
    const d = deps();
    await assert.rejects(runCli(['load', '--users', '0'], io(), d), (e: unknown) => e instanceof UsageError && /--users/.test(e.message));
    await assert.rejects(runCli(['load', '--journey', 'browse'], io(), d), /--journey must be moodle or probe/);
    await assert.rejects(runCli(['load', '--fault', 'kill web2'], io(), d), (e: unknown) => e instanceof UsageError && /<kind> <node>@<time>/.test(e.message));
    await assert.rejects(runCli(['load', '--duration', 'long'], io(), d), /invalid --duration/);
    assert.equal(d.docker.calls.length, 0);
  });

  it('a lab that does not exist: one clear error', async () => {
    await assert.rejects(runCli(['load', '--users', '2'], io(), deps()), /lab "moodle-lab" does not exist/);
  });
});
