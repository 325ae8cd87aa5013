/**
 * A comparison from a request: check what the caller sent (the gate first: a mistake there is
 * found before any collection is read), load the collections, compare, apply the gate. The
 * facade (POST /api/v1/compare) loads collections by id from the store; the CLI also loads
 * collection directories from local disk and calls compareLoaded itself.
 */
import { BenchmonError, describeError, invalidField, isBenchmonError } from '../errors.js';
import { comparableFromManifest, type ComparableManifest } from './comparable.js';
import { compareCollections } from './compare.js';
import { applyGate, parseGateObject, type Gate, type GatedComparison } from './gate.js';

/** The body of POST /api/v1/compare. */
export interface CompareRequest {
  /** B: the collection under test. */
  candidate: string;
  /** A: one collection, or several earlier ones (their spread is the noise estimate). */
  baseline: string | string[];
  /** An inline gate document (the same fields as a gate file). */
  gate?: unknown;
  /** Compare this phase's KPIs instead of the whole window's. */
  phase?: string | undefined;
  /** k of the noise band mean ± k·stddev (default 2). */
  noise_k?: number | undefined;
}

export type CompareResult = GatedComparison;

/** A collection read for a comparison, and where from (its directory). */
export interface LoadedCollection {
  manifest: ComparableManifest;
  source: string;
}

export interface CompareLoadedOptions {
  gate?: Gate | null | undefined;
  phase?: string | null | undefined;
  noiseK?: number | undefined;
}

export function compareLoaded(candidate: LoadedCollection, baseline: readonly LoadedCollection[], options: CompareLoadedOptions = {}): CompareResult {
  const phase = options.phase ?? null;
  const b = comparableFromManifest(candidate.manifest, candidate.source, phase);
  const a = baseline.map((x) => comparableFromManifest(x.manifest, x.source, phase));
  return applyGate(compareCollections(b, a, { noiseK: options.noiseK }), options.gate ?? null);
}

/** The baseline ids of a request, checked: at least one, no repeats, not the candidate. */
export function baselineIds(request: Pick<CompareRequest, 'candidate' | 'baseline'>): string[] {
  const ids = Array.isArray(request.baseline) ? request.baseline : [request.baseline];
  if (ids.length === 0) throw invalidField('baseline', 'give at least one collection id');
  const seen = new Set<string>();
  ids.forEach((id, i) => {
    if (seen.has(id)) throw invalidField(`baseline[${i}]`, `collection ${id} is given twice`);
    seen.add(id);
  });
  if (seen.has(request.candidate)) throw invalidField('baseline', `the candidate ${request.candidate} is also in the baseline`);
  return ids;
}

/**
 * Compares collections by id. `load` reads one (the facade: from the store and its
 * directory); an unknown id is a 404 naming it and the field it came in, a collection whose
 * manifest cannot be read a 422 naming the file.
 */
export async function compareById(request: CompareRequest, load: (id: string) => Promise<LoadedCollection>): Promise<CompareResult> {
  const ids = baselineIds(request);
  const gate = request.gate === undefined || request.gate === null ? null : parseGateObject(request.gate, 'gate');
  const loadAs = async (field: string, id: string): Promise<LoadedCollection> => {
    try {
      return await load(id);
    } catch (err) {
      if (isBenchmonError(err) && err.code === 'COLLECTION_NOT_FOUND') {
        throw new BenchmonError('COLLECTION_NOT_FOUND', `${field}: no collection ${id}`, { details: { field, collection_id: id } });
      }
      if (isBenchmonError(err)) throw err;
      throw new BenchmonError('COLLECTION_UNREADABLE', `${field}: collection ${id}: ${describeError(err)}`, { details: { field, collection_id: id }, cause: err });
    }
  };
  const candidate = await loadAs('candidate', request.candidate);
  const baseline: LoadedCollection[] = [];
  for (const [i, id] of ids.entries()) baseline.push(await loadAs(Array.isArray(request.baseline) ? `baseline[${i}]` : 'baseline', id));
  return compareLoaded(candidate, baseline, { gate, phase: request.phase ?? null, noiseK: request.noise_k });
}
