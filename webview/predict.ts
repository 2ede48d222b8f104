/**
 * The prediction dialog of a scenario's `predict` step: the question, its choices (radio
 * buttons) or a number field with its unit, Answer and Skip. The runner waits until the host has
 * the answer. After the run, the graded predictions: the answer, the measured value beside it,
 * right or wrong, and the explanation.
 */
import { Intent, PredictAnswerIntent, PredictAnswerParams } from '../src/protocol/messages';
import type { PredictionGrade, PredictionQuestion, ScenarioView } from '../src/protocol/snapshot';
import { button } from './components';
import { el } from './dom';

export type SendAnswer = <P>(intent: Intent<P>, params: P) => Promise<void>;

const MARK: Record<PredictionGrade['grade'], string> = { right: '✓ right', wrong: '✗ wrong', 'not answered': '· not answered', ungraded: '? ungraded' };

export class PredictionView {
  readonly element = el('div', 'predict-area');
  private questionKey = '';
  private gradesKey = '';
  private readonly dialog = el('section', 'predict-dialog');
  private readonly grades = el('section', 'predict-grades');
  private readonly problem = el('p', 'note predict-problem');

  constructor(private readonly send: SendAnswer) {
    this.dialog.setAttribute('role', 'dialog');
    this.dialog.setAttribute('aria-label', 'Your prediction');
    this.dialog.hidden = true;
    this.grades.hidden = true;
    this.element.append(this.dialog, this.grades);
  }

  update(v: ScenarioView | undefined): void {
    const q = v?.question;
    const qk = q ? JSON.stringify(q) : '';
    if (qk !== this.questionKey) {
      this.questionKey = qk;
      this.dialog.hidden = !q;
      this.dialog.replaceChildren();
      if (q) this.renderQuestion(q);
    }
    const g = v?.predictions;
    const gk = g ? JSON.stringify(g) : '';
    if (gk !== this.gradesKey) {
      this.gradesKey = gk;
      this.grades.hidden = !g?.length;
      this.grades.replaceChildren();
      if (g?.length) this.renderGrades(g);
    }
  }

  private renderQuestion(q: PredictionQuestion): void {
    this.problem.textContent = '';
    const body = el('div', 'predict-body');
    let read: () => PredictAnswerParams | string;
    if (q.choices) {
      const name = `predict-${q.id}`;
      const radios = q.choices.map((c, i) => {
        const input = el('input');
        input.type = 'radio';
        input.name = name;
        input.value = String(i);
        input.dataset.choice = String(i);
        return el('label', 'predict-choice', input, ` ${String.fromCharCode(97 + i)}) ${c}`);
      });
      body.append(...radios);
      read = () => {
        const picked = this.dialog.querySelector<HTMLInputElement>(`input[name="${name}"]:checked`);
        return picked ? { id: q.id, choice: Number(picked.value) } : 'pick one of the answers';
      };
    } else {
      const input = el('input', 'predict-number');
      input.type = 'number';
      input.step = 'any';
      input.dataset.name = 'prediction';
      if (q.min !== undefined) input.min = String(q.min);
      if (q.max !== undefined) input.max = String(q.max);
      body.append(el('label', 'predict-value', input, q.unit ? ` ${q.unit}` : ''));
      read = () => {
        const v = input.value.trim() === '' ? NaN : Number(input.value);
        if (!Number.isFinite(v)) return 'type a number';
        if ((q.min !== undefined && v < q.min) || (q.max !== undefined && v > q.max)) return `a number from ${q.min ?? '…'} to ${q.max ?? '…'}`;
        return { id: q.id, value: v };
      };
    }
    const answer = button(
      'Answer',
      () => {
        const a = read();
        if (typeof a === 'string') this.problem.textContent = a;
        else void this.send(PredictAnswerIntent, a);
      },
      { appearance: 'primary', action: 'predict-answer' },
    );
    const skip = button('Skip', () => void this.send(PredictAnswerIntent, { id: q.id }), { action: 'predict-skip' });
    this.dialog.dataset.question = q.id;
    this.dialog.append(
      el('h4', undefined, 'Predict before you watch'),
      el('p', 'predict-question', q.question),
      body,
      this.problem,
      el('div', 'controls', answer, skip),
    );
  }

  private renderGrades(g: PredictionGrade[]): void {
    const right = g.filter((p) => p.grade === 'right').length;
    this.grades.append(
      el('h4', undefined, `Predictions: ${right} of ${g.length} right`),
      el(
        'ol',
        'predict-list',
        ...g.map((p) => {
          const li = el(
            'li',
            `predict-grade ${p.grade.replace(/ /g, '-')}`,
            el('span', 'mark', MARK[p.grade]),
            el('span', 'text', p.question),
            el(
              'span',
              'detail',
              `your answer: ${p.answer === null ? 'none' : `${p.answer}${p.unit ? ` ${p.unit}` : ''}`} · measured: ${p.measuredText} · right: ${p.expected}`,
            ),
          );
          if (p.explain) li.append(el('span', 'detail why', p.explain));
          li.dataset.grade = p.grade;
          li.dataset.question = p.id;
          return li;
        }),
      ),
    );
  }
}
