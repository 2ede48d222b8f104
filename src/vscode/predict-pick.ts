/**
 * VS Code's side of a `predict` step: a quick pick for multiple choice, an input box for a
 * number (checked as it is typed). No vscode import here: the UI comes in as `PredictionUi`
 * (src/vscode/ui.ts has the real one), so the unit tests drive it with a fake.
 */
import type { PredictAnswerParams } from '../protocol/messages';
import type { PredictionQuestion } from '../protocol/snapshot';

export interface PredictionPickItem {
  label: string;
  description?: string;
  index: number;
}

export interface PredictionUi {
  /** A quick pick; undefined when dismissed (or `gone` aborted: answered elsewhere). */
  pick(items: PredictionPickItem[], o: { title: string; placeHolder: string }, gone?: AbortSignal): Promise<PredictionPickItem | undefined>;
  /** An input box checked as it is typed; undefined when dismissed. */
  input(o: { title: string; prompt: string; validate: (v: string) => string | undefined }, gone?: AbortSignal): Promise<string | undefined>;
}

/** What is wrong with a typed number for this question, or undefined. */
export function numberProblem(q: PredictionQuestion, text: string): string | undefined {
  const v = text.trim() === '' ? NaN : Number(text.trim());
  if (!Number.isFinite(v)) return `a number${q.unit ? ` of ${q.unit}` : ''}`;
  if ((q.min !== undefined && v < q.min) || (q.max !== undefined && v > q.max)) return `from ${q.min ?? '…'} to ${q.max ?? '…'}${q.unit ? ` ${q.unit}` : ''}`;
  return undefined;
}

/** Asks one prediction; dismissing it answers nothing (`{ id }`: skipped). */
export async function askPrediction(q: PredictionQuestion, ui: PredictionUi, gone?: AbortSignal): Promise<PredictAnswerParams> {
  const title = `Predict before you watch (${q.id})`;
  if (q.choices) {
    const item = await ui.pick(
      q.choices.map((c, i) => ({ label: `${String.fromCharCode(97 + i)}) ${c}`, index: i })),
      { title, placeHolder: q.question },
      gone,
    );
    return item ? { id: q.id, choice: item.index } : { id: q.id };
  }
  const text = await ui.input({ title, prompt: `${q.question}${q.unit ? ` (in ${q.unit})` : ''}`, validate: (v) => numberProblem(q, v) }, gone);
  if (text === undefined || numberProblem(q, text)) return { id: q.id };
  return { id: q.id, value: Number(text.trim()) };
}
