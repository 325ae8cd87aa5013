/**
 * Prometheus-style durations (`15s`, `1m30s`, `500ms`, `2h`), as model.ParseDuration accepts them:
 * units in descending order, each at most once, integer amounts.
 */
const DURATION_RE = /^(?:(\d+)y)?(?:(\d+)w)?(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?(?:(\d+)ms)?$/;
const UNIT_MS = [365 * 86_400_000, 7 * 86_400_000, 86_400_000, 3_600_000, 60_000, 1000, 1] as const;

export const DURATION_PATTERN = '^([0-9]+y)?([0-9]+w)?([0-9]+d)?([0-9]+h)?([0-9]+m)?([0-9]+s)?([0-9]+ms)?$';

/** Milliseconds of a Prometheus duration, or undefined when the text is not one (or is zero). */
export function parseDuration(text: string): number | undefined {
  if (text === '' || text === '0') return undefined;
  const m = DURATION_RE.exec(text);
  if (!m) return undefined;
  let ms = 0;
  for (let i = 0; i < UNIT_MS.length; i++) {
    const part = m[i + 1];
    if (part !== undefined) ms += Number(part) * UNIT_MS[i]!;
  }
  return ms > 0 && Number.isSafeInteger(ms) ? ms : undefined;
}

/** The shortest Prometheus duration text for a whole number of milliseconds. */
export function formatDuration(ms: number): string {
  if (!Number.isInteger(ms) || ms <= 0) throw new RangeError(`not a positive whole number of milliseconds: ${ms}`);
  const units: Array<[string, number]> = [['h', 3_600_000], ['m', 60_000], ['s', 1000], ['ms', 1]];
  let rest = ms;
  let out = '';
  for (const [unit, size] of units) {
    const n = Math.floor(rest / size);
    if (n > 0) {
      out += `${n}${unit}`;
      rest -= n * size;
    }
  }
  return out;
}
