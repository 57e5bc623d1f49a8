/**
 * DOM rendering of a rai_nb report: sortable tables, a metric switcher over SVG bar charts,
 * severity badges, and tabs for the parts of an audit.
 *
 * Every piece of report text is raw user text and goes in through `textContent` or an
 * attribute; nothing here parses HTML.
 */
import { barChart } from './chart';
import { cellNumber, formatCell, formatLabel } from './format';
import { reportMarkdown } from './markdown';
import {
  Cell,
  Report,
  ReportBounds,
  ReportSection,
  ReportTable,
  own,
  reportProblem
} from './types';

/** Rows shown before "Show all" (long tables, e.g. bootstrap intervals, stay compact). */
export const ROWS_SHOWN = 20;

/** Tab labels of an audit's parts, by report kind; other kinds use their title. */
const PART_LABELS: { [kind: string]: string } = {
  bias: 'Fairness',
  explanation: 'Explanations',
  burden: 'Explanations', // an audit's burden when it has no explanation
  slices: 'Slices',
  validation: 'Data checks',
  drift: 'Drift',
  mitigation: 'Mitigation',
  model_card: 'Model card',
  flip_test: 'Flip test'
};

/** Severity words that get a coloured badge (class names come from here, never from data). */
const SEVERITIES = new Set(['pass', 'warn', 'fail']);

/** The report each rendered root element shows, for commands run on a clicked output. */
export const renderedReports = new WeakMap<Element, Report>();

/** A new element with a class and, optionally, text. */
export function el<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  className?: string,
  text?: string
): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  if (className) {
    node.className = className;
  }
  if (text !== undefined) {
    node.textContent = text;
  }
  return node;
}

/** Render `value` (the MIME bundle's JSON) into a new element. Never throws on bad data. */
export function renderReport(value: unknown): HTMLElement {
  const problem = reportProblem(value);
  if (problem !== null) {
    return errorBox(problem);
  }
  try {
    return renderValidReport(value as Report);
  } catch (error) {
    // Whatever slipped past the checks, the notebook must still show its other cells.
    return errorBox(error instanceof Error ? error.message : String(error));
  }
}

function errorBox(problem: string): HTMLElement {
  return el(
    'div',
    'rai-nb-report rai-nb-error',
    `Cannot show this rai_nb report: ${problem}.`
  );
}

function renderValidReport(report: Report): HTMLElement {
  const root = el('div', 'rai-nb-report');
  root.dataset.kind = report.kind;
  renderedReports.set(root, report);
  root.appendChild(header(report));
  const parts = report.parts ?? [];
  if (parts.length === 0) {
    root.appendChild(sectionList(report));
  } else {
    root.appendChild(tabs([['Overview', report], ...parts.map(partTab)]));
  }
  return root;
}

function partTab(part: Report): [string, Report] {
  return [own(PART_LABELS, part.kind) ?? part.title, part];
}

function header(report: Report): HTMLElement {
  const head = el('div', 'rai-nb-header');
  head.appendChild(el('h3', 'rai-nb-title', report.title));
  const chips = el('div', 'rai-nb-summary');
  for (const [key, value] of Object.entries(report.summary ?? {})) {
    if (
      typeof value === 'number' ||
      typeof value === 'string' ||
      typeof value === 'boolean'
    ) {
      chips.appendChild(chip(key, value));
    }
  }
  if (chips.childElementCount > 0) {
    head.appendChild(chips);
  }
  if (report.kind === 'model_card') {
    head.appendChild(downloadButton(report));
  }
  return head;
}

function chip(key: string, value: number | string | boolean): HTMLElement {
  const node = el('span', 'rai-nb-chip');
  node.appendChild(el('span', 'rai-nb-chip-key', key.replace(/_/g, ' ')));
  node.appendChild(el('span', 'rai-nb-chip-value', formatCell(value)));
  if (
    (key === 'fail' || key === 'warn') &&
    typeof value === 'number' &&
    value > 0
  ) {
    node.classList.add(`rai-nb-badge-${key}`);
  }
  return node;
}

function downloadButton(card: Report): HTMLElement {
  const button = el(
    'button',
    'rai-nb-button rai-nb-download',
    'Download Markdown'
  );
  button.type = 'button';
  button.title = 'Save this model card as a markdown file';
  button.addEventListener('click', () => {
    const blob = new Blob([reportMarkdown(card)], { type: 'text/markdown' });
    const link = el('a');
    link.href = URL.createObjectURL(blob);
    link.download = 'MODEL_CARD.md';
    link.click();
    URL.revokeObjectURL(link.href);
  });
  return button;
}

