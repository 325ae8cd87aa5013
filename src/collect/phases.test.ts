import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { BenchmonError } from '../errors.js';
import { endedPhase, newPhase, selectCollectionWindow, selectPhaseWindows, type Phase } from './phases.js';

const NOW = new Date('2024-05-01T12:00:00Z');
const at = (hms: string) => `2024-05-01T${hms}Z`;
const ms = (hms: string) => Date.parse(at(hms));

function rejects(fn: () => unknown, code: string, field: string, pattern?: RegExp): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof BenchmonError, `expected a BenchmonError, got ${String(err)}`);
    assert.equal(err.code, code, err.message);
    assert.equal(err.details?.field, field, err.message);
    if (pattern) assert.match(err.message, pattern);
    return true;
  });
}

const phase = (name: string, start: string, end: string | null): Phase => ({
  session_id: 's1', name, start_time: at(start), end_time: end === null ? null : at(end), created_at: at(start),
});
const PHASES = [phase('warmup', '11:00:00', '11:00:20'), phase('steady', '11:00:20', '11:00:50'), phase('cooldown', '11:00:50', null)];

describe('marking phases', () => {
  it('starts now by default, takes RFC 3339 or Unix seconds, and stays open without an end', () => {
    assert.deepEqual(newPhase('s1', { name: 'warmup' }, NOW), { session_id: 's1', name: 'warmup', start_time: NOW.toISOString(), end_time: null, created_at: NOW.toISOString() });
    const p = newPhase('s1', { name: 'steady', start_time: at('11:00:00'), end_time: ms('11:01:00') / 1000 }, NOW);
    assert.deepEqual([p.start_time, p.end_time], ['2024-05-01T11:00:00.000Z', '2024-05-01T11:01:00.000Z']);
  });

  it('refuses bad names, bad times, times in the future and an end not after the start, naming the field', () => {
    rejects(() => newPhase('s1', { name: 'warm up' }, NOW), 'VALIDATION_FAILED', 'name');
    rejects(() => newPhase('s1', { name: '1st' }, NOW), 'VALIDATION_FAILED', 'name');
    rejects(() => newPhase('s1', { name: 'all' }, NOW), 'VALIDATION_FAILED', 'name', /reserved/);
    rejects(() => newPhase('s1', { name: 'a', start_time: 'yesterday' }, NOW), 'VALIDATION_FAILED', 'start_time');
    rejects(() => newPhase('s1', { name: 'a', start_time: at('11:00:00'), end_time: '11:05' }, NOW), 'VALIDATION_FAILED', 'end_time');
    rejects(() => newPhase('s1', { name: 'a', start_time: at('13:00:00') }, NOW), 'UNPROCESSABLE', 'start_time', /future/);
    // Unix milliseconds given as seconds land far in the future.
    rejects(() => newPhase('s1', { name: 'a', start_time: NOW.getTime() }, NOW), 'UNPROCESSABLE', 'start_time', /future/);
    rejects(() => newPhase('s1', { name: 'a', start_time: at('11:00:00'), end_time: at('12:10:00') }, NOW), 'UNPROCESSABLE', 'end_time', /future/);
    rejects(() => newPhase('s1', { name: 'a', start_time: at('11:00:00'), end_time: at('10:59:59') }, NOW), 'UNPROCESSABLE', 'end_time', /must be after start_time/);
    rejects(() => newPhase('s1', { name: 'a', start_time: at('11:00:00'), end_time: at('11:00:00') }, NOW), 'UNPROCESSABLE', 'end_time');
    // A few seconds of clock skew are not "the future".
    assert.equal(newPhase('s1', { name: 'a', start_time: at('12:00:03') }, NOW).start_time, '2024-05-01T12:00:03.000Z');
  });

  it('ends an open phase once, now by default, after its start', () => {
    const open = phase('steady', '11:00:00', null);
    assert.equal(endedPhase(open, {}, NOW).end_time, NOW.toISOString());
    assert.equal(endedPhase(open, { end_time: at('11:30:00') }, NOW).end_time, '2024-05-01T11:30:00.000Z');
    rejects(() => endedPhase(open, { end_time: at('10:00:00') }, NOW), 'UNPROCESSABLE', 'end_time', /must be after start_time/);
    rejects(() => endedPhase(open, { end_time: at('12:30:00') }, NOW), 'UNPROCESSABLE', 'end_time', /future/);
    rejects(() => endedPhase(phase('warmup', '11:00:00', '11:00:20'), {}, NOW), 'PHASE_ALREADY_ENDED', 'name', /already ended at 2024-05-01T11:00:20/);
  });
});

