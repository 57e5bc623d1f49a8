/**
 * A horizontal SVG bar chart (zero line, negative bars to the left), drawn with DOM calls so
 * labels stay text. Colours come from the stylesheet (JupyterLab theme variables).
 */
import { formatNumber } from './format';

const SVG = 'http://www.w3.org/2000/svg';
const BAR = 16;
const GAP = 4;
const PLOT_WIDTH = 240;
const VALUE_WIDTH = 70;
/** Labels longer than this are cut with an ellipsis; the full label is the tooltip. */
const LABEL_CHARS = 28;
/** Pixels a label character may take at 11 px (more than a sans font's mean, so none clips). */
const CHAR_WIDTH = 7;

function svg<K extends keyof SVGElementTagNameMap>(
  tag: K,
  attributes: { [name: string]: string | number }
): SVGElementTagNameMap[K] {
  const node = document.createElementNS(SVG, tag);
  for (const [name, value] of Object.entries(attributes)) {
    node.setAttribute(name, String(value));
  }
  return node;
}

function shortLabel(label: string): string {
  return label.length > LABEL_CHARS
    ? `${label.slice(0, LABEL_CHARS - 1)}\u2026`
    : label;
}

/** Bars for `values` (NaN and infinities drawn as empty bars, their value still printed). */
export function barChart(
  labels: string[],
  values: number[],
  title: string
): SVGSVGElement {
  const finite = values.map(v => (Number.isFinite(v) ? v : 0));
  // A reduction, not Math.min(...finite): spreading a long array overflows the call stack.
  const low = finite.reduce((a, b) => Math.min(a, b), 0);
  const high = finite.reduce((a, b) => Math.max(a, b), 0);
  const span = high - low || 1;
  // The label column fits the longest (shortened) label, as rai_nb.render.label_width.
  const longest = labels.reduce(
    (most, label) => Math.max(most, shortLabel(label ?? '').length),
    0
  );
  const labelWidth = 12 + CHAR_WIDTH * longest;
  const x = (v: number): number => labelWidth + (PLOT_WIDTH * (v - low)) / span;
  const height = Math.max(values.length * (BAR + GAP), BAR);
  const width = labelWidth + PLOT_WIDTH + VALUE_WIDTH;
  const chart = svg('svg', {
    width,
    height,
    viewBox: `0 0 ${width} ${height}`,
    class: 'rai-nb-bars'
  });
  chart.setAttribute('role', 'img');
  chart.setAttribute('aria-label', title);
  const caption = svg('title', {});
  caption.textContent = title;
  chart.appendChild(caption);
  values.forEach((value, i) => {
    const y = i * (BAR + GAP);
    const name = svg('text', {
      x: labelWidth - 6,
      y: y + BAR - 4,
      'text-anchor': 'end',
      class: 'rai-nb-bar-label'
    });
    name.textContent = shortLabel(labels[i] ?? '');
    const tooltip = svg('title', {});
    tooltip.textContent = labels[i] ?? '';
    name.appendChild(tooltip);
    const start = x(Math.min(finite[i], 0));
    const bar = svg('rect', {
      x: start.toFixed(1),
      y,
      width: (x(Math.max(finite[i], 0)) - start).toFixed(1),
      height: BAR,
      class: finite[i] < 0 ? 'rai-nb-bar rai-nb-bar-negative' : 'rai-nb-bar'
    });
    const shown = svg('text', {
      x: labelWidth + PLOT_WIDTH + 6,
      y: y + BAR - 4,
      class: 'rai-nb-bar-value'
    });
    shown.textContent = formatNumber(value);
    chart.append(name, bar, shown);
  });
  const zero = x(0).toFixed(1);
  chart.appendChild(
    svg('line', { x1: zero, x2: zero, y1: 0, y2: height, class: 'rai-nb-zero' })
  );
  return chart;
}
