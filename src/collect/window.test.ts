import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { BenchmonError } from '../errors.js';
import { MAX_POINTS_PER_SERIES, parseStorageRetention, parseTimeInput, planWindow, splitRange } from './window.js';

const NOW = new Date('2024-05-01T12:00:00Z');
const limits = { now: NOW, scrapeIntervalMs: 15_000 };

function rejects(fn: () => unknown, code: string, pattern: RegExp, field?: string): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof BenchmonError, `expected a BenchmonError, got ${String(err)}`);
    assert.equal(err.code, code);
    assert.match(err.message, pattern);
    if (field) assert.equal(err.details?.field, field);
    return true;
  });
}

describe('parseTimeInput', () => {
  it('reads RFC 3339 with Z or an offset, and Unix seconds as number or text', () => {
    assert.equal(parseTimeInput('t', '2024-05-01T10:00:00Z'), Date.UTC(2024, 4, 1, 10));
    assert.equal(parseTimeInput('t', '2024-05-01T12:00:00+02:00'), Date.UTC(2024, 4, 1, 10));
    assert.equal(parseTimeInput('t', '2024-05-01t10:00:00.250z'), Date.UTC(2024, 4, 1, 10) + 250);
    assert.equal(parseTimeInput('t', '2024-05-01T10:00:00.123456789Z'), Date.UTC(2024, 4, 1, 10) + 123);
    assert.equal(parseTimeInput('t', 1714557600), 1714557600_000);
    assert.equal(parseTimeInput('t', '1714557600.5'), 1714557600_500);
  });

  it('refuses times without a zone, impossible dates and garbage, naming the field', () => {
    for (const bad of ['2024-05-01T10:00:00', '2024-02-30T10:00:00Z', '2024-13-01T00:00:00Z', '2024-05-01T24:00:00Z', 'yesterday', '', -5, Number.NaN, null, {}]) {
      rejects(() => parseTimeInput('start_time', bad), 'VALIDATION_FAILED', /^start_time: /, 'start_time');
    }
  });
});

describe('planWindow', () => {
  it('plans a window: W and the step as Prometheus durations, step defaulting to the scrape interval', () => {
    const plan = planWindow({ start_time: '2024-05-01T11:00:00Z', end_time: '2024-05-01T11:05:30Z' }, limits);
    assert.equal(plan.durationMs, 330_000);
    assert.equal(plan.window, '5m30s');
    assert.equal(plan.step, '15s');
    assert.equal(plan.stepSource, 'scrape_interval');
    assert.equal(plan.seriesWindow, '1m'); // max(4 × 15s, 15s + 15s)
    assert.deepEqual(plan.chunks, [{ startMs: plan.startMs, endMs: plan.startMs + 330_000, points: 23 }]);
  });

  it('takes the caller\'s step and widens the series window to step + interval', () => {
    const plan = planWindow({ start_time: '2024-05-01T11:00:00Z', end_time: '2024-05-01T11:10:00Z', step: '2m' }, limits);
    assert.equal(plan.stepMs, 120_000);
    assert.equal(plan.stepSource, 'request');
    assert.equal(plan.seriesWindow, '2m15s');
  });

  it('refuses an end at or before the start (422)', () => {
    rejects(() => planWindow({ start_time: '2024-05-01T11:00:00Z', end_time: '2024-05-01T11:00:00Z' }, limits), 'UNPROCESSABLE', /must be after start_time/);
    rejects(() => planWindow({ start_time: '2024-05-01T11:00:00Z', end_time: '2024-05-01T10:00:00Z' }, limits), 'UNPROCESSABLE', /must be after start_time/);
  });

  it('refuses a window in the future, with a few seconds of clock slack', () => {
    planWindow({ start_time: '2024-05-01T11:00:00Z', end_time: '2024-05-01T12:00:04Z' }, limits);
    rejects(() => planWindow({ start_time: '2024-05-01T11:00:00Z', end_time: '2024-05-01T12:00:06Z' }, limits), 'UNPROCESSABLE', /in the future/);
    rejects(() => planWindow({ start_time: '2024-05-01T11:00:00Z', end_time: '2024-05-01T12:00:01Z' }, { ...limits, clockSlackMs: 0 }), 'UNPROCESSABLE', /in the future/);
  });

  it('refuses a window older than the retention and says so', () => {
    const retentionMs = parseStorageRetention('15d')!;
    planWindow({ start_time: '2024-04-17T00:00:00Z', end_time: '2024-04-17T01:00:00Z' }, { ...limits, retentionMs });
    rejects(
      () => planWindow({ start_time: '2024-04-16T00:00:00Z', end_time: '2024-04-16T01:00:00Z' }, { ...limits, retentionMs }),
      'UNPROCESSABLE',
      /retention of 360h/,
    );
  });

  it('refuses a step that is not a Prometheus duration (400, field step)', () => {
    for (const step of ['5', '1.5s', '0s', 'fast']) {
      rejects(() => planWindow({ start_time: '2024-05-01T11:00:00Z', end_time: '2024-05-01T11:10:00Z', step }, limits), 'VALIDATION_FAILED', /^step: /, 'step');
    }
  });

  it('splits a long window so no range query exceeds 11,000 points', () => {
    const plan = planWindow({ start_time: '2024-04-30T12:00:00Z', end_time: '2024-05-01T12:00:00Z', step: '1s' }, limits);
    assert.equal(plan.chunks.length, Math.ceil(86_401 / MAX_POINTS_PER_SERIES));
    assert.equal(plan.chunks.reduce((n, c) => n + c.points, 0), 86_401);
    assert.equal(plan.chunks[0]!.startMs, plan.startMs);
    assert.equal(plan.chunks.at(-1)!.endMs, plan.endMs);
    for (const [i, c] of plan.chunks.entries()) {
      assert.ok(c.points <= MAX_POINTS_PER_SERIES);
      // Prometheus's own test: (end − start) / step must not exceed 11,000.
      assert.ok((c.endMs - c.startMs) / plan.stepMs <= MAX_POINTS_PER_SERIES);
      assert.equal((c.endMs - c.startMs) / plan.stepMs + 1, c.points);
      if (i > 0) assert.equal(c.startMs, plan.chunks[i - 1]!.endMs + plan.stepMs, 'chunks neither overlap nor leave a step out');
    }
  });
});

describe('splitRange', () => {
  it('keeps exactly 11,000 points in one query and splits at 11,001', () => {
    assert.equal(splitRange(0, 10_999_000, 1000).length, 1);
    assert.deepEqual(splitRange(0, 11_000_000, 1000).map((c) => c.points), [11_000, 1]);
  });
  it('ends on the last whole step when W is not a multiple of the step', () => {
    assert.deepEqual(splitRange(0, 25_000, 10_000), [{ startMs: 0, endMs: 20_000, points: 3 }]);
  });
});

describe('parseStorageRetention', () => {
  it('reads runtimeinfo storageRetention', () => {
    assert.equal(parseStorageRetention('15d'), 15 * 86_400_000);
    assert.equal(parseStorageRetention('30d or 10GiB'), 30 * 86_400_000);
    assert.equal(parseStorageRetention('10GiB'), undefined);
    assert.equal(parseStorageRetention(undefined), undefined);
  });
});
