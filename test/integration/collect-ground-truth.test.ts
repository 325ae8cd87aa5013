/**
 * Acceptance: ground truth from an independent client. An HTTP service instrumented with
 * prom-client (`http_requests_total`, `http_server_request_duration_seconds` with the OTel
 * default buckets) answers with a known latency distribution; Debian's `hey` drives it for 32 s
 * and counts the requests and its own latency percentiles; benchmon (real service, real local
 * Prometheus scraping every second) collects exactly that window with the `default` recipe.
 *
 *  - throughput within 3 % of hey's count / W;
 *  - p50/p95/p99: the estimate inside the bucket bounds reported, those bounds are the OTel
 *    buckets holding the distribution's true quantiles, and hey's own percentile lies inside
 *    them too. hey times from its side of the socket (connection pool, Go scheduler, the
 *    server's event loop), so its figures can only be later than the server's: the
 *    distribution leaves ≥ 11 ms below each upper bound for that (p50 38.3 ms in (25, 50] ms;
 *    p95 150 ms and p99 166 ms in (100, 250] ms), and hey cannot fall below a lower bound the
 *    server's own sleep already exceeds.
 */
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import type { CollectionSummary } from '../../src/collect/run-collection.js';
import { assertInBounds, checkCollectionDir, kpiOf, parseHeyOutput, runHey, sleep, stopChild, type HeyReport } from '../helpers/collect-checks.js';
import { startTestService, type TestService, registerUp } from '../helpers/harness.js';
import { GROUND_TRUTH_LATENCY, latencyMean, latencyQuantile, startInstrumentedServer, type InstrumentedServer } from '../helpers/instrumented-server.js';

const SESSION = 'ground-truth';
const DURATION_S = 32;
const WORKERS = 8;
const QPS_PER_WORKER = 10; // ≈ 80 req/s: modest for a shared 2-core machine

