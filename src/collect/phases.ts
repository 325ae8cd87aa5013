/**
 * Benchmark phases: named spans of a session's time (warmup, steady, cooldown, or any name) that
 * a collection can take as its window (`phase`) or report KPIs for side by side (`phases`).
 * Pure: the store keeps the phases, the clock comes in as an argument.
 *
 * Rules (README "### Phases"):
 *  - a name is unique in its session; phases may overlap or nest (a spike inside steady state);
 *  - start defaults to now, end is given at marking time or later (`…/phases/{name}/end`), once;
 *  - times lie in the past (a few seconds of clock slack allowed) and end > start;
 *  - an open phase (no end yet) cannot be collected: its window is not known, and a KPI named
 *    "steady" over part of the steady state would look like the real thing.
 */
import { BenchmonError, invalidField } from '../errors.js';
import { DEFAULT_CLOCK_SLACK_MS, parseTimeInput, type TimeInput } from './window.js';

/** Like the other identifiers (src/sessions/identifiers.ts): no whitespace, quotes, commas or separators. */
export const PHASE_NAME_PATTERN = '^[A-Za-z][A-Za-z0-9_.-]{0,63}$';
const phaseNameRe = new RegExp(PHASE_NAME_PATTERN);

/** `phases: "all"` (and `--phases all`) means every phase: no phase may be called that. */
export const ALL_PHASES = 'all';

/** At most this many phases get their own results in one collection (each is a full pass over the recipe). */
export const MAX_PHASES_PER_COLLECTION = 20;

export interface Phase {
  session_id: string;
  name: string;
  /** RFC 3339, UTC, ms. */
  start_time: string;
  /** null while the phase is open. */
  end_time: string | null;
  created_at: string;
}

/** POST /api/v1/sessions/{id}/phases. */
export interface MarkPhaseBody {
  name: string;
  /** Default: now. */
  start_time?: TimeInput | undefined;
  /** Omitted: the phase stays open until ended. */
  end_time?: TimeInput | undefined;
}

/** POST /api/v1/sessions/{id}/phases/{name}/end. */
export interface EndPhaseBody {
  /** Default: now. */
  end_time?: TimeInput | undefined;
}

/** How a collection chooses its window and its per-phase results (the phase fields of the collect body). */
export interface PhaseSelection {
  start_time?: TimeInput | undefined;
  end_time?: TimeInput | undefined;
  /** The collection's window is this phase. */
  phase?: string | undefined;
  /** Per-phase results: these phases, or every phase in the window. */
  phases?: string[] | typeof ALL_PHASES | undefined;
}

/** A phase's span in ms since the epoch, as a collection uses it. */
export interface PhaseWindow {
  name: string;
  startMs: number;
  endMs: number;
}

const iso = (ms: number) => new Date(ms).toISOString();

export function checkPhaseName(field: string, name: unknown): string {
  if (typeof name !== 'string' || !phaseNameRe.test(name)) throw invalidField(field, `must match ${PHASE_NAME_PATTERN} (a letter, then letters, digits, "_", "." or "-")`);
  if (name === ALL_PHASES) throw invalidField(field, `"${ALL_PHASES}" is reserved (phases: "${ALL_PHASES}" selects every phase)`);
  return name;
}

function notInFuture(field: 'start_time' | 'end_time', ms: number, nowMs: number, slackMs: number): void {
  if (ms <= nowMs + slackMs) return;
  throw new BenchmonError('UNPROCESSABLE', `${field} (${iso(ms)}) lies in the future (now ${iso(nowMs)}): mark a phase when it starts or ends, or afterwards`, {
    details: { field, [field]: iso(ms), now: iso(nowMs) },
  });
}

function endAfterStart(startMs: number, endMs: number): void {
  if (endMs > startMs) return;
  throw new BenchmonError('UNPROCESSABLE', `end_time (${iso(endMs)}) must be after start_time (${iso(startMs)})`, {
    details: { field: 'end_time', start_time: iso(startMs), end_time: iso(endMs) },
  });
}

