import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  DiscreteUniform,
  PiecewiseUniform,
  bucketBounds,
  createRng,
  endToEndLatency,
  nearestRank,
  outputTokenPmf,
} from './distributions.js';
import { DEFAULT_QDRANT_LATENCY } from './qdrant-emulator.js';
import { DEFAULT_VLLM_ITL, DEFAULT_VLLM_OUTPUT_TOKENS, DEFAULT_VLLM_TTFT } from './vllm-emulator.js';
import { knownDistributions } from './workload.js';
import type { ResolvedQdrantEmulatorConfig } from './qdrant-emulator.js';
import type { ResolvedVllmEmulatorConfig } from './vllm-emulator.js';

describe('PiecewiseUniform', () => {
  const d = new PiecewiseUniform([
    { q: 0, x: 1 },
    { q: 0.5, x: 2 },
    { q: 1, x: 4 },
  ]);

  it('has its knots as exact quantiles and interpolates linearly', () => {
    assert.equal(d.quantile(0), 1);
    assert.equal(d.quantile(0.5), 2);
    assert.equal(d.quantile(1), 4);
    assert.equal(d.quantile(0.75), 3);
    assert.equal(d.cdf(3), 0.75);
    assert.equal(d.cdf(0), 0);
    assert.equal(d.cdf(5), 1);
    assert.equal(d.mean(), 0.5 * 1.5 + 0.5 * 3);
  });

  it('cdf inverts quantile', () => {
    for (const q of [0.01, 0.2, 0.5, 0.77, 0.99]) assert.ok(Math.abs(d.cdf(d.quantile(q)) - q) < 1e-12);
  });

  it('rejects knots that are not a quantile function', () => {
    assert.throws(() => new PiecewiseUniform([{ q: 0, x: 1 }]), /two knots/);
    assert.throws(() => new PiecewiseUniform([{ q: 0.1, x: 1 }, { q: 1, x: 2 }]), /q=0/);
    assert.throws(() => new PiecewiseUniform([{ q: 0, x: 2 }, { q: 1, x: 1 }]), /x must increase/);
  });

  it('samples follow the distribution (empirical quantiles near the exact ones)', () => {
    const rng = createRng(7);
    const xs = Float64Array.from({ length: 20_000 }, () => DEFAULT_VLLM_TTFT.sample(rng)).sort();
    for (const q of [0.5, 0.95, 0.99]) {
      const empirical = nearestRank(xs, q)!;
      assert.ok(Math.abs(empirical - DEFAULT_VLLM_TTFT.quantile(q)) < 0.01, `q=${q}: ${empirical} vs ${DEFAULT_VLLM_TTFT.quantile(q)}`);
    }
  });
});

describe('bucketBounds', () => {
  const buckets = [0.1, 0.25, 0.5];
  it('uses Prometheus le semantics (lower, upper]', () => {
    assert.deepEqual(bucketBounds(0.05, buckets), { lower: 0, upper: 0.1 });
    assert.deepEqual(bucketBounds(0.1, buckets), { lower: 0, upper: 0.1 });
    assert.deepEqual(bucketBounds(0.1000001, buckets), { lower: 0.1, upper: 0.25 });
    assert.deepEqual(bucketBounds(0.7, buckets), { lower: 0.5, upper: Number.POSITIVE_INFINITY });
  });
});

describe('nearestRank', () => {
  it('is the ceil(q*n)-th smallest sample', () => {
    const xs = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10];
    assert.equal(nearestRank(xs, 0.5), 5);
    assert.equal(nearestRank(xs, 0.95), 10);
    assert.equal(nearestRank(xs, 0.1), 1);
    assert.equal(nearestRank([], 0.5), null);
  });
});

describe('outputTokenPmf', () => {
  it('caps the natural length at max_tokens', () => {
    const pmf = outputTokenPmf(new DiscreteUniform(3, 6), 4);
    assert.deepEqual(pmf, [
      [3, 0.25],
      [4, 0.75],
    ]);
  });
});

