/**
 * Loads recipes: a built-in one by name (recipes/<name>.yaml at the package root, found from
 * this file so it works from src/ and from dist/), a YAML file, or KPI definitions sent inline.
 * Decode strictly (unknown keys, duplicate keys and bad placeholders are errors) and name the
 * entry in every message, e.g. `kpi 3 (p99_latency): query: …` (kpis are numbered from 1).
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Value } from '@sinclair/typebox/value';
import type { ValueError } from '@sinclair/typebox/value';
import YAML from 'yaml';
import { BenchmonError } from '../../errors.js';
import { AdHocKpis, RECIPE_NAME_PATTERN, RecipeDocument, type KpiDefinition, type Recipe, type ResolvedKpi } from './schema.js';
import { checkQueryTemplate, splitHistogramQuantile, usesPlaceholder } from './query-template.js';

/** The directory holding package.json, walking up from this module (src/… or dist/src/…). */
export function packageRoot(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (fs.existsSync(path.join(dir, 'package.json'))) return dir;
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error(`no package.json above ${fileURLToPath(import.meta.url)}`);
    dir = parent;
  }
}

export function builtinRecipesDir(): string {
  return path.join(packageRoot(), 'recipes');
}

/** Names of the built-in recipes, sorted. */
export function listBuiltinRecipes(): string[] {
  return fs
    .readdirSync(builtinRecipesDir())
    .filter((f) => f.endsWith('.yaml'))
    .map((f) => f.slice(0, -'.yaml'.length))
    .sort();
}

function recipeError(field: string, problems: string[]): BenchmonError {
  return new BenchmonError('VALIDATION_FAILED', `${field}: ${problems.join('; ')}`, { details: { field, problems } });
}

/**
 * A recipe by built-in name, or (with allowFiles) by the path of a YAML file. The API should
 * leave allowFiles off: a path in a request would let a caller probe the server's files; the
 * CLI reads a user's file itself and sends its KPIs.
 */
export function loadRecipe(ref: string, options: { allowFiles?: boolean; field?: string } = {}): Recipe {
  const field = options.field ?? 'recipe';
  const builtins = listBuiltinRecipes();
  if (new RegExp(RECIPE_NAME_PATTERN).test(ref) && builtins.includes(ref)) {
    const file = path.join(builtinRecipesDir(), `${ref}.yaml`);
    return parseRecipeYaml(fs.readFileSync(file, 'utf8'), `builtin:${ref}`, field);
  }
  const looksLikePath = ref.includes('/') || ref.endsWith('.yaml') || ref.endsWith('.yml');
  if (!looksLikePath || !options.allowFiles) {
    throw recipeError(field, [`no built-in recipe ${JSON.stringify(ref)} (built-in: ${builtins.join(', ')})${looksLikePath ? '; recipe files are read by the CLI, send their KPIs as `queries`' : ''}`]);
  }
  let text: string;
  try {
    text = fs.readFileSync(ref, 'utf8');
  } catch (err) {
    throw recipeError(field, [`cannot read recipe file ${ref}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`]);
  }
  return parseRecipeYaml(text, path.resolve(ref), field);
}

/** A recipe from YAML text; `source` is recorded in the manifest. */
export function parseRecipeYaml(text: string, source: string, field = 'recipe'): Recipe {
  const doc = YAML.parseDocument(text, { uniqueKeys: true, prettyErrors: true, strict: true });
  if (doc.errors.length > 0) {
    throw recipeError(field, doc.errors.map((e) => `${source}: YAML: ${e.message.split('\n')[0]}`));
  }
  return parseRecipeObject(doc.toJS({ maxAliasCount: 50 }), source, text, field);
}

/** A recipe from an already-decoded value (YAML or JSON). */
export function parseRecipeObject(value: unknown, source: string, text = JSON.stringify(value), field = 'recipe'): Recipe {
  const structural = [...Value.Errors(RecipeDocument, value)];
  if (structural.length > 0) throw recipeError(field, describeSchemaErrors(structural, value, source));
  const doc = value as RecipeDocument;
  const kpis = resolveKpis(doc.kpis, doc.slice_by ?? [], source, field);
  return {
    name: doc.name,
    ...(doc.description === undefined ? {} : { description: doc.description }),
    source,
    sha256: createHash('sha256').update(text).digest('hex'),
    kpis,
  };
}

