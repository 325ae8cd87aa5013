import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { quantileBucketBounds, type BucketCount } from './histogram-bounds.js';

const INF = Number.POSITIVE_INFINITY;
// OpenTelemetry's advisory buckets (http.server.request.duration), cumulative counts of 40 observations:
// 24 at 0.02 s, 12 at 0.2 s, 3 at 2 s, 1 at 30 s.
const otel: BucketCount[] = [
  [0.005, 0], [0.01, 0], [0.025, 24], [0.05, 24], [0.075, 24], [0.1, 24], [0.25, 36], [0.5, 36], [0.75, 36], [1, 36], [2.5, 39], [5, 39], [7.5, 39], [10, 39], [INF, 40],
].map(([le, count]) => ({ le: le!, count: count! }));

function bounds(q: number, buckets: BucketCount[]) {
  const out = quantileBucketBounds(q, buckets);
  assert.ok(out.ok, out.ok ? '' : out.reason);
  return out.bounds;
}

describe('quantileBucketBounds', () => {
  it('finds the bucket holding rank q·total', () => {
    assert.deepEqual(bounds(0.5, otel), { quantile: 0.5, lower: 0.01, upper: 0.025, inInfBucket: false, observations: 40 });
    assert.deepEqual(bounds(0.95, otel), { quantile: 0.95, lower: 1, upper: 2.5, inInfBucket: false, observations: 40 });
    assert.deepEqual(bounds(0.9, otel), { quantile: 0.9, lower: 0.1, upper: 0.25, inInfBucket: false, observations: 40 }, 'a rank on a bucket edge belongs to the lower bucket');
  });

  it('flags a rank in the +Inf bucket: Prometheus answers the highest finite bound, a floor', () => {
    assert.deepEqual(bounds(0.99, otel), { quantile: 0.99, lower: 10, upper: INF, inInfBucket: true, observations: 40 });
  });

  it('starts the first bucket at 0, as Prometheus does', () => {
    assert.deepEqual(bounds(0.1, [{ le: 0.5, count: 10 }, { le: INF, count: 10 }]), { quantile: 0.1, lower: 0, upper: 0.5, inInfBucket: false, observations: 10 });
  });

  it('does not depend on the order of the buckets and merges equal bounds (le="1" and le="1.0")', () => {
    const shuffled = [...otel].reverse();
    assert.deepEqual(bounds(0.5, shuffled), bounds(0.5, otel));
    const split = [{ le: 1, count: 3 }, { le: 1, count: 3 }, { le: 2, count: 8 }, { le: 2, count: 8 }, { le: INF, count: 10 }, { le: INF, count: 10 }];
    assert.deepEqual(bounds(0.5, split), { quantile: 0.5, lower: 1, upper: 2, inInfBucket: false, observations: 20 });
  });

  it('carries the maximum forward over counts that dip (increase() extrapolates each bucket alone)', () => {
    const dipping = [{ le: 0.1, count: 5.02 }, { le: 0.2, count: 4.99 }, { le: 0.4, count: 9 }, { le: INF, count: 10 }];
    assert.deepEqual(bounds(0.5, dipping), { quantile: 0.5, lower: 0, upper: 0.1, inInfBucket: false, observations: 10 });
  });

  it('gives reasons instead of bounds when there is nothing to bound', () => {
    assert.deepEqual(quantileBucketBounds(0.5, otel.map((b) => ({ ...b, count: 0 }))), { ok: false, reason: 'no observations in the window' });
    assert.deepEqual(quantileBucketBounds(0.5, otel.slice(0, -1)), { ok: false, reason: 'the histogram has no le="+Inf" bucket' });
    assert.deepEqual(quantileBucketBounds(0.5, [{ le: INF, count: 3 }]), { ok: false, reason: 'the histogram has only the +Inf bucket' });
    assert.deepEqual(quantileBucketBounds(0.5, []), { ok: false, reason: 'no buckets' });
    assert.equal(quantileBucketBounds(1.5, otel).ok, false);
  });
});
