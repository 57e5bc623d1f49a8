/**
 * Markdown of a report (used to export model cards), with the escaping of
 * `rai_nb.render.md_escape` so user text cannot inject markdown or HTML.
 */
import { formatCell, formatLabel } from './format';
import { Report, ReportTable } from './types';

const SPECIAL = /([\\`*_{}[\]()#+\-!|~])/g;

/** Escape markdown syntax and raw HTML; line breaks become spaces unless `keepLines`. */
export function mdEscape(text: string, keepLines = false): string {
  let escaped = text
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;');
  if (!keepLines) {
    escaped = escaped.replace(/\n/g, ' ');
  }
  return escaped.replace(SPECIAL, '\\$1');
}

/** A GitHub pipe table: index columns left-aligned, values right-aligned. */
export function mdTable(table: ReportTable): string {
  const names = table.index_names.map(n => (n === null ? '' : formatLabel(n)));
  const header = [...names, ...table.columns.map(formatLabel)].map(cell =>
    mdEscape(cell)
  );
  const align = [...names.map(() => ':--'), ...table.columns.map(() => '--:')];
  const rows = table.rows.map(row => {
    const cells = [
      ...row.index.map(formatLabel),
      ...row.values.map(formatCell)
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
      lines.push(mdTable(section.table), '');
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
