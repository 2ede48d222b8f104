/**
 * `scenario run … --junit out.xml`: the result as JUnit XML (the Ant/Jenkins format every CI
 * reads: GitHub Actions reporters, GitLab, Jenkins). Each assert step is one test case; a failed
 * assert is a `<failure>` naming each check's measured value beside its threshold; an action step
 * that failed (the lab could not do what the scenario asked) is an `<error>`; asserts that never
 * ran because an earlier step failed are `<skipped>`.
 */
import type { ScenarioResult, StepResult } from './types';

const xml = (s: string) =>
  s
    // XML 1.0 has no place for most control characters, even escaped.
    // eslint-disable-next-line no-control-regex
    .replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]/g, '\ufffd')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;');

const seconds = (ms: number) => (Math.max(0, ms) / 1000).toFixed(3);

function caseName(s: StepResult): string {
  return s.line ? `line ${s.line}: ${s.step}` : s.step;
}

/** The body of a failure: every check of the assert, measured against expected. */
function checkLines(s: StepResult): string {
  const lines = (s.checks ?? []).map(
    (c) => `${c.passed ? 'ok  ' : 'FAIL'} ${c.name}: measured ${c.measured === null ? 'no value' : String(c.measured)}, expected ${c.expected}`,
  );
  return lines.length ? lines.join('\n') : (s.detail ?? '');
}

/**
 * Predictions are no tests (a wrong one fails nothing): each is a property
 * `prediction.<id>` = `right|wrong|not answered|ungraded: answer …, measured …`.
 */
function predictionProperties(r: ScenarioResult): string {
  return (r.predictions ?? [])
    .map(
      (p) =>
        `\n      <property name="prediction.${xml(p.id)}" value="${xml(`${p.grade}: answer ${p.answer === null ? 'none' : String(p.answer)}, measured ${p.measuredText}`)}"/>`,
    )
    .join('');
}

export function toJUnit(r: ScenarioResult): string {
  const cls = `scenario.${r.name}`;
  const cases: string[] = [];
  let failures = 0;
  let errors = 0;
  let skipped = 0;
  for (const s of r.steps) {
    const notRun = !s.passed && (s.detail ?? '').startsWith('not run:');
    const head = `    <testcase classname="${xml(cls)}" name="${xml(caseName(s))}" time="${seconds(s.durationMs)}"`;
    if (s.kind === 'assert') {
      if (notRun) {
        skipped++;
        cases.push(`${head}>\n      <skipped message="${xml(s.detail ?? '')}"/>\n    </testcase>`);
      } else if (!s.passed) {
        failures++;
        const failed = (s.checks ?? []).filter((c) => !c.passed);
        const message = failed.length
          ? failed.map((c) => `${c.name} is ${c.measured === null ? 'missing' : String(c.measured)}, expected ${c.expected}`).join('; ')
          : (s.detail ?? 'assert failed');
        cases.push(`${head}>\n      <failure type="assert" message="${xml(message)}">${xml(checkLines(s))}</failure>\n    </testcase>`);
      } else {
        cases.push(`${head}>\n      <system-out>${xml(checkLines(s))}</system-out>\n    </testcase>`);
      }
    } else if (!s.passed && !notRun) {
      // The step the scenario stopped at: the lab failed, not an expectation.
      errors++;
      cases.push(`${head}>\n      <error type="step" message="${xml(s.detail ?? 'failed')}">${xml(s.detail ?? '')}</error>\n    </testcase>`);
    }
  }
  const tests = cases.length;
  const attrs = `tests="${tests}" failures="${failures}" errors="${errors}" skipped="${skipped}" time="${seconds(r.durationMs)}"`;
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuites name="moodle-ha-lab" ${attrs}>`,
    `  <testsuite name="${xml(r.name)}" ${attrs} timestamp="${xml(r.startedAt.replace(/\.\d+Z$/, ''))}">`,
    `    <properties>\n      <property name="requests" value="${r.requests}"/>\n      <property name="failures" value="${r.failures}"/>\n      <property name="apdex" value="${r.apdex}"/>\n      <property name="p95Ms" value="${r.latencyMs.p95}"/>${predictionProperties(r)}\n    </properties>`,
    ...cases,
    '  </testsuite>',
    '</testsuites>',
    '',
  ].join('\n');
}

/**
 * The exit code of a finished scenario (README "Exit codes", k6-style): 0 every step and assert
 * held, 1 an assert failed, 3 a step could not be carried out (the lab failed). Usage and input
 * errors (2) never get this far.
 */
export function scenarioExitCode(r: ScenarioResult): 0 | 1 | 3 {
  if (r.passed) return 0;
  const labFailed = r.steps.some((s) => !s.passed && s.kind !== 'assert' && !(s.detail ?? '').startsWith('not run:'));
  return labFailed ? 3 : 1;
}
