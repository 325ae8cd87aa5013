/**
 * Plans a collection window: parses and checks the caller's times, picks the step and splits
 * the range so no query asks Prometheus for more than it answers. Pure: the clock comes in as
 * an argument, nothing is read from the environment.
 */
import { BenchmonError, invalidField } from '../errors.js';
import { formatDuration, parseDuration } from '../prometheus/duration.js';

/**
 * Prometheus refuses range queries with `(end - start) / step > 11000` (web/api/v1/api.go,
 * "exceeded maximum resolution of 11,000 points per timeseries").
 */
export const MAX_POINTS_PER_SERIES = 11_000;

/**
 * How far past "now" an end time may lie. Clients and benchmon rarely share a clock exactly,
 * and a benchmark script that asks for "until now" right after its run must not be refused for
 * a few hundred milliseconds of skew. Anything later is a window in the future.
 */
export const DEFAULT_CLOCK_SLACK_MS = 5_000;

export type TimeInput = string | number;

export interface WindowRequest {
  start_time: TimeInput;
  end_time: TimeInput;
  /** Prometheus duration; defaults to the scrape interval. */
  step?: string | undefined;
}

export interface WindowLimits {
  /** The current time (injected so tests can fix the clock). */
  now: Date;
  /** The session's scrape interval in ms: the default step and the expected sample spacing. */
  scrapeIntervalMs: number;
  /** Prometheus's time retention in ms (see parseStorageRetention); undefined = not known, not checked. */
  retentionMs?: number | undefined;
  clockSlackMs?: number | undefined;
}

/** A query range: evaluation timestamps start, start+step, … up to end (ms since epoch). */
export interface RangeChunk {
  startMs: number;
  endMs: number;
  points: number;
}

export interface WindowPlan {
  startMs: number;
  endMs: number;
  /** W = end − start, in ms. */
  durationMs: number;
  /** W as a Prometheus duration: what `${window}` becomes for window KPIs. */
  window: string;
  stepMs: number;
  /** The step as a Prometheus duration: what `${step}` becomes. */
  step: string;
  /** Whether the step was chosen by the caller or defaulted to the scrape interval. */
  stepSource: 'request' | 'scrape_interval';
  scrapeIntervalMs: number;
  /**
   * The sliding window used for the time series (`${window}` in range queries): Grafana's
   * $__rate_interval rule, max(4 × scrape interval, step + scrape interval), so a rate at every
   * step sees at least four samples and consecutive windows never leave a scrape out.
   */
  seriesWindowMs: number;
  seriesWindow: string;
  /** Range queries for the time series, each within MAX_POINTS_PER_SERIES. */
  chunks: RangeChunk[];
}

const RFC3339_RE = /^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$/;
const UNIX_SECONDS_RE = /^\d+(\.\d+)?$/;

/**
 * A time as RFC 3339 (with an explicit offset) or Unix seconds (number or numeric text), in whole
 * ms. Sub-millisecond digits are dropped: Prometheus itself evaluates at ms resolution.
 */
export function parseTimeInput(field: string, value: unknown): number {
  if (typeof value === 'number') {
    if (!Number.isFinite(value) || value < 0) throw invalidField(field, `not a valid Unix time in seconds: ${value}`);
    return Math.floor(value * 1000);
  }
  if (typeof value !== 'string' || value.trim() === '') {
    throw invalidField(field, 'expected an RFC 3339 time (2024-05-01T12:00:00Z) or Unix seconds');
  }
  const text = value.trim();
  if (UNIX_SECONDS_RE.test(text)) return Math.floor(Number(text) * 1000);
  const m = RFC3339_RE.exec(text);
  if (!m) throw invalidField(field, `not an RFC 3339 time with a time zone or Unix seconds: ${JSON.stringify(value)}`);
  // Date.parse accepts many shapes; the regex above already limited it to RFC 3339. Truncate
  // the fraction to ms so that ".1234567" parses everywhere the same way.
  const fraction = m[7] === undefined ? '' : m[7].slice(0, 4).padEnd(4, '0');
  const normalised = `${m[1]}-${m[2]}-${m[3]}T${m[4]}:${m[5]}:${m[6]}${fraction}${m[8]!.toUpperCase()}`;
  const ms = Date.parse(normalised);
  // Date.parse rolls 2024-02-30 over to March; reject dates that do not exist.
  const check = new Date(Date.parse(`${m[1]}-${m[2]}-${m[3]}T00:00:00Z`));
  if (Number.isNaN(ms) || Number.isNaN(check.getTime()) || check.getUTCDate() !== Number(m[3]) || Number(m[4]) > 23 || Number(m[5]) > 59 || Number(m[6]) > 59) {
    throw invalidField(field, `not a valid time: ${JSON.stringify(value)}`);
  }
  return ms;
}

