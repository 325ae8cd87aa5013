/**
 * The noise of a baseline made of several runs: how far a KPI moves between runs that should be
 * the same. A candidate value is "beyond noise" when it lies outside the band
 *
 *     [min(mean − k·s, min), max(mean + k·s, max)]
 *
 * where mean and s (sample standard deviation, n − 1) are over the baseline runs that have a
 * value, and min/max are the extremes of those runs: mean ± k·s, never narrower than what the
 * baseline runs themselves showed (with 2–3 runs s is a rough estimate, and a value the
 * baseline itself produced must never count as a change). k defaults to 2.
 * One run (or one run with a value) gives no noise estimate: null.
 */

export const DEFAULT_NOISE_K = 2;

export const NOISE_RULE = 'beyond noise when outside [min(mean − k·stddev, min), max(mean + k·stddev, max)] of the baseline runs (sample stddev); needs ≥ 2 baseline runs with a value';

export interface NoiseBand {
  /** Baseline runs with a value (the band's sample). */
  runs: number;
  mean: number;
  /** Sample standard deviation (n − 1). */
  stddev: number;
  min: number;
  max: number;
  k: number;
  lower: number;
  upper: number;
}

export function mean(values: readonly number[]): number {
  return values.reduce((a, b) => a + b, 0) / values.length;
}

/** Sample standard deviation (n − 1); 0 for fewer than two values. */
export function sampleStddev(values: readonly number[]): number {
  if (values.length < 2) return 0;
  const m = mean(values);
  return Math.sqrt(values.reduce((a, v) => a + (v - m) ** 2, 0) / (values.length - 1));
}

/** The noise band of the baseline values, or null when fewer than two have a value. */
export function noiseBand(values: ReadonlyArray<number | null>, k = DEFAULT_NOISE_K): NoiseBand | null {
  if (!(k >= 0) || !Number.isFinite(k)) throw new RangeError(`noise k must be a finite number ≥ 0, got ${k}`);
  const present = values.filter((v): v is number => v !== null && Number.isFinite(v));
  if (present.length < 2) return null;
  const m = mean(present);
  const s = sampleStddev(present);
  const min = Math.min(...present);
  const max = Math.max(...present);
  return { runs: present.length, mean: m, stddev: s, min, max, k, lower: Math.min(m - k * s, min), upper: Math.max(m + k * s, max) };
}

export function isBeyondNoise(value: number, band: NoiseBand): boolean {
  return value < band.lower || value > band.upper;
}
