import { strict as assert } from 'node:assert';
import { buildTopology } from '../../src/engine/topology';
import type { LabStatus } from '../../src/protocol/status';
import { nodeRef, nodeRefNames } from '../../src/roles';
import { SCENARIO_SCHEMA } from '../../src/scenarios/schema';
import { resolveNodeRefs } from '../../src/scenarios/steps/fault';
import { StepFailed } from '../../src/scenarios/steps/run-context';
import { scenarioError } from '../support/scenario-error';
import { PAIR } from '../support/lb-pair';

const statusWith = (lb: LabStatus['lb']) => ({ lb }) as LabStatus;
const labSaying = (lb: LabStatus['lb']) => ({ lab: { status: async () => statusWith(lb) } }) as never;

describe('node references (@lb.master): a node named by what the cluster says when the step runs', () => {
  it('the lb role offers @lb.master and @lb.backup, on a keepalived pair only', () => {
    assert.deepEqual(nodeRefNames(), ['@lb.master', '@lb.backup']);
    const pair = nodeRef('@lb.master', buildTopology(PAIR));
    assert.ok(typeof pair !== 'string' && pair.role === 'lb');
    assert.match(String(nodeRef('@lb.master', buildTopology('ha'))), /@lb\.master names the HAProxy keepalived says is MASTER.*and this lab has none/);
    assert.match(String(nodeRef('@web.master')), /unknown node reference "@web\.master": this version has @lb\.master, @lb\.backup/);
    assert.match(String(nodeRef('@lb')), /is no node reference: write @<role>\.<name>/);
    // The scenario schema accepts them where it accepts a node name.
    const nodeEnum = (SCENARIO_SCHEMA.definitions as unknown as { node: { enum: string[] } }).node.enum;
    assert.ok(nodeEnum.includes('@lb.master') && nodeEnum.includes('web1'));
  });

  it('a scenario naming @lb.master for a lab without a pair fails at parse time, pointing at the step', () => {
    const e = scenarioError('name: t\ntopology: { preset: ha }\nsteps:\n  - up\n  - fault: kill @lb.master\n');
    assert.match(e.message, /^f\.yaml:5:\d+: fault: @lb\.master names .* and this lab has none/);
  });

  it('at run time the reference becomes the node the status names; none is a failed step', async () => {
    const lb = {
      vip: '172.29.0.10',
      master: 'haproxy2',
      holder: 'haproxy2',
      nodes: [
        { name: 'haproxy1', vrrp: 'BACKUP' as const, holdsVip: false, keepalived: true },
        { name: 'haproxy2', vrrp: 'MASTER' as const, holdsVip: true, keepalived: true },
      ],
    };
    assert.deepEqual(await resolveNodeRefs({ kind: 'kill', nodes: ['@lb.master'] }, labSaying(lb)), { kind: 'kill', nodes: ['haproxy2'] });
    assert.deepEqual(await resolveNodeRefs({ kind: 'partition', nodes: ['@lb.backup'], from: ['@lb.master'] }, labSaying(lb)), {
      kind: 'partition',
      nodes: ['haproxy1'],
      from: ['haproxy2'],
    });
    const plain = { kind: 'stop' as const, nodes: ['web2'] };
    assert.equal(await resolveNodeRefs(plain, labSaying(undefined)), plain);
    await assert.rejects(
      resolveNodeRefs({ kind: 'kill', nodes: ['@lb.master'] }, labSaying({ ...lb, master: undefined })),
      (e: unknown) => e instanceof StepFailed && /@lb\.master: no node is the HAProxy keepalived says is MASTER/.test(e.message),
    );
  });
});