/**
 * Prometheus's runtimeinfo `storageRetention` as ms: "15d", "15d or 10GiB" → 15 days; a
 * size-only retention ("10GiB") has no time bound → undefined.
 */
export function parseStorageRetention(text: string | undefined): number | undefined {
  if (!text) return undefined;
  for (const part of text.split(/\s+or\s+/)) {
    const ms = parseDuration(part.trim());
    if (ms !== undefined) return ms;
  }
  return undefined;
}

/** Splits [startMs, endMs] at stepMs into ranges of at most maxPoints evaluation points each. */
export function splitRange(startMs: number, endMs: number, stepMs: number, maxPoints = MAX_POINTS_PER_SERIES): RangeChunk[] {
  if (!(stepMs > 0) || !(maxPoints >= 1)) throw new RangeError('step and maxPoints must be positive');
  if (endMs < startMs) throw new RangeError('end before start');
  const total = Math.floor((endMs - startMs) / stepMs) + 1;
  const chunks: RangeChunk[] = [];
  for (let first = 0; first < total; first += maxPoints) {
    const points = Math.min(maxPoints, total - first);
    const chunkStart = startMs + first * stepMs;
    chunks.push({ startMs: chunkStart, endMs: chunkStart + (points - 1) * stepMs, points });
  }
  return chunks;
}

function iso(ms: number): string {
  return new Date(ms).toISOString();
}

/**
 * Refuses a window that starts before Prometheus's time retention: that data has been deleted
 * (or soon will be), and a KPI over half a window would look like a KPI over all of it.
 */
export function assertWithinRetention(startMs: number, now: Date, retentionMs: number): void {
  const oldest = now.getTime() - retentionMs;
  if (startMs >= oldest) return;
  throw new BenchmonError(
    'UNPROCESSABLE',
    `the window starts at ${iso(startMs)}, before Prometheus's retention of ${formatDuration(retentionMs)} (oldest kept data ≈ ${iso(oldest)}): its data is gone`,
    { details: { field: 'start_time', start_time: iso(startMs), retention: formatDuration(retentionMs) } },
  );
}

/**
 * Checks a window request against the clock (and the retention, when given) and plans its
 * queries. Malformed fields → 400 naming the field; an impossible window → 422 saying why.
 */
export function planWindow(request: WindowRequest, limits: WindowLimits): WindowPlan {
  const startMs = parseTimeInput('start_time', request.start_time);
  const endMs = parseTimeInput('end_time', request.end_time);
  const nowMs = limits.now.getTime();
  const slack = limits.clockSlackMs ?? DEFAULT_CLOCK_SLACK_MS;

  if (endMs <= startMs) {
    throw new BenchmonError('UNPROCESSABLE', `end_time (${iso(endMs)}) must be after start_time (${iso(startMs)})`, {
      details: { field: 'end_time', start_time: iso(startMs), end_time: iso(endMs) },
    });
  }
  if (endMs > nowMs + slack) {
    throw new BenchmonError('UNPROCESSABLE', `the window ends in the future (end_time ${iso(endMs)}, now ${iso(nowMs)}): collect after the window has passed`, {
      details: { field: 'end_time', end_time: iso(endMs), now: iso(nowMs) },
    });
  }
  if (limits.retentionMs !== undefined) assertWithinRetention(startMs, limits.now, limits.retentionMs);

  if (!Number.isInteger(limits.scrapeIntervalMs) || limits.scrapeIntervalMs <= 0) {
    throw new RangeError(`scrape interval must be a positive whole number of ms, got ${limits.scrapeIntervalMs}`);
  }
  let stepMs = limits.scrapeIntervalMs;
  let stepSource: WindowPlan['stepSource'] = 'scrape_interval';
  if (request.step !== undefined) {
    const parsed = parseDuration(request.step);
    if (parsed === undefined) throw invalidField('step', `not a Prometheus duration (e.g. 5s, 1m): ${JSON.stringify(request.step)}`);
    stepMs = parsed;
    stepSource = 'request';
  }

  const durationMs = endMs - startMs;
  const seriesWindowMs = Math.max(4 * limits.scrapeIntervalMs, stepMs + limits.scrapeIntervalMs);
  return {
    startMs,
    endMs,
    durationMs,
    window: formatDuration(durationMs),
    stepMs,
    step: formatDuration(stepMs),
    stepSource,
    scrapeIntervalMs: limits.scrapeIntervalMs,
    seriesWindowMs,
    seriesWindow: formatDuration(seriesWindowMs),
    chunks: splitRange(startMs, endMs, stepMs),
  };
}
