import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { formatDuration, parseDuration } from './duration.js';

describe('Prometheus durations', () => {
  it('parses what Prometheus accepts', () => {
    assert.equal(parseDuration('15s'), 15_000);
    assert.equal(parseDuration('1m30s'), 90_000);
    assert.equal(parseDuration('500ms'), 500);
    assert.equal(parseDuration('2h'), 7_200_000);
    assert.equal(parseDuration('1d'), 86_400_000);
  });
  it('rejects what Prometheus rejects', () => {
    for (const bad of ['', '0', '0s', '5x', '1.5s', 's', '30s1m', ' 5s', '5s\n', '-5s']) assert.equal(parseDuration(bad), undefined, bad);
  });
  it('formats milliseconds as the shortest duration text, and round-trips', () => {
    assert.equal(formatDuration(90_000), '1m30s');
    assert.equal(formatDuration(3_600_000), '1h');
    assert.equal(formatDuration(1500), '1s500ms');
    for (const ms of [1, 999, 1000, 61_000, 86_400_000 + 1]) assert.equal(parseDuration(formatDuration(ms)), ms);
    assert.throws(() => formatDuration(0));
  });
});
