/**
 * Acceptance: the vllm and qdrant recipes against the emulated AI-factory workload (emulator/,
 * the demo's workload: a vLLM-like and a Qdrant-like server with their real metric names,
 * driven open-loop for 25 s). Through the real service and its real Prometheus:
 *  - every KPI each recipe file lists comes back with a value (none empty);
 *  - for TTFT, end-to-end, inter-token and Qdrant search latency, the emulator's known
 *    p50/p95/p99 (workload.distributions) lies inside the bucket bounds benchmon reports, and
 *    those bounds are the emulated histogram's bucket that holds the known quantile.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import YAML from 'yaml';
import { startEmulatedWorkload, type EmulatedWorkload } from '../../emulator/index.js';
import type { KnownDistribution } from '../../emulator/workload.js';
import type { CollectionSummary } from '../../src/collect/run-collection.js';
import { assertInBounds, checkCollectionDir, kpiOf, sleep } from '../helpers/collect-checks.js';
import { REPO_ROOT, startTestService, type TestService, registerUp } from '../helpers/harness.js';

const SESSION = 'emulated';
const LOAD_MS = 25_000;

function recipeKpiNames(recipe: string): string[] {
  const doc = YAML.parse(fs.readFileSync(path.join(REPO_ROOT, 'recipes', `${recipe}.yaml`), 'utf8')) as { kpis: Array<{ name: string }> };
  return doc.kpis.map((k) => k.name);
}

describe('collect: vllm and qdrant recipes on the emulated workload', () => {
  let svc: TestService | undefined;
  let workload: EmulatedWorkload | undefined;
  const collections = new Map<string, CollectionSummary>();
  let queued = -1;
  let loadOk = { vllm: 0, qdrant: 0 };
  let sendLagMs = 0;
  let windowEnd = 0;

  /**
   * Diagnostic only: the observed share of observations at or below each edge of the reported
   * bucket, from the collection's own merged-bucket query (as recorded in its manifest). How far
   * F(lower) < q ≤ F(upper) is from failing shows how much room the emulator's design leaves.
   */
  const observedCdfAtEdges = async (c: CollectionSummary, kpi: string, lower: number, upper: number): Promise<string> => {
    const manifest = JSON.parse(fs.readFileSync(c.manifest, 'utf8')) as { queries: Array<{ purpose: string; kpi: string | null; query: string }> };
    const q = manifest.queries.find((x) => x.purpose === 'buckets' && x.kpi === kpi)?.query
      // p50/p95/p99 share one bucket query, recorded for the first of them.
      ?? manifest.queries.find((x) => x.purpose === 'buckets' && x.kpi?.replace(/_p\d+$/, '') === kpi.replace(/_p\d+$/, ''))?.query;
    if (!q) return 'no bucket query recorded';
    const r = await svc!.client.query(q, windowEnd / 1000);
    if (r.resultType !== 'vector') return `unexpected ${r.resultType}`;
    const leOf = (text: string | undefined) => (text === '+Inf' ? Number.POSITIVE_INFINITY : Number(text));
    const at = (le: number) => Number(r.result.find((s) => leOf(s.metric.le) === le)?.value[1] ?? NaN);
    const total = at(Number.POSITIVE_INFINITY);
    return `observed F(${lower}) = ${(at(lower) / total || 0).toFixed(4)}, F(${upper}) = ${(at(upper) / total).toFixed(4)}`;
  };

  before(async () => {
    svc = await startTestService();
    workload = await startEmulatedWorkload({ seed: 11 });
    await svc.client.createSession({ session_id: SESSION, labels: { benchmark: 'emulated' } });
    for (const [type, address] of [['vllm', workload.vllm.address], ['qdrant', workload.qdrant.address]] as const) {
      await registerUp(svc.client, SESSION, {
        target_type: type, role: 'service', job_id: 'emu-1',
        scrape_config: { job_name: `${type}-emulator`, metrics_path: '/metrics', targets: [address] },
      }, `${type} emulator`);
    }
    await sleep(2000);
    const report = await workload.runLoad({ durationMs: LOAD_MS });
    queued = workload.counts().vllm.queued;
    loadOk = { vllm: report.vllm?.ok ?? 0, qdrant: report.qdrant?.ok ?? 0 };
    // How late the load generator sent its worst request: the event loop's lateness, which the
    // emulators' sleeps share. The known distributions assume it stays small.
    sendLagMs = Math.max(report.vllm?.maxSendLagMs ?? 0, report.qdrant?.maxSendLagMs ?? 0);
    await sleep(2500);
    windowEnd = report.finishedAtMs;
    for (const recipe of ['vllm', 'qdrant']) {
      collections.set(recipe, await svc.client.collect(SESSION, {
        start_time: new Date(report.startedAtMs).toISOString(),
        end_time: new Date(report.finishedAtMs).toISOString(),
        recipe,
      }));
    }
  });

  after(async () => {
    await workload?.stop();
    await svc?.close();
  });

  it('the load ran and no vLLM request waited for admission (the known distributions hold)', (t) => {
    t.diagnostic(`load: ${JSON.stringify(loadOk)} ok, worst send lag ${sendLagMs.toFixed(1)} ms`);
    assert.ok(loadOk.vllm > 100 && loadOk.qdrant > 300, JSON.stringify(loadOk));
    assert.equal(queued, 0);
  });

  for (const recipe of ['vllm', 'qdrant']) {
    it(`${recipe}: every KPI the recipe lists has a value`, () => {
      const c = collections.get(recipe)!;
      const names = recipeKpiNames(recipe);
      assert.deepEqual(c.kpis.map((k) => k.name), names);
      const empty = c.kpis.filter((k) => k.value === null).map((k) => `${k.name}: ${k.note}`);
      assert.deepEqual(empty, [], `KPIs without a value`);
      const { manifest } = checkCollectionDir(c.directory);
      assert.deepEqual(manifest.data_quality.kpis_without_value, []);
      for (const k of manifest.kpis) assert.ok(k.quality.coverage !== null && k.quality.coverage >= 0.9, `${k.name}: coverage ${k.quality.coverage}`);
    });
  }

  const cases: Array<[string, string, (w: EmulatedWorkload) => KnownDistribution]> = [
    ['vllm', 'ttft', (w) => w.distributions.ttft],
    ['vllm', 'e2e_latency', (w) => w.distributions.e2eLatency],
    ['vllm', 'inter_token_latency', (w) => w.distributions.interTokenLatency],
    ['qdrant', 'latency', (w) => w.distributions.qdrantLatency],
  ];
  for (const [recipe, prefix, dist] of cases) {
    it(`${recipe}: ${prefix} p50/p95/p99 bounds hold the emulator's known quantiles`, async (t) => {
      const c = collections.get(recipe)!;
      const d = dist(workload!);
      for (const p of ['p50', 'p95', 'p99'] as const) {
        const k = kpiOf(c, `${prefix}_${p}`);
        const known = d.quantiles[p];
        assert.ok(k.value !== null, `${k.name}: ${k.note}`);
        t.diagnostic(`${k.name}: estimate ${k.value.toFixed(4)} s, known ${known.value.toFixed(4)} s, reported bucket (${k.lower_bound}, ${k.upper_bound}]; ${await observedCdfAtEdges(c, k.name, known.bucket.lower, known.bucket.upper)}`);
        assertInBounds(`the known ${p} of ${d.metric} (worst event-loop lag seen by the load generator: ${sendLagMs.toFixed(0)} ms)`, known.value, k);
        assertInBounds(`the estimate of ${k.name}`, k.value, k);
        assert.deepEqual([k.lower_bound, k.upper_bound], [known.bucket.lower, known.bucket.upper], `${k.name}: the bucket that holds the known ${p}`);
      }
    });
  }
});