/** Ad-hoc KPIs from a collect request's `queries`, checked exactly like a recipe's. */
export function adHocRecipe(queries: unknown, field = 'queries'): Recipe {
  const structural = [...Value.Errors(AdHocKpis, queries)];
  if (structural.length > 0) {
    throw recipeError(field, describeSchemaErrors(structural, { kpis: queries }, 'request', (p) => p.replace(/^\//, '/kpis/')));
  }
  const kpis = resolveKpis(queries as KpiDefinition[], [], 'request', field);
  return { name: 'ad-hoc', source: 'request', sha256: createHash('sha256').update(JSON.stringify(queries)).digest('hex'), kpis };
}

/** Two recipes as one (e.g. `default` plus the request's ad-hoc queries); KPI names must stay unique. */
export function combineRecipes(first: Recipe, second: Recipe, field = 'queries'): Recipe {
  const names = new Set(first.kpis.map((k) => k.name));
  const clashes = second.kpis.filter((k) => names.has(k.name)).map((k) => k.name);
  if (clashes.length > 0) throw recipeError(field, [`KPI names already in recipe ${first.name}: ${clashes.join(', ')}`]);
  return {
    name: `${first.name}+${second.name}`,
    source: `${first.source}+${second.source}`,
    sha256: createHash('sha256').update(first.sha256 + second.sha256).digest('hex'),
    kpis: [...first.kpis, ...second.kpis],
  };
}

function kpiLabel(index: number, kpis: unknown): string {
  const name = Array.isArray(kpis) ? (kpis[index] as { name?: unknown } | undefined)?.name : undefined;
  return `kpi ${index + 1}${typeof name === 'string' ? ` (${name})` : ''}`;
}

function describeSchemaErrors(errors: ValueError[], value: unknown, source: string, mapPath: (p: string) => string = (p) => p): string[] {
  const kpis = (value as { kpis?: unknown } | null)?.kpis;
  const seen = new Set<string>();
  const out: string[] = [];
  for (const e of errors) {
    const p = mapPath(e.path);
    // A bad union member also reports the union itself; one message per place is enough.
    if (seen.has(p)) continue;
    seen.add(p);
    let message = e.message;
    const schema = e.schema as { anyOf?: Array<{ const?: unknown }> };
    if (schema.anyOf?.every((s) => s.const !== undefined)) message = `expected one of: ${schema.anyOf.map((s) => String(s.const)).join(', ')}`;
    if (message === 'Unexpected property') message = 'unknown key';
    const m = /^\/kpis\/(\d+)(?:\/(.*))?$/.exec(p);
    if (m) {
      const where = kpiLabel(Number(m[1]), kpis);
      out.push(`${source}: ${where}: ${m[2] ? `${m[2].replace(/\//g, '.')}: ` : ''}${message}`);
    } else {
      out.push(`${source}: ${p === '' ? 'document' : p.slice(1).replace(/\//g, '.')}: ${message}`);
    }
  }
  return out;
}

function resolveKpis(defs: KpiDefinition[], recipeSliceBy: string[], source: string, field: string): ResolvedKpi[] {
  const problems: string[] = [];
  const names = new Map<string, number>();
  const resolved: ResolvedKpi[] = [];
  defs.forEach((def, index) => {
    const where = `${source}: kpi ${index + 1} (${def.name})`;
    const first = names.get(def.name);
    if (first !== undefined) problems.push(`${where}: name: duplicate of kpi ${first + 1}`);
    else names.set(def.name, index);

    const queries: Array<['query' | 'fallback_query', string]> = [['query', def.query]];
    if (def.fallback_query !== undefined) queries.push(['fallback_query', def.fallback_query]);
    const histogramParts: Array<{ quantile: number; buckets: string } | undefined> = [];
    for (const [key, template] of queries) {
      const templateProblems = checkQueryTemplate(template);
      for (const p of templateProblems) problems.push(`${where}: ${key}: ${p}`);
      if (templateProblems.length > 0) continue;
      if (def.method !== 'last' && !usesPlaceholder(template, 'window')) {
        problems.push(`${where}: ${key}: method ${def.method} aggregates over the window but the query has no \${window}`);
      }
      if (def.method === 'histogram_quantile') {
        const parts = splitHistogramQuantile(template);
        if (!parts) problems.push(`${where}: ${key}: method histogram_quantile needs the form histogram_quantile(<q>, sum by (le, \${by}) (increase(<x>_bucket{\${session}}[\${window}])))`);
        else if (parts.quantile < 0 || parts.quantile > 1) problems.push(`${where}: ${key}: quantile ${parts.quantile} is outside [0, 1]`);
        histogramParts.push(parts);
      }
    }

    // A recipe-wide slice_by applies to the KPIs that can be sliced (their query has ${by});
    // a KPI's own slice_by must be usable, or its slices would silently equal the overall value.
    let sliceBy = def.slice_by ?? recipeSliceBy;
    const sliceable = queries.every(([, t]) => safeUses(t, 'by'));
    if (!sliceable) {
      if (def.slice_by !== undefined && def.slice_by.length > 0) problems.push(`${where}: slice_by: the query${queries.length > 1 ? ' and fallback_query' : ''} must group by \${by} to be sliced`);
      sliceBy = [];
    }

    const kpi: ResolvedKpi = { ...def, slice_by: [...sliceBy] };
    const [primary, fallback] = histogramParts;
    if (def.method === 'histogram_quantile' && primary) {
      kpi.histogram = { quantile: primary.quantile, buckets: primary.buckets, ...(fallback ? { fallback_buckets: fallback.buckets } : {}) };
    }
    resolved.push(kpi);
  });
  if (problems.length > 0) throw recipeError(field, problems);
  return resolved;
}

function safeUses(template: string, placeholder: 'by'): boolean {
  try {
    return usesPlaceholder(template, placeholder);
  } catch {
    return false;
  }
}

/**
 * The recipe of a collect request: `recipe` is a built-in name or an inline recipe document
 * (the CLI sends a user's YAML file this way); `queries` are ad-hoc KPIs, alone or added to
 * the recipe. Neither → the `default` recipe.
 */
export function resolveCollectRecipe(request: { recipe?: unknown; queries?: unknown }): Recipe {
  let base: Recipe | undefined;
  if (typeof request.recipe === 'string') base = loadRecipe(request.recipe);
  else if (request.recipe !== undefined && request.recipe !== null) base = parseRecipeObject(request.recipe, 'request');
  if (request.queries === undefined || request.queries === null) return base ?? loadRecipe('default');
  const adHoc = adHocRecipe(request.queries);
  return base === undefined ? adHoc : combineRecipes(base, adHoc);
}
