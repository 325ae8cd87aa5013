/**
 * MANIFEST.json: everything needed to trust and reproduce a collection: the window, the recipe,
 * every query verbatim with its evaluation time, where the data came from, KPI values with
 * their data quality, and each file's size and sha256.
 *
 * The schema is written once, in TypeBox: the TypeScript type derives from it, the published
 * JSON Schema (manifest.schema.json, draft 2020-12) is generated from it (a test keeps the file
 * in step), and every manifest is validated against it before it is written.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Type, type Static, type TSchema } from '@sinclair/typebox';
import { Ajv2020 } from 'ajv/dist/2020.js';
import type { ValidateFunction } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import type { FormatsPlugin } from 'ajv-formats';
import { KPI_METHODS, type KpiMethod } from '../collect/recipes/schema.js';
import type { QueryPurpose } from '../collect/collector.js';

export const MANIFEST_SCHEMA_VERSION = 1;
/** Collection ids as benchmon makes them: `<UTC time>-<8 hex>` (they also name directories). */
export const COLLECTION_ID_PATTERN = '^[0-9]{8}T[0-9]{6}Z-[0-9a-f]{8}$';
export const MANIFEST_SCHEMA_ID = 'https://benchmon.dev/schemas/manifest-v1.json';

const Nullable = <T extends TSchema>(schema: T) => Type.Union([schema, Type.Null()]);
const DateTime = Type.String({ format: 'date-time' });
const Sha256 = Type.String({ pattern: '^[0-9a-f]{64}$' });
const Labels = Type.Record(Type.String(), Type.String());
const Method = Type.Union(Object.keys(KPI_METHODS).map((m) => Type.Literal(m as KpiMethod)));
const QUERY_PURPOSES: Record<QueryPurpose, string> = {
  targets_up: "the session's `up` over the window (gaps, targets down)",
  value: 'the KPI value at the end of the window',
  fallback: "the KPI's fallback_query, sent because the query matched no series",
  slices: 'the per-slice values',
  buckets: 'merged bucket counts behind a percentile (its bucket bounds)',
  slice_buckets: 'the same per slice',
  coverage: 'count_over_time of one selector: samples present',
  series: 'the time series at the step',
  slice_series: 'the per-slice time series',
};
const Purpose = Type.Union(
  (Object.keys(QUERY_PURPOSES) as QueryPurpose[]).map((p) => Type.Literal(p)),
  { description: Object.entries(QUERY_PURPOSES).map(([k, v]) => `${k}: ${v}`).join('; ') },
);

const Gap = Type.Object(
  {
    job: Type.String(),
    instance: Type.String(),
    from: DateTime,
    to: DateTime,
    seconds: Type.Number({ minimum: 0 }),
    kind: Type.Union([Type.Literal('down'), Type.Literal('absent'), Type.Literal('mixed')], { description: 'down: up == 0; absent: not scraped at all' }),
  },
  { additionalProperties: false },
);

const Quality = Type.Object(
  {
    series: Type.Integer({ minimum: 0, description: 'Raw series the KPI\'s selectors matched in the window' }),
    targets: Type.Integer({ minimum: 0 }),
    samples_expected: Type.Integer({ minimum: 0, description: 'Per target: W / scrape interval' }),
    samples_present: Type.Integer({ minimum: 0, description: 'Per target: samples of its fullest series, at most expected' }),
    coverage: Nullable(Type.Number({ minimum: 0, maximum: 1 })),
    gaps: Type.Array(Gap),
    targets_down: Type.Array(Type.String(), { description: 'job/instance of targets down or not scraped at some point in the window' }),
  },
  { additionalProperties: false },
);

const Bounds = {
  lower_bound: Nullable(Type.Number({ description: 'Lower bound of the bucket the percentile fell into; null for -Inf' })),
  upper_bound: Nullable(Type.Number({ description: 'Upper bound of that bucket; null when it is +Inf (see in_inf_bucket)' })),
  in_inf_bucket: Type.Boolean({ description: 'The percentile fell into the +Inf bucket: value is only a floor' }),
  observations: Nullable(Type.Number({ minimum: 0, description: 'Observations in the window behind the percentile' })),
};

