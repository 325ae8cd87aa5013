import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { packageRoot } from '../collect/recipes/load.js';
import { BenchmonError } from '../errors.js';
import { comparableFromManifest } from './comparable.js';
import { compareCollections } from './compare.js';
import { applyGate, parseGateObject, parseGateYaml, type GatedComparison } from './gate.js';
import { craftedManifest, type CraftedKpi } from './testing/crafted-manifest.js';

const TESTDATA = path.join(packageRoot(), 'src', 'compare', 'testdata');
const side = (kpis: CraftedKpi[]) => comparableFromManifest(craftedManifest(kpis), 'test');

function gateProblem(fn: () => unknown): BenchmonError {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof BenchmonError, String(err));
    assert.equal(err.code, 'GATE_INVALID');
    assert.equal(err.status, 400);
    return err;
  }
  assert.fail('expected the gate to be refused');
}

function gated(baseline: CraftedKpi[][], candidate: CraftedKpi[], gateYaml: string): GatedComparison {
  return applyGate(compareCollections(side(candidate), baseline.map(side)), parseGateYaml(gateYaml));
}

const gateOf = (c: GatedComparison, name: string) => {
  const k = c.kpis.find((x) => x.name === name);
  assert.ok(k?.gate, `no gate outcome for ${name}`);
  return k.gate;
};

describe('gate files', () => {
  for (const file of fs.readdirSync(TESTDATA).filter((f) => f.endsWith('.bad.yaml')).sort()) {
    it(`refuses ${file}, naming the field`, () => {
      const text = fs.readFileSync(path.join(TESTDATA, file), 'utf8');
      const expected = /^# expect: (.*)$/m.exec(text)?.[1];
      assert.ok(expected, `${file} needs an "# expect: <regex>" line`);
      const err = gateProblem(() => parseGateYaml(text));
      assert.match(err.message, new RegExp(expected));
      assert.equal(typeof err.details?.field, 'string');
    });
  }

  it('reads the shipped example, percentages as fractions', () => {
    const gate = parseGateYaml(fs.readFileSync(path.join(packageRoot(), 'gates', 'example.yaml'), 'utf8'));
    assert.deepEqual(gate.default, { max_regression: 0.1 });
    assert.deepEqual(gate.kpis.throughput, { max_regression: 0.05 });
    assert.deepEqual(gate.kpis.latency_p99, { max_regression: 0.1, max: 0.25 });
    assert.deepEqual(gate.kpis.latency_mean, { max_regression_abs: 0.005 });
    assert.ok(Object.isFrozen(gate) && Object.isFrozen(gate.kpis));
  });

  it('an inline gate (API) names the field under `gate` in the message and in details.field', () => {
    const err = gateProblem(() => parseGateObject({ kpis: { throughput: { max_regression: 5 } } }));
    assert.match(err.message, /^gate\.kpis\.throughput\.max_regression: expected a percentage such as "5%"/);
    assert.equal(err.details?.field, 'gate.kpis.throughput.max_regression');
    assert.equal(gateProblem(() => parseGateObject('5%')).details?.field, 'gate');
  });
});

