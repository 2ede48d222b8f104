/** The report's topology diagram: the tiers of the lab as SVG, faulted nodes marked. */
import type { ScenarioResult } from '../types';
import { esc } from './format';
import { roleDisplays } from '../../roles';
import { nodePart } from '../../protocol/node-part';
import type { LabStatus, Role } from '../../protocol/status';

function nodesIn(text: string, names: string[]): string[] {
  return names.filter((n) => new RegExp(`(^|[^A-Za-z0-9_-])${n.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}($|[^A-Za-z0-9_-])`).test(text));
}

const TIER_ORDER: string[] = roleDisplays().map((d) => d.role);
const TIER_TITLE: Record<string, string> = Object.fromEntries(roleDisplays().map((d) => [d.role, d.reportTitle]));

/**
 * The report's nodes, each with its part in its service when the status gives one (its role's
 * `display.part`: a Sentinel group's master and replicas), as the lab was at the end.
 */
export function reportNodes(
  nodes: readonly { name: string; role: string }[],
  status: Pick<LabStatus, 'redis' | 'nodes'> | undefined,
): { name: string; role: string; part?: string }[] {
  const display = new Map(roleDisplays().map((d) => [d.role as string, d]));
  return nodes.map((n) => {
    const running = status?.nodes.find((x) => x.name === n.name)?.container === 'running';
    const part = status && running ? nodePart(status, n.name, display.get(n.role as Role)) : undefined;
    return { name: n.name, role: n.role, ...(part ? { part } : {}) };
  });
}

/** A node's verdict for the diagram (the audit): its class (`spof`, `ok`, `exempt`) and a short label. */
export type NodeVerdicts = Record<string, { cls: 'spof' | 'ok' | 'exempt'; label: string }>;

