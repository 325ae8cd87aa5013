import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isBeyondNoise, noiseBand, sampleStddev } from './noise.js';

describe('noise band of the baseline runs', () => {
  it('is mean ± k·stddev (sample stddev, n − 1) when that is wider than the runs themselves', () => {
    // 10, 12, 14: mean 12, s = sqrt((4 + 0 + 4) / 2) = 2.
    const band = noiseBand([10, 12, 14], 2)!;
    assert.equal(band.runs, 3);
    assert.equal(band.mean, 12);
    assert.equal(band.stddev, 2);
    assert.deepEqual([band.lower, band.upper], [8, 16]);
    assert.equal(isBeyondNoise(16.5, band), true);
    assert.equal(isBeyondNoise(7.9, band), true);
    assert.equal(isBeyondNoise(15.9, band), false);
    assert.equal(isBeyondNoise(8, band), false, 'on the edge is within noise');
  });

  it('never excludes a value a baseline run produced: the band is at least [min, max]', () => {
    // One outlier among nine equal runs: mean 11, s ≈ 3.16; with k = 0 the band is the envelope.
    const runs = [10, 10, 10, 10, 10, 10, 10, 10, 10, 20];
    const band = noiseBand(runs, 0)!;
    assert.deepEqual([band.lower, band.upper], [10, 20]);
    assert.equal(isBeyondNoise(20, band), false);
    assert.equal(isBeyondNoise(20.01, band), true);
    assert.ok(Math.abs(sampleStddev(runs) - Math.sqrt(10)) < 1e-12);
  });

  it('gives no estimate from fewer than two runs with a value; runs without a value do not count', () => {
    assert.equal(noiseBand([42]), null);
    assert.equal(noiseBand([42, null, null]), null);
    const band = noiseBand([100, null, 104])!;
    assert.equal(band.runs, 2);
    assert.equal(band.mean, 102);
  });

  it('refuses a negative or non-finite k', () => {
    assert.throws(() => noiseBand([1, 2], -1), RangeError);
    assert.throws(() => noiseBand([1, 2], Number.NaN), RangeError);
  });
});
