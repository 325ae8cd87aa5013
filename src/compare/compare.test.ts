import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { BenchmonError } from '../errors.js';
import { comparableFromManifest } from './comparable.js';
import { compareCollections, type KpiComparison } from './compare.js';
import { craftedManifest, type CraftedKpi } from './testing/crafted-manifest.js';

const side = (kpis: CraftedKpi[]) => comparableFromManifest(craftedManifest(kpis), 'test');
const row = (rows: KpiComparison[], name: string) => {
  const r = rows.find((k) => k.name === name);
  assert.ok(r, `no row ${name} in ${rows.map((k) => k.name).join(', ')}`);
  return r;
};

describe('compareCollections: one baseline run', () => {
  const a = side([['throughput', 100, true], ['latency_mean', 0.05, false], ['latency_p99', 0.2, false]]);
  const b = side([['throughput', 80, true], ['latency_mean', 0.08, false], ['latency_p99', 0.1, false]]);
  const c = compareCollections(b, [a]);

  it('gives both values, Δ = B − A, ratio = B / A and the relative change', () => {
    const t = row(c.kpis, 'throughput');
    assert.deepEqual([t.baseline, t.candidate, t.delta, t.ratio, t.relative_change], [100, 80, -20, 0.8, -0.2]);
    assert.deepEqual(t.baseline_values, [100]);
    assert.equal(t.unit, 'req/s');
  });

  it('judges the direction by higher_is_better: less throughput and more latency are worse, less latency better', () => {
    assert.equal(row(c.kpis, 'throughput').change, 'worse');
    assert.equal(row(c.kpis, 'latency_mean').change, 'worse');
    assert.equal(row(c.kpis, 'latency_p99').change, 'better');
    assert.equal(row(c.kpis, 'latency_mean').higher_is_better, false);
  });

  it('says "no noise estimate" instead of judging noise', () => {
    for (const k of c.kpis) {
      assert.equal(k.verdict, 'no_noise_estimate', k.name);
      assert.equal(k.noise, null);
      assert.equal(k.beyond_noise, null);
    }
    assert.deepEqual(c.summary, { no_noise_estimate: 3 });
    assert.equal(c.noise.baseline_runs, 1);
  });
});

describe('compareCollections: a baseline of several runs', () => {
  const runs = [100, 102, 98].map((v, i) => side([['throughput', v, true], ['latency_mean', [0.05, 0.051, 0.049][i]!, false]]));

  it('takes A as the mean of the runs and judges the change against their spread', () => {
    const cases: Array<[number, string]> = [[80, 'worse'], [101, 'unchanged'], [120, 'better'], [96, 'unchanged']];
    for (const [value, verdict] of cases) {
      const k = row(compareCollections(side([['throughput', value, true]]), runs).kpis, 'throughput');
      assert.equal(k.baseline, 100);
      assert.deepEqual(k.baseline_values, [100, 102, 98]);
      assert.ok(k.noise);
      assert.equal(k.noise.runs, 3);
      assert.equal(k.noise.stddev, 2);
      assert.equal(k.verdict, verdict, `throughput ${value} against 100 ± 2·2`);
    }
  });

  it('respects the direction beyond noise: a latency well above the runs is worse, well below better', () => {
    const up = row(compareCollections(side([['latency_mean', 0.06, false]]), runs).kpis, 'latency_mean');
    assert.deepEqual([up.beyond_noise, up.verdict], [true, 'worse']);
    const down = row(compareCollections(side([['latency_mean', 0.04, false]]), runs).kpis, 'latency_mean');
    assert.deepEqual([down.beyond_noise, down.verdict], [true, 'better']);
    const within = row(compareCollections(side([['latency_mean', 0.0505, false]]), runs).kpis, 'latency_mean');
    assert.deepEqual([within.beyond_noise, within.verdict, within.change], [false, 'unchanged', 'worse']);
  });

  it('uses the runs that have a value, and says how many had none', () => {
    const partial = [side([['throughput', 100, true]]), side([['throughput', null, true, 'req/s', 'no data: target down']]), side([['throughput', 104, true]])];
    const k = row(compareCollections(side([['throughput', 90, true]]), partial).kpis, 'throughput');
    assert.equal(k.baseline, 102);
    assert.deepEqual(k.baseline_values, [100, null, 104]);
    assert.equal(k.noise?.runs, 2);
    assert.match(k.note ?? '', /1 of 3 baseline runs have no value/);
  });

  it('with two runs of which one has a value there is no noise estimate', () => {
    const k = row(compareCollections(side([['throughput', 90, true]]), [side([['throughput', 100, true]]), side([['throughput', null, true]])]).kpis, 'throughput');
    assert.equal(k.verdict, 'no_noise_estimate');
    assert.equal(k.change, 'worse');
  });

  it('uses k from the options', () => {
    const k1 = row(compareCollections(side([['throughput', 103, true]]), runs, { noiseK: 1 }).kpis, 'throughput');
    assert.equal(k1.verdict, 'better', '103 is outside 100 ± 1·2');
    assert.equal(compareCollections(side([['throughput', 103, true]]), runs, { noiseK: 1 }).noise.k, 1);
  });
});