const KpiRow = Type.Object(
  {
    scope: Type.Union([Type.Literal('overall'), Type.Literal('slice')]),
    slice: Type.String({ description: '"overall", or the label set, as in metrics_summary.csv' }),
    labels: Labels,
    value: Nullable(Type.Number()),
    note: Nullable(Type.String()),
    ...Bounds,
    quality: Quality,
  },
  { additionalProperties: false },
);

const Kpi = Type.Object(
  {
    name: Type.String(),
    description: Nullable(Type.String()),
    unit: Type.String(),
    method: Method,
    higher_is_better: Type.Boolean(),
    slice_by: Type.Array(Type.String()),
    query_used: Type.Union([Type.Literal('query'), Type.Literal('fallback_query')]),
    query: Type.String({ description: 'The overall query as sent' }),
    value: Nullable(Type.Number({ description: 'null when there was no value: see note, never 0 or NaN for missing data' })),
    note: Nullable(Type.String()),
    ...Bounds,
    quality: Quality,
    rows: Type.Array(KpiRow),
    series_points: Type.Integer({ minimum: 0 }),
    series_null_points: Type.Integer({ minimum: 0, description: 'Time-series points without a value (NaN or missing)' }),
  },
  { additionalProperties: false },
);

const Query = Type.Object(
  {
    id: Type.Integer({ minimum: 1 }),
    purpose: Purpose,
    kpi: Nullable(Type.String()),
    type: Type.Union([Type.Literal('instant'), Type.Literal('range')]),
    query: Type.String(),
    time: Nullable(DateTime),
    start: Nullable(DateTime),
    end: Nullable(DateTime),
    step: Nullable(Type.String()),
    phase: Type.Optional(Type.String({ description: "Set on the queries of a phase's own KPIs (see phases)" })),
    result_series: Nullable(Type.Integer({ minimum: 0 })),
    duration_ms: Type.Number({ minimum: 0 }),
    error: Nullable(Type.String()),
  },
  { additionalProperties: false },
);

const PhaseEntry = Type.Object(
  {
    name: Type.String(),
    start: DateTime,
    end: DateTime,
    kpis: Type.Array(Kpi, {
      description: "The recipe's KPIs over the phase's window (value at the phase's end over W = the phase), same shape as the top-level kpis; series_points are 0: the time series are the whole window's",
    }),
  },
  { additionalProperties: false },
);

const FileEntry = Type.Object(
  {
    name: Type.String({ pattern: '^[A-Za-z0-9._-]+$' }),
    bytes: Type.Integer({ minimum: 0 }),
    sha256: Sha256,
    media_type: Type.String(),
    rows: Nullable(Type.Integer({ minimum: 0 })),
  },
  { additionalProperties: false },
);

const RecipeKpi = Type.Object(
  {
    name: Type.String(),
    description: Type.Optional(Type.String()),
    unit: Type.String(),
    method: Method,
    higher_is_better: Type.Boolean(),
    query: Type.String(),
    fallback_query: Type.Optional(Type.String()),
    slice_by: Type.Array(Type.String()),
  },
  { additionalProperties: false },
);

