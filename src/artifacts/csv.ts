/**
 * CSV as RFC 4180 describes it: CRLF line ends, fields quoted when they hold a comma, a quote,
 * CR or LF, quotes doubled. null is an empty cell (never "null", "NaN" or 0); ±Infinity is
 * written the way Prometheus writes it.
 */
import { formatSampleValue } from '../collect/sample-value.js';

export type CsvCell = string | number | boolean | null | undefined;

export const CSV_LINE_END = '\r\n';

export function csvField(value: CsvCell): string {
  if (value === null || value === undefined) return '';
  const text = typeof value === 'number' ? (Number.isNaN(value) ? '' : formatSampleValue(value)) : String(value);
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

export function csvRow(cells: readonly CsvCell[]): string {
  return cells.map(csvField).join(',') + CSV_LINE_END;
}
