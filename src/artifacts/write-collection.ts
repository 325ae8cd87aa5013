/**
 * Writes a collection's artifacts: metrics_summary.csv, timeseries.csv, timeseries.parquet and
 * MANIFEST.json (validated against its schema), staged and renamed into place.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import type { CollectionResult } from '../collect/collector.js';
import type { TargetGap } from '../collect/data-quality.js';
import type { KpiQuality, KpiResult, KpiValueRow } from '../collect/kpi.js';
import { formatDuration } from '../prometheus/duration.js';
import { BENCHMON_VERSION } from '../version.js';
import { commitCollection, discardCollection, resolveCollectionParent, stageCollection } from './collection-dir.js';
import { manifestProblems, MANIFEST_SCHEMA_VERSION, type Manifest, type ManifestFile, type ManifestGap, type ManifestKpi, type ManifestQuality } from './manifest.js';
import { metricsSummaryRows, renderMetricsSummaryCsv, sliceName } from './metrics-summary.js';
import { writeTimeseriesCsv, writeTimeseriesParquet } from './timeseries.js';

export const ARTIFACT_FILES = {
  summary: 'metrics_summary.csv',
  timeseriesCsv: 'timeseries.csv',
  timeseriesParquet: 'timeseries.parquet',
  manifest: 'MANIFEST.json',
} as const;

export interface ArtifactInputs {
  /** ARTIFACTS_ROOT. */
  artifactsRoot: string;
  /** The request's output_dir: parent of the collection directory, inside artifactsRoot. */
  outputDir?: string | undefined;
  /** Session labels as stored by benchmon. */
  sessionLabels: Record<string, string>;
  /** The session's registered targets as stored by benchmon (any JSON objects). */
  targets: ReadonlyArray<Record<string, unknown>>;
  /** sha256 of the prometheus.yml in force (null when not known, e.g. an external Prometheus). */
  prometheusConfigSha256: string | null;
  now?: Date | undefined;
}

export interface WrittenCollection {
  id: string;
  dir: string;
  manifestPath: string;
  manifest: Manifest;
}

