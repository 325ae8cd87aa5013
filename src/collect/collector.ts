/**
 * Collects one window of one session with one recipe: every KPI's value at the window's end
 * (overall and per slice), percentile bucket bounds, data quality and the time series at the
 * step, keeping every query verbatim with its evaluation time.
 *
 * Prometheus unreachable → the BenchmonError (PROM_UNAVAILABLE) propagates and nothing is
 * returned, so no artifacts get written. A query Prometheus rejects (PROM_REQUEST_FAILED)
 * costs only its KPI: value null, the reason in its note.
 */
import { isBenchmonError } from '../errors.js';
import type { ActiveTarget, BuildInfo, QueryResult, TargetsResult, TimeArg } from '../prometheus/client.js';
import { parseDuration } from '../prometheus/duration.js';
import { findTargetGaps, matchesSlice, summariseCoverage, targetKey, type SeriesSampleCount, type TargetGap } from './data-quality.js';
import { quantileBucketBounds } from './histogram-bounds.js';
import {
  boundsContain, bucketGroups, labelSetText, rowsOfInstantResult, valueWithReason, withoutSession,
  type KpiQuality, type KpiResult, type KpiValueRow, type Labels, type ResultRow,
} from './kpi.js';
import { expandQueryTemplate, findSelectors } from './recipes/query-template.js';
import type { Recipe, ResolvedKpi } from './recipes/schema.js';
import { parseSampleValue } from './sample-value.js';
import type { WindowPlan } from './window.js';

/** The part of PrometheusClient the collector uses (so tests can also point it at a recorded server). */
export interface CollectorPrometheus {
  readonly baseUrl: string;
  queryInstant(query: string, time?: TimeArg): Promise<QueryResult>;
  queryRange(query: string, start: TimeArg, end: TimeArg, step: string | number): Promise<QueryResult>;
  buildInfo(): Promise<BuildInfo>;
  getTargets(options?: { state?: 'active' | 'dropped' | 'any' }): Promise<TargetsResult>;
}

export type QueryPurpose = 'targets_up' | 'value' | 'fallback' | 'slices' | 'buckets' | 'slice_buckets' | 'coverage' | 'series' | 'slice_series';

/** One query as sent, for the manifest. Times are RFC 3339 UTC. */
export interface QueryRecord {
  id: number;
  purpose: QueryPurpose;
  /** The KPI that sent it (a query several KPIs share is sent once, for the first of them). */
  kpi: string | null;
  type: 'instant' | 'range';
  query: string;
  /** Evaluation time of an instant query. */
  time: string | null;
  start: string | null;
  end: string | null;
  step: string | null;
  /** Set on the queries of a phase's own KPIs (a collection with per-phase results). */
  phase?: string;
  /** Series in the answer; null when the query failed. */
  result_series: number | null;
  duration_ms: number;
  error: string | null;
}

export interface KpiSeries {
  kpi: string;
  scope: 'overall' | 'slice';
  labels: Labels;
  timestampsMs: number[];
  values: Array<number | null>;
}

/** A target as Prometheus saw it at collection time. */
export interface ScrapeTargetView {
  job: string;
  instance: string;
  health: string;
  scrape_url: string;
  scrape_interval: string | null;
  last_error: string;
}

export interface CollectProgress {
  done: number;
  total: number;
  stage: 'prepare' | 'targets' | 'kpi' | 'series';
  kpi: string | null;
  /** The phase whose own KPIs are being evaluated (collections with per-phase results). */
  phase?: string;
}

export interface CollectRequest {
  sessionId: string;
  plan: WindowPlan;
  recipe: Recipe;
  onProgress?: ((p: CollectProgress) => void) | undefined;
  /** KPIs evaluated at the same time (default 4): Prometheus runs queries in parallel, and a long window's queries are slow one by one. */
  concurrency?: number | undefined;
  /** Query the time series at the step (default true); a phase's own KPIs go without (the whole window has them). */
  series?: boolean | undefined;
}

/** Progress steps of collectWindow: prepare, one per `up` chunk, per KPI its value and (with series) one per chunk. */
export function collectionSteps(plan: Pick<WindowPlan, 'chunks'>, kpis: number, series = true): number {
  return 1 + plan.chunks.length + kpis * (1 + (series ? plan.chunks.length : 0));
}