/** Tabs over reports: the first shows the audit overview, the others its parts. */
function tabs(entries: [string, Report][]): HTMLElement {
  const box = el('div', 'rai-nb-tabs');
  const bar = el('div', 'rai-nb-tabbar');
  bar.setAttribute('role', 'tablist');
  box.appendChild(bar);
  const buttons: HTMLButtonElement[] = [];
  const panels: HTMLElement[] = [];
  const select = (chosen: number): void => {
    buttons.forEach((button, i) => {
      button.setAttribute('aria-selected', String(i === chosen));
      button.classList.toggle('rai-nb-tab-active', i === chosen);
      panels[i].hidden = i !== chosen;
    });
  };
  entries.forEach(([label, report], i) => {
    const button = el('button', 'rai-nb-tab', label);
    button.type = 'button';
    button.setAttribute('role', 'tab');
    button.addEventListener('click', () => select(i));
    buttons.push(bar.appendChild(button));
    const panel = el('div', 'rai-nb-tabpanel');
    panel.setAttribute('role', 'tabpanel');
    panel.dataset.kind = report.kind;
    if (i > 0) {
      renderedReports.set(panel, report);
      panel.appendChild(header(report));
    }
    panel.appendChild(sectionList(report));
    panels.push(box.appendChild(panel));
  });
  select(0);
  return box;
}

function sectionList(report: Report): HTMLElement {
  const list = el('div', 'rai-nb-sections');
  for (const section of report.sections) {
    list.appendChild(renderSection(section));
  }
  return list;
}

/** One section: title, paragraph, chart (with a metric switcher when it helps) and table. */
export function renderSection(section: ReportSection): HTMLElement {
  const node = el('section', 'rai-nb-section');
  node.appendChild(el('h4', 'rai-nb-section-title', section.title));
  if (section.text) {
    node.appendChild(el('p', 'rai-nb-text', section.text));
  }
  if (section.image) {
    node.appendChild(image(section.image, section.title));
  }
  if (section.bars) {
    node.appendChild(chartWithSwitcher(section));
  }
  if (section.table) {
    node.appendChild(
      new SortableTable(
        section.table,
        section.notes ?? {},
        section.marks ?? {},
        section.bounds ?? null
      ).node
    );
  }
  return node;
}

/** A report's PNG (a data URI, checked by `reportProblem`), as wide as the output allows. */
function image(src: string, alt: string): HTMLImageElement {
  const node = el('img', 'rai-nb-image');
  node.src = src;
  node.alt = alt;
  node.style.maxWidth = '100%';
  return node;
}

/** The label of a table row as Python writes a bar label: tuples joined by " · ". */
function rowLabel(index: Cell[]): string {
  return index.length === 1
    ? formatLabel(index[0])
    : index.map(v => String(v)).join(' \u00b7 ');
}

/** Columns of `table` whose cells are all numbers (or missing/infinite), at least one finite. */
export function numericColumns(table: ReportTable): number[] {
  return table.columns
    .map((_, j) => j)
    .filter(j => {
      const cells = table.rows.map(row => row.values[j]);
      const numbers = cells.map(cellNumber);
      return (
        cells.some(cell => typeof cell === 'number') &&
        numbers.every(number => number !== null)
      );
    });
}

function chartWithSwitcher(section: ReportSection): HTMLElement {
  const bars = section.bars!;
  const box = el('div', 'rai-nb-chart');
  const title = formatLabel(bars.label);
  const values = bars.values.map(v => cellNumber(v) ?? NaN);
  const figure = el('div', 'rai-nb-figure');
  figure.appendChild(barChart(bars.labels, values, title));
  const table = section.table;
  const metrics = table ? numericColumns(table) : [];
  const shown = table ? metrics.map(j => formatLabel(table.columns[j])) : [];
  if (table && metrics.length > 1 && shown.includes(title)) {
    box.appendChild(
      metricSwitcher(table, metrics, shown, title, bars.labels, figure)
    );
  }
  box.appendChild(figure);
  return box;
}

/** A "Metric" select that redraws the chart from the chosen table column. */
function metricSwitcher(
  table: ReportTable,
  metrics: number[],
  names: string[],
  initial: string,
  barLabels: string[],
  figure: HTMLElement
): HTMLElement {
  const wanted = new Set(barLabels);
  const matching = table.rows.filter(row => wanted.has(rowLabel(row.index)));
  const rows = matching.length > 0 ? matching : table.rows;
  const label = el('label', 'rai-nb-switcher', 'Metric ');
  const select = el('select', 'rai-nb-metric');
  names.forEach((name, i) => {
    const option = el('option', undefined, name);
    option.value = String(metrics[i]);
    option.selected = name === initial;
    select.appendChild(option);
  });
  select.addEventListener('change', () => {
    const j = Number(select.value);
    const values = rows.map(row => cellNumber(row.values[j]) ?? NaN);
    const labels = rows.map(row => rowLabel(row.index));
    figure.replaceChildren(
      barChart(labels, values, formatLabel(table.columns[j]))
    );
  });
  label.appendChild(select);
  return label;
}

type Direction = 'ascending' | 'descending';

/** A table whose headers sort it (numbers numerically, missing values last). */
export class SortableTable {
  readonly node: HTMLElement;
  private readonly body: HTMLTableSectionElement;
  private readonly headers: HTMLTableCellElement[] = [];
  private order: number[];
  private expanded = false;
  private readonly more: HTMLButtonElement;
  /** Per value column, the rows (by position in the report) whose cells are emphasised. */
  private readonly marked: Set<number>[];

