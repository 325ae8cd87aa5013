/**
 * What a comparison needs from a collection: its identity and the overall value of each KPI
 * (manifest.kpis), or of one phase's KPIs (manifest.phases, when the collection has phases).
 *
 * Manifests are read tolerantly here: only the fields a comparison uses are checked, extra
 * fields are ignored. A CI job compares artifacts it downloaded, possibly written by another
 * benchmon version (one that adds `phases`, say); the full schema check stays where
 * collections are written and served.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { Type, type Static, type TSchema } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { BenchmonError } from '../errors.js';

const Nullable = <T extends TSchema>(schema: T) => Type.Union([schema, Type.Null()]);

/** One KPI row as compare reads it (manifest.kpis[i], or a phase's kpis[i]). */
const LooseKpi = Type.Object({
  name: Type.String({ minLength: 1 }),
  unit: Type.Optional(Type.String()),
  value: Nullable(Type.Number()),
  higher_is_better: Type.Optional(Type.Boolean()),
  note: Type.Optional(Nullable(Type.String())),
  in_inf_bucket: Type.Optional(Type.Boolean()),
  quality: Type.Optional(Type.Object({ coverage: Type.Optional(Nullable(Type.Number())) })),
});

const LoosePhase = Type.Object({
  name: Type.String({ minLength: 1 }),
  start: Type.Optional(Type.Unknown()),
  end: Type.Optional(Type.Unknown()),
  kpis: Type.Array(LooseKpi),
});

/** The part of MANIFEST.json a comparison reads; a full Manifest satisfies it. */
export const ComparableManifest = Type.Object({
  collection_id: Type.String({ minLength: 1 }),
  session: Type.Object({ session_id: Type.String() }),
  window: Type.Object({ start: Type.String(), end: Type.String() }),
  recipe: Type.Optional(Type.Object({ name: Type.String() })),
  kpis: Type.Array(LooseKpi),
  phases: Type.Optional(Type.Array(LoosePhase)),
});
export type ComparableManifest = Static<typeof ComparableManifest>;

/** A collection as one side of a comparison. */
export interface CollectionRef {
  collection_id: string;
  session_id: string;
  window: { start: string; end: string };
  recipe: string | null;
  /** Where it was read: a directory (CLI, local) or `api` (by id from benchmon's store). */
  source: string;
}

export interface ComparableKpi {
  name: string;
  unit: string;
  value: number | null;
  /** null when the row does not say (a phase row without it and no overall row to take it from). */
  higher_is_better: boolean | null;
  note: string | null;
  coverage: number | null;
  /** A percentile in the +Inf bucket: the value is only a floor. */
  in_inf_bucket: boolean;
}

export interface ComparableCollection {
  ref: CollectionRef;
  /** The phase compared, or null for the whole window. */
  phase: string | null;
  kpis: ComparableKpi[];
}

/** Problems of a value against ComparableManifest, as `path: message` (empty when usable). */
export function comparableManifestProblems(value: unknown): string[] {
  const seen = new Set<string>();
  const out: string[] = [];
  for (const e of Value.Errors(ComparableManifest, value)) {
    const where = e.path === '' ? 'document' : e.path.slice(1).replace(/\//g, '.');
    if (seen.has(where)) continue;
    seen.add(where);
    out.push(`${where}: ${e.message}`);
  }
  return out;
}

export function collectionRef(manifest: ComparableManifest, source: string): CollectionRef {
  return {
    collection_id: manifest.collection_id,
    session_id: manifest.session.session_id,
    window: { start: manifest.window.start, end: manifest.window.end },
    recipe: manifest.recipe?.name ?? null,
    source,
  };
}

type LooseKpi = Static<typeof LooseKpi>;

function toComparable(k: LooseKpi, overall: LooseKpi | undefined): ComparableKpi {
  return {
    name: k.name,
    unit: k.unit ?? overall?.unit ?? '',
    value: k.value !== null && Number.isFinite(k.value) ? k.value : null,
    higher_is_better: k.higher_is_better ?? overall?.higher_is_better ?? null,
    note: k.note ?? null,
    coverage: k.quality?.coverage ?? null,
    in_inf_bucket: k.in_inf_bucket ?? false,
  };
}

/**
 * The KPIs of a manifest: the overall values, or those of the phase named (a phase row that
 * lacks unit or direction takes them from the overall KPI of the same name). A phase the
 * collection does not have is a 422 naming the collection and the phases it has.
 */
export function comparableFromManifest(manifest: ComparableManifest, source: string, phase?: string | null): ComparableCollection {
  const ref = collectionRef(manifest, source);
  if (phase === undefined || phase === null) return { ref, phase: null, kpis: manifest.kpis.map((k) => toComparable(k, undefined)) };
  const found = manifest.phases?.find((p) => p.name === phase);
  if (!found) {
    const names = (manifest.phases ?? []).map((p) => p.name);
    throw new BenchmonError(
      'UNPROCESSABLE',
      `phase: collection ${ref.collection_id} has no phase ${JSON.stringify(phase)} (${names.length > 0 ? `its phases: ${names.join(', ')}` : 'it has no phases'})`,
      { details: { field: 'phase', phase, collection_id: ref.collection_id, phases: names } },
    );
  }
  const overall = new Map(manifest.kpis.map((k) => [k.name, k]));
  return { ref, phase, kpis: found.kpis.map((k) => toComparable(k, overall.get(k.name))) };
}

/** A thrown value's message, for wrapping. */
function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/**
 * A collection directory (or its MANIFEST.json) on local disk, read without a server: what
 * `benchmon compare` does for artifacts a CI job downloaded. Errors name the file.
 */
export async function readComparableManifest(dirOrFile: string): Promise<{ manifest: ComparableManifest; file: string }> {
  let file = dirOrFile;
  try {
    if ((await fs.stat(dirOrFile)).isDirectory()) file = path.join(dirOrFile, 'MANIFEST.json');
  } catch (err) {
    throw new BenchmonError('COLLECTION_UNREADABLE', `${dirOrFile}: ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file or directory' : messageOf(err)}`, { details: { path: dirOrFile }, cause: err });
  }
  let text: string;
  try {
    text = await fs.readFile(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new BenchmonError('COLLECTION_UNREADABLE', `${file}: ${code === 'ENOENT' ? 'not found (is this a collection directory?)' : messageOf(err)}`, { details: { path: file }, cause: err });
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new BenchmonError('COLLECTION_UNREADABLE', `${file}: not JSON: ${messageOf(err)}`, { details: { path: file }, cause: err });
  }
  const problems = comparableManifestProblems(value);
  if (problems.length > 0) {
    throw new BenchmonError('COLLECTION_UNREADABLE', `${file}: not a benchmon collection manifest: ${problems.slice(0, 5).join('; ')}`, { details: { path: file, problems } });
  }
  return { manifest: value as ComparableManifest, file };
}
