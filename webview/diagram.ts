/**
 * The topology diagram: mermaid renders it once per topology; every snapshot after that only
 * toggles state classes, the label's two lines (name with its part, status) and the tooltip of
 * the rendered SVG node groups.
 */
import { changedViews, NODE_VISUALS, nodeIdOf, NodeView, nodeViews, toMermaid, topologyKey } from './topology';
import type { LabSnapshot } from '../src/protocol/snapshot';

export interface MermaidLike {
  render(id: string, text: string): Promise<{ svg: string }>;
}

interface NodeRef {
  g: SVGGElement;
  /** The first line's text (the name, with the node's part: it changes on a failover). */
  label: Text | undefined;
  status: Text | undefined;
  title: SVGTitleElement;
}

const STATE_CLASSES = NODE_VISUALS.map((v) => `st-${v}`);

export class Diagram {
  /** How many times mermaid rendered (the bench and the UI test read it). */
  renders = 0;
  private key = '';
  private readonly refs = new Map<string, NodeRef>();
  private views = new Map<string, NodeView>();
  private chain: Promise<void> = Promise.resolve();
  private latest: LabSnapshot | undefined;

  constructor(
    private readonly host: HTMLElement,
    private readonly mermaid: MermaidLike,
    private readonly onNodeClick: (node: string, anchor: Element) => void,
  ) {}

  /** Applies a snapshot; renders only when the topology changed. Calls are serialised, the latest wins. */
  update(s: LabSnapshot): Promise<void> {
    this.latest = s;
    this.chain = this.chain.then(async () => {
      if (this.latest !== s) return;
      if (topologyKey(s) !== this.key) await this.render(s);
      this.apply(s);
    });
    return this.chain;
  }

  /** Synchronous path for state-only changes (what the bench measures); false if a render is needed. */
  applyIfRendered(s: LabSnapshot): boolean {
    if (topologyKey(s) !== this.key) return false;
    this.apply(s);
    return true;
  }

  private async render(s: LabSnapshot): Promise<void> {
    this.renders += 1;
    const { svg } = await this.mermaid.render(`topo${this.renders}`, toMermaid(s));
    this.host.innerHTML = svg;
    this.key = topologyKey(s);
    this.refs.clear();
    this.views.clear();
    for (const g of Array.from(this.host.querySelectorAll<SVGGElement>('g.node'))) {
      const node = nodeIdOf(g.id);
      if (!node) continue;
      const walker = document.createTreeWalker(g, NodeFilter.SHOW_TEXT);
      let first: Text | undefined;
      let last: Text | undefined;
      for (let t = walker.nextNode(); t; t = walker.nextNode()) {
        if (!t.nodeValue?.trim()) continue;
        first ??= t as Text;
        last = t as Text;
      }
      const title = document.createElementNS('http://www.w3.org/2000/svg', 'title');
      g.prepend(title);
      g.dataset.node = node;
      if (g.classList.contains('labnode')) {
        g.setAttribute('tabindex', '0');
        g.setAttribute('role', 'button');
        g.addEventListener('click', () => this.onNodeClick(node, g));
        g.addEventListener('keydown', (e) => {
          if (e.key === 'Enter' || e.key === ' ') this.onNodeClick(node, g);
        });
      }
      this.refs.set(node, { g, label: first !== last ? first : undefined, status: last, title });
    }
  }

  private apply(s: LabSnapshot): void {
    const next = nodeViews(s);
    for (const v of changedViews(this.views, next)) {
      const ref = this.refs.get(v.node);
      if (!ref) continue;
      if (!ref.g.classList.contains(`st-${v.state}`)) {
        ref.g.classList.remove(...STATE_CLASSES);
        ref.g.classList.add(`st-${v.state}`);
        ref.g.dataset.state = v.state;
      }
      if (ref.label && ref.label.nodeValue !== v.label) ref.label.nodeValue = v.label;
      if (ref.status && ref.status.nodeValue !== v.status) ref.status.nodeValue = v.status;
      ref.title.textContent = v.title;
    }
    this.views = new Map(next.map((v) => [v.node, v]));
  }
}
