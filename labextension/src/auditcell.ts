/**
 * The `%audit` cell that "Insert %audit Cell" writes, filled in with the notebook's own names.
 *
 * The kernel reports its DataFrames and fitted models (`rai_nb.magics.namespace_summary()`,
 * asked as a silent user expression); `auditCell` turns that summary into the cell's text.
 */

/** One DataFrame of the kernel's namespace. */
export interface FrameSummary {
  name: string;
  kind: string;
  columns: string[];
}

/** What `rai_nb.magics.namespace_summary()` returns. */
export interface NamespaceSummary {
  frames: FrameSummary[];
  models: string[];
  loaded: boolean;
}

/** The user expression asking the kernel for its summary (as JSON). */
export const SUMMARY_EXPRESSION =
  "__import__('IPython.display').display.JSON(" +
  "__import__('rai_nb.magics').magics.namespace_summary())";

/** Names the user must replace, written so that they stand out. */
export const PLACEHOLDERS = {
  model: 'MODEL',
  data: 'DATA',
  target: 'TARGET',
  sensitive: 'SENSITIVE'
};

/** What each placeholder stands for, in the note that asks the user to replace it. */
const NEEDED: { [key: string]: string } = {
  model: 'a fitted model: no object with predict was found',
  data: 'a DataFrame: none was found',
  target: 'the column of true labels',
  sensitive:
    'comma-separated sensitive columns: none is named like sex, race or age'
};

/** Column names that are likely the target, most likely first. */
const TARGET_NAMES = [
  'target',
  'label',
  'y',
  'class',
  'outcome',
  'income',
  'survived',
  'churn',
  'default',
  'two_year_recid'
];

/** Words of a column name that mark a sensitive attribute. */
const SENSITIVE_WORDS = new Set([
  'sex',
  'gender',
  'race',
  'ethnicity',
  'ethnic',
  'age',
  'religion',
  'nationality',
  'citizenship',
  'marital',
  'disability'
]);

/** Frame names that are likely held-out data, the ones worth auditing. */
const HELD_OUT = /(^|_)(test|valid|validation|holdout|eval)(_|$|df|\d)/i;

/** The frame to audit: a held-out one when its name says so, else the first. */
export function guessFrame(frames: FrameSummary[]): FrameSummary | null {
  return frames.find(f => HELD_OUT.test(f.name)) ?? frames[0] ?? null;
}

/** The target column: one named like a label, else the last column. */
export function guessTarget(columns: string[]): string | null {
  const lower = columns.map(c => c.toLowerCase());
  for (const name of TARGET_NAMES) {
    const i = lower.indexOf(name);
    if (i >= 0) {
      return columns[i];
    }
  }
  return columns.length > 0 ? columns[columns.length - 1] : null;
}

/** Columns named like sensitive attributes (`sex`, `age_cat`, `marital-status`…). */
export function guessSensitive(
  columns: string[],
  target: string | null
): string[] {
  return columns.filter(
    c =>
      c !== target &&
      !c.includes(',') &&
      c
        .toLowerCase()
        .split(/[^a-z]+/)
        .some(word => SENSITIVE_WORDS.has(word))
  );
}

/** An option value as the magic reads it: quoted when it holds a space or a quote. */
function word(value: string): string {
  return /^[\w.,-]+$/.test(value) ? value : JSON.stringify(value);
}

/**
 * The cell's text. `summary` null means the kernel could not be asked; `reason` then says why
 * (it is written into the cell, above the template with placeholders).
 */
export function auditCell(
  summary: NamespaceSummary | null,
  reason = 'no kernel is running'
): string {
  const frame = summary ? guessFrame(summary.frames) : null;
  const target = frame ? guessTarget(frame.columns) : null;
  const sensitive = frame ? guessSensitive(frame.columns, target) : [];
  const parts = {
    model: summary?.models[0] ?? PLACEHOLDERS.model,
    data: frame?.name ?? PLACEHOLDERS.data,
    target: target ?? PLACEHOLDERS.target,
    sensitive:
      sensitive.length > 0 ? sensitive.join(',') : PLACEHOLDERS.sensitive
  };
  const lines: string[] = [];
  if (summary === null) {
    lines.push(
      `# rai_nb could not read your notebook's names (${reason}): replace ` +
        'MODEL, DATA, TARGET and SENSITIVE with your own.'
    );
  } else {
    const missing = Object.entries(PLACEHOLDERS)
      .filter(
        ([key, placeholder]) => parts[key as keyof typeof parts] === placeholder
      )
      .map(([key, placeholder]) => `${placeholder} (${NEEDED[key]})`);
    if (missing.length > 0) {
      lines.push(`# Replace ${missing.join(', ')} before running this cell.`);
    }
  }
  if (!summary?.loaded) {
    lines.push('%load_ext rai_nb');
  }
  lines.push(
    `%audit ${parts.model} ${parts.data} --target ${word(parts.target)} ` +
      `--sensitive ${word(parts.sensitive)}`
  );
  return lines.join('\n');
}

/**
 * The summary in a user-expression reply (`reply.content.user_expressions[key]`), or a reason
 * why there is none.
 */
export function readSummary(
  expression: unknown
): { summary: NamespaceSummary } | { reason: string } {
  const value = expression as {
    status?: string;
    ename?: string;
    evalue?: string;
    data?: { [mime: string]: unknown };
  } | null;
  if (!value || value.status !== 'ok') {
    const error = value?.ename
      ? `${value.ename}: ${value.evalue}`
      : 'no answer';
    return { reason: `the kernel could not run rai_nb (${error})` };
  }
  const summary = value.data?.['application/json'] as
    NamespaceSummary | undefined;
  if (
    !summary ||
    !Array.isArray(summary.frames) ||
    !Array.isArray(summary.models)
  ) {
    return { reason: 'the kernel gave no summary of its names' };
  }
  return { summary };
}