describe('collect: ground truth from an independent load generator (hey)', () => {
  let svc: TestService | undefined;
  let server: InstrumentedServer | undefined;
  let hey: ChildProcess | undefined;
  let report: HeyReport;
  let windowStartMs = 0;
  let windowEndMs = 0;
  let servedInWindow = 0;
  let collection: CollectionSummary;

  before(async () => {
    svc = await startTestService();
    server = await startInstrumentedServer();
    await svc.client.createSession({ session_id: SESSION });
    await registerUp(svc.client, SESSION, {
      target_type: 'app', role: 'service', job_id: 'gt-1',
      scrape_config: { job_name: 'app', metrics_path: '/metrics', targets: [server.address] },
    }, 'the app target');
    // A few scrapes of the counters at 0 before the run starts.
    await sleep(3000);

    const servedBefore = server.served();
    windowStartMs = Date.now();
    const r = await runHey(['-z', `${DURATION_S}s`, '-c', String(WORKERS), '-q', String(QPS_PER_WORKER), server.workUrl], (c) => (hey = c));
    windowEndMs = Date.now();
    servedInWindow = server.served() - servedBefore;
    assert.equal(r.code, 0, `hey failed: ${r.stderr}${r.stdout}`);
    report = parseHeyOutput(r.stdout);
    // Let the scrapes up to the window's end land.
    await sleep(2500);
    collection = await svc.client.collect(SESSION, {
      start_time: new Date(windowStartMs).toISOString(),
      end_time: new Date(windowEndMs).toISOString(),
      recipe: 'default',
    });
  });

  after(async () => {
    await stopChild(hey);
    await server?.close();
    await svc?.close();
  });

  it('hey ran ≥ 30 s without errors and the server answered exactly what hey counted', () => {
    assert.ok(windowEndMs - windowStartMs >= 30_000, `window of ${windowEndMs - windowStartMs} ms`);
    assert.equal(report.errors, 0, `hey saw errors:\n${report.raw}`);
    assert.deepEqual(Object.keys(report.byStatus), ['200'], `hey status codes:\n${report.raw}`);
    assert.ok(report.responses > 1000, `hey made only ${report.responses} requests`);
    assert.equal(servedInWindow, report.responses, 'requests the server answered in the window vs. responses hey counted');
  });

  it('throughput is within 3 % of (requests hey counted) / W', (t) => {
    const w = (windowEndMs - windowStartMs) / 1000;
    const truth = report.responses / w;
    const k = kpiOf(collection, 'throughput');
    assert.equal(k.method, 'rate');
    assert.equal(k.unit, 'req/s');
    assert.ok(k.value !== null, `throughput has no value: ${k.note}`);
    const err = Math.abs(k.value - truth) / truth;
    t.diagnostic(`throughput ${k.value.toFixed(3)} req/s, hey ${report.responses} / ${w} s = ${truth.toFixed(3)} req/s (${(err * 100).toFixed(2)} %)`);
    assert.ok(err <= 0.03, `throughput ${k.value} req/s vs. hey ${report.responses} / ${w} s = ${truth} req/s: off by ${(err * 100).toFixed(2)} %`);
    assert.ok(k.coverage !== null && k.coverage >= 0.9, `coverage ${k.coverage}`);
  });

  for (const [name, q, pct] of [['latency_p50', 0.5, 50], ['latency_p95', 0.95, 95], ['latency_p99', 0.99, 99]] as const) {
    it(`${name}: estimate, true quantile and hey's own p${pct} all lie in the reported bucket bounds`, (t) => {
      const k = kpiOf(collection, name);
      assert.equal(k.method, 'histogram_quantile');
      assert.ok(k.value !== null, `${name} has no value: ${k.note}`);
      assertInBounds(`the estimate of ${name}`, k.value, k);
      const truth = latencyQuantile(GROUND_TRUTH_LATENCY, q);
      assertInBounds(`the true q${q} of the served distribution`, truth, k);
      // The bounds are the OTel bucket (lower, upper] that holds the true quantile, not a wider one.
      const expected = truth <= 0.05 ? [0.025, 0.05] : [0.1, 0.25];
      assert.deepEqual([k.lower_bound, k.upper_bound], expected, `${name}: bucket bounds`);
      const heyQ = report.percentiles[pct];
      assert.ok(heyQ !== undefined, `hey printed no ${pct}% line:\n${report.raw}`);
      t.diagnostic(`${name}: estimate ${k.value.toFixed(4)} s, truth ${truth.toFixed(4)} s, hey ${heyQ} s, bucket (${k.lower_bound}, ${k.upper_bound}]`);
      assertInBounds(`hey's p${pct}`, heyQ, k);
    });
  }

  it('latency_mean (Δsum/Δcount) is the served mean: at least the distribution mean, at most what hey measured', () => {
    const k = kpiOf(collection, 'latency_mean');
    assert.ok(k.value !== null, `latency_mean has no value: ${k.note}`);
    const mean = latencyMean(GROUND_TRUTH_LATENCY);
    // Sampling noise of a mean of ≥ 2000 draws is < 1.5 % (σ ≈ 34 ms); the server's timer only adds.
    assert.ok(k.value >= mean * 0.97, `latency_mean ${k.value} s below the distribution mean ${mean} s`);
    assert.ok(k.value <= report.averageSeconds * 1.02, `latency_mean ${k.value} s above hey's average ${report.averageSeconds} s (the client sees the whole server time and more)`);
  });

  it('the window collected is the window asked for, and the artifacts check out', () => {
    assert.equal(collection.window.start, new Date(windowStartMs).toISOString());
    assert.equal(collection.window.end, new Date(windowEndMs).toISOString());
    assert.equal(collection.recipe, 'default');
    const { manifest, summary } = checkCollectionDir(collection.directory);
    const k = manifest.kpis.find((x) => x.name === 'throughput')!;
    assert.equal(k.value, kpiOf(collection, 'throughput').value);
    // One overall and one per-target (job/instance) row for the throughput.
    const rows = summary.filter((r) => r.kpi === 'throughput');
    assert.deepEqual(rows.map((r) => r.slice), ['overall', `job="app",instance="${server!.address}"`]);
    // Every value query was evaluated at the window's end, verbatim with the session matcher.
    for (const q of manifest.queries.filter((x) => x.purpose === 'value')) {
      assert.equal(q.time, new Date(windowEndMs).toISOString());
      assert.ok(q.query.includes(`session="${SESSION}"`), q.query);
    }
  });
});