describe('endToEndLatency', () => {
  it('matches a Monte Carlo simulation of TTFT + (k-1) ITLs', () => {
    const pmf = outputTokenPmf(DEFAULT_VLLM_OUTPUT_TOKENS, 34);
    const exact = endToEndLatency(DEFAULT_VLLM_TTFT, DEFAULT_VLLM_ITL, pmf);
    assert.ok(Math.abs(exact.total - 1) < 1e-9);
    const rng = createRng(11);
    const n = 40_000;
    const xs = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      const k = Math.min(DEFAULT_VLLM_OUTPUT_TOKENS.sample(rng), 34);
      let t = DEFAULT_VLLM_TTFT.sample(rng);
      for (let j = 1; j < k; j++) t += DEFAULT_VLLM_ITL.sample(rng);
      xs[i] = t;
    }
    xs.sort();
    const meanMc = xs.reduce((a, b) => a + b, 0) / n;
    const meanExact = DEFAULT_VLLM_TTFT.mean() + pmf.reduce((m, [k, p]) => m + p * (k - 1), 0) * DEFAULT_VLLM_ITL.mean();
    assert.ok(Math.abs(exact.mean() - meanExact) < 0.001, `lattice mean ${exact.mean()} vs analytic ${meanExact}`);
    assert.ok(Math.abs(meanMc - meanExact) < 0.01);
    for (const q of [0.5, 0.95, 0.99]) {
      const mc = nearestRank(xs, q)!;
      assert.ok(Math.abs(mc - exact.quantile(q)) < 0.03, `q=${q}: Monte Carlo ${mc} vs lattice ${exact.quantile(q)}`);
      assert.ok(Math.abs(exact.cdf(exact.quantile(q)) - q) < 1e-6);
    }
  });
});

describe('knownDistributions (defaults)', () => {
  const vllm = {
    ttft: DEFAULT_VLLM_TTFT,
    itl: DEFAULT_VLLM_ITL,
    outputTokens: DEFAULT_VLLM_OUTPUT_TOKENS,
  } as unknown as ResolvedVllmEmulatorConfig;
  const qdrant = { latency: DEFAULT_QDRANT_LATENCY, errorShare: 0.02 } as unknown as ResolvedQdrantEmulatorConfig;
  const known = knownDistributions(vllm, qdrant, 34);

  it('states exact quantiles and the buckets that hold them', () => {
    assert.equal(known.ttft.quantiles.p50.value, 0.18);
    assert.deepEqual(known.ttft.quantiles.p95.bucket, { lower: 0.25, upper: 0.5 });
    assert.equal(known.interTokenLatency.quantiles.p99.value, 0.305);
    assert.deepEqual(known.interTokenLatency.quantiles.p99.bucket, { lower: 0.3, upper: 0.4 });
    assert.deepEqual(known.qdrantLatency.quantiles.p95.bucket, { lower: 0.1, upper: 0.5 });
    assert.deepEqual(known.e2eLatency.quantiles.p50.bucket, { lower: 2, upper: 2.5 });
    assert.deepEqual(known.e2eLatency.quantiles.p95.bucket, { lower: 2.5, upper: 5 });
    assert.ok(Math.abs(known.outputTokens.lengthShare - 8 / 21) < 1e-12);
  });

  it('keeps every quantile well inside its bucket (robust to sampling noise and timer lateness)', () => {
    // Probability room on both sides of each quantile's bucket, with the upper bound taken 10 ms early
    // (timer lateness only makes observed times longer).
    const room: Record<number, number> = { 0.5: 0.1, 0.95: 0.01, 0.99: 0.005 };
    const e2e = endToEndLatency(DEFAULT_VLLM_TTFT, DEFAULT_VLLM_ITL, outputTokenPmf(DEFAULT_VLLM_OUTPUT_TOKENS, 34));
    const cases = [
      { d: known.ttft, cdf: (x: number) => DEFAULT_VLLM_TTFT.cdf(x) },
      { d: known.interTokenLatency, cdf: (x: number) => DEFAULT_VLLM_ITL.cdf(x) },
      { d: known.e2eLatency, cdf: (x: number) => e2e.cdf(x) },
      { d: known.qdrantLatency, cdf: (x: number) => DEFAULT_QDRANT_LATENCY.cdf(x) },
    ];
    for (const { d, cdf } of cases) {
      for (const k of [d.quantiles.p50, d.quantiles.p95, d.quantiles.p99]) {
        assert.ok(k.value > k.bucket.lower && k.value <= k.bucket.upper, `${d.metric} q=${k.q}`);
        assert.ok(cdf(k.bucket.lower) <= k.q - room[k.q]!, `${d.metric} q=${k.q}: F(${k.bucket.lower}) = ${cdf(k.bucket.lower)}`);
        assert.ok(cdf(k.bucket.upper - 0.01) >= k.q + room[k.q]!, `${d.metric} q=${k.q}: F(${k.bucket.upper} - 10 ms) = ${cdf(k.bucket.upper - 0.01)}`);
      }
    }
  });
});
