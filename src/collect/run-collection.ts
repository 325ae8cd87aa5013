/**
 * One collection from request to artifacts, in the order that keeps failures cheap and honest:
 * the caller's mistakes first (recipe, output_dir, times, phases: 400/404/422), then Prometheus
 * (retention: 422; unreachable: 503, before anything is written), then the queries, then the files.
 * This is what the MonitoringService facade calls for POST /sessions/{id}/collect.
 *
 * Phases: the window can be a phase of the session (`phase`), and `phases` adds per-phase KPIs
 * side by side: the same recipe evaluated over each phase's own window (value at the phase's end
 * over W = the phase, exactly like the whole window's), while the time series stay those of the
 * whole window.
 */
import type { PrometheusClient } from '../prometheus/client.js';
import { resolveCollectionParent } from '../artifacts/collection-dir.js';
import { writeCollectionArtifacts, type WrittenCollection } from '../artifacts/write-collection.js';
import type { ManifestKpi } from '../artifacts/manifest.js';
import { collectionSteps, collectWindow, type CollectProgress, type CollectionResult } from './collector.js';
import { selectCollectionWindow, selectPhaseWindows, type ALL_PHASES, type Phase } from './phases.js';
import { resolveCollectRecipe } from './recipes/load.js';
import { assertWithinRetention, parseStorageRetention, planWindow, type TimeInput, type WindowPlan } from './window.js';

/**
 * The body of POST /api/v1/sessions/{id}/collect. The window comes from exactly one of:
 * start_time + end_time, phase, or (neither given) the span of the phases listed in `phases`.
 */
export interface CollectRequestBody {
  start_time?: TimeInput | undefined;
  end_time?: TimeInput | undefined;
  /** A phase of the session: the window is its start and end (it must have ended). */
  phase?: string | undefined;
  /** Per-phase KPIs side by side: these phases, or "all" the phases in the window. */
  phases?: string[] | typeof ALL_PHASES | undefined;
  step?: string | undefined;
  /** Built-in recipe name, or an inline recipe document. Default: `default`. */
  recipe?: unknown;
  /** Ad-hoc KPI definitions (same fields as a recipe's kpis). */
  queries?: unknown;
  /** Parent directory of the collection, inside ARTIFACTS_ROOT. */
  output_dir?: string | undefined;
}

export interface RunCollectionOptions {
  sessionId: string;
  body: CollectRequestBody;
  /** The session's scrape interval in ms (the default step). */
  scrapeIntervalMs: number;
  artifactsRoot: string;
  sessionLabels: Record<string, string>;
  targets: ReadonlyArray<Record<string, unknown>>;
  prometheusConfigSha256: string | null;
  /** The session's phases (for `phase` and `phases`). */
  phases?: readonly Phase[] | undefined;
  onProgress?: ((p: CollectProgress) => void) | undefined;
  /** The clock (tests fix it). */
  now?: (() => Date) | undefined;
}

export interface KpiSummary {
  name: string;
  unit: string;
  method: string;
  value: number | null;
  lower_bound: number | null;
  upper_bound: number | null;
  in_inf_bucket: boolean;
  coverage: number | null;
  note: string | null;
}

/** A phase's own KPIs in a collection with per-phase results (times RFC 3339). */
export interface PhaseSummary {
  name: string;
  start: string;
  end: string;
  kpis: KpiSummary[];
}

export interface CollectionSummary {
  collection_id: string;
  session_id: string;
  directory: string;
  manifest: string;
  files: Record<string, string>;
  /** phase: the phase of the session the window was taken from (collect {phase}). */
  window: { start: string; end: string; step: string; phase?: string };
  recipe: string;
  kpis: KpiSummary[];
  /** Present when the collection asked for per-phase results. */
  phases?: PhaseSummary[];
  targets_down: number;
}