/** A new phase from a mark request: 400 for a bad name or time, 422 for a time in the future or end ≤ start. */
export function newPhase(sessionId: string, body: MarkPhaseBody, now: Date, slackMs = DEFAULT_CLOCK_SLACK_MS): Phase {
  const name = checkPhaseName('name', body.name);
  const nowMs = now.getTime();
  const startMs = body.start_time === undefined ? nowMs : parseTimeInput('start_time', body.start_time);
  const endMs = body.end_time === undefined ? null : parseTimeInput('end_time', body.end_time);
  notInFuture('start_time', startMs, nowMs, slackMs);
  if (endMs !== null) {
    notInFuture('end_time', endMs, nowMs, slackMs);
    endAfterStart(startMs, endMs);
  }
  return { session_id: sessionId, name, start_time: iso(startMs), end_time: endMs === null ? null : iso(endMs), created_at: now.toISOString() };
}

/** The phase with its end set: 409 when it has one already, 422 for an end in the future or ≤ its start. */
export function endedPhase(phase: Phase, body: EndPhaseBody, now: Date, slackMs = DEFAULT_CLOCK_SLACK_MS): Phase {
  if (phase.end_time !== null) {
    throw new BenchmonError('PHASE_ALREADY_ENDED', `name: phase ${JSON.stringify(phase.name)} already ended at ${phase.end_time}`, {
      details: { field: 'name', phase: phase.name, end_time: phase.end_time },
    });
  }
  const nowMs = now.getTime();
  const endMs = body.end_time === undefined ? nowMs : parseTimeInput('end_time', body.end_time);
  notInFuture('end_time', endMs, nowMs, slackMs);
  endAfterStart(Date.parse(phase.start_time), endMs);
  return { ...phase, end_time: iso(endMs) };
}

export function phaseNotFound(field: string, sessionId: string, name: string): BenchmonError {
  return new BenchmonError('PHASE_NOT_FOUND', `${field}: session ${JSON.stringify(sessionId)} has no phase ${JSON.stringify(name)}`, { details: { field, phase: name } });
}

/** The named phase, which must exist (404) and be ended (422). */
function findEndedPhase(sessionId: string, field: string, name: string, phases: readonly Phase[]): Phase & { end_time: string } {
  checkPhaseName(field, name);
  const p = phases.find((x) => x.name === name);
  if (!p) throw phaseNotFound(field, sessionId, name);
  if (p.end_time === null) {
    throw new BenchmonError('UNPROCESSABLE', `${field}: phase ${JSON.stringify(name)} (started ${p.start_time}) is still open: end it first (benchmon phase end ${name})${field === 'phase' ? ', or give start_time and end_time' : ', or leave it out'}`, {
      details: { field, phase: name, start_time: p.start_time },
    });
  }
  return p as Phase & { end_time: string };
}

function toWindow(p: Phase & { end_time: string }): PhaseWindow {
  return { name: p.name, startMs: Date.parse(p.start_time), endMs: Date.parse(p.end_time) };
}

function byStart(a: Phase, b: Phase): number {
  return Date.parse(a.start_time) - Date.parse(b.start_time) || a.name.localeCompare(b.name);
}

function checkList(list: readonly string[]): void {
  if (list.length === 0) throw invalidField('phases', `give at least one phase name, or "${ALL_PHASES}"`);
  const seen = new Set<string>();
  list.forEach((name, i) => {
    checkPhaseName(`phases[${i}]`, name);
    if (seen.has(name)) throw invalidField(`phases[${i}]`, `phase ${JSON.stringify(name)} is listed twice`);
    seen.add(name);
  });
}

/**
 * The collection's window, from exactly one source: start_time + end_time, or phase (its start
 * and end), or — when neither is given — the span of the phases asked for in `phases`. A mix, or
 * none of them, is a 400 naming the field; an unknown phase is a 404, an open one a 422.
 */
