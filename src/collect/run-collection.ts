/**
 * One collection from request to artifacts, in the order that keeps failures cheap and honest:
 * the caller's mistakes first (recipe, output_dir, times: 400), then Prometheus (retention:
 * 422; unreachable: 503, before anything is written), then the queries, then the files.
 * This is what the MonitoringService facade calls for POST /sessions/{id}/collect.
 */
import type { PrometheusClient } from '../prometheus/client.js';
import { resolveCollectionParent } from '../artifacts/collection-dir.js';
import { writeCollectionArtifacts, type WrittenCollection } from '../artifacts/write-collection.js';
import { collectWindow, type CollectProgress, type CollectionResult } from './collector.js';
import { resolveCollectRecipe } from './recipes/load.js';
import { assertWithinRetention, parseStorageRetention, planWindow, type TimeInput } from './window.js';

/** The body of POST /api/v1/sessions/{id}/collect. */
export interface CollectRequestBody {
  start_time: TimeInput;
  end_time: TimeInput;
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

export interface CollectionSummary {
  collection_id: string;
  session_id: string;
  directory: string;
  manifest: string;
  files: Record<string, string>;
  window: { start: string; end: string; step: string };
  recipe: string;
  kpis: KpiSummary[];
  targets_down: number;
}

export async function runCollection(prom: PrometheusClient, options: RunCollectionOptions): Promise<{ result: CollectionResult; written: WrittenCollection; summary: CollectionSummary }> {
  const now = options.now ?? (() => new Date());
  const { body } = options;
  const recipe = resolveCollectRecipe(body);
  await resolveCollectionParent(options.artifactsRoot, options.sessionId, body.output_dir);
  const plan = planWindow({ start_time: body.start_time, end_time: body.end_time, step: body.step }, { now: now(), scrapeIntervalMs: options.scrapeIntervalMs });
  const retentionMs = parseStorageRetention((await prom.runtimeInfo()).storageRetention);
  if (retentionMs !== undefined) assertWithinRetention(plan.startMs, now(), retentionMs);

  const result = await collectWindow(prom, { sessionId: options.sessionId, plan, recipe, onProgress: options.onProgress });
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

/** The answer of a collect request and what `GET /collections` can list: the KPIs and where the files are. */
export function summariseCollection(written: WrittenCollection): CollectionSummary {
  const m = written.manifest;
  return {
    collection_id: m.collection_id,
    session_id: m.session.session_id,
    directory: written.dir,
    manifest: written.manifestPath,
    files: Object.fromEntries(m.files.map((f) => [f.name, `${written.dir}/${f.name}`])),
    window: { start: m.window.start, end: m.window.end, step: m.window.step },
    recipe: m.recipe.name,
    kpis: m.kpis.map((k) => ({
      name: k.name, unit: k.unit, method: k.method, value: k.value,
      lower_bound: k.lower_bound, upper_bound: k.upper_bound, in_inf_bucket: k.in_inf_bucket,
      coverage: k.quality.coverage, note: k.note,
    })),
    targets_down: new Set(m.data_quality.targets_down.map((g) => `${g.job}/${g.instance}`)).size,
  };
}
