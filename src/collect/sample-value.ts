/**
 * Prometheus sends sample values as strings (Go's strconv.FormatFloat plus "+Inf", "-Inf",
 * "NaN"). NaN means "no defined value" (0/0, a quantile of an empty histogram): it becomes
 * null, never 0, so a failed measurement cannot pass for a measured zero.
 */

const FLOAT_RE = /^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$/;

/** A sample value as a number (±Infinity kept), or null for NaN. Throws on text that is not a float. */
export function parseSampleValue(text: string): number | null {
  switch (text) {
    case 'NaN':
      return null;
    case '+Inf':
    case 'Inf':
      return Number.POSITIVE_INFINITY;
    case '-Inf':
      return Number.NEGATIVE_INFINITY;
    default:
      if (!FLOAT_RE.test(text)) throw new Error(`not a Prometheus sample value: ${JSON.stringify(text)}`);
      return Number(text);
  }
}

/** A number the way Prometheus writes it: "+Inf", "-Inf", shortest round-trip decimal otherwise. */
export function formatSampleValue(value: number): string {
  if (value === Number.POSITIVE_INFINITY) return '+Inf';
  if (value === Number.NEGATIVE_INFINITY) return '-Inf';
  if (Number.isNaN(value)) return 'NaN';
  return String(value);
}

/** A finite number, or null. For values that must be JSON numbers (manifest) or empty cells (CSV). */
export function finiteOrNull(value: number | null): number | null {
  return value !== null && Number.isFinite(value) ? value : null;
}