export function selectCollectionWindow(
  sessionId: string,
  body: PhaseSelection,
  phases: readonly Phase[],
): { start_time: TimeInput; end_time: TimeInput; phase: string | null } {
  const hasStart = body.start_time !== undefined;
  const hasEnd = body.end_time !== undefined;
  const lookup = (field: string, name: string) => findEndedPhase(sessionId, field, name, phases);
  if (body.phase !== undefined) {
    if (hasStart || hasEnd) throw invalidField('phase', `give either phase or start_time and end_time, not both (phase ${JSON.stringify(body.phase)} sets the window)`);
    const p = lookup('phase', body.phase);
    return { start_time: p.start_time, end_time: p.end_time, phase: p.name };
  }
  if (hasStart !== hasEnd) {
    const missing = hasStart ? 'end_time' : 'start_time';
    throw invalidField(missing, `is required with ${hasStart ? 'start_time' : 'end_time'} (or give phase instead of both)`);
  }
  if (hasStart) return { start_time: body.start_time!, end_time: body.end_time!, phase: null };
  if (body.phases === undefined) throw invalidField('start_time', 'is required: give start_time and end_time, or phase (a phase of the session sets the window)');

  // Neither times nor phase: the window spans the phases asked for.
  let chosen: Array<Phase & { end_time: string }>;
  if (body.phases === ALL_PHASES) {
    if (phases.length === 0) throw new BenchmonError('UNPROCESSABLE', `phases: session ${JSON.stringify(sessionId)} has no phases: mark some, or give start_time and end_time`, { details: { field: 'phases' } });
    chosen = [...phases].sort(byStart).map((p) => lookup('phases', p.name));
  } else {
    checkList(body.phases);
    chosen = body.phases.map((name, i) => lookup(`phases[${i}]`, name));
  }
  const windows = chosen.map(toWindow);
  return {
    start_time: iso(Math.min(...windows.map((w) => w.startMs))),
    end_time: iso(Math.max(...windows.map((w) => w.endMs))),
    phase: null,
  };
}

/**
 * The phases that get their own KPIs in a collection of [startMs, endMs]: the ones listed (each
 * must exist, be ended and lie inside the window), or with "all" every phase that overlaps the
 * window (each must then lie inside it, and be ended). Listed order, or "all" by start time.
 */
export function selectPhaseWindows(
  sessionId: string,
  spec: PhaseSelection['phases'],
  phases: readonly Phase[],
  window: { startMs: number; endMs: number },
): PhaseWindow[] {
  if (spec === undefined) return [];
  const inside = (field: string, p: Phase & { end_time: string }): PhaseWindow => {
    const w = toWindow(p);
    if (w.startMs < window.startMs || w.endMs > window.endMs) {
      throw new BenchmonError('UNPROCESSABLE', `${field}: phase ${JSON.stringify(p.name)} (${p.start_time} .. ${p.end_time}) does not lie inside the collection window (${iso(window.startMs)} .. ${iso(window.endMs)}): widen the window or leave the phase out`, {
        details: { field, phase: p.name, start_time: p.start_time, end_time: p.end_time },
      });
    }
    return w;
  };
  let out: PhaseWindow[];
  if (spec === ALL_PHASES) {
    const overlapping = [...phases]
      .filter((p) => Date.parse(p.start_time) < window.endMs && (p.end_time === null || Date.parse(p.end_time) > window.startMs))
      .sort(byStart);
    if (overlapping.length === 0) {
      throw new BenchmonError('UNPROCESSABLE', `phases: session ${JSON.stringify(sessionId)} has no phase in the window ${iso(window.startMs)} .. ${iso(window.endMs)}`, { details: { field: 'phases' } });
    }
    out = overlapping.map((p) => inside('phases', findEndedPhase(sessionId, 'phases', p.name, phases)));
  } else {
    checkList(spec);
    out = spec.map((name, i) => {
      const field = `phases[${i}]`;
      return inside(field, findEndedPhase(sessionId, field, name, phases));
    });
  }
  if (out.length > MAX_PHASES_PER_COLLECTION) {
    throw new BenchmonError('UNPROCESSABLE', `phases: ${out.length} phases in the window, at most ${MAX_PHASES_PER_COLLECTION} per collection: list the ones you want`, { details: { field: 'phases' } });
  }
  return out;
}
