/**
 * Which bucket a histogram_quantile estimate fell into. Prometheus interpolates linearly inside
 * one bucket, so the estimate is only known to lie between that bucket's bounds; with coarse
 * layouts (vLLM e2e 2.5 → 5 → 10 s, Qdrant 0.1 → 0.5 → 1 s) the bounds are the honest answer.
 * This mirrors promql/quantile.go bucketQuantile (Prometheus 2.x): sort, merge equal bounds,
 * force monotonic counts, rank = q · total, first bucket whose cumulative count ≥ rank.
 */

export interface BucketCount {
  /** Upper bound (the `le` label) as a number; +Inf for the last bucket. */
  le: number;
  /** Cumulative count of observations ≤ le (in the window: the increase). */
  count: number;
}

export interface QuantileBounds {
  quantile: number;
  /** Lower bound of the bucket holding rank q·total (0 for the first bucket, as Prometheus assumes). */
  lower: number;
  /** Its upper bound; +Infinity when the rank fell into the +Inf bucket. */
  upper: number;
  /** The estimate fell into the +Inf bucket: Prometheus then answers the highest finite bound, a floor, not an estimate. */
  inInfBucket: boolean;
  /** Observations in the window (the +Inf bucket's count). */
  observations: number;
}

export type BoundsOutcome = { ok: true; bounds: QuantileBounds } | { ok: false; reason: string };

export function quantileBucketBounds(quantile: number, input: readonly BucketCount[]): BoundsOutcome {
  if (!(quantile >= 0 && quantile <= 1)) return { ok: false, reason: `quantile ${quantile} outside [0, 1]` };
  if (input.length === 0) return { ok: false, reason: 'no buckets' };
  const sorted = [...input].sort((a, b) => a.le - b.le);
  if (sorted[sorted.length - 1]!.le !== Number.POSITIVE_INFINITY) return { ok: false, reason: 'the histogram has no le="+Inf" bucket' };

  // Buckets with the same bound (le="1" and le="1.0" from different exporters) are one bucket.
  const buckets: BucketCount[] = [];
  for (const b of sorted) {
    const last = buckets[buckets.length - 1];
    if (last && last.le === b.le) last.count += b.count;
    else buckets.push({ ...b });
  }
  // increase() extrapolates each bucket on its own, which can leave a bucket a hair below the
  // one before it; Prometheus treats that as noise and carries the maximum forward.
  let max = Number.NEGATIVE_INFINITY;
  for (const b of buckets) {
    if (b.count > max) max = b.count;
    else b.count = max;
  }
  if (buckets.length < 2) return { ok: false, reason: 'the histogram has only the +Inf bucket' };
  const observations = buckets[buckets.length - 1]!.count;
  if (!(observations > 0)) return { ok: false, reason: 'no observations in the window' };

  const rank = quantile * observations;
  let b = buckets.findIndex((bucket, i) => i < buckets.length - 1 && bucket.count >= rank);
  if (b < 0) b = buckets.length - 1;
  if (b === buckets.length - 1) {
    return { ok: true, bounds: { quantile, lower: buckets[b - 1]!.le, upper: Number.POSITIVE_INFINITY, inInfBucket: true, observations } };
  }
  const upper = buckets[b]!.le;
  // Prometheus answers the first bucket's upper bound when it is ≤ 0; the true value is then
  // anywhere below it.
  const lower = b > 0 ? buckets[b - 1]!.le : upper <= 0 ? Number.NEGATIVE_INFINITY : 0;
  return { ok: true, bounds: { quantile, lower, upper, inInfBucket: false, observations } };
}
