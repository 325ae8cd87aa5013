/**
 * Acceptance: a server nobody here wrote. The session's own Prometheus is registered as a scrape
 * target of the session; the test sends exactly N requests to its /api/v1/query during a window
 * W, spread evenly over it; benchmon collects W with an ad-hoc `queries` KPI (method rate) over
 * `prometheus_http_requests_total{handler="/api/v1/query"}`, and it must equal N/W within 3 %.
 *
 * Nobody else may hit that handler during W: benchmon itself queries Prometheus only through
 * /api/v1/targets, /-/ready and the like while the test waits, and the collection's own
 * queries (which do go to /api/v1/query) are sent after W has ended, so they cannot count. A
 * second collection of a later window that holds only those collection queries proves the
 * point the other way round: benchmon's own queries are seen, and only after W.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { CollectionSummary } from '../../src/collect/run-collection.js';
import { checkCollectionDir, kpiOf, sleep, sleepUntil } from '../helpers/collect-checks.js';
import { startTestService, type TestService, registerUp } from '../helpers/harness.js';

const SESSION = 'prom-self';
const N = 600;
const WINDOW_MS = 30_000;

const QUERIES = [{
  name: 'query_api_throughput',
  description: 'Requests answered by Prometheus\'s /api/v1/query per second over the window',
  unit: 'req/s',
  method: 'rate',
  higher_is_better: true,
  slice_by: ['job', 'instance'],
  query: 'sum by (${by}) (rate(prometheus_http_requests_total{handler="/api/v1/query", ${session}}[${window}]))',
}, {
  name: 'query_api_requests',
  unit: 'requests',
  method: 'delta',
  higher_is_better: true,
  slice_by: [],
  query: 'sum(increase(prometheus_http_requests_total{handler="/api/v1/query", ${session}}[${window}]))',
}];

describe('collect: throughput of a server nobody here wrote (Prometheus itself)', () => {
  let svc: TestService | undefined;
  let promAddress: string;
  let windowStartMs = 0;
  let windowEndMs = 0;
  let answered = 0;
  let collection: CollectionSummary;

  before(async () => {
    svc = await startTestService();
    promAddress = new URL(svc.settings.PROMETHEUS_URL).host;
    await svc.client.createSession({ session_id: SESSION });
    await registerUp(svc.client, SESSION, {
      target_type: 'prometheus', role: 'service', job_id: 'self-1',
      scrape_config: { job_name: 'prometheus-self', metrics_path: '/metrics', targets: [promAddress] },
    }, "Prometheus's own target");
    // One query before the window so the handler's series exists, then a few quiet scrapes.
    const warm = await fetch(`${svc.settings.PROMETHEUS_URL}/api/v1/query?query=vector(1)`);
    assert.equal(warm.status, 200);
    await sleep(3000);

    windowStartMs = Date.now();
    for (let i = 0; i < N; i++) {
      await sleepUntil(windowStartMs + ((i + 0.5) * WINDOW_MS) / N);
      const res = await fetch(`${svc.settings.PROMETHEUS_URL}/api/v1/query?query=${encodeURIComponent(`vector(${i})`)}`);
      await res.text();
      if (res.status === 200) answered++;
    }
    await sleepUntil(windowStartMs + WINDOW_MS);
    windowEndMs = Date.now();
    await sleep(2500);
    collection = await svc.client.collect(SESSION, {
      start_time: new Date(windowStartMs).toISOString(),
      end_time: new Date(windowEndMs).toISOString(),
      queries: QUERIES,
    });
  });

  after(async () => {
    await svc?.close();
  });

  it(`all ${N} requests were answered, inside the window`, () => {
    assert.equal(answered, N);
    assert.ok(windowEndMs - windowStartMs >= WINDOW_MS);
  });

  it('the rate KPI equals N / W within 3 %', (t) => {
    const w = (windowEndMs - windowStartMs) / 1000;
    const truth = N / w;
    const k = kpiOf(collection, 'query_api_throughput');
    assert.ok(k.value !== null, `no value: ${k.note}`);
    const err = Math.abs(k.value - truth) / truth;
    t.diagnostic(`query_api_throughput ${k.value.toFixed(3)} req/s vs. N/W = ${N}/${w} s = ${truth.toFixed(3)} req/s (${(err * 100).toFixed(2)} %)`);
    assert.ok(err <= 0.03, `query_api_throughput ${k.value} req/s vs. ${truth} req/s: off by ${(err * 100).toFixed(2)} %`);
    const delta = kpiOf(collection, 'query_api_requests');
    assert.ok(delta.value !== null && Math.abs(delta.value - N) / N <= 0.03, `query_api_requests ${delta.value} vs. N = ${N}`);
    assert.ok(k.coverage !== null && k.coverage >= 0.9, `coverage ${k.coverage}`);
  });

  it('the ad-hoc recipe, its queries and the per-target slice are in the artifacts', () => {
    assert.equal(collection.recipe, 'ad-hoc');
    const { manifest, summary } = checkCollectionDir(collection.directory);
    assert.equal(manifest.recipe.name, 'ad-hoc');
    const valueQuery = manifest.queries.find((q) => q.purpose === 'value' && q.kpi === 'query_api_throughput');
    assert.ok(valueQuery, 'the value query is in the manifest');
    assert.ok(valueQuery.query.includes(`prometheus_http_requests_total{handler="/api/v1/query", session="${SESSION}"}[${manifest.window.duration}]`), valueQuery.query);
    assert.equal(valueQuery.time, new Date(windowEndMs).toISOString());
    assert.deepEqual(summary.filter((r) => r.kpi === 'query_api_throughput').map((r) => r.slice), ['overall', `job="prometheus-self",instance="${promAddress}"`]);
  });

  it("benchmon's own collection queries are counted too, but only after the window", async () => {
    // A window from the end of W until now holds the first collection's queries and nothing else.
    const before = collection.kpis.length;
    assert.ok(before > 0);
    await sleep(3000);
    const end = Date.now();
    const later = await svc!.client.collect(SESSION, {
      start_time: new Date(windowEndMs).toISOString(),
      end_time: new Date(end).toISOString(),
      queries: [QUERIES[1]!],
    });
    const k = kpiOf(later, 'query_api_requests');
    assert.ok(k.value !== null && k.value > 0, `benchmon's own queries after the window were not seen: ${JSON.stringify(k)}`);
  });
});