describe('the collection window', () => {
  it('comes from start_time + end_time, or from a phase', () => {
    assert.deepEqual(selectCollectionWindow('s1', { start_time: 1, end_time: 2 }, PHASES), { start_time: 1, end_time: 2, phase: null });
    assert.deepEqual(selectCollectionWindow('s1', { phase: 'steady' }, PHASES), { start_time: at('11:00:20'), end_time: at('11:00:50'), phase: 'steady' });
  });

  it('spans the phases asked for when neither times nor a phase are given', () => {
    assert.deepEqual(selectCollectionWindow('s1', { phases: ['steady', 'warmup'] }, PHASES), { start_time: '2024-05-01T11:00:00.000Z', end_time: '2024-05-01T11:00:50.000Z', phase: null });
    // "all" includes the open cooldown: refused, saying so.
    rejects(() => selectCollectionWindow('s1', { phases: 'all' }, PHASES), 'UNPROCESSABLE', 'phases', /"cooldown" .* still open/);
    assert.equal(selectCollectionWindow('s1', { phases: 'all' }, PHASES.slice(0, 2)).end_time, '2024-05-01T11:00:50.000Z');
    rejects(() => selectCollectionWindow('s1', { phases: 'all' }, []), 'UNPROCESSABLE', 'phases', /no phases/);
  });

  it('needs exactly one source, and a known, ended phase', () => {
    rejects(() => selectCollectionWindow('s1', {}, PHASES), 'VALIDATION_FAILED', 'start_time', /start_time and end_time, or phase/);
    rejects(() => selectCollectionWindow('s1', { start_time: 1 }, PHASES), 'VALIDATION_FAILED', 'end_time');
    rejects(() => selectCollectionWindow('s1', { end_time: 1 }, PHASES), 'VALIDATION_FAILED', 'start_time');
    rejects(() => selectCollectionWindow('s1', { phase: 'steady', start_time: 1 }, PHASES), 'VALIDATION_FAILED', 'phase', /not both/);
    rejects(() => selectCollectionWindow('s1', { phase: 'nope' }, PHASES), 'PHASE_NOT_FOUND', 'phase', /session "s1" has no phase "nope"/);
    rejects(() => selectCollectionWindow('s1', { phase: 'bad name' }, PHASES), 'VALIDATION_FAILED', 'phase');
    rejects(() => selectCollectionWindow('s1', { phase: 'cooldown' }, PHASES), 'UNPROCESSABLE', 'phase', /still open: end it first \(benchmon phase end cooldown\)/);
    rejects(() => selectCollectionWindow('s1', { phases: ['warmup', 'nope'] }, PHASES), 'PHASE_NOT_FOUND', 'phases[1]');
  });
});

describe('per-phase windows', () => {
  const window = { startMs: ms('11:00:00'), endMs: ms('11:00:50') };

  it('are the phases listed, in their order, or "all" in the window by start time', () => {
    assert.deepEqual(selectPhaseWindows('s1', undefined, PHASES, window), []);
    assert.deepEqual(selectPhaseWindows('s1', ['steady', 'warmup'], PHASES, window), [
      { name: 'steady', startMs: ms('11:00:20'), endMs: ms('11:00:50') },
      { name: 'warmup', startMs: ms('11:00:00'), endMs: ms('11:00:20') },
    ]);
    // cooldown starts where the window ends: it does not overlap, so "all" leaves it out.
    assert.deepEqual(selectPhaseWindows('s1', 'all', PHASES, window).map((w) => w.name), ['warmup', 'steady']);
    // Nested phases are fine.
    const nested = [...PHASES, phase('spike', '11:00:30', '11:00:35')];
    assert.deepEqual(selectPhaseWindows('s1', 'all', nested, window).map((w) => w.name), ['warmup', 'steady', 'spike']);
  });

  it('must lie inside the window and have ended', () => {
    const narrow = { startMs: ms('11:00:10'), endMs: ms('11:00:50') };
    rejects(() => selectPhaseWindows('s1', ['warmup'], PHASES, narrow), 'UNPROCESSABLE', 'phases[0]', /does not lie inside the collection window/);
    rejects(() => selectPhaseWindows('s1', 'all', PHASES, narrow), 'UNPROCESSABLE', 'phases', /"warmup"/);
    rejects(() => selectPhaseWindows('s1', 'all', PHASES, { startMs: ms('11:00:20'), endMs: ms('11:01:00') }), 'UNPROCESSABLE', 'phases', /"cooldown" .* still open/);
    rejects(() => selectPhaseWindows('s1', 'all', PHASES, { startMs: ms('10:00:00'), endMs: ms('10:30:00') }), 'UNPROCESSABLE', 'phases', /no phase in the window/);
    rejects(() => selectPhaseWindows('s1', ['warmup', 'warmup'], PHASES, window), 'VALIDATION_FAILED', 'phases[1]', /twice/);
    rejects(() => selectPhaseWindows('s1', [], PHASES, window), 'VALIDATION_FAILED', 'phases');
  });
});
