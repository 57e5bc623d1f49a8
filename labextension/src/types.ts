/**
 * The report JSON every rai_nb result emits (docs/report-schema.md, version 1).
 *
 * Every string in it is raw user text: render it with `textContent`, never as HTML.
 */

/** MIME type of a rai_nb report in a notebook output. */
export const REPORT_MIME = 'application/vnd.rai-nb.report+json';

/** Most bars one chart draws; rai_nb itself never emits more than a few hundred. */
export const MAX_BARS = 5000;

/** The only images a report may carry: base64 PNG data URIs (never a URL to fetch). */
export const PNG_URI = /^data:image\/png;base64,[A-Za-z0-9+/]+={0,2}$/;

/** The newest report layout this extension understands. */
export const REPORT_VERSION = 1;

/** A table cell: a number, text, a flag or missing (`null`; also NaN). `"inf"`/`"-inf"` are infinities. */
export type Cell = number | string | boolean | null;

export interface ReportTable {
  index_names: Cell[];
  columns: Cell[];
  rows: { index: Cell[]; values: Cell[] }[];
}

export interface ReportBars {
  label: Cell;
  labels: string[];
  values: Cell[];
}

export interface ReportSection {
  title: string;
  text: string;
  notes: { [column: string]: string };
  /** Row positions of emphasised cells per column (e.g. the best and worst group); optional. */
  marks?: { [column: string]: number[] };
  table: ReportTable | null;
  bars: ReportBars | null;
  /** A PNG as a `data:image/png;base64,` URI (e.g. a SHAP beeswarm); optional. */
  image?: string | null;
  /** Interval ends beside the table's values (row × column, null where none); optional. */
  bounds?: ReportBounds | null;
}

/** `lower` and `upper` ends of each table cell's interval, row by row. */
export interface ReportBounds {
  lower: Cell[][];
  upper: Cell[][];
}

export interface Report {
  rai_nb_report: number;
  kind: string;
  title: string;
  summary: { [key: string]: unknown };
  sections: ReportSection[];
  /** An audit's component reports (fairness, explanations, slices, checks, model card), in tab order. */
  parts?: Report[];
}

/**
 * `record[key]` when `record` itself holds `key`, else undefined: report keys are user text,
 * and a column named `constructor` or `__proto__` must not reach `Object.prototype`.
 */
export function own<T>(
  record: { [key: string]: T } | undefined,
  key: string
): T | undefined {
  return record !== undefined &&
    record !== null &&
    Object.prototype.hasOwnProperty.call(record, key)
    ? record[key]
    : undefined;
}

function isObject(value: unknown): value is { [key: string]: unknown } {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Why `value` cannot be rendered as a report, or `null` when it can.
 *
 * Only the fields the renderer reads are checked, so newer producers may add fields freely.
 */
export function reportProblem(value: unknown): string | null {
  if (!isObject(value) || typeof value.rai_nb_report !== 'number') {
    return 'not a rai_nb report';
  }
  if (value.rai_nb_report > REPORT_VERSION) {
    return `report version ${value.rai_nb_report} is newer than this extension understands (${REPORT_VERSION}); upgrade rai_nb`;
  }
  if (typeof value.title !== 'string' || !Array.isArray(value.sections)) {
    return 'the report has no title or sections';
  }
  for (const section of value.sections) {
    if (!isObject(section) || typeof section.title !== 'string') {
      return 'a report section has no title';
    }
    const table = section.table;
    if (table !== null && table !== undefined) {
      if (
        !isObject(table) ||
        !Array.isArray(table.columns) ||
        !Array.isArray(table.rows) ||
        !Array.isArray(table.index_names) ||
        !table.rows.every(
          row =>
            isObject(row) &&
            Array.isArray(row.index) &&
            Array.isArray(row.values)
        )
      ) {
        return `the table of section "${section.title}" is malformed`;
      }
    }
    const bars = section.bars;
    if (bars !== null && bars !== undefined) {
      if (
        !isObject(bars) ||
        !Array.isArray(bars.labels) ||
        !Array.isArray(bars.values) ||
        bars.labels.length !== bars.values.length
      ) {
        return `the chart of section "${section.title}" is malformed`;
      }
      if (bars.values.length > MAX_BARS) {
        return `the chart of section "${section.title}" has ${bars.values.length} bars (at most ${MAX_BARS} are drawn)`;
      }
    }
    const image = section.image;
    if (
      image !== undefined &&
      image !== null &&
      !(typeof image === 'string' && PNG_URI.test(image))
    ) {
      return `the image of section "${section.title}" is not a PNG data URI`;
    }
    const bounds = section.bounds;
    if (
      bounds !== undefined &&
      bounds !== null &&
      !(
        isObject(bounds) &&
        Array.isArray(bounds.lower) &&
        Array.isArray(bounds.upper) &&
        [...bounds.lower, ...bounds.upper].every(row => Array.isArray(row))
      )
    ) {
      return `the intervals of section "${section.title}" are malformed`;
    }
    for (const field of ['notes', 'marks']) {
      const value = section[field];
      if (value !== undefined && value !== null && !isObject(value)) {
        return `the ${field} of section "${section.title}" are malformed`;
      }
    }
  }
  if (value.parts !== undefined) {
    if (!Array.isArray(value.parts)) {
      return 'the report parts are not a list';
    }
    for (const part of value.parts) {
      const problem = reportProblem(part);
      if (problem !== null) {
        return problem;
      }
    }
  }
  return null;
}