export interface CollectionResult {
  sessionId: string;
  plan: WindowPlan;
  recipe: Recipe;
  prometheus: { url: string; version: string };
  scrapeTargets: ScrapeTargetView[];
  /** Periods in the window when a target of the session was down or not scraped (from `up`). */
  targetGaps: TargetGap[];
  kpis: KpiResult[];
  series: KpiSeries[];
  queries: QueryRecord[];
  startedAt: string;
  finishedAt: string;
  /** Per-phase results, when the collection asked for them (see runCollection). */
  phases?: PhaseResult[] | undefined;
  /** The phase of the session the window was taken from (collect {phase}). */
  windowPhase?: string | undefined;
}

/** A phase's own KPIs: the recipe evaluated over the phase's window (no time series: the whole window has them). */
export interface PhaseResult {
  name: string;
  plan: WindowPlan;
  kpis: KpiResult[];
  /** Periods in the phase when a target of the session was down or not scraped. */
  targetGaps: TargetGap[];
}

const iso = (ms: number) => new Date(ms).toISOString();
const seconds = (ms: number) => ms / 1000;

/** Records every query, keeps them in id order and lets only "Prometheus is gone" escape. */
class QueryLog {
  readonly records: QueryRecord[] = [];
  private nextId = 1;
  private readonly sent = new Map<string, Promise<QueryResult>>();

  constructor(private readonly prom: CollectorPrometheus) {}

  /**
   * An instant query; the same query at the same time is sent once (p50, p95 and p99 of one
   * histogram share their bucket and coverage queries) and recorded once.
   */
  async instant(purpose: QueryPurpose, kpi: string | null, query: string, timeMs: number): Promise<QueryResult> {
    const key = `${timeMs}\n${query}`;
    let pending = this.sent.get(key);
    if (!pending) {
      const record = this.open(purpose, kpi, 'instant', query, { time: iso(timeMs) });
      pending = this.run(record, () => this.prom.queryInstant(query, seconds(timeMs)));
      this.sent.set(key, pending);
    }
    return pending;
  }

  async range(purpose: QueryPurpose, kpi: string | null, query: string, startMs: number, endMs: number, step: string): Promise<QueryResult> {
    const record = this.open(purpose, kpi, 'range', query, { start: iso(startMs), end: iso(endMs), step });
    return this.run(record, () => this.prom.queryRange(query, seconds(startMs), seconds(endMs), step));
  }

  private open(purpose: QueryPurpose, kpi: string | null, type: 'instant' | 'range', query: string, times: Partial<Pick<QueryRecord, 'time' | 'start' | 'end' | 'step'>>): QueryRecord {
    const record: QueryRecord = {
      id: this.nextId++, purpose, kpi, type, query,
      time: times.time ?? null, start: times.start ?? null, end: times.end ?? null, step: times.step ?? null,
      result_series: null, duration_ms: 0, error: null,
    };
    this.records.push(record);
    return record;
  }

  private async run(record: QueryRecord, call: () => Promise<QueryResult>): Promise<QueryResult> {
    const t0 = performance.now();
    try {
      const result = await call();
      record.result_series = result.resultType === 'vector' || result.resultType === 'matrix' ? result.result.length : 1;
      return result;
    } catch (err) {
      record.error = (err as Error).message;
      throw err;
    } finally {
      record.duration_ms = Math.round((performance.now() - t0) * 1000) / 1000;
    }
  }
}

/** A query Prometheus answered with an error: it costs its KPI, not the collection. */
function isRejectedQuery(err: unknown): boolean {
  return isBenchmonError(err) && err.code === 'PROM_REQUEST_FAILED';
}

function scrapeTargetsOf(targets: TargetsResult, sessionId: string): ScrapeTargetView[] {
  return targets.activeTargets
    .filter((t: ActiveTarget) => t.labels.session === sessionId)
    .map((t) => ({
      job: t.labels.job ?? '',
      instance: t.labels.instance ?? '',
      health: t.health,
      scrape_url: t.scrapeUrl,
      scrape_interval: t.scrapeInterval ?? null,
      last_error: t.lastError,
    }))
    .sort((a, b) => `${a.job}/${a.instance}`.localeCompare(`${b.job}/${b.instance}`));
}

function mergeMatrix(into: Map<string, { labels: Labels; timestampsMs: number[]; values: Array<number | null> }>, result: QueryResult): void {
  if (result.resultType !== 'matrix') throw new Error(`expected a matrix result, got ${result.resultType}`);
  for (const s of result.result) {
    const labels = withoutSession(s.metric);
    const key = labelSetText(labels);
    let entry = into.get(key);
    if (!entry) {
      entry = { labels, timestampsMs: [], values: [] };
      into.set(key, entry);
    }
    for (const [t, v] of s.values) {
      entry.timestampsMs.push(Math.round(t * 1000));
      entry.values.push(parseSampleValue(v));
    }
  }
}