  constructor(
    private readonly table: ReportTable,
    notes: { [column: string]: string },
    marks: { [column: string]: number[] } = {},
    private readonly bounds: ReportBounds | null = null
  ) {
    this.node = el('div', 'rai-nb-table-wrap');
    const element = el('table', 'rai-nb-table');
    const head = element.createTHead().insertRow();
    const names = table.index_names.map(name =>
      name === null ? '' : formatLabel(name)
    );
    names.forEach((name, k) =>
      this.addHeader(head, name, undefined, 'rai-nb-label', k - names.length)
    );
    table.columns.forEach((column, j) => {
      this.addHeader(
        head,
        formatLabel(column),
        own(notes, String(column)),
        'rai-nb-value',
        j
      );
    });
    this.marked = table.columns.map(column => {
      const rows = own(marks, String(column));
      return new Set(Array.isArray(rows) ? rows : []);
    });
    this.body = element.createTBody();
    this.order = table.rows.map((_, i) => i);
    this.node.appendChild(element);
    this.more = el('button', 'rai-nb-button rai-nb-more');
    this.more.type = 'button';
    this.more.addEventListener('click', () => {
      this.expanded = !this.expanded;
      this.fill();
    });
    this.node.appendChild(this.more);
    this.fill();
  }

  /** Sort by a value column (`key >= 0`) or an index level (`key < 0`, from the end). */
  sortBy(key: number, direction: Direction): void {
    const cells = this.table.rows.map(row =>
      key >= 0 ? row.values[key] : row.index[row.index.length + key]
    );
    const sign = direction === 'ascending' ? 1 : -1;
    this.order = this.table.rows
      .map((_, i) => i)
      .sort((a, b) => compareCells(cells[a], cells[b], sign) || a - b);
    this.headers.forEach(th => th.removeAttribute('aria-sort'));
    this.headers[this.table.index_names.length + key].setAttribute(
      'aria-sort',
      direction
    );
    this.fill();
  }

  private addHeader(
    row: HTMLTableRowElement,
    name: string,
    note: string | undefined,
    className: string,
    key: number
  ): void {
    const th = el('th', `${className} rai-nb-sortable`, name);
    th.scope = 'col';
    if (note) {
      th.title = note;
    }
    th.addEventListener('click', () => {
      const next =
        th.getAttribute('aria-sort') === 'ascending'
          ? 'descending'
          : 'ascending';
      this.sortBy(key, next);
    });
    this.headers.push(row.appendChild(th));
  }

  private fill(): void {
    const total = this.order.length;
    const shown = this.expanded ? this.order : this.order.slice(0, ROWS_SHOWN);
    this.body.replaceChildren(...shown.map(i => this.renderRow(i)));
    this.more.hidden = total <= ROWS_SHOWN;
    this.more.textContent = this.expanded
      ? 'Show fewer rows'
      : `Show all ${total} rows`;
  }

  private renderRow(i: number): HTMLTableRowElement {
    const row = this.table.rows[i];
    const tr = el('tr');
    for (const label of row.index) {
      const th = el('th', 'rai-nb-label', formatLabel(label));
      th.scope = 'row';
      tr.appendChild(th);
    }
    row.values.forEach((value, j) =>
      tr.appendChild(this.renderCell(value, j, i))
    );
    return tr;
  }

  /** Cell `j` of row `i` (its position in the report, whatever the sort order). */
  private renderCell(value: Cell, j: number, i: number): HTMLTableCellElement {
    const td = el(
      'td',
      cellNumber(value) === null
        ? 'rai-nb-value rai-nb-text-cell'
        : 'rai-nb-value'
    );
    if (this.marked[j].has(i)) {
      td.classList.add('rai-nb-mark');
    }
    const text = formatCell(value);
    const lower = this.bounds?.lower[i]?.[j];
    const upper = this.bounds?.upper[i]?.[j];
    if (typeof lower === 'number' && typeof upper === 'number') {
      td.textContent = text;
      td.appendChild(
        el(
          'span',
          'rai-nb-interval',
          ` [${lower.toFixed(3)}, ${upper.toFixed(3)}]`
        )
      );
    } else if (this.table.columns[j] === 'severity' && SEVERITIES.has(text)) {
      td.appendChild(el('span', `rai-nb-badge rai-nb-badge-${text}`, text));
    } else {
      td.textContent = text;
    }
    return td;
  }
}

/** Order two cells: numbers before text, missing (NaN) always last. */
function compareCells(a: Cell, b: Cell, sign: number): number {
  const x = cellNumber(a);
  const y = cellNumber(b);
  const xMissing = x !== null && Number.isNaN(x);
  const yMissing = y !== null && Number.isNaN(y);
  if (xMissing || yMissing) {
    return Number(xMissing) - Number(yMissing);
  }
  if (x !== null && y !== null) {
    return x === y ? 0 : sign * (x < y ? -1 : 1);
  }
  if (x !== null || y !== null) {
    return x !== null ? -1 : 1;
  }
  return sign * String(a).localeCompare(String(b));
}
