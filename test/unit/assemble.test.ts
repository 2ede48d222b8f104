/** The composition root: one call gives a lab's controller, snapshot store and live wiring, joined up. */
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { labReportsDir } from '../../src/engine/state';
import { assembleLab, controllerFactory } from '../../src/host/assemble';
import { LAB_ROOT } from '../support/engine';
import { FakeDocker } from '../support/fake-docker';

describe('assembleLab (the one composition root)', () => {
  let home: string;
  beforeEach(() => (home = fs.mkdtempSync(path.join(os.tmpdir(), 'assemble-'))));
  afterEach(() => fs.rmSync(home, { recursive: true, force: true }));

  it('the store collects through the controller, the live wiring publishes the built-in scenarios, reports go to the lab folder', async () => {
    const docker = new FakeDocker();
    const controllerFor = controllerFactory({ docker, labRoot: LAB_ROOT, home });
    const host = assembleLab({ controller: controllerFor('asm1'), labFor: controllerFor, labRoot: LAB_ROOT });
    try {
      const s = await host.store.refresh();
      assert.equal(s.lab, 'asm1');
      assert.equal(s.state, 'absent');
      const builtins = fs.readdirSync(path.join(LAB_ROOT, 'scenarios')).filter((f) => f.endsWith('.yaml')).length;
      assert.equal(host.store.current()?.scenarios?.length, builtins, 'the catalog of lab/scenarios');
      assert.equal(host.reportsDir, labReportsDir('asm1'));
      await assert.rejects(host.controls.stopLoad(), /no load is running/);
      assert.equal(typeof host.actions.fault, 'function');
    } finally {
      await host.dispose();
    }
  });

  it('takes a reports folder and the built-ins of its lab root, and logs where it is told; the factory makes a controller per lab name', async () => {
    const docker = new FakeDocker();
    const controllerFor = controllerFactory({ docker, labRoot: LAB_ROOT, home });
    const [a, b] = [controllerFor('asm-a'), controllerFor('asm-b')];
    assert.deepEqual([a.lab, b.lab], ['asm-a', 'asm-b']);
    const reportsDir = path.join(home, 'reports-here');
    const labRoot = path.join(home, 'lab-root');
    fs.mkdirSync(path.join(labRoot, 'scenarios'), { recursive: true });
    fs.writeFileSync(path.join(labRoot, 'scenarios', 'broken.yaml'), 'name: [\n');
    const logged: string[] = [];
    const host = assembleLab({ controller: a, labRoot, reportsDir, log: (l) => void logged.push(l), storeLog: () => undefined });
    try {
      assert.equal(host.reportsDir, reportsDir);
      assert.equal(host.controller, a);
      assert.deepEqual(host.store.current()?.scenarios ?? [], [], 'no built-ins from a broken scenarios folder');
      assert.ok(
        logged.some((l) => l.startsWith('built-in scenarios unreadable')),
        logged.join('\n'),
      );
    } finally {
      await host.dispose();
    }
  });
});
