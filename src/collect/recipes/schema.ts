/**
 * The recipe format: a named list of KPI definitions. One TypeBox schema gives the strict
 * structural check (unknown keys rejected) and the TypeScript types; the loader adds the checks
 * a schema cannot express (query templates, unique names, histogram form).
 */
import { Type, type Static } from '@sinclair/typebox';

/**
 * How a KPI aggregates the window. The method documents what the query computes (it is
 * written to every artifact row) and decides what the collector adds: bucket bounds for
 * histogram_quantile; `${window}` is required for every method except `last`.
 */
export const KPI_METHODS = {
  rate: 'per-second rate over the window: Δcounter / W (throughput)',
  histogram_quantile: 'quantile of the histogram merged over the whole window, histogram_quantile(q, sum by (le) (increase(x_bucket[W]))), with the bucket bounds it fell between',
  ratio: 'ratio of two increases over the window: Δsum / Δcount (mean latency), Δerrors / Δtotal (error share)',
  avg_over_time: 'time-weighted mean of a gauge over the window',
  max_over_time: 'maximum of a gauge over the window',
  min_over_time: 'minimum of a gauge over the window',
  last: 'the value at the end of the window',
  delta: 'increase of a counter over the window (energy, preemptions)',
} as const;
export type KpiMethod = keyof typeof KPI_METHODS;

export const KPI_NAME_PATTERN = '^[a-z][a-z0-9_]{0,63}$';
export const RECIPE_NAME_PATTERN = '^[a-z][a-z0-9_-]{0,63}$';
const LABEL_NAME_PATTERN = '^[A-Za-z_][A-Za-z0-9_]{0,127}$';

const SliceBy = Type.Array(Type.String({ pattern: LABEL_NAME_PATTERN }), {
  maxItems: 8,
  uniqueItems: true,
  description: 'Labels of the per-slice values, e.g. [job, instance]; [] for the overall value only',
});

const Query = Type.String({ minLength: 1, maxLength: 4096, description: 'PromQL template with ${session}, ${window}, ${step}, ${by}' });

export const KpiDefinition = Type.Object(
  {
    name: Type.String({ pattern: KPI_NAME_PATTERN, description: 'snake_case, unique in the recipe' }),
    description: Type.Optional(Type.String({ maxLength: 1024 })),
    unit: Type.String({ minLength: 1, maxLength: 32, description: 'e.g. req/s, s, %, bytes/s, W, J' }),
    method: Type.Union(
      Object.keys(KPI_METHODS).map((m) => Type.Literal(m as KpiMethod)),
      { description: Object.entries(KPI_METHODS).map(([k, v]) => `${k}: ${v}`).join('; ') },
    ),
    higher_is_better: Type.Boolean(),
    query: Query,
    fallback_query: Type.Optional(Type.Union([Query], { description: 'Used when `query` returns no series (e.g. a renamed metric in older releases)' })),
    slice_by: Type.Optional(SliceBy),
  },
  { additionalProperties: false },
);
export type KpiDefinition = Static<typeof KpiDefinition>;

export const RecipeDocument = Type.Object(
  {
    name: Type.String({ pattern: RECIPE_NAME_PATTERN }),
    description: Type.Optional(Type.String({ maxLength: 4096 })),
    slice_by: Type.Optional(SliceBy),
    kpis: Type.Array(KpiDefinition, { minItems: 1, maxItems: 500 }),
  },
  { additionalProperties: false },
);
export type RecipeDocument = Static<typeof RecipeDocument>;

/** Ad-hoc KPIs from a collect request (`queries`): the same definitions without a recipe around them. */
export const AdHocKpis = Type.Array(KpiDefinition, { minItems: 1, maxItems: 100 });

/** A KPI after loading: slice labels resolved, histogram parts split out. */
export interface ResolvedKpi extends KpiDefinition {
  slice_by: string[];
  /** For method histogram_quantile: q and the merged-bucket expression of the query (and of the fallback). */
  histogram?: { quantile: number; buckets: string; fallback_buckets?: string };
}

export interface Recipe {
  name: string;
  description?: string;
  /** "builtin:<name>", a file path, or "request" for ad-hoc queries. */
  source: string;
  /** sha256 of the recipe text as read (or of its JSON for inline recipes). */
  sha256: string;
  kpis: ResolvedKpi[];
}
