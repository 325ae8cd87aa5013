/**
 * KPI results and the pure steps that turn Prometheus answers into them: result rows, null
 * with a reason instead of NaN or 0, bucket groups for the percentile bounds.
 */
import type { QueryResult } from '../prometheus/client.js';
import type { KpiMethod } from './recipes/schema.js';
import type { TargetGap } from './data-quality.js';
import type { BucketCount, QuantileBounds } from './histogram-bounds.js';
import { parseSampleValue } from './sample-value.js';

export type Labels = Record<string, string>;

export interface KpiQuality {
  /** Raw series the KPI's selectors matched in the window. */
  series: number;
  /** Targets (job/instance) those series came from. */
  targets: number;
  samples_expected: number;
  samples_present: number;
  /** samples_present / samples_expected, 0..1; null when no series matched. */
  coverage: number | null;
  /** Periods in the window when a target feeding this KPI was down or not scraped. */
  gaps: TargetGap[];
  /** Targets feeding this KPI that were down or not scraped at some point, as job/instance. */
  targets_down: string[];
}

export interface KpiValueRow {
  scope: 'overall' | 'slice';
  /** Labels of the result series (the slice labels for per-slice rows; usually none for overall). */
  labels: Labels;
  value: number | null;
  /** Why value is null (or a caveat about a non-null value). */
  note: string | null;
  /** For histogram_quantile: the bucket the estimate fell into. */
  bounds: QuantileBounds | null;
  quality: KpiQuality;
}

export interface KpiResult {
  name: string;
  description: string | null;
  unit: string;
  method: KpiMethod;
  higher_is_better: boolean;
  slice_by: string[];
  /** Which template produced the values: the recipe's query, or its fallback because the query had no series. */
  query_used: 'query' | 'fallback_query';
  /** The overall query as sent to Prometheus. */
  query: string;
  /** The overall value when the overall query gives one series; else null with a reason. */
  value: number | null;
  note: string | null;
  bounds: QuantileBounds | null;
  quality: KpiQuality;
  rows: KpiValueRow[];
  /** Time-series points without a value (NaN or missing) in timeseries.csv/parquet for this KPI. */
  series_points: number;
  series_null_points: number;
}

export interface ResultRow {
  labels: Labels;
  /** Parsed sample value: null for NaN; ±Infinity kept. */
  raw: number | null;
}

/** Rows of an instant query result (vector or scalar); the constant `session` label is dropped. */
export function rowsOfInstantResult(result: QueryResult): ResultRow[] {
  switch (result.resultType) {
    case 'vector':
      return result.result.map((s) => ({ labels: withoutSession(s.metric), raw: parseSampleValue(s.value[1]) }));
    case 'scalar':
      return [{ labels: {}, raw: parseSampleValue(result.result[1]) }];
    default:
      throw new Error(`expected a vector or scalar result, got ${result.resultType}`);
  }
}

export function withoutSession(labels: Labels): Labels {
  if (!('session' in labels)) return labels;
  const { session: _session, ...rest } = labels;
  return rest;
}

/**
 * A finite value, or null and why. NaN from Prometheus means the expression had no defined
 * value (0/0: no requests, an empty histogram); ±Inf means a division by zero.
 */
export function valueWithReason(raw: number | null, method: KpiMethod): { value: number | null; note: string | null } {
  if (raw === null) {
    const why = method === 'histogram_quantile' ? 'no observations in the window' : method === 'ratio' ? 'the denominator did not increase in the window (0/0)' : 'Prometheus returned NaN';
    return { value: null, note: `no value: ${why}` };
  }
  if (!Number.isFinite(raw)) return { value: null, note: `no value: Prometheus returned ${raw > 0 ? '+Inf' : '-Inf'} (division by zero)` };
  return { value: raw, note: null };
}

/** A label set as text, `job="a",instance="b"`, slice labels first in their order, then the rest sorted. */
export function labelSetText(labels: Labels, order: readonly string[] = []): string {
  const keys = [...order.filter((k) => k in labels), ...Object.keys(labels).filter((k) => !order.includes(k)).sort()];
  return keys.map((k) => `${k}=${JSON.stringify(labels[k])}`).join(',');
}

/** Bucket counts of a merged-bucket query, grouped by the labels other than `le`. */
export function bucketGroups(result: QueryResult): Map<string, { labels: Labels; buckets: BucketCount[] }> {
  const groups = new Map<string, { labels: Labels; buckets: BucketCount[] }>();
  if (result.resultType !== 'vector') return groups;
  for (const s of result.result) {
    const { le, ...rest } = withoutSession(s.metric);
    if (le === undefined) continue;
    const bound = parseSampleValue(le);
    const count = parseSampleValue(s.value[1]);
    if (bound === null || count === null) continue;
    const key = labelSetText(rest);
    let g = groups.get(key);
    if (!g) {
      g = { labels: rest, buckets: [] };
      groups.set(key, g);
    }
    g.buckets.push({ le: bound, count });
  }
  return groups;
}

/** The estimate must lie within its bucket; if not, the data moved between the two queries. */
export function boundsContain(bounds: QuantileBounds, value: number): boolean {
  const eps = 1e-9 * Math.max(1, Math.abs(value));
  if (bounds.inInfBucket) return value >= bounds.lower - eps;
  return value >= bounds.lower - eps && value <= bounds.upper + eps;
}
