/**
 * The dashboard's live part: load controls (users, duration, journey, start/stop), the latency
 * chart with fault markers, export, and the scenario panel (a built-in to run, its narration and
 * step progress). It renders the snapshot and sends intents; the host decides.
 */
import { ExportReportIntent, Intent, JOURNEY_CHOICES, LoadStartIntent, LoadStopIntent, ScenarioRunIntent, ScenarioStopIntent } from '../src/protocol/messages';
import type { LabSnapshot } from '../src/protocol/snapshot';
import { LatencyChart } from './chart';
import { button, setDisabled, textField } from './components';
import { el } from './dom';
import { loadLine } from './live-text';
import { PredictionView } from './predict';
import { AuditPanel } from './audit';

export type Send = <P>(intent: Intent<P>, params: P) => Promise<void>;

export class LiveView {
  readonly loadPanel: HTMLElement;
  readonly scenarioPanel: HTMLElement;
  readonly audit: AuditPanel;
  readonly chart = new LatencyChart();
  private readonly users = textField('users', '30', { name: 'users', size: 4 });
  private readonly duration = textField('seconds', '60', { name: 'duration', size: 4 });
  private readonly journey = el('select', 'select');
  private readonly startBtn: HTMLElement;
  private readonly stopBtn: HTMLElement;
  private readonly exportBtn: HTMLElement;
  private readonly line = el('p', 'note load-line', 'No load running.');
  private readonly scenarioSelect = el('select', 'select');
  private readonly runBtn: HTMLElement;
  private readonly stopScenarioBtn: HTMLElement;
  private readonly narration = el('div', 'narration');
  private readonly scenarioTitle = el('p', 'note scenario-title', 'No scenario has run yet.');
  private readonly steps = el('ol', 'steps');
  private readonly prediction: PredictionView;
  private catalogKey = '';
  private stepsKey = '';

  constructor(send: Send) {
    this.journey.dataset.name = 'journey';
    this.journey.title = 'Journey: auto = Moodle when installed, else the lab probes';
    for (const j of JOURNEY_CHOICES) this.journey.append(new Option(j, j));
    this.scenarioSelect.dataset.name = 'scenario';
    this.prediction = new PredictionView(send);
    this.audit = new AuditPanel(send);
    this.startBtn = button(
      'Start load',
      () => {
        const users = Number(this.users.value);
        const durationS = Number(this.duration.value);
        void send(LoadStartIntent, {
          users: Number.isInteger(users) && users > 0 ? users : 30,
          durationS: Number.isInteger(durationS) && durationS > 0 ? durationS : 60,
          journey: this.journey.value as (typeof JOURNEY_CHOICES)[number],
        });
      },
      { appearance: 'primary', action: 'load-start' },
    );
    this.stopBtn = button('Stop load', () => void send(LoadStopIntent, {}), { action: 'load-stop' });
    this.exportBtn = button('Export report', () => void send(ExportReportIntent, {}), {
      action: 'export-report',
      title: 'The last scenario, or the last load run',
    });
    this.runBtn = button('Run', () => this.scenarioSelect.value && void send(ScenarioRunIntent, { name: this.scenarioSelect.value }), {
      appearance: 'primary',
      action: 'scenario-run',
    });
    this.stopScenarioBtn = button('Stop', () => void send(ScenarioStopIntent, {}), { action: 'scenario-stop' });
    this.narration.hidden = true;
    this.narration.setAttribute('aria-live', 'polite');
    this.loadPanel = el(
      'section',
      'panel load-box',
      el('h3', undefined, 'Load and latency per second'),
      el(
        'div',
        'controls',
        this.users,
        this.duration,
        el('label', 'select-label', 'journey ', this.journey),
        this.startBtn,
        this.stopBtn,
        el('span', 'spacer'),
        this.exportBtn,
      ),
      this.line,
      this.chart.element,
      el(
        'div',
        'legend note',
        el('span', 'key p95', 'p95'),
        el('span', 'key p50', 'p50'),
        el('span', 'key fail', 'failed requests'),
        el('span', 'key fault', 'fault'),
        el('span', 'key external', 'external fault (not injected)'),
        el('span', 'key heal', 'heal'),
      ),
    );
    this.scenarioPanel = el(
      'section',
      'panel scenario-box',
      el('h3', undefined, 'Scenario'),
      el('div', 'controls', el('label', 'select-label', 'built-in ', this.scenarioSelect), this.runBtn, this.stopScenarioBtn),
      this.narration,
      this.prediction.element,
      this.scenarioTitle,
      this.steps,
    );
  }

  update(s: LabSnapshot): void {
    const running = Boolean(s.metrics?.running);
    const scen = (s.scenario?.running ?? false) || Boolean(s.audit?.running);
    setDisabled(this.startBtn, running || scen);
    setDisabled(this.stopBtn, !running || scen);
    setDisabled(this.exportBtn, !s.reportReady);
    this.exportBtn.title = s.reportReady ? `Export the report of the last ${s.reportReady}` : 'Nothing to export yet';
    const text = loadLine(s);
    if (this.line.textContent !== text) this.line.textContent = text;
    this.chart.update(s.metrics, s.events);
    this.updateScenario(s, s.scenario?.running ?? false);
    this.audit.update(s);
  }

  private updateScenario(s: LabSnapshot, running: boolean): void {
    const catalog = s.scenarios ?? [];
    const ck = catalog.map((c) => c.name).join(',');
    if (ck !== this.catalogKey) {
      this.catalogKey = ck;
      const keep = this.scenarioSelect.value;
      this.scenarioSelect.replaceChildren(...catalog.map((c) => Object.assign(new Option(c.name, c.name), { title: c.description })));
      if (catalog.some((c) => c.name === keep)) this.scenarioSelect.value = keep;
    }
    setDisabled(this.runBtn, running || !catalog.length || Boolean(s.metrics?.running) || Boolean(s.audit?.running));
    setDisabled(this.stopScenarioBtn, !running);
    const v = s.scenario;
    this.prediction.update(v);
    const key = JSON.stringify(v ?? null);
    if (key === this.stepsKey) return;
    this.stepsKey = key;
    if (!v) return;
    this.narration.hidden = !v.narration;
    this.narration.textContent = v.narration ? `» ${v.narration}` : '';
    const done = v.steps.filter((x) => x.state === 'passed' || x.state === 'failed').length;
    this.scenarioTitle.textContent = v.running
      ? `${v.name}: step ${(v.current ?? 0) + 1} of ${v.steps.length}`
      : `${v.name}: ${v.error ? `could not run: ${v.error}` : v.passed ? `PASSED (${done} steps)` : `FAILED (${v.steps.filter((x) => x.state === 'failed').length} of ${v.steps.length} steps failed)`}`;
    this.scenarioTitle.className = `note scenario-title ${v.running ? 'running' : v.passed ? 'passed' : 'failed'}`;
    this.steps.replaceChildren(
      ...v.steps.map((st, i) => {
        const li = el(
          'li',
          `step ${st.state}`,
          el('span', 'mark', st.state === 'passed' ? '✓' : st.state === 'failed' ? '✗' : st.state === 'running' ? '▶' : '·'),
          el('span', 'text', st.text),
        );
        if (st.detail) li.append(el('span', 'detail', st.detail));
        li.dataset.state = st.state;
        if (i === v.current) li.setAttribute('aria-current', 'step');
        return li;
      }),
    );
  }
}
