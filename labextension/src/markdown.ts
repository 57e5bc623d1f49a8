/**
 * Markdown of a report (used to export model cards), with the escaping of
 * `rai_nb.render.md_escape` so user text cannot inject markdown or HTML.
 */
import { formatCell, formatLabel } from './format';
import { Cell, Report, ReportBounds, ReportTable } from './types';

// The patterns of rai_nb.render.md_escape, one for one (ASCII classes in both).
const LINE_BREAKS = /\r\n|[\r\u2028\u2029\v\f\x85]/g;
const INLINE = /[\\`*~|$]|(?<![A-Za-z0-9])_|_(?![A-Za-z0-9])/g;
const ENTITY = /&(?=#?[A-Za-z0-9]+;)/g;
const LINK = /\]\(/g;
const CLOSING_HASHES = /(#+)[ \t]*$/;
const BLOCK_START = /^([#>=[]|[-+](?![0-9.]))/gm;
const ORDERED = /^([0-9]+)([.)])(?=[ \t]|$)/gm;
const INDENT = /^[ \t]+/gm;

/**
 * Escape the markdown syntax and raw HTML in user text, and nothing else (as
 * `rai_nb.render.md_escape`); line breaks become spaces unless `keepLines`.
 */
export function mdEscape(text: string, keepLines = false): string {
  let escaped = text
    .replace(LINE_BREAKS, '\n')
    .replace(ENTITY, '&amp;')
    .replace(/</g, '&lt;')
    .replace(INLINE, match => `\\${match}`)
    .replace(LINK, ']\\(');
  if (!keepLines) {
    escaped = escaped
      .replace(/\n/g, ' ')
      .replace(CLOSING_HASHES, hashes => '\\#'.repeat(hashes.trimEnd().length));
  }
  return escaped
    .replace(INDENT, '')
    .replace(BLOCK_START, '\\$1')
    .replace(ORDERED, '$1\\$2');
}

/** A cell's text with its interval, as `rai_nb.render.with_bounds` writes it. */
function withBounds(
  text: string,
  lower: Cell | undefined,
  upper: Cell | undefined
): string {
  return typeof lower === 'number' && typeof upper === 'number'
    ? `${text} [${lower.toFixed(3)}, ${upper.toFixed(3)}]`
    : text;
}

/** A GitHub pipe table: index columns left-aligned, values right-aligned, intervals beside
 * their estimates. */
export function mdTable(
  table: ReportTable,
  bounds?: ReportBounds | null
): string {
  const names = table.index_names.map(n => (n === null ? '' : formatLabel(n)));
  const header = [...names, ...table.columns.map(formatLabel)].map(cell =>
    mdEscape(cell)
  );
  const align = [...names.map(() => ':--'), ...table.columns.map(() => '--:')];
  const rows = table.rows.map((row, i) => {
    const cells = [
      ...row.index.map(formatLabel),
      ...row.values.map((value, j) =>
        withBounds(
          formatCell(value),
          bounds?.lower[i]?.[j],
          bounds?.upper[i]?.[j]
        )
      )
    ];
    return `| ${cells.map(cell => mdEscape(cell)).join(' | ')} |`;
  });
  return [
    `| ${header.join(' | ')} |`,
    `| ${align.join(' | ')} |`,
    ...rows
  ].join('\n');
}

/** The report as markdown: `#`×`level` title, one heading level deeper per section. */
export function reportMarkdown(report: Report, level = 1): string {
  const hashes = '#'.repeat(level);
  const lines = [`${hashes} ${mdEscape(report.title)}`, ''];
  for (const section of report.sections) {
    lines.push(`${hashes}# ${mdEscape(section.title)}`, '');
    if (section.text) {
      lines.push(mdEscape(section.text), '');
    }
    if (section.table) {
      lines.push(mdTable(section.table, section.bounds), '');
    }
  }
  return `${lines.join('\n').trimEnd()}\n`;
}

/** The model card in `report`: the report itself or one of an audit's parts. */
export function findModelCard(report: Report): Report | null {
  if (report.kind === 'model_card') {
    return report;
  }
  return (report.parts ?? []).find(part => part.kind === 'model_card') ?? null;
}
