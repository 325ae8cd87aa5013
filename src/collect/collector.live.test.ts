/**
 * The collector against a real Prometheus that scrapes live endpoints every second:
 *  - an instrumented HTTP service whose counter and histogram this test drives (400 req/s,
 *    a known latency distribution), so throughput and percentiles have known answers;
 *  - the real upstream expositions in ../shared/fixtures (vLLM, Qdrant, DCGM, node_exporter),
 *    served with their counters growing every scrape, so every built-in recipe runs against the
 *    metric names and label sets the real exporters produce and Prometheus parses them itself.
 * Every built-in recipe's every query must be accepted by Prometheus.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { collectWindow, type CollectionResult } from './collector.js';
import type { KpiResult } from './kpi.js';
import { listBuiltinRecipes, loadRecipe, packageRoot } from './recipes/load.js';
import { planWindow } from './window.js';
import { startPrometheus, type RunningPrometheus } from './testing/real-prometheus.js';

const FIXTURES = path.join(packageRoot(), '..', 'shared', 'fixtures');
const SESSION = 'live-1';

// Every 100 ms: 24 requests of 0.02 s, 12 of 0.2 s, 3 of 2 s, 1 of 30 s (400 req/s).
const UNIT_MS = 100;
const PER_UNIT: Array<[number, number]> = [[0.02, 24], [0.2, 12], [2, 3], [30, 1]];
const BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10, Number.POSITIVE_INFINITY];

function appExposition(units: number): string {
  const lines = ['# TYPE http_requests_total counter', `http_requests_total{method="GET",http_route="/v1/search"} ${40 * units}`];
  lines.push('# TYPE http_server_request_duration_seconds histogram');
  for (const le of BUCKETS) {
    const n = PER_UNIT.filter(([d]) => d <= le).reduce((s, [, k]) => s + k, 0) * units;
    lines.push(`http_server_request_duration_seconds_bucket{http_route="/v1/search",le="${le === Number.POSITIVE_INFINITY ? '+Inf' : le}"} ${n}`);
  }
  lines.push(`http_server_request_duration_seconds_sum{http_route="/v1/search"} ${PER_UNIT.reduce((s, [d, k]) => s + d * k, 0) * units}`);
  lines.push(`http_server_request_duration_seconds_count{http_route="/v1/search"} ${40 * units}`);
  return `${lines.join('\n')}\n`;
}

/** Counter names in the DCGM default list (its fixtures have no TYPE lines). */
const DCGM_COUNTERS = new Set(
  fs.readFileSync(path.join(FIXTURES, 'dcgm-default-counters.csv'), 'utf8').split('\n')
    .filter((l) => !l.startsWith('#') && /,\s*counter\s*,/.test(l)).map((l) => l.split(',')[0]!.trim()),
);

/**
 * A fixture exposition with every counter-like sample multiplied by k (the scrape number), so
 * rates and histogram increases are non-zero while gauges keep their real values.
 */
function growingFixture(text: string, k: number): string {
  const counterFamilies = new Set<string>();
  const out: string[] = [];
  for (const line of text.split('\n')) {
    const type = /^# TYPE (\S+) (counter|histogram|summary)/.exec(line);
    if (type) counterFamilies.add(type[1]!);
    if (line.startsWith('#') || line.trim() === '') {
      out.push(line);
      continue;
    }
    const m = /^([A-Za-z_:][A-Za-z0-9_:]*)(\{.*\})?(\s+)(\S+)(.*)$/.exec(line);
    if (!m) {
      out.push(line);
      continue;
    }
    const name = m[1]!;
    const family = name.replace(/_(total|bucket|count|sum|created)$/, '');
    const grows = !name.endsWith('_created') && (counterFamilies.has(name) || counterFamilies.has(family) || DCGM_COUNTERS.has(name) || /_(total|bucket|count|sum)$/.test(name));
    out.push(grows ? `${name}${m[2] ?? ''}${m[3]}${Number(m[4]) * k}${m[5]}` : line);
  }
  // The Qdrant capture has no final newline, which Prometheus's parser refuses (see fixtures/INDEX.md).
  return `${out.join('\n').trimEnd()}\n`;
}

