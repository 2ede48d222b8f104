import { strict as assert } from 'node:assert';
import { errText } from '../../src/core/errors';
import { runSummary } from '../../src/core/summary';

describe('core: error text and the load-run sentence', () => {
  it('errText gives an Error its message and anything else its string', () => {
    assert.equal(errText(new TypeError('bad shape')), 'bad shape');
    assert.equal(errText('plain'), 'plain');
    assert.equal(errText(42), '42');
    assert.equal(errText(undefined), 'undefined');
  });

  it('runSummary writes the sentence each surface showed before it existed', () => {
    const r = { requests: 1200, failures: 3, apdex: 0.981 };
    // host/live.ts (stop load), scenarios' load end
    assert.equal(runSummary(r), '1200 requests, 3 failed, Apdex 0.981');
    // the dashboard timeline's "ended" note, a scenario step's detail
    assert.equal(runSummary(r, { p95Ms: 240 }), '1200 requests, 3 failed, Apdex 0.981, p95 240 ms');
    // VS Code's "Load ended" toast
    assert.equal(runSummary(r, { availability: '99.75 %', p95Ms: 240 }), '1200 requests, 3 failed (availability 99.75 %), Apdex 0.981, p95 240 ms');
    // the status bar tooltip (a live, rounded Apdex)
    assert.equal(runSummary({ requests: 0, failures: 0, apdex: (0.5).toFixed(2) }), '0 requests, 0 failed, Apdex 0.50');
  });
});
