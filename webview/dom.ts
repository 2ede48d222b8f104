/** Tiny DOM helpers (text only: no innerHTML with data). */
export function el<K extends keyof HTMLElementTagNameMap>(tag: K, cls?: string, ...children: (Node | string)[]): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  for (const c of children) e.append(c);
  return e;
}

/** Replaces a table body only when its content changed. */
export function fillTable(tbody: HTMLTableSectionElement, rows: (string | number | undefined)[][], rowClass?: (row: number) => string | undefined): void {
  const key = JSON.stringify(rows);
  if (tbody.dataset.key === key) return;
  tbody.dataset.key = key;
  tbody.replaceChildren(
    ...rows.map((r, i) => {
      const tr = el('tr', rowClass?.(i));
      for (const c of r) tr.append(el('td', undefined, c === undefined ? '—' : String(c)));
      return tr;
    }),
  );
}

export function table(title: string, headers: string[]): { section: HTMLElement; body: HTMLTableSectionElement; note: HTMLElement } {
  const head = el('thead', undefined, el('tr', undefined, ...headers.map((h) => el('th', undefined, h))));
  const body = el('tbody');
  const note = el('p', 'note');
  const section = el('section', 'panel', el('h3', undefined, title), note, el('table', undefined, head, body));
  return { section, body, note };
}