describe('applyGate', () => {
  const gate = 'kpis:\n  throughput: { max_regression: 5% }\n  latency_mean: { max_regression: 10% }\n';

  it('fails a throughput 20 % lower than the baseline past a 5 % limit, and passes one 20 % higher', () => {
    const worse = gated([[['throughput', 100, true]]], [['throughput', 80, true]], 'kpis:\n  throughput: { max_regression: 5% }\n');
    assert.equal(worse.gate?.passed, false);
    const g = gateOf(worse, 'throughput');
    assert.equal(g.status, 'fail');
    assert.equal(g.checks[0]?.actual, 0.2);
    assert.match(g.reason ?? '', /20% worse than the baseline \(80 req\/s vs 100 req\/s\), past the limit of 5% worse/);
    assert.deepEqual(worse.gate?.failures.map((f) => f.kpi), ['throughput']);

    const better = gated([[['throughput', 100, true]]], [['throughput', 120, true]], 'kpis:\n  throughput: { max_regression: 5% }\n');
    assert.equal(better.gate?.passed, true);
    assert.match(gateOf(better, 'throughput').checks[0]!.message, /20% better than the baseline/);
  });

  it('respects the direction: a latency 20 % up fails a 10 % limit, 20 % down passes', () => {
    const up = gated([[['throughput', 100, true], ['latency_mean', 0.05, false]]], [['throughput', 100, true], ['latency_mean', 0.06, false]], gate);
    assert.equal(up.gate?.passed, false);
    assert.deepEqual(up.gate?.failures.map((f) => f.kpi), ['latency_mean']);
    assert.equal(gateOf(up, 'throughput').status, 'pass');
    const down = gated([[['throughput', 100, true], ['latency_mean', 0.05, false]]], [['throughput', 100, true], ['latency_mean', 0.04, false]], gate);
    assert.equal(down.gate?.passed, true);
  });

  it('a change exactly at the limit passes', () => {
    assert.equal(gated([[['throughput', 100, true]]], [['throughput', 95, true]], 'kpis:\n  throughput: { max_regression: 5% }\n').gate?.passed, true);
  });

  it('checks absolute changes and absolute limits in the KPI unit', () => {
    const c = gated(
      [[['latency_mean', 0.05, false], ['cpu_utilisation', 50, false, '%'], ['throughput', 100, true]]],
      [['latency_mean', 0.058, false], ['cpu_utilisation', 97, false, '%'], ['throughput', 100, true]],
      'kpis:\n  latency_mean: { max_regression_abs: 0.005 }\n  cpu_utilisation: { max: 95 }\n  throughput: { min: 120 }\n',
    );
    assert.deepEqual(c.gate?.failures.map((f) => f.kpi), ['latency_mean', 'cpu_utilisation', 'throughput']);
    assert.match(gateOf(c, 'latency_mean').reason!, /0\.008 s worse than the baseline .*past the limit of 0\.005 s worse/);
    assert.match(gateOf(c, 'cpu_utilisation').reason!, /97% is above the maximum 95%/);
    assert.match(gateOf(c, 'throughput').reason!, /100 req\/s is below the minimum 120 req\/s/);
  });

  it('a KPI the gate names but the collections lack fails with the reason; one without a value too', () => {
    const c = gated([[['throughput', 100, true], ['gpu_utilisation', 40, true, '%']]], [['throughput', 100, true], ['gpu_utilisation', null, true, '%', 'no data: no series of DCGM_FI_DEV_GPU_UTIL']],
      'kpis:\n  throughput: { max_regression: 5% }\n  ttft_p99: { max_regression: 5% }\n  gpu_utilisation: { min: 10 }\n');
    assert.equal(c.gate?.passed, false);
    const missing = c.kpis.find((k) => k.name === 'ttft_p99');
    assert.ok(missing, 'the missing KPI gets a row');
    assert.equal(missing.verdict, 'missing_in_both');
    assert.match(gateOf(c, 'ttft_p99').reason!, /^not in the candidate nor in the baseline$/);
    assert.match(gateOf(c, 'gpu_utilisation').reason!, /^no value in the candidate .*no series of DCGM_FI_DEV_GPU_UTIL/);
    assert.deepEqual(c.gate?.failures.map((f) => f.kpi).sort(), ['gpu_utilisation', 'ttft_p99']);
  });

  it('a relative rule on a KPI missing from the baseline fails for a named KPI', () => {
    const c = gated([[['throughput', 100, true]]], [['throughput', 100, true], ['latency_p99', 0.2, false]], 'kpis:\n  latency_p99: { max_regression: 5% }\n');
    assert.equal(gateOf(c, 'latency_p99').status, 'fail');
    assert.match(gateOf(c, 'latency_p99').reason!, /max_regression: not in the baseline/);
  });

  it('the default rule checks what both sides have and skips the rest without failing', () => {
    const c = gated([[['throughput', 100, true], ['latency_mean', 0.05, false], ['gpu_utilisation', null, true, '%']]],
      [['throughput', 97, true], ['latency_mean', 0.05, false], ['gpu_utilisation', null, true, '%'], ['extra', 1, true, '1']],
      'default: { max_regression: 10% }\nkpis:\n  throughput: { max_regression: 1% }\n');
    assert.deepEqual(c.kpis.map((k) => [k.name, k.gate?.rule, k.gate?.status]), [
      ['throughput', 'kpis', 'fail'], ['latency_mean', 'default', 'pass'], ['gpu_utilisation', 'default', 'skipped'], ['extra', 'default', 'skipped'],
    ]);
    assert.deepEqual(c.gate?.failures.map((f) => f.kpi), ['throughput']);
    assert.equal(c.gate?.checked, 2);
    assert.equal(c.gate?.skipped, 2);
  });

  it('against several baseline runs the limit applies to their mean', () => {
    const c = gated([[['throughput', 100, true]], [['throughput', 110, true]], [['throughput', 90, true]]], [['throughput', 94, true]], 'kpis:\n  throughput: { max_regression: 5% }\n');
    assert.equal(gateOf(c, 'throughput').checks[0]?.actual, 0.06);
    assert.equal(c.gate?.passed, false);
    // 94 is within the runs' noise (they range 90..110): the verdict says so, the gate still holds the line.
    assert.equal(c.kpis[0]?.verdict, 'unchanged');
  });

  it('any worsening from a baseline of 0 is past a relative limit', () => {
    const c = gated([[['errors', 0, false, '1']]], [['errors', 2, false, '1']], 'kpis:\n  errors: { max_regression: 50% }\n');
    assert.equal(gateOf(c, 'errors').status, 'fail');
    assert.equal(gateOf(c, 'errors').checks[0]?.actual, null);
    assert.match(gateOf(c, 'errors').reason!, /relative change unbounded/);
    assert.equal(gated([[['errors', 0, false, '1']]], [['errors', 0, false, '1']], 'kpis:\n  errors: { max_regression: 50% }\n').gate?.passed, true);
  });

  it('without a gate every row has gate null and the result has no gate outcome', () => {
    const c = applyGate(compareCollections(side([['x', 1, true]]), [side([['x', 2, true]])]), null);
    assert.equal(c.gate, null);
    assert.equal(c.kpis[0]?.gate, null);
  });
});