async function runPool<T>(items: readonly T[], concurrency: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const workers = Array.from({ length: Math.max(1, Math.min(concurrency, items.length)) }, async () => {
    while (next < items.length) {
      const item = items[next++]!;
      await work(item);
    }
  });
  await Promise.all(workers);
}

export async function collectWindow(prom: CollectorPrometheus, request: CollectRequest): Promise<CollectionResult> {
  const { sessionId, plan, recipe } = request;
  const startedAt = new Date().toISOString();
  const log = new QueryLog(prom);
  const chunks = plan.chunks;
  const withSeries = request.series ?? true;
  const total = collectionSteps(plan, recipe.kpis.length, withSeries);
  let done = 0;
  const progress = (stage: CollectProgress['stage'], kpi: string | null) => request.onProgress?.({ done: ++done, total, stage, kpi });

  // buildinfo first: it is cheap and tells at once whether Prometheus is there at all.
  const build = await prom.buildInfo();
  const scrapeTargets = scrapeTargetsOf(await prom.getTargets({ state: 'active' }), sessionId);
  const intervals = new Map<string, number>();
  for (const t of scrapeTargets) {
    const ms = t.scrape_interval ? parseDuration(t.scrape_interval) : undefined;
    if (ms !== undefined) intervals.set(`${t.job}/${t.instance}`, ms);
  }
  const intervalFor = (key: string) => intervals.get(key) ?? plan.scrapeIntervalMs;
  progress('prepare', null);

  const upQuery = expandQueryTemplate('up{${session}}', { sessionId, window: plan.window, step: plan.step, by: [] });
  const upSeries = new Map<string, { labels: Labels; timestampsMs: number[]; values: Array<number | null> }>();
  for (const chunk of chunks) {
    mergeMatrix(upSeries, await log.range('targets_up', null, upQuery, chunk.startMs, chunk.endMs, plan.step));
    progress('targets', null);
  }
  const targetGaps = findTargetGaps(
    [...upSeries.values()].map((s) => ({ labels: s.labels, points: s.timestampsMs.map((t, i) => [t, s.values[i] ?? null] as const) })),
    plan,
  );

  const kpis = new Map<string, KpiResult>();
  const series = new Map<string, KpiSeries[]>();
  await runPool(recipe.kpis, request.concurrency ?? 4, async (kpi) => {
    const evaluated = await evaluateKpi(log, { sessionId, plan, kpi, intervalFor, targetGaps, progress, withSeries });
    kpis.set(kpi.name, evaluated.result);
    series.set(kpi.name, evaluated.series);
  });

  log.records.sort((a, b) => a.id - b.id);
  return {
    sessionId,
    plan,
    recipe,
    prometheus: { url: prom.baseUrl, version: build.version },
    scrapeTargets,
    targetGaps,
    kpis: recipe.kpis.map((k) => kpis.get(k.name)!),
    series: recipe.kpis.flatMap((k) => series.get(k.name) ?? []),
    queries: log.records,
    startedAt,
    finishedAt: new Date().toISOString(),
  };
}

interface KpiContext {
  sessionId: string;
  plan: WindowPlan;
  kpi: ResolvedKpi;
  intervalFor: (target: string) => number;
  targetGaps: TargetGap[];
  progress: (stage: CollectProgress['stage'], kpi: string | null) => void;
  withSeries: boolean;
}

const EMPTY_QUALITY: KpiQuality = { series: 0, targets: 0, samples_expected: 0, samples_present: 0, coverage: null, gaps: [], targets_down: [] };