describe('compareCollections: KPIs on one side only, and values that cannot be compared', () => {
  it('reports a KPI on one side only as missing on the other, never drops it (candidate order, then baseline-only)', () => {
    const c = compareCollections(side([['throughput', 10, true], ['new_kpi', 1, true]]), [side([['old_kpi', 5, false], ['throughput', 10, true]])]);
    assert.deepEqual(c.kpis.map((k) => [k.name, k.verdict]), [['throughput', 'no_noise_estimate'], ['new_kpi', 'missing_in_baseline'], ['old_kpi', 'missing_in_candidate']]);
    assert.equal(row(c.kpis, 'old_kpi').baseline, 5);
    assert.equal(row(c.kpis, 'new_kpi').candidate, 1);
  });

  it('a null value is "no value" with the reason from the manifest, never a zero or a change', () => {
    const c = compareCollections(side([['gpu_utilisation', null, true, '%', 'no data: no series of DCGM_FI_DEV_GPU_UTIL']]), [side([['gpu_utilisation', 40, true, '%']])]);
    const k = row(c.kpis, 'gpu_utilisation');
    assert.equal(k.verdict, 'no_value');
    assert.deepEqual([k.delta, k.ratio, k.change], [null, null, null]);
    assert.match(k.note ?? '', /no value in the candidate \(no data: no series of DCGM_FI_DEV_GPU_UTIL\)/);
  });

  it('does not compare values in different units', () => {
    const k = row(compareCollections(side([['latency_mean', 50, false, 'ms']]), [side([['latency_mean', 0.05, false, 's']])]).kpis, 'latency_mean');
    assert.equal(k.verdict, 'unit_mismatch');
    assert.equal(k.delta, null);
  });

  it('a baseline of 0 gives Δ but no ratio', () => {
    const k = row(compareCollections(side([['errors', 3, false, '1']]), [side([['errors', 0, false, '1']])]).kpis, 'errors');
    assert.deepEqual([k.delta, k.ratio, k.relative_change, k.change], [3, null, null, 'worse']);
  });

  it('needs at least one baseline run', () => {
    assert.throws(() => compareCollections(side([['x', 1, true]]), []), RangeError);
  });
});

describe('comparableFromManifest: phases', () => {
  const manifest = craftedManifest([['throughput', 50, true], ['latency_mean', 0.05, false]], {
    phases: [
      { name: 'warmup', kpis: [{ name: 'throughput', value: 20 }] },
      { name: 'steady', kpis: [{ name: 'throughput', value: 60, unit: 'req/s', higher_is_better: true }, { name: 'latency_mean', value: 0.04 }] },
    ],
  });

  it("compares a phase's rows, taking unit and direction from the overall KPI when the phase row lacks them", () => {
    const c = comparableFromManifest(manifest, 'test', 'steady');
    assert.equal(c.phase, 'steady');
    assert.deepEqual(c.kpis.map((k) => [k.name, k.value, k.unit, k.higher_is_better]), [['throughput', 60, 'req/s', true], ['latency_mean', 0.04, 's', false]]);
    assert.deepEqual(comparableFromManifest(manifest, 'test').kpis.map((k) => k.value), [50, 0.05]);
  });

  it('a phase the collection lacks is a 422 naming the collection and the phases it has', () => {
    assert.throws(() => comparableFromManifest(manifest, 'test', 'cooldown'), (err: unknown) => {
      assert.ok(err instanceof BenchmonError);
      assert.equal(err.code, 'UNPROCESSABLE');
      assert.equal(err.details?.field, 'phase');
      assert.match(err.message, new RegExp(`^phase: collection ${manifest.collection_id} has no phase "cooldown" \\(its phases: warmup, steady\\)`));
      return true;
    });
    assert.throws(() => comparableFromManifest(craftedManifest([['x', 1, true]]), 'test', 'steady'), /it has no phases/);
  });
});