export async function runCollection(prom: PrometheusClient, options: RunCollectionOptions): Promise<{ result: CollectionResult; written: WrittenCollection; summary: CollectionSummary }> {
  const now = options.now ?? (() => new Date());
  const { body } = options;
  const recipe = resolveCollectRecipe(body);
  await resolveCollectionParent(options.artifactsRoot, options.sessionId, body.output_dir);
  const sessionPhases = options.phases ?? [];
  const window = selectCollectionWindow(options.sessionId, body, sessionPhases);
  const limits = { now: now(), scrapeIntervalMs: options.scrapeIntervalMs };
  const plan = planWindow({ start_time: window.start_time, end_time: window.end_time, step: body.step }, limits);
  const phasePlans: Array<{ name: string; plan: WindowPlan }> = selectPhaseWindows(options.sessionId, body.phases, sessionPhases, plan).map((w) => ({
    name: w.name,
    plan: planWindow({ start_time: new Date(w.startMs).toISOString(), end_time: new Date(w.endMs).toISOString(), step: body.step }, limits),
  }));
  const retentionMs = parseStorageRetention((await prom.runtimeInfo()).storageRetention);
  if (retentionMs !== undefined) assertWithinRetention(plan.startMs, now(), retentionMs);

  // One progress count over the whole window and every phase.
  const kpiCount = recipe.kpis.length;
  const total = collectionSteps(plan, kpiCount) + phasePlans.reduce((n, p) => n + collectionSteps(p.plan, kpiCount, false), 0);
  let offset = 0;
  const progressOf = (phase?: string) => {
    const report = options.onProgress;
    if (!report) return undefined;
    return (p: CollectProgress) => report({ ...p, done: offset + p.done, total, ...(phase === undefined ? {} : { phase }) });
  };

  const result = await collectWindow(prom, { sessionId: options.sessionId, plan, recipe, onProgress: progressOf() });
  offset += collectionSteps(plan, kpiCount);
  if (window.phase !== null) result.windowPhase = window.phase;
  if (phasePlans.length > 0) {
    result.phases = [];
    for (const phase of phasePlans) {
      const r = await collectWindow(prom, { sessionId: options.sessionId, plan: phase.plan, recipe, series: false, onProgress: progressOf(phase.name) });
      offset += collectionSteps(phase.plan, kpiCount, false);
      // The phase's queries join the collection's, numbered on and tagged with the phase.
      const firstId = result.queries.length + 1;
      result.queries.push(...r.queries.map((q, i) => ({ ...q, id: firstId + i, phase: phase.name })));
      result.phases.push({ name: phase.name, plan: phase.plan, kpis: r.kpis, targetGaps: r.targetGaps });
    }
    result.finishedAt = new Date().toISOString();
  }
  const written = await writeCollectionArtifacts(result, {
    artifactsRoot: options.artifactsRoot,
    outputDir: body.output_dir,
    sessionLabels: options.sessionLabels,
    targets: options.targets,
    prometheusConfigSha256: options.prometheusConfigSha256,
    now: now(),
  });
  return { result, written, summary: summariseCollection(written) };
}

function kpiSummary(k: ManifestKpi): KpiSummary {
  return {
    name: k.name, unit: k.unit, method: k.method, value: k.value,
    lower_bound: k.lower_bound, upper_bound: k.upper_bound, in_inf_bucket: k.in_inf_bucket,
    coverage: k.quality.coverage, note: k.note,
  };
}

/** The answer of a collect request and what `GET /collections` can list: the KPIs and where the files are. */
export function summariseCollection(written: WrittenCollection): CollectionSummary {
  const m = written.manifest;
  return {
    collection_id: m.collection_id,
    session_id: m.session.session_id,
    directory: written.dir,
    manifest: written.manifestPath,
    files: Object.fromEntries(m.files.map((f) => [f.name, `${written.dir}/${f.name}`])),
    window: { start: m.window.start, end: m.window.end, step: m.window.step, ...(m.window.phase === undefined ? {} : { phase: m.window.phase }) },
    recipe: m.recipe.name,
    kpis: m.kpis.map(kpiSummary),
    ...(m.phases === undefined ? {} : { phases: m.phases.map((p) => ({ name: p.name, start: p.start, end: p.end, kpis: p.kpis.map(kpiSummary) })) }),
    targets_down: new Set(m.data_quality.targets_down.map((g) => `${g.job}/${g.instance}`)).size,
  };
}
