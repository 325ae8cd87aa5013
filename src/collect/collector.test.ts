/**
 * The collector against a real Prometheus holding known data: 3 h 20 min of samples every 10 s,
 * backfilled with promtool, so every expected value is exact arithmetic rather than a guess.
 *
 * Session s1: target a:80 serves 40 req/s for the whole window; target b:80 serves 40 req/s
 * until the window's middle, then is down (up == 0). Each second 24 requests take 0.02 s,
 * 12 take 0.2 s, 3 take 2 s and 1 takes 30 s (OpenTelemetry's advisory buckets).
 * Session s2 on the same Prometheus serves 1000 req/s: if sessions mixed, s1's numbers would show it.
 * Session s3's service is up but idle: a measured zero, and percentiles that do not exist.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import type { FormatsPlugin } from 'ajv-formats';
import { tableFromIPC } from 'apache-arrow';
import { readParquet } from 'parquet-wasm/node';
import { PrometheusClient } from '../prometheus/client.js';
import { BenchmonError } from '../errors.js';
import { sha256OfFile, writeCollectionArtifacts } from '../artifacts/write-collection.js';
import { manifestSchemaPath } from '../artifacts/manifest.js';
import { collectWindow, type CollectProgress, type CollectionResult } from './collector.js';
import type { KpiResult } from './kpi.js';
import { loadRecipe } from './recipes/load.js';
import { planWindow } from './window.js';
import { startPrometheus, type RunningPrometheus } from './testing/real-prometheus.js';

const INTERVAL_S = 10;
const BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10];
// Observations per second: [duration, how many].
const PER_SECOND: Array<[number, number]> = [[0.02, 24], [0.2, 12], [2, 3], [30, 1]];
const RPS = 40;
const SUM_PER_SECOND = PER_SECOND.reduce((s, [d, n]) => s + d * n, 0); // 38.88 s of latency per second
// Counters start as if the service had run this long already, so Prometheus's extrapolation
// never hits zero and the increases over the window are exact.
const HEAD_START_S = 100_000;

interface TargetSpec { session: string; job: string; instance: string; rps: number; downFromS?: number }

function openMetrics(targets: TargetSpec[], fromS: number, toS: number): string {
  const lines: string[] = [];
  const times: number[] = [];
  for (let t = fromS; t <= toS; t += INTERVAL_S) times.push(t);
  const isUp = (spec: TargetSpec, t: number) => spec.downFromS === undefined || t < spec.downFromS;
  const labels = (spec: TargetSpec, extra = '') => `{session="${spec.session}",job="${spec.job}",instance="${spec.instance}"${extra}}`;
  const scale = (spec: TargetSpec) => spec.rps / RPS;

  lines.push('# TYPE up gauge');
  for (const spec of targets) for (const t of times) lines.push(`up${labels(spec)} ${isUp(spec, t) ? 1 : 0} ${t}`);

  lines.push('# TYPE http_requests counter');
  for (const spec of targets) {
    for (const t of times) if (isUp(spec, t)) lines.push(`http_requests_total${labels(spec)} ${spec.rps * (HEAD_START_S + t - fromS)} ${t}`);
  }

  lines.push('# TYPE http_server_request_duration_seconds histogram');
  for (const spec of targets) {
    for (const t of times) {
      if (!isUp(spec, t)) continue;
      const seconds = HEAD_START_S + t - fromS;
      for (const le of [...BUCKETS, Number.POSITIVE_INFINITY]) {
        const perSecond = PER_SECOND.filter(([d]) => d <= le).reduce((n, [, k]) => n + k, 0) * scale(spec);
        lines.push(`http_server_request_duration_seconds_bucket${labels(spec, `,le="${le === Number.POSITIVE_INFINITY ? '+Inf' : le}"`)} ${perSecond * seconds} ${t}`);
      }
      lines.push(`http_server_request_duration_seconds_sum${labels(spec)} ${SUM_PER_SECOND * scale(spec) * seconds} ${t}`);
      lines.push(`http_server_request_duration_seconds_count${labels(spec)} ${spec.rps * seconds} ${t}`);
    }
  }

  // Only the deprecated vLLM KV-cache gauge: the recipe must fall back to it.
  lines.push('# TYPE vllm:gpu_cache_usage_perc gauge');
  for (const spec of targets) for (const t of times) if (isUp(spec, t)) lines.push(`vllm:gpu_cache_usage_perc${labels(spec, ',model_name="m"')} 0.25 ${t}`);
  lines.push('# EOF');
  return `${lines.join('\n')}\n`;
}

function kpi(result: CollectionResult, name: string): KpiResult {
  const found = result.kpis.find((k) => k.name === name);
  assert.ok(found, `no KPI ${name}`);
  return found;
}

function slice(k: KpiResult, instance: string) {
  const row = k.rows.find((r) => r.scope === 'slice' && r.labels.instance === instance);
  assert.ok(row, `${k.name} has no slice for ${instance}`);
  return row;
}

function near(actual: number | null, expected: number, tolerance: number, what: string): void {
  assert.ok(actual !== null, `${what}: no value`);
  assert.ok(Math.abs(actual - expected) <= tolerance, `${what}: ${actual} is not within ${tolerance} of ${expected}`);
}

describe('collectWindow against a real Prometheus with backfilled data', () => {
  let prom: RunningPrometheus;
  let artifactsRoot: string;
  const nowS = Math.floor(Date.now() / 1000);
  const dataFromS = Math.floor((nowS - 4 * 3600) / INTERVAL_S) * INTERVAL_S;
  const dataToS = dataFromS + 3 * 3600 + 20 * 60;
  const windowStartS = dataFromS + 5 * 60 + 3; // between two samples, as a real window would be
  const W_S = 3 * 3600 + 10 * 60; // 11,400 steps of 1 s: two range queries per series
  const windowEndS = windowStartS + W_S;
  const midS = windowStartS + W_S / 2;
  const bDownFromS = Math.ceil(midS / INTERVAL_S) * INTERVAL_S;
  const plan = () => planWindow({ start_time: windowStartS, end_time: windowEndS, step: '1s' }, { now: new Date(), scrapeIntervalMs: INTERVAL_S * 1000 });
  let defaultResult: CollectionResult;
  const progress: CollectProgress[] = [];

  before(async () => {
    const data = openMetrics(
      [
        { session: 's1', job: 'app', instance: 'a:80', rps: RPS },
        { session: 's1', job: 'app', instance: 'b:80', rps: RPS, downFromS: bDownFromS },
        { session: 's2', job: 'app', instance: 'a:80', rps: 1000 },
        { session: 's3', job: 'idle', instance: 'c:80', rps: 0 },
      ],
      dataFromS,
      dataToS,
    );
    prom = await startPrometheus({ backfill: data });
    artifactsRoot = fs.mkdtempSync(path.join(os.tmpdir(), 'benchmon-artifacts-'));
    defaultResult = await collectWindow(prom.client, { sessionId: 's1', plan: plan(), recipe: loadRecipe('default'), onProgress: (p) => progress.push(p) });
  });

  after(async () => {
    await prom?.stop();
    if (artifactsRoot) fs.rmSync(artifactsRoot, { recursive: true, force: true });
  });

  it('computes throughput as Δcount / W, overall and per target, without the other session', () => {
    const throughput = kpi(defaultResult, 'throughput');
    near(slice(throughput, 'a:80').value, RPS, 1e-9, 'a:80');
    // b:80's last sample lies half a window before the end: Prometheus extrapolates half an interval past it.
    const lastBSample = bDownFromS - INTERVAL_S;
    const expectedB = (RPS * (lastBSample - windowStartS + INTERVAL_S / 2)) / W_S;
    near(slice(throughput, 'b:80').value, expectedB, 1e-6, 'b:80');
    near(throughput.value, RPS + expectedB, 1e-6, 'overall');
    assert.equal(throughput.query, 'sum by () (rate(http_requests_total{session="s1"}[3h10m]))');
    assert.equal(throughput.query_used, 'query');
  });

  it('merges the histogram over the window and reports the bucket each percentile fell into', () => {
    const p50 = kpi(defaultResult, 'latency_p50');
    near(p50.value, 0.0225, 1e-9, 'p50'); // 0.01 + 0.015 · (20 / 24)
    assert.deepEqual([p50.bounds?.lower, p50.bounds?.upper, p50.bounds?.inInfBucket], [0.01, 0.025, false]);

    const p95 = kpi(defaultResult, 'latency_p95');
    near(p95.value, 2, 1e-9, 'p95'); // 1 + 1.5 · (2 / 3)
    assert.deepEqual([p95.bounds?.lower, p95.bounds?.upper, p95.bounds?.inInfBucket], [1, 2.5, false]);

    const p99 = kpi(defaultResult, 'latency_p99');
    assert.equal(p99.value, 10, 'Prometheus answers the highest finite bound');
    assert.deepEqual([p99.bounds?.lower, p99.bounds?.upper, p99.bounds?.inInfBucket], [10, Number.POSITIVE_INFINITY, true]);
    assert.match(p99.note ?? '', /\+Inf bucket/);

    // Per slice too: both targets have the same distribution.
    for (const instance of ['a:80', 'b:80']) {
      const row = slice(p95, instance);
      near(row.value, 2, 1e-9, `p95 ${instance}`);
      assert.deepEqual([row.bounds?.lower, row.bounds?.upper], [1, 2.5]);
    }
  });

  it('computes mean latency as Δsum / Δcount', () => {
    near(kpi(defaultResult, 'latency_mean').value, SUM_PER_SECOND / RPS, 1e-9, 'mean');
  });

  it('reports coverage per target: ≈ 50 % for the target down half the window', () => {
    const throughput = kpi(defaultResult, 'throughput');
    assert.equal(slice(throughput, 'a:80').quality.coverage, 1);
    near(slice(throughput, 'b:80').quality.coverage, 0.5, 0.01, 'coverage b:80');
    near(throughput.quality.coverage, 0.75, 0.01, 'coverage overall');
    assert.equal(throughput.quality.series, 2);
    assert.equal(kpi(defaultResult, 'latency_p50').quality.series, 30, '15 buckets × 2 targets');
  });

  it('finds when a target was down, for the session and for each KPI it feeds', () => {
    assert.equal(defaultResult.targetGaps.length, 1);
    const gap = defaultResult.targetGaps[0]!;
    assert.deepEqual([gap.job, gap.instance, gap.kind], ['app', 'b:80', 'down']);
    assert.equal(gap.fromMs, bDownFromS * 1000);
    assert.equal(gap.toMs, windowEndS * 1000);
    assert.deepEqual(kpi(defaultResult, 'throughput').quality.targets_down, ['app/b:80']);
    assert.deepEqual(slice(kpi(defaultResult, 'throughput'), 'a:80').quality.gaps, []);
  });

  it('leaves a KPI without data empty, with the reason, never 0', () => {
    for (const name of ['gpu_utilisation', 'cpu_utilisation']) {
      const k = kpi(defaultResult, name);
      assert.equal(k.value, null);
      assert.equal(k.rows.length, 0);
      assert.match(k.note ?? '', /^no data: no series of (DCGM_FI_DEV_GPU_UTIL|node_cpu_seconds_total) for session s1 in the window$/);
      assert.equal(k.quality.coverage, null);
    }
  });

  it('fetches the series at the step in range queries of at most 11,000 points', () => {
    const rangeQueries = defaultResult.queries.filter((q) => q.type === 'range');
    assert.ok(rangeQueries.length > 0);
    for (const q of rangeQueries) {
      assert.equal(q.error, null);
      assert.ok((Date.parse(q.end!) - Date.parse(q.start!)) / 1000 <= 11_000, `${q.start}..${q.end}`);
    }
    const overall = defaultResult.series.find((s) => s.kpi === 'throughput' && s.scope === 'overall')!;
    assert.equal(overall.timestampsMs.length, W_S + 1);
    assert.equal(overall.timestampsMs[0], windowStartS * 1000);
    assert.equal(overall.timestampsMs.at(-1), windowEndS * 1000);
    assert.equal(new Set(overall.timestampsMs).size, overall.timestampsMs.length, 'no step twice');
    near(overall.values[100]!, 2 * RPS, 1e-6, 'throughput early in the window');
    near(overall.values.at(-1)!, RPS, 1e-6, 'throughput at the end (b:80 down)');
  });

  it('keeps every query verbatim with its evaluation time, and reports progress to the end', () => {
    const value = defaultResult.queries.find((q) => q.kpi === 'latency_p99' && q.purpose === 'value')!;
    assert.equal(value.query, 'histogram_quantile(0.99, sum by (le) (increase(http_server_request_duration_seconds_bucket{session="s1"}[3h10m])))');
    assert.equal(value.time, new Date(windowEndS * 1000).toISOString());
    const bucketQueries = defaultResult.queries.filter((q) => q.query === 'sum by (le) (increase(http_server_request_duration_seconds_bucket{session="s1"}[3h10m]))');
    assert.equal(bucketQueries.length, 1, 'p50, p95 and p99 share one bucket query');
    assert.equal(bucketQueries[0]!.time, value.time);
    assert.ok(defaultResult.queries.every((q) => q.query.includes('session="s1"')), 'every query is confined to the session');
    assert.deepEqual(defaultResult.queries.map((q) => q.id), defaultResult.queries.map((_, i) => i + 1));
    assert.equal(progress.at(-1)!.done, progress.at(-1)!.total);
    assert.deepEqual(progress.map((p) => p.done), progress.map((_, i) => i + 1));
  });

  it('falls back to a deprecated metric when the current one has no series', async () => {
    const result = await collectWindow(prom.client, { sessionId: 's1', plan: plan(), recipe: loadRecipe('vllm') });
    const kv = kpi(result, 'kv_cache_usage_avg');
    assert.equal(kv.query_used, 'fallback_query');
    near(kv.value, 25, 1e-9, 'kv cache %');
    assert.ok(result.queries.some((q) => q.kpi === 'kv_cache_usage_avg' && q.purpose === 'value' && q.result_series === 0));
    assert.equal(kpi(result, 'ttft_p99').value, null);
  });

  it('stays within its session: s2 sees only its own 1000 req/s', async () => {
    const result = await collectWindow(prom.client, { sessionId: 's2', plan: plan(), recipe: loadRecipe('default') });
    near(kpi(result, 'throughput').value, 1000, 1e-9, 's2 throughput');
    assert.deepEqual(result.targetGaps, []);
  });

  it('keeps a measured zero as 0 and an undefined value (NaN) as null with the reason', async () => {
    const result = await collectWindow(prom.client, { sessionId: 's3', plan: plan(), recipe: loadRecipe('default') });
    assert.equal(kpi(result, 'throughput').value, 0);
    assert.equal(kpi(result, 'throughput').note, null);
    const p50 = kpi(result, 'latency_p50');
    assert.equal(p50.value, null);
    assert.equal(p50.note, 'no value: no observations in the window');
    assert.equal(p50.bounds, null);
    assert.equal(p50.quality.coverage, 1, 'the data is all there; there were just no requests');
    assert.equal(kpi(result, 'latency_mean').note, 'no value: the denominator did not increase in the window (0/0)');
    const series = result.series.find((s) => s.kpi === 'latency_p50' && s.scope === 'overall')!;
    assert.ok(series.values.length > 0 && series.values.every((v) => v === null), 'NaN points stay null');
    assert.equal(kpi(result, 'latency_p50').series_null_points, kpi(result, 'latency_p50').series_points);
  });

  it('gives a KPI Prometheus rejects a reason and goes on with the others', async () => {
    const { adHocRecipe } = await import('./recipes/load.js');
    const recipe = adHocRecipe([
      { name: 'broken', unit: 'x', method: 'last', higher_is_better: true, query: 'rate(up{${session}})' },
      { name: 'targets_up', unit: 'targets', method: 'last', higher_is_better: true, query: 'count(up{${session}} == 1)' },
    ]);
    const result = await collectWindow(prom.client, { sessionId: 's1', plan: plan(), recipe });
    assert.equal(kpi(result, 'broken').value, null);
    assert.match(kpi(result, 'broken').note ?? '', /Prometheus rejected the query: .*HTTP 400: bad_data/);
    assert.equal(kpi(result, 'targets_up').value, 1);
    assert.equal(result.queries.filter((q) => q.error !== null).length, 1);
  });

  it('fails with PROM_UNAVAILABLE when Prometheus is not there, before any artifact exists', async () => {
    const gone = new PrometheusClient('http://127.0.0.1:9', 2000);
    await assert.rejects(
      collectWindow(gone, { sessionId: 's1', plan: plan(), recipe: loadRecipe('default') }),
      (err: unknown) => err instanceof BenchmonError && err.code === 'PROM_UNAVAILABLE' && err.status === 503,
    );
  });

  it('writes artifacts that match the published schema, their checksums and each other', async () => {
    const inputs = { artifactsRoot, sessionLabels: { team: 'perf' }, targets: [{ target_id: 't1', job_name: 'app' }], prometheusConfigSha256: 'a'.repeat(64) };
    const first = await writeCollectionArtifacts(defaultResult, inputs);
    const second = await writeCollectionArtifacts(defaultResult, inputs);
    assert.notEqual(first.dir, second.dir, 'two collections of one window never share a directory');
    assert.equal(path.dirname(first.dir), path.join(artifactsRoot, 's1'));
    assert.deepEqual(fs.readdirSync(path.dirname(first.dir)).sort(), [first.id, second.id].sort(), 'no staging directory left behind');

    const manifest = JSON.parse(fs.readFileSync(first.manifestPath, 'utf8')) as typeof first.manifest;
    const ajv = new Ajv2020({ allErrors: true, strict: true });
    (addFormatsModule as unknown as FormatsPlugin)(ajv);
    const validate = ajv.compile(JSON.parse(fs.readFileSync(manifestSchemaPath(), 'utf8')) as object);
    assert.ok(validate(manifest), JSON.stringify(validate.errors));

    assert.deepEqual(manifest.files.map((f) => f.name).sort(), ['metrics_summary.csv', 'timeseries.csv', 'timeseries.parquet']);
    for (const f of manifest.files) {
      const file = path.join(first.dir, f.name);
      assert.equal(fs.statSync(file).size, f.bytes);
      assert.equal(await sha256OfFile(file), f.sha256);
    }
    assert.equal(manifest.window.duration, '3h10m');
    assert.equal(manifest.window.range_chunks, 2);
    assert.equal(manifest.prometheus.url, prom.url);
    assert.match(manifest.prometheus.version, /^2\./);
    assert.equal(manifest.data_quality.targets_down.length, 1);
    assert.deepEqual(manifest.data_quality.kpis_without_value, ['cpu_utilisation', 'gpu_utilisation']);
    const p99 = manifest.kpis.find((k) => k.name === 'latency_p99')!;
    assert.deepEqual([p99.lower_bound, p99.upper_bound, p99.in_inf_bucket], [10, null, true]);

    const summary = fs.readFileSync(path.join(first.dir, 'metrics_summary.csv'), 'utf8').split('\r\n');
    assert.equal(summary[0], 'kpi,slice,value,unit,method,lower_bound,upper_bound,series,coverage,note');
    assert.ok(summary.includes('latency_p95,overall,2,s,histogram_quantile,1,2.5,30,0.75,'), summary.join('\n'));
    assert.ok(summary.some((l) => l.startsWith('gpu_utilisation,overall,,%,avg_over_time,,,0,,no data: ')), 'empty value, never 0');
    assert.ok(summary.some((l) => l.startsWith('latency_p99,"job=""app"",instance=""b:80""",10,s,histogram_quantile,10,+Inf,')));

    const csvRows = fs.readFileSync(path.join(first.dir, 'timeseries.csv'), 'utf8').trimEnd().split('\r\n');
    const table = tableFromIPC(readParquet(new Uint8Array(fs.readFileSync(path.join(first.dir, 'timeseries.parquet')))).intoIPCStream());
    assert.equal(table.numRows, csvRows.length - 1);
    assert.equal(manifest.files.find((f) => f.name === 'timeseries.parquet')!.rows, table.numRows);
    const [ts, name, labels, value] = csvRows[1]!.split(',');
    const firstRow = table.get(0)!.toJSON() as { timestamp: number; kpi: string; labels: string; value: number | null };
    assert.equal(new Date(firstRow.timestamp).toISOString(), ts);
    assert.equal(firstRow.kpi, name);
    assert.equal(firstRow.labels, labels);
    assert.equal(firstRow.value, Number(value));
  });
});
