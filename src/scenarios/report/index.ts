/**
 * A scenario's report: one self-contained HTML file (inline CSS and SVG, no script, no network:
 * its CSP forbids every fetch), a Markdown summary and the JSON result, written side by side.
 * Every string from the result is escaped: scenario names, `say` lines and details are
 * user-written YAML.
 *
 * By concern: ./html.ts, ./markdown.ts, ./svg-topology.ts, ./svg-chart.ts (its geometry in
 * ../../core/chart-geometry.ts, shared with the dashboard's live chart), ./css.ts, ./format.ts, ./paper.ts.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { ScenarioResult } from '../types';
import { renderHtml } from './html';
import { renderMarkdown } from './markdown';

export { esc, pageHead } from './format';
export { CSS } from './css';
export { reportNodes, topologySvg } from './svg-topology';
export type { NodeVerdicts } from './svg-topology';
export { renderHtml } from './html';
export { renderMarkdown } from './markdown';
export { PAPER_REFERENCE } from './paper';
export type { PaperFigures } from './paper';

/**
 * Writes the HTML report to `htmlPath`, and `<same basename>.json` (the `scenario run --json`
 * result) and `.md` beside it. Returns the three paths.
 */
export function writeReports(result: ScenarioResult, htmlPath: string): { html: string; json: string; md: string } {
  const html = path.resolve(htmlPath);
  const base = html.replace(/\.html?$/i, '');
  const paths = { html, json: `${base}.json`, md: `${base}.md` };
  fs.mkdirSync(path.dirname(html), { recursive: true });
  fs.writeFileSync(paths.html, renderHtml(result));
  fs.writeFileSync(paths.json, JSON.stringify(result, null, 2) + '\n');
  fs.writeFileSync(paths.md, renderMarkdown(result));
  return paths;
}