export const ManifestSchema = Type.Object(
  {
    schema_version: Type.Literal(MANIFEST_SCHEMA_VERSION),
    benchmon_version: Type.String(),
    collection_id: Type.String({ pattern: COLLECTION_ID_PATTERN }),
    created_at: DateTime,
    collection: Type.Object(
      { started_at: DateTime, finished_at: DateTime, duration_ms: Type.Number({ minimum: 0 }) },
      { additionalProperties: false },
    ),
    session: Type.Object(
      {
        session_id: Type.String(),
        labels: Labels,
        targets: Type.Array(Type.Record(Type.String(), Type.Unknown()), { description: 'The registered targets, as benchmon stored them' }),
        prometheus_targets: Type.Array(
          Type.Object(
            {
              job: Type.String(), instance: Type.String(), health: Type.String(), scrape_url: Type.String(),
              scrape_interval: Nullable(Type.String()), last_error: Type.String(),
            },
            { additionalProperties: false },
          ),
          { description: "The session's targets as Prometheus saw them at collection time" },
        ),
      },
      { additionalProperties: false },
    ),
    window: Type.Object(
      {
        start: DateTime,
        end: DateTime,
        start_unix: Type.Number(),
        end_unix: Type.Number(),
        duration: Type.String({ description: 'W as a Prometheus duration (what ${window} became)' }),
        duration_seconds: Type.Number({ exclusiveMinimum: 0 }),
        step: Type.String(),
        step_seconds: Type.Number({ exclusiveMinimum: 0 }),
        step_source: Type.Union([Type.Literal('request'), Type.Literal('scrape_interval')]),
        scrape_interval: Type.String(),
        series_window: Type.String({ description: 'Sliding window of the time-series queries' }),
        range_chunks: Type.Integer({ minimum: 1, description: 'Range queries per series (≤ 11,000 points each)' }),
        phase: Type.Optional(Type.String({ description: 'The phase of the session the window was taken from (collect {phase})' })),
      },
      { additionalProperties: false },
    ),
    recipe: Type.Object(
      { name: Type.String(), description: Nullable(Type.String()), source: Type.String(), sha256: Sha256, kpis: Type.Array(RecipeKpi) },
      { additionalProperties: false },
    ),
    prometheus: Type.Object(
      { url: Type.String(), version: Type.String(), config_sha256: Nullable(Sha256) },
      { additionalProperties: false },
    ),
    queries: Type.Array(Query),
    kpis: Type.Array(Kpi),
    phases: Type.Optional(Type.Array(PhaseEntry, {
      description: 'Per-phase results, when the collection asked for them (phases of the session inside the window, e.g. warmup and steady): each phase with its own KPIs',
    })),
    data_quality: Type.Object(
      {
        targets_down: Type.Array(Gap, { description: "Periods in the window when one of the session's targets was down or not scraped" }),
        kpis_without_value: Type.Array(Type.String()),
        null_values: Type.Integer({ minimum: 0, description: 'KPI rows (overall and slices) without a value' }),
        series_null_points: Type.Integer({ minimum: 0 }),
        failed_queries: Type.Integer({ minimum: 0 }),
      },
      { additionalProperties: false },
    ),
    files: Type.Array(FileEntry),
  },
  { additionalProperties: false, $id: MANIFEST_SCHEMA_ID, title: 'benchmon collection manifest' },
);
export type Manifest = Static<typeof ManifestSchema>;
export type ManifestFile = Static<typeof FileEntry>;
export type ManifestKpi = Static<typeof Kpi>;
export type ManifestPhase = Static<typeof PhaseEntry>;
export type ManifestGap = Static<typeof Gap>;
export type ManifestQuality = Static<typeof Quality>;

/** The published JSON Schema (draft 2020-12), as a plain JSON value. */
export function manifestJsonSchema(): Record<string, unknown> {
  const plain = JSON.parse(JSON.stringify(ManifestSchema)) as Record<string, unknown>;
  return { $schema: 'https://json-schema.org/draft/2020-12/schema', ...plain };
}

export function manifestJsonSchemaText(): string {
  return `${JSON.stringify(manifestJsonSchema(), null, 2)}\n`;
}

/** src/artifacts/manifest.schema.json in the repository (found from src/ or dist/src/). */
export function manifestSchemaPath(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  while (!fs.existsSync(path.join(dir, 'package.json'))) {
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error('package root not found');
    dir = parent;
  }
  return path.join(dir, 'src', 'artifacts', 'manifest.schema.json');
}

/** Regenerates manifest.schema.json after a schema change (the schema test says when). */
export function writeManifestSchemaFile(file = manifestSchemaPath()): void {
  fs.writeFileSync(file, manifestJsonSchemaText());
}

let validator: ValidateFunction | undefined;

/** A fresh Ajv 2020 with formats; exported for tests that validate against the published file. */
export function createManifestAjv(): Ajv2020 {
  const ajv = new Ajv2020({ allErrors: true, strict: true });
  // ajv-formats is CommonJS with a default export; under NodeNext its default import is the plugin itself.
  (addFormatsModule as unknown as FormatsPlugin)(ajv);
  return ajv;
}

/** Problems of a manifest against the schema (empty when valid). */
export function manifestProblems(manifest: unknown): string[] {
  validator ??= createManifestAjv().compile(manifestJsonSchema());
  if (validator(manifest)) return [];
  return (validator.errors ?? []).map((e) => `${e.instancePath || '/'} ${e.message ?? 'invalid'}`);
}