export function topologySvg(result: Pick<ScenarioResult, 'topology' | 'timeline' | 'runs' | 'faults'>, verdicts?: NodeVerdicts): string {
  const nodes = result.topology.nodes;
  if (!nodes.length) return '<p class="empty">No topology recorded.</p>';
  const faultTexts = [
    ...result.timeline.filter((e) => e.kind === 'fault').map((e) => e.text),
    ...result.runs.flatMap((r) => r.faults.map((f) => f.fault)),
    ...(result.runs.length ? [] : result.faults.map((f) => f.fault)),
  ];
  const names = nodes.map((n) => n.name);
  const faultCount = new Map<string, number>();
  for (const t of result.timeline.filter((e) => e.kind === 'fault')) for (const n of nodesIn(t.text, names)) faultCount.set(n, (faultCount.get(n) ?? 0) + 1);
  if (!faultCount.size) for (const t of faultTexts) for (const n of nodesIn(t, names)) faultCount.set(n, (faultCount.get(n) ?? 0) + 1);

  const byRole = new Map<string, { name: string; role: string; part?: string }[]>();
  for (const n of nodes) byRole.set(n.role, [...(byRole.get(n.role) ?? []), n]);
  const roles = [...byRole.keys()].sort((a, b) => (TIER_ORDER.indexOf(a) + 1 || 99) - (TIER_ORDER.indexOf(b) + 1 || 99) || a.localeCompare(b));
  // Rows follow the diagram's links (display.diagram.from): a role below the role that reaches it;
  // a role whose `from` has no node here starts a row of its own at the top.
  const display = new Map(roleDisplays().map((d) => [d.role as string, d]));
  const parentOf = (role: string) => {
    const from = display.get(role)?.diagram.from;
    return from && byRole.has(from) ? from : undefined;
  };
  const rowOf = (role: string, seen = new Set<string>()): number => {
    const p = parentOf(role);
    return p && !seen.has(p) ? rowOf(p, seen.add(role)) + 1 : 0;
  };
  const rows: string[][] = [];
  for (const r of roles) (rows[rowOf(r)] ??= []).push(r);

  const NW = 132,
    NH = 52,
    GAP = 16,
    PAD = 18,
    ROW_H = 150,
    W = 1100;
  type Group = { role: string; x: number; y: number; w: number; h: number; nodes: { name: string; part?: string; x: number; y: number }[] };
  const groups: Group[] = [];
  const rowWidths = rows.map((row) => row.map((role) => byRole.get(role)!.length * NW + (byRole.get(role)!.length - 1) * GAP + 2 * PAD));
  const rowTotals = rowWidths.map((ws) => ws.reduce((a, b) => a + b, 0) + (ws.length - 1) * 40);
  const width = Math.max(W, ...rowTotals.map((t) => t + 20));
  rows.forEach((row, ri) => {
    const widths = rowWidths[ri]!;
    let x = (width - rowTotals[ri]!) / 2;
    row.forEach((role, gi) => {
      const y = 20 + ri * ROW_H;
      const g: Group = { role, x, y, w: widths[gi]!, h: NH + 2 * PAD + 14, nodes: [] };
      byRole.get(role)!.forEach((n, i) => g.nodes.push({ name: n.name, part: n.part, x: x + PAD + i * (NW + GAP), y: y + PAD + 14 }));
      groups.push(g);
      x += widths[gi]! + 40;
    });
  });
  const height = 20 + rows.length * ROW_H - 30;
  const edges: string[] = [];
  const line = (x1: number, y1: number, x2: number, y2: number) => `<line class="edge" x1="${x1}" y1="${y1}" x2="${x2}" y2="${y2}"/>`;
  for (const parent of groups) {
    const children = groups.filter((g) => parentOf(g.role) === parent.role);
    if (display.get(parent.role)?.diagram.group === false) {
      // Nodes drawn on their own (the load balancer): an edge from each to each node below.
      for (const c of children) for (const n of c.nodes) for (const l of parent.nodes) edges.push(line(l.x + NW / 2, l.y + NH, n.x + NW / 2, n.y));
    } else {
      // A tier box: one edge per tier below it, from the box (every node of it talks to each).
      children.forEach((c, i) => edges.push(line(parent.x + (parent.w * (i + 1)) / (children.length + 1), parent.y + parent.h, c.x + c.w / 2, c.y)));
    }
  }

  const body = groups
    .map((g) => {
      const ns = g.nodes
        .map((n) => {
          const count = faultCount.get(n.name) ?? 0;
          const v = verdicts?.[n.name];
          if (v)
            return (
              `<g class="node verdict-${v.cls}" data-node="${esc(n.name)}" data-verdict="${v.cls}">` +
              `<rect x="${n.x}" y="${n.y}" width="${NW}" height="${NH}" rx="8"/>` +
              `<text x="${n.x + NW / 2}" y="${n.y + 22}" class="node-name">${esc(n.name)}</text>` +
              `<text x="${n.x + NW / 2}" y="${n.y + 42}" class="node-verdict">${esc(v.label)}</text>` +
              '</g>'
            );
          // Second line: its part at the end (a Sentinel group's `master`), its faults.
          const second = [n.part, count ? `⚡ fault${count > 1 ? ` ×${count}` : ''}` : undefined].filter((x) => x !== undefined).join(' · ');
          return (
            `<g class="node${count ? ' faulted' : ''}" data-node="${esc(n.name)}" data-faults="${count}"${n.part ? ` data-part="${esc(n.part)}"` : ''}>` +
            `<rect x="${n.x}" y="${n.y}" width="${NW}" height="${NH}" rx="8"/>` +
            `<text x="${n.x + NW / 2}" y="${n.y + (second ? 22 : 32)}" class="node-name">${esc(n.name)}</text>` +
            (second ? `<text x="${n.x + NW / 2}" y="${n.y + 42}" class="${count ? 'node-fault' : 'node-part'}">${esc(second)}</text>` : '') +
            '</g>'
          );
        })
        .join('');
      return (
        `<g class="tier" data-role="${esc(g.role)}"><rect class="tier-box" x="${g.x}" y="${g.y}" width="${g.w}" height="${g.h}" rx="12"/>` +
        `<text class="tier-title" x="${g.x + 12}" y="${g.y + 20}">${esc(TIER_TITLE[g.role] ?? g.role)}</text>${ns}</g>`
      );
    })
    .join('');
  return (
    `<svg class="topology" viewBox="0 0 ${width} ${height}" role="img" aria-label="Topology: ${esc(nodes.map((n) => n.name).join(', '))}">` +
    `<g class="edges">${edges.join('')}</g>${body}</svg>`
  );
}