export async function sha256OfFile(file: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

async function describeFile(dir: string, name: string, mediaType: string, rows: number | null): Promise<ManifestFile> {
  const file = path.join(dir, name);
  const [stat, sha256] = await Promise.all([fs.stat(file), sha256OfFile(file)]);
  return { name, bytes: stat.size, sha256, media_type: mediaType, rows };
}

function gapOut(g: TargetGap): ManifestGap {
  return {
    job: g.job, instance: g.instance, from: new Date(g.fromMs).toISOString(), to: new Date(g.toMs).toISOString(),
    seconds: (g.toMs - g.fromMs) / 1000, kind: g.kind,
  };
}

function qualityOut(q: KpiQuality): ManifestQuality {
  return { ...q, gaps: q.gaps.map(gapOut) };
}

/** JSON has no ±Infinity: a bound at ±Inf is null (with in_inf_bucket saying which). */
function boundsOut(bounds: KpiValueRow['bounds']) {
  return {
    lower_bound: bounds && Number.isFinite(bounds.lower) ? bounds.lower : null,
    upper_bound: bounds && Number.isFinite(bounds.upper) ? bounds.upper : null,
    in_inf_bucket: bounds?.inInfBucket ?? false,
    observations: bounds?.observations ?? null,
  };
}

function kpiOut(k: KpiResult): ManifestKpi {
  return {
    name: k.name,
    description: k.description,
    unit: k.unit,
    method: k.method,
    higher_is_better: k.higher_is_better,
    slice_by: k.slice_by,
    query_used: k.query_used,
    query: k.query,
    value: k.value,
    note: k.note,
    ...boundsOut(k.bounds),
    quality: qualityOut(k.quality),
    rows: k.rows.map((r) => ({
      scope: r.scope,
      slice: sliceName(r, k.slice_by),
      labels: r.labels,
      value: r.value,
      note: r.note,
      ...boundsOut(r.bounds),
      quality: qualityOut(r.quality),
    })),
    series_points: k.series_points,
    series_null_points: k.series_null_points,
  };
}

export function buildManifest(result: CollectionResult, inputs: ArtifactInputs, id: string, files: ManifestFile[], createdAt: Date): Manifest {
  const { plan, recipe } = result;
  const rowsWithoutValue = result.kpis.reduce((n, k) => n + (k.rows.length === 0 ? 1 : k.rows.filter((r) => r.value === null).length), 0);
  return {
    schema_version: MANIFEST_SCHEMA_VERSION,
    benchmon_version: BENCHMON_VERSION,
    collection_id: id,
    created_at: createdAt.toISOString(),
    collection: {
      started_at: result.startedAt,
      finished_at: result.finishedAt,
      duration_ms: Date.parse(result.finishedAt) - Date.parse(result.startedAt),
    },
    session: {
      session_id: result.sessionId,
      labels: { ...inputs.sessionLabels },
      targets: inputs.targets.map((t) => ({ ...t })),
      prometheus_targets: result.scrapeTargets,
    },
    window: {
      start: new Date(plan.startMs).toISOString(),
      end: new Date(plan.endMs).toISOString(),
      start_unix: plan.startMs / 1000,
      end_unix: plan.endMs / 1000,
      duration: plan.window,
      duration_seconds: plan.durationMs / 1000,
      step: plan.step,
      step_seconds: plan.stepMs / 1000,
      step_source: plan.stepSource,
      scrape_interval: formatDuration(plan.scrapeIntervalMs),
      series_window: plan.seriesWindow,
      range_chunks: plan.chunks.length,
      ...(result.windowPhase === undefined ? {} : { phase: result.windowPhase }),
    },
    recipe: {
      name: recipe.name,
      description: recipe.description ?? null,
      source: recipe.source,
      sha256: recipe.sha256,
      kpis: recipe.kpis.map((k) => ({
        name: k.name,
        ...(k.description === undefined ? {} : { description: k.description }),
        unit: k.unit,
        method: k.method,
        higher_is_better: k.higher_is_better,
        query: k.query,
        ...(k.fallback_query === undefined ? {} : { fallback_query: k.fallback_query }),
        slice_by: k.slice_by,
      })),
    },
    prometheus: { url: result.prometheus.url, version: result.prometheus.version, config_sha256: inputs.prometheusConfigSha256 },
    queries: result.queries.map((q) => ({ ...q })),
    kpis: result.kpis.map(kpiOut),
    ...(result.phases === undefined
      ? {}
      : {
          phases: result.phases.map((p) => ({
            name: p.name,
            start: new Date(p.plan.startMs).toISOString(),
            end: new Date(p.plan.endMs).toISOString(),
            kpis: p.kpis.map(kpiOut),
          })),
        }),
    data_quality: {
      targets_down: result.targetGaps.map(gapOut),
      kpis_without_value: result.kpis.filter((k) => k.value === null).map((k) => k.name),
      null_values: rowsWithoutValue,
      series_null_points: result.kpis.reduce((n, k) => n + k.series_null_points, 0),
      failed_queries: result.queries.filter((q) => q.error !== null).length,
    },
    files,
  };
}

/**
 * Writes the artifacts of a finished collection and returns where they are. Throws (and leaves
 * nothing behind) if any file cannot be written or the manifest would not match its schema.
 */
export async function writeCollectionArtifacts(result: CollectionResult, inputs: ArtifactInputs): Promise<WrittenCollection> {
  const parent = await resolveCollectionParent(inputs.artifactsRoot, result.sessionId, inputs.outputDir);
  const now = inputs.now ?? new Date();
  const staged = await stageCollection(parent, now);
  try {
    const sliceBy = new Map(result.kpis.map((k) => [k.name, k.slice_by]));
    const sliceByOf = (kpi: string) => sliceBy.get(kpi) ?? [];
    const phases = result.phases ?? [];
    await fs.writeFile(path.join(staged.stagingDir, ARTIFACT_FILES.summary), renderMetricsSummaryCsv(result.kpis, phases), { flag: 'wx' });
    const csvRows = await writeTimeseriesCsv(path.join(staged.stagingDir, ARTIFACT_FILES.timeseriesCsv), result.series, sliceByOf);
    const parquetRows = await writeTimeseriesParquet(path.join(staged.stagingDir, ARTIFACT_FILES.timeseriesParquet), result.series, sliceByOf, `benchmon version ${BENCHMON_VERSION}`);
    const summaryRows = metricsSummaryRows(result.kpis, phases).length;
    const files = await Promise.all([
      describeFile(staged.stagingDir, ARTIFACT_FILES.summary, 'text/csv', summaryRows),
      describeFile(staged.stagingDir, ARTIFACT_FILES.timeseriesCsv, 'text/csv', csvRows),
      describeFile(staged.stagingDir, ARTIFACT_FILES.timeseriesParquet, 'application/vnd.apache.parquet', parquetRows),
    ]);
    const manifest = buildManifest(result, inputs, staged.id, files, now);
    const problems = manifestProblems(manifest);
    if (problems.length > 0) throw new Error(`the manifest does not match its schema (a benchmon bug): ${problems.slice(0, 10).join('; ')}`);
    await fs.writeFile(path.join(staged.stagingDir, ARTIFACT_FILES.manifest), `${JSON.stringify(manifest, null, 2)}\n`, { flag: 'wx' });
    const dir = await commitCollection(staged);
    return { id: staged.id, dir, manifestPath: path.join(dir, ARTIFACT_FILES.manifest), manifest };
  } catch (err) {
    await discardCollection(staged);
    throw err;
  }
}
