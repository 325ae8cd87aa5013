/**
 * Test support: a small CollectionResult built by hand, for the artifact writers' unit tests
 * (the collector's own tests write artifacts from real Prometheus answers).
 */
import type { CollectionResult } from '../../collect/collector.js';
import type { KpiQuality } from '../../collect/kpi.js';
import { loadRecipe } from '../../collect/recipes/load.js';
import { planWindow } from '../../collect/window.js';

const quality = (coverage: number | null, series = 2): KpiQuality => ({
  series, targets: 1, samples_expected: coverage === null ? 0 : 20, samples_present: coverage === null ? 0 : Math.round(20 * coverage),
  coverage, gaps: [], targets_down: [],
});

export function syntheticCollection(sessionId = 'bench-1'): CollectionResult {
  const plan = planWindow({ start_time: '2024-05-01T10:00:00Z', end_time: '2024-05-01T10:05:00Z' }, { now: new Date('2024-05-01T11:00:00Z'), scrapeIntervalMs: 15_000 });
  const recipe = loadRecipe('default');
  recipe.kpis = recipe.kpis.filter((k) => ['throughput', 'gpu_utilisation', 'latency_p99'].includes(k.name));
  const t = plan.startMs;
  return {
    sessionId,
    plan,
    recipe,
    prometheus: { url: 'http://127.0.0.1:9090', version: '2.42.0' },
    scrapeTargets: [{ job: 'api, "v2"', instance: 'h:80', health: 'up', scrape_url: 'http://h:80/metrics', scrape_interval: '15s', last_error: '' }],
    targetGaps: [{ job: 'api, "v2"', instance: 'h:80', fromMs: t + 60_000, toMs: t + 90_000, kind: 'down' }],
    kpis: [
      {
        name: 'throughput', description: null, unit: 'req/s', method: 'rate', higher_is_better: true, slice_by: ['job', 'instance'],
        query_used: 'query', query: 'sum by () (rate(http_requests_total{session="bench-1"}[5m]))',
        value: 41.5, note: null, bounds: null, quality: quality(0.9),
        rows: [
          { scope: 'overall', labels: {}, value: 41.5, note: null, bounds: null, quality: quality(0.9) },
          { scope: 'slice', labels: { job: 'api, "v2"', instance: 'h:80' }, value: 41.5, note: null, bounds: null, quality: quality(0.9) },
        ],
        series_points: 42, series_null_points: 1,
      },
      {
        name: 'gpu_utilisation', description: null, unit: '%', method: 'avg_over_time', higher_is_better: true, slice_by: ['job', 'instance'],
        query_used: 'query', query: 'avg by () (avg_over_time(DCGM_FI_DEV_GPU_UTIL{session="bench-1"}[5m]))',
        value: null, note: 'no data: no series of DCGM_FI_DEV_GPU_UTIL for session bench-1 in the window', bounds: null, quality: quality(null, 0),
        rows: [], series_points: 0, series_null_points: 0,
      },
      {
        name: 'latency_p99', description: null, unit: 's', method: 'histogram_quantile', higher_is_better: false, slice_by: ['job', 'instance'],
        query_used: 'query', query: 'histogram_quantile(0.99, sum by (le) (increase(http_server_request_duration_seconds_bucket{session="bench-1"}[5m])))',
        value: 10, note: 'estimate fell into the +Inf bucket', bounds: { quantile: 0.99, lower: 10, upper: Number.POSITIVE_INFINITY, inInfBucket: true, observations: 400 },
        quality: quality(1, 15),
        rows: [{ scope: 'overall', labels: {}, value: 10, note: 'estimate fell into the +Inf bucket', bounds: { quantile: 0.99, lower: 10, upper: Number.POSITIVE_INFINITY, inInfBucket: true, observations: 400 }, quality: quality(1, 15) }],
        series_points: 21, series_null_points: 0,
      },
    ],
    series: [
      { kpi: 'throughput', scope: 'overall', labels: {}, timestampsMs: [t, t + 15_000, t + 30_000], values: [40, null, 43] },
      { kpi: 'throughput', scope: 'slice', labels: { instance: 'h:80', job: 'api, "v2"' }, timestampsMs: [t, t + 15_000], values: [40, 41] },
      { kpi: 'latency_p99', scope: 'overall', labels: {}, timestampsMs: [t, t + 15_000], values: [Number.POSITIVE_INFINITY, 0.5] },
    ],
    queries: [
      { id: 1, purpose: 'value', kpi: 'throughput', type: 'instant', query: 'sum by () (rate(http_requests_total{session="bench-1"}[5m]))', time: new Date(plan.endMs).toISOString(), start: null, end: null, step: null, result_series: 1, duration_ms: 1.2, error: null },
      { id: 2, purpose: 'series', kpi: 'throughput', type: 'range', query: 'sum by () (rate(http_requests_total{session="bench-1"}[1m]))', time: null, start: new Date(plan.startMs).toISOString(), end: new Date(plan.endMs).toISOString(), step: '15s', result_series: 1, duration_ms: 3.4, error: null },
    ],
    startedAt: '2024-05-01T11:00:00.000Z',
    finishedAt: '2024-05-01T11:00:01.250Z',
  };
}
