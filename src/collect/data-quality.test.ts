import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { expectedSamples, findTargetGaps, matchesSlice, summariseCoverage } from './data-quality.js';

const W = 600_000; // 10 min
const every15s = () => 15_000;

describe('summariseCoverage', () => {
  it('counts per target: a label set that appears mid-window does not read as missing data', () => {
    const series = [
      { labels: { job: 'api', instance: 'a:1', status: '200' }, count: 40 },
      { labels: { job: 'api', instance: 'a:1', status: '500' }, count: 3 },
    ];
    assert.deepEqual(summariseCoverage(series, W, every15s), {
      series: 2, targets: 1, samplesExpected: 40, samplesPresent: 40, coverage: 1, targetKeys: ['api/a:1'],
    });
  });

  it('reads a target down half the window as 50 %, and the KPI overall as the share of all expected samples', () => {
    const series = [
      { labels: { job: 'api', instance: 'a:1' }, count: 41 }, // 41 = one sample on each edge of the window: capped
      { labels: { job: 'api', instance: 'b:1' }, count: 20 },
    ];
    const all = summariseCoverage(series, W, every15s);
    assert.equal(all.samplesExpected, 80);
    assert.equal(all.samplesPresent, 60);
    assert.equal(all.coverage, 0.75);
    assert.equal(summariseCoverage(series.filter((s) => matchesSlice(s.labels, { instance: 'b:1' })), W, every15s).coverage, 0.5);
  });

  it('uses each target\'s own scrape interval', () => {
    const series = [{ labels: { job: 'dcgm', instance: 'g:9400' }, count: 20 }];
    assert.equal(summariseCoverage(series, W, (t) => (t === 'dcgm/g:9400' ? 30_000 : 15_000)).coverage, 1);
  });

  it('has no coverage (null, not 0) when nothing matched', () => {
    assert.equal(summariseCoverage([], W, every15s).coverage, null);
  });

  it('expects at least one sample', () => {
    assert.equal(expectedSamples(5_000, 15_000), 1);
    assert.equal(expectedSamples(60_000, 15_000), 4);
  });
});

describe('matchesSlice', () => {
  it('matches on the slice labels a series carries', () => {
    assert.equal(matchesSlice({ job: 'a', instance: 'x', gpu: '0' }, { job: 'a', instance: 'x' }), true);
    assert.equal(matchesSlice({ job: 'a', instance: 'y' }, { job: 'a', instance: 'x' }), false);
    assert.equal(matchesSlice({ job: 'a' }, {}), true);
  });
});

describe('findTargetGaps', () => {
  const win = { startMs: 0, endMs: 100_000, stepMs: 10_000 };
  const points = (values: Array<number | null | undefined>) =>
    values.flatMap((v, i) => (v === undefined ? [] : [[i * 10_000, v] as const]));

  it('reports periods with up == 0 or no up, from the first bad step to the next good one', () => {
    const gaps = findTargetGaps(
      [
        { labels: { job: 'api', instance: 'a:1' }, points: points([1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1]) },
        { labels: { job: 'api', instance: 'b:1' }, points: points([1, 1, 0, 0, 1, 1, undefined, undefined, 0, 1, 1]) },
        { labels: { job: 'api', instance: 'c:1' }, points: points([undefined, undefined, 1, 1, 1, 1, 0, 0, 0, 0, 0]) },
      ],
      win,
    );
    assert.deepEqual(gaps, [
      { job: 'api', instance: 'b:1', fromMs: 20_000, toMs: 40_000, kind: 'down' },
      { job: 'api', instance: 'b:1', fromMs: 60_000, toMs: 90_000, kind: 'mixed' },
      { job: 'api', instance: 'c:1', fromMs: 0, toMs: 20_000, kind: 'absent' },
      { job: 'api', instance: 'c:1', fromMs: 60_000, toMs: 100_000, kind: 'down' },
    ]);
  });

  it('counts a step as good when any duplicate up series of the target is 1', () => {
    const gaps = findTargetGaps(
      [
        { labels: { job: 'api', instance: 'a:1', extra: 'x' }, points: points([1, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1]) },
        { labels: { job: 'api', instance: 'a:1', extra: 'y' }, points: points([0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1]) },
      ],
      win,
    );
    assert.deepEqual(gaps, []);
  });
});