async function evaluateKpi(log: QueryLog, ctx: KpiContext): Promise<{ result: KpiResult; series: KpiSeries[] }> {
  const { sessionId, plan, kpi } = ctx;
  const at = plan.endMs;
  const expand = (template: string, by: readonly string[], window = plan.window) => expandQueryTemplate(template, { sessionId, window, step: plan.step, by });
  const base = {
    name: kpi.name,
    description: kpi.description ?? null,
    unit: kpi.unit,
    method: kpi.method,
    higher_is_better: kpi.higher_is_better,
    slice_by: kpi.slice_by,
  };
  const notes: string[] = [];
  const skipSeries = () => {
    if (!ctx.withSeries) return;
    for (let i = 0; i < plan.chunks.length; i++) ctx.progress('series', kpi.name);
  };

  // 1. The overall value; the fallback only when the query matched nothing at all.
  let template = kpi.query;
  let used: KpiResult['query_used'] = 'query';
  let query = expand(template, []);
  let rows: ResultRow[];
  try {
    rows = rowsOfInstantResult(await log.instant('value', kpi.name, query, at));
    if (rows.length === 0 && kpi.fallback_query !== undefined) {
      const fallbackQuery = expand(kpi.fallback_query, []);
      const fallbackRows = rowsOfInstantResult(await log.instant('fallback', kpi.name, fallbackQuery, at));
      if (fallbackRows.length > 0) {
        template = kpi.fallback_query;
        used = 'fallback_query';
        query = fallbackQuery;
        rows = fallbackRows;
      }
    }
  } catch (err) {
    if (!isRejectedQuery(err)) throw err;
    ctx.progress('kpi', kpi.name);
    skipSeries();
    const note = `no value: Prometheus rejected the query: ${(err as Error).message}`;
    return {
      result: { ...base, query_used: used, query, value: null, note, bounds: null, quality: EMPTY_QUALITY, rows: [], series_points: 0, series_null_points: 0 },
      series: [],
    };
  }
  const bucketsTemplate = kpi.histogram ? (used === 'query' ? kpi.histogram.buckets : kpi.histogram.fallback_buckets) : undefined;

  // 2. Per-slice values.
  let sliceRows: ResultRow[] = [];
  if (kpi.slice_by.length > 0 && rows.length > 0) {
    try {
      sliceRows = rowsOfInstantResult(await log.instant('slices', kpi.name, expand(template, kpi.slice_by), at));
    } catch (err) {
      if (!isRejectedQuery(err)) throw err;
      notes.push(`per-slice values failed: ${(err as Error).message}`);
    }
  }

  // 3. Bucket bounds of each percentile.
  const boundsOf = async (purpose: 'buckets' | 'slice_buckets', by: readonly string[]) => {
    if (!bucketsTemplate || !kpi.histogram) return new Map<string, ReturnType<typeof quantileBucketBounds>>();
    try {
      const groups = bucketGroups(await log.instant(purpose, kpi.name, expand(bucketsTemplate, by), at));
      const out = new Map<string, ReturnType<typeof quantileBucketBounds>>();
      for (const [key, g] of groups) out.set(key, quantileBucketBounds(kpi.histogram.quantile, g.buckets));
      return out;
    } catch (err) {
      if (!isRejectedQuery(err)) throw err;
      notes.push(`bucket bounds failed: ${(err as Error).message}`);
      return new Map<string, ReturnType<typeof quantileBucketBounds>>();
    }
  };
  const overallBounds = rows.length > 0 ? await boundsOf('buckets', []) : new Map();
  const sliceBounds = sliceRows.length > 0 ? await boundsOf('slice_buckets', kpi.slice_by) : new Map();

  // 4. Samples behind the KPI: count_over_time of each selector over the window.
  const counts: Array<SeriesSampleCount & { key: string }> = [];
  const seen = new Set<string>();
  for (const selector of uniqueSelectors(template)) {
    const selectorQuery = `count_over_time(${expand(selector.text, [])}[${plan.window}])`;
    try {
      const result = await log.instant('coverage', kpi.name, selectorQuery, at);
      for (const row of rowsOfInstantResult(result)) {
        const key = `${selector.metric ?? selector.text}|${labelSetText(row.labels)}`;
        if (seen.has(key) || row.raw === null) continue;
        seen.add(key);
        counts.push({ key, labels: row.labels, count: row.raw });
      }
    } catch (err) {
      if (!isRejectedQuery(err)) throw err;
      notes.push(`coverage query failed: ${(err as Error).message}`);
    }
  }
  const qualityFor = (slice: Labels): KpiQuality => {
    const matching = counts.filter((c) => matchesSlice(c.labels, slice));
    const summary = summariseCoverage(matching, plan.durationMs, ctx.intervalFor);
    const keys = new Set(summary.targetKeys);
    const gaps = ctx.targetGaps.filter((g) => keys.has(targetKey(g)));
    return {
      series: summary.series,
      targets: summary.targets,
      samples_expected: summary.samplesExpected,
      samples_present: summary.samplesPresent,
      coverage: summary.coverage,
      gaps,
      targets_down: [...new Set(gaps.map((g) => targetKey(g)))].sort(),
    };
  };
  ctx.progress('kpi', kpi.name);

  const metricNames = [...new Set(findSelectors(template).map((s) => s.metric ?? s.text))];
  const makeRow = (scope: KpiValueRow['scope'], row: { labels: Labels; raw: number | null }, boundsMap: Map<string, ReturnType<typeof quantileBucketBounds>>): KpiValueRow => {
    const { value, note } = valueWithReason(row.raw, kpi.method);
    const rowNotes = note ? [note] : [];
    let bounds = null;
    const outcome = boundsMap.get(labelSetText(row.labels));
    if (kpi.histogram && outcome) {
      if (outcome.ok) {
        bounds = outcome.bounds;
        if (bounds.inInfBucket) rowNotes.push(`estimate fell into the +Inf bucket: the true q${kpi.histogram.quantile} is above ${bounds.lower}, the value is only a floor`);
        if (value !== null && !boundsContain(bounds, value)) rowNotes.push('bucket bounds and estimate disagree: data changed between the queries');
      } else if (value !== null) {
        rowNotes.push(`bucket bounds unavailable: ${outcome.reason}`);
      }
    }
    return { scope, labels: row.labels, value, note: rowNotes.length > 0 ? rowNotes.join('; ') : null, bounds, quality: qualityFor(row.labels) };
  };

  const valueRows = [
    ...rows.map((r) => makeRow('overall', r, overallBounds)),
    ...sliceRows.map((r) => makeRow('slice', r, sliceBounds)),
  ];
  const overallRows = valueRows.filter((r) => r.scope === 'overall');
  let value: number | null = null;
  let note: string | null;
  let bounds = null;
  let quality: KpiQuality;
  if (overallRows.length === 1) {
    const only = overallRows[0]!;
    value = only.value;
    note = only.note;
    bounds = only.bounds;
    quality = only.quality;
  } else if (overallRows.length === 0) {
    const fallbackNames = kpi.fallback_query !== undefined ? [...new Set(findSelectors(kpi.fallback_query).map((s) => s.metric ?? s.text))] : [];
    note = `no data: no series of ${[...metricNames, ...fallbackNames].join(', ')} for session ${sessionId} in the window`;
    quality = qualityFor({});
  } else {
    note = `the overall query returned ${overallRows.length} series; see the rows`;
    quality = qualityFor({});
  }

  // 5. The time series at the step: overall, and per slice when the KPI has slices.
  const kpiSeries: KpiSeries[] = [];
  if (rows.length > 0 && ctx.withSeries) {
    const scopes: Array<{ scope: KpiSeries['scope']; by: readonly string[] }> = [{ scope: 'overall', by: [] }];
    if (sliceRows.length > 0) scopes.push({ scope: 'slice', by: kpi.slice_by });
    const merged = scopes.map(() => new Map<string, { labels: Labels; timestampsMs: number[]; values: Array<number | null> }>());
    for (const chunk of plan.chunks) {
      for (let i = 0; i < scopes.length; i++) {
        const scope = scopes[i]!;
        const seriesQuery = expand(template, scope.by, plan.seriesWindow);
        try {
          mergeMatrix(merged[i]!, await log.range(scope.scope === 'overall' ? 'series' : 'slice_series', kpi.name, seriesQuery, chunk.startMs, chunk.endMs, plan.step));
        } catch (err) {
          if (!isRejectedQuery(err)) throw err;
          notes.push(`time series failed: ${(err as Error).message}`);
        }
      }
      ctx.progress('series', kpi.name);
    }
    scopes.forEach((scope, i) => {
      for (const s of merged[i]!.values()) kpiSeries.push({ kpi: kpi.name, scope: scope.scope, ...s });
    });
  } else {
    skipSeries();
  }
  const expectedPoints = ctx.withSeries ? plan.chunks.reduce((n, c) => n + c.points, 0) : 0;
  const seriesPoints = kpiSeries.length * expectedPoints;
  const presentPoints = kpiSeries.reduce((n, s) => n + s.values.filter((v) => v !== null).length, 0);
  if (notes.length > 0) note = [note, ...notes].filter((n): n is string => n !== null).join('; ');

  return {
    result: {
      ...base, query_used: used, query, value, note, bounds, quality, rows: valueRows,
      series_points: seriesPoints, series_null_points: seriesPoints - presentPoints,
    },
    series: kpiSeries,
  };
}

/** The distinct selectors of a template, in order. */
function uniqueSelectors(template: string): Array<{ text: string; metric: string | undefined }> {
  const seen = new Set<string>();
  const out: Array<{ text: string; metric: string | undefined }> = [];
  for (const s of findSelectors(template)) {
    if (seen.has(s.text)) continue;
    seen.add(s.text);
    out.push({ text: s.text, metric: s.metric });
  }
  return out;
}
