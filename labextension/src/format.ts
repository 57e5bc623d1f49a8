/**
 * Cell formatting, the same as `rai_nb.render.format_value` so a report reads identically in
 * JupyterLab, in the static HTML and in markdown.
 */
import { Cell } from './types';

const MINUS = '\u2212';

/** `1234567` → `"1,234,567"` (integers below 1e15 only, as Python's `f"{n:,}"`). */
function withThousands(value: number): string {
  const digits = Math.abs(value).toFixed(0);
  const grouped = digits.replace(/\B(?=(\d{3})+(?!\d))/g, ',');
  return value < 0 ? `-${grouped}` : grouped;
}

/**
 * `value.toFixed(4)`, except exact ties round half to even as Python does. A double is exactly
 * halfway between two 4-decimal numbers only when it is an odd multiple of 1/32.
 */
function fourDecimals(value: number): string {
  const in32nds = value * 32;
  if (Number.isInteger(in32nds) && in32nds % 2 !== 0) {
    const scaled = value * 1e4;
    const floor = Math.floor(scaled);
    return ((floor % 2 === 0 ? floor : floor + 1) / 1e4).toFixed(4);
  }
  return value.toFixed(4);
}

/** A number as the report shows it: integers with thousands separators, else 4 decimals. */
export function formatNumber(value: number): string {
  if (Number.isNaN(value)) {
    return '\u2013';
  }
  if (!Number.isFinite(value)) {
    return value > 0 ? '\u221e' : `${MINUS}\u221e`;
  }
  if (Number.isInteger(value) && Math.abs(value) < 1e15) {
    return withThousands(value);
  }
  return fourDecimals(value);
}

/** The number a cell stands for (`null` → NaN, `"inf"` → Infinity), or `null` for text. */
export function cellNumber(value: Cell): number | null {
  if (typeof value === 'number') {
    return value;
  }
  if (value === null) {
    return NaN;
  }
  if (value === 'inf') {
    return Infinity;
  }
  if (value === '-inf') {
    return -Infinity;
  }
  return null;
}

/** A value cell as text: numbers formatted, missing as "–", flags as Python prints them. */
export function formatCell(value: Cell): string {
  if (typeof value === 'boolean') {
    return value ? 'True' : 'False';
  }
  const number = cellNumber(value);
  return number === null ? String(value) : formatNumber(number);
}

/** An index label or column name as text: strings stay as they are, even "inf". */
export function formatLabel(value: Cell): string {
  if (value === null) {
    return '\u2013';
  }
  if (typeof value === 'number') {
    return formatNumber(value);
  }
  return typeof value === 'boolean' ? (value ? 'True' : 'False') : value;
}