const FIXTURE_JOBS: Record<string, string> = {
  vllm: 'vllm-v0-excerpt-datadog-fixture.prom',
  qdrant: 'qdrant-1.16.0-metrics-datadog-fixture.prom',
  dcgm: 'dcgm-exporter-T4-loaded-ericsson.prom',
  node: 'node_exporter-e2e-output.prom',
};

function kpi(result: CollectionResult, name: string): KpiResult {
  const found = result.kpis.find((k) => k.name === name);
  assert.ok(found, `no KPI ${name}`);
  return found;
}

describe('collectWindow against a real Prometheus scraping live endpoints', () => {
  let prom: RunningPrometheus;
  let server: http.Server;
  const results = new Map<string, CollectionResult>();
  const t0 = Date.now();
  let windowStart = 0;
  let windowEnd = 0;

  before(async () => {
    const fixtures = Object.fromEntries(Object.entries(FIXTURE_JOBS).map(([job, file]) => [job, fs.readFileSync(path.join(FIXTURES, file), 'utf8')]));
    const scrapes = new Map<string, number>();
    server = http.createServer((req, res) => {
      const job = (req.url ?? '/').slice(1);
      const k = (scrapes.get(job) ?? 0) + 1;
      scrapes.set(job, k);
      const body = job === 'app' ? appExposition(Math.floor((Date.now() - t0) / UNIT_MS)) : fixtures[job] !== undefined ? growingFixture(fixtures[job], k) : undefined;
      res.writeHead(body === undefined ? 404 : 200, { 'content-type': 'text/plain; version=0.0.4' });
      res.end(body ?? 'not found');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const address = `127.0.0.1:${(server.address() as AddressInfo).port}`;
    const jobs = ['app', ...Object.keys(FIXTURE_JOBS)].map((job) => [
      `  - job_name: ${job}`,
      `    metrics_path: /${job}`,
      `    static_configs: [{targets: ['${address}'], labels: {session: ${SESSION}}}]`,
    ].join('\n'));
    prom = await startPrometheus({ config: `global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\nscrape_configs:\n${jobs.join('\n')}\n` });

    // Wait until every target has been scraped, then let a 10 s window pass.
    const deadline = Date.now() + 30_000;
    for (;;) {
      const targets = (await prom.client.getTargets({ state: 'active' })).activeTargets;
      if (targets.length === 5 && targets.every((t) => t.health === 'up')) break;
      if (Date.now() > deadline) throw new Error(`targets not up: ${JSON.stringify(targets.map((t) => [t.labels.job, t.health, t.lastError]))}`);
      await new Promise((r) => setTimeout(r, 250));
    }
    windowStart = Date.now() + 2000;
    windowEnd = windowStart + 10_000;
    await new Promise((r) => setTimeout(r, windowEnd + 1500 - Date.now()));
    const plan = planWindow({ start_time: windowStart / 1000, end_time: windowEnd / 1000 }, { now: new Date(), scrapeIntervalMs: 1000 });
    for (const name of listBuiltinRecipes()) {
      results.set(name, await collectWindow(prom.client, { sessionId: SESSION, plan, recipe: loadRecipe(name) }));
    }
  });

  after(async () => {
    await prom?.stop();
    if (server) {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });

  it('Prometheus accepts every query of every built-in recipe', () => {
    assert.equal(results.size, listBuiltinRecipes().length);
    for (const [name, result] of results) {
      const failed = result.queries.filter((q) => q.error !== null).map((q) => `${q.kpi}: ${q.query}: ${q.error}`);
      assert.deepEqual(failed, [], name);
      assert.ok(result.queries.length > result.kpis.length);
    }
  });

  it('default: throughput, percentiles with their buckets and mean latency match the known load', () => {
    const result = results.get('default')!;
    const throughput = kpi(result, 'throughput');
    assert.ok(Math.abs(throughput.value! - 400) / 400 < 0.03, `throughput ${throughput.value} not within 3 % of 400`);
    assert.ok(throughput.quality.coverage! >= 0.9, `coverage ${throughput.quality.coverage}`);

    const p50 = kpi(result, 'latency_p50');
    assert.deepEqual([p50.bounds?.lower, p50.bounds?.upper], [0.01, 0.025]);
    assert.ok(p50.value! >= 0.01 && p50.value! <= 0.025);
    const p95 = kpi(result, 'latency_p95');
    assert.deepEqual([p95.bounds?.lower, p95.bounds?.upper], [1, 2.5]);
    assert.ok(p95.value! >= 1 && p95.value! <= 2.5);
    const p99 = kpi(result, 'latency_p99');
    assert.equal(p99.bounds?.inInfBucket, true);
    assert.equal(p99.value, 10);
    const mean = kpi(result, 'latency_mean');
    assert.ok(Math.abs(mean.value! - 0.972) < 0.01, `mean ${mean.value}`);

    // The DCGM capture reports GPU_UTIL 91 on its one GPU.
    assert.equal(kpi(result, 'gpu_utilisation').value, 91);
    assert.deepEqual(result.targetGaps, []);
  });

  it('vllm: every KPI has a value from a real vLLM exposition (V0 names, deprecated KV-cache gauge)', () => {
    const result = results.get('vllm')!;
    const missing = result.kpis.filter((k) => k.value === null).map((k) => `${k.name}: ${k.note}`);
    assert.deepEqual(missing, []);
    assert.equal(kpi(result, 'kv_cache_usage_avg').query_used, 'fallback_query');
    assert.ok(kpi(result, 'generation_tokens_per_second').value! > 0);
    // One TTFT observation in (0.25, 0.5] per scrape: every TTFT percentile lies in that bucket.
    const ttft = kpi(result, 'ttft_p99');
    assert.deepEqual([ttft.bounds?.lower, ttft.bounds?.upper], [0.25, 0.5]);
    assert.ok(kpi(result, 'request_throughput').rows.some((r) => r.scope === 'slice' && r.labels.job === 'vllm'));
  });

  it('qdrant: request rate, error share (its capture has HTTP 400s), percentiles and points count', () => {
    const result = results.get('qdrant')!;
    const missing = result.kpis.filter((k) => k.value === null).map((k) => `${k.name}: ${k.note}`);
    assert.deepEqual(missing, []);
    assert.equal(kpi(result, 'points_count').value, 5415 + 111);
    const share = kpi(result, 'error_share').value!;
    assert.ok(share > 0 && share < 100, `error share ${share}`);
  });

  it('dcgm: the loaded T4 capture gives its utilisation, framebuffer and power', () => {
    const result = results.get('dcgm')!;
    assert.equal(kpi(result, 'gpu_utilisation_avg').value, 91);
    assert.equal(kpi(result, 'gpu_utilisation_max').value, 91);
    assert.equal(kpi(result, 'framebuffer_used_max').value, 5120);
    assert.ok(Math.abs(kpi(result, 'power_avg').value! - 68.244) < 1e-9);
    assert.ok(kpi(result, 'energy').value! > 0);
    assert.ok(kpi(result, 'gpu_utilisation_avg').rows.some((r) => r.scope === 'slice' && r.labels.gpu === '0'), 'sliced per GPU');
  });

  it('node: CPU, memory (fallback without MemAvailable), disk; network says why it is empty', () => {
    const result = results.get('node')!;
    for (const name of ['cpu_utilisation', 'load1_avg', 'memory_used_avg', 'disk_read_rate', 'disk_write_rate']) {
      assert.notEqual(kpi(result, name).value, null, `${name}: ${kpi(result, name).note}`);
    }
    assert.equal(kpi(result, 'memory_used_avg').query_used, 'fallback_query');
    // The e2e capture keeps the network byte counters' TYPE lines but none of their samples.
    assert.match(kpi(result, 'network_receive_rate').note ?? '', /^no data: no series of node_network_receive_bytes_total/);
  });
});
