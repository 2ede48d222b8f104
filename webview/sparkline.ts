/** A tiny live latency chart (p95 per second) as an SVG path: no charting library needed. */
export function sparklinePath(values: number[], width: number, height: number): string {
  if (values.length === 0) return '';
  const max = Math.max(1, ...values);
  const step = values.length > 1 ? width / (values.length - 1) : 0;
  return values.map((v, i) => `${i === 0 ? 'M' : 'L'}${(i * step).toFixed(1)},${(height - (Math.max(0, v) / max) * height).toFixed(1)}`).join(' ');
}

export class Sparkline {
  readonly element: SVGSVGElement;
  private readonly path: SVGPathElement;
  private last = '';

  constructor(
    private readonly width = 120,
    private readonly height = 28,
  ) {
    const ns = 'http://www.w3.org/2000/svg';
    this.element = document.createElementNS(ns, 'svg');
    this.element.setAttribute('viewBox', `0 0 ${width} ${height}`);
    this.element.setAttribute('class', 'sparkline');
    this.path = document.createElementNS(ns, 'path');
    this.element.append(this.path);
  }

  update(values: number[]): void {
    const d = sparklinePath(values.slice(-60), this.width, this.height);
    if (d !== this.last) this.path.setAttribute('d', (this.last = d));
    this.element.style.display = values.length ? '' : 'none';
  }
}
