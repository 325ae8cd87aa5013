/**
 * Run-to-run comparison: a candidate collection (B) against a baseline (A) made of one or more
 * earlier collections, KPI by KPI. Pure: no I/O, no clock.
 *
 * Per KPI: A (the baseline runs' mean when there are several), B, Δ = B − A, ratio = B / A,
 * the direction from the recipe's higher_is_better, whether the change is beyond the
 * baseline's noise (noise.ts), and a verdict. Every KPI of either side gets a row, in the
 * candidate's order then the baseline-only ones: a KPI present on one side only is reported as
 * missing on the other, never dropped.
 */
import { DEFAULT_NOISE_K, NOISE_RULE, isBeyondNoise, mean, noiseBand, type NoiseBand } from './noise.js';
import type { CollectionRef, ComparableCollection, ComparableKpi } from './comparable.js';

export const VERDICTS = {
  better: 'changed beyond the baseline noise, in the better direction',
  worse: 'changed beyond the baseline noise, in the worse direction',
  unchanged: 'within the baseline noise',
  no_noise_estimate: 'one baseline run (with a value): no noise estimate; see `change` for the direction',
  missing_in_baseline: 'the KPI is not in any baseline collection',
  missing_in_candidate: 'the KPI is not in the candidate collection',
  missing_in_both: 'a KPI the gate names is in neither side',
  no_value: 'the KPI has no value (null) in the candidate or in every baseline run; see note',
  unit_mismatch: 'the two sides give the KPI in different units: not comparable',
  no_direction: 'the collections do not say whether higher is better',
} as const;
export type Verdict = keyof typeof VERDICTS;

/** The sign of the change in the KPI's direction, noise ignored. */
export type Change = 'better' | 'worse' | 'same';

export interface KpiComparison {
  name: string;
  unit: string;
  higher_is_better: boolean | null;
  /** A: the baseline value; the mean of the baseline runs that have a value when there are several. */
  baseline: number | null;
  /** Each baseline run's value, in the baseline's order (null: no value or KPI absent there). */
  baseline_values: Array<number | null>;
  /** B: the candidate's value. */
  candidate: number | null;
  /** B − A. */
  delta: number | null;
  /** B / A (null when A is 0). */
  ratio: number | null;
  /** (B − A) / |A| (null when A is 0). */
  relative_change: number | null;
  change: Change | null;
  noise: NoiseBand | null;
  /** null when there is no noise estimate. */
  beyond_noise: boolean | null;
  verdict: Verdict;
  /** Why a value is missing, what to mind (a floor value, a differing direction). */
  note: string | null;
}

export interface CompareOptions {
  /** k of the noise band (noise.ts); default 2. */
  noiseK?: number | undefined;
}

export interface Comparison {
  candidate: CollectionRef;
  baseline: CollectionRef[];
  phase: string | null;
  noise: { rule: string; k: number; baseline_runs: number };
  kpis: KpiComparison[];
  /** Rows per verdict. */
  summary: Partial<Record<Verdict, number>>;
}

function changeOf(a: number, b: number, higherIsBetter: boolean): Change {
  if (b === a) return 'same';
  return (b > a) === higherIsBetter ? 'better' : 'worse';
}

function join(notes: Array<string | null | undefined>): string | null {
  const kept = notes.filter((n): n is string => typeof n === 'string' && n !== '');
  return kept.length > 0 ? kept.join('; ') : null;
}

function compareKpi(name: string, cand: ComparableKpi | undefined, bases: Array<ComparableKpi | undefined>, k: number): KpiComparison {
  const present = bases.filter((b): b is ComparableKpi => b !== undefined);
  const reference = cand ?? present[0]!;
  const baselineValues = bases.map((b) => b?.value ?? null);
  const withValue = baselineValues.filter((v): v is number => v !== null);
  const row: KpiComparison = {
    name,
    unit: reference.unit,
    higher_is_better: cand?.higher_is_better ?? present.find((b) => b.higher_is_better !== null)?.higher_is_better ?? null,
    baseline: withValue.length > 0 ? mean(withValue) : null,
    baseline_values: baselineValues,
    candidate: cand?.value ?? null,
    delta: null,
    ratio: null,
    relative_change: null,
    change: null,
    noise: null,
    beyond_noise: null,
    verdict: 'no_value',
    note: null,
  };
  const notes: Array<string | null> = [];
  if (!cand) {
    row.verdict = 'missing_in_candidate';
    row.note = 'not in the candidate collection';
    return row;
  }
  if (present.length === 0) {
    row.verdict = 'missing_in_baseline';
    row.note = bases.length > 1 ? 'not in any baseline collection' : 'not in the baseline collection';
    return row;
  }
  if (present.length < bases.length) notes.push(`not in ${bases.length - present.length} of ${bases.length} baseline collections`);
  const units = new Set(present.map((b) => b.unit));
  if (units.size > 1 || !units.has(cand.unit)) {
    row.verdict = 'unit_mismatch';
    row.note = `unit ${JSON.stringify(cand.unit)} in the candidate, ${[...units].map((u) => JSON.stringify(u)).join(', ')} in the baseline`;
    return row;
  }
  const directions = new Set(present.map((b) => b.higher_is_better).filter((d) => d !== null));
  if (cand.higher_is_better !== null && directions.size > 0 && (directions.size > 1 || !directions.has(cand.higher_is_better))) {
    notes.push(`higher_is_better differs between the collections (recipe changed?); the candidate's (${cand.higher_is_better}) is used`);
  }
  if (cand.in_inf_bucket || present.some((b) => b.in_inf_bucket)) notes.push('a percentile fell into the +Inf bucket: that value is only a floor');

  if (cand.value === null || withValue.length === 0) {
    row.verdict = 'no_value';
    const why = cand.value === null ? `no value in the candidate${cand.note ? ` (${cand.note})` : ''}` : null;
    const baseNote = present.find((b) => b.value === null && b.note)?.note;
    const whyBase = withValue.length === 0 ? `no value in the baseline${baseNote ? ` (${baseNote})` : ''}` : null;
    row.note = join([why, whyBase, ...notes]);
    return row;
  }
  if (withValue.length < present.length) notes.push(`${present.length - withValue.length} of ${bases.length} baseline runs have no value; A is the mean of the other ${withValue.length}`);

  const a = row.baseline!;
  const b = cand.value;
  row.delta = b - a;
  row.ratio = a === 0 ? null : b / a;
  row.relative_change = a === 0 ? null : (b - a) / Math.abs(a);
  if (a === 0) notes.push('the baseline value is 0: no ratio');
  row.noise = noiseBand(baselineValues, k);
  row.beyond_noise = row.noise === null ? null : isBeyondNoise(b, row.noise);
  if (row.higher_is_better === null) {
    row.verdict = 'no_direction';
  } else {
    row.change = changeOf(a, b, row.higher_is_better);
    if (row.noise === null) row.verdict = 'no_noise_estimate';
    else row.verdict = row.beyond_noise && row.change !== 'same' ? row.change : 'unchanged';
  }
  row.note = join(notes);
  return row;
}

/**
 * Compares the candidate with the baseline runs (at least one). The collections must all be
 * of the same kind (all whole windows or all the same phase): comparable.ts builds them so.
 */
export function compareCollections(candidate: ComparableCollection, baseline: readonly ComparableCollection[], options: CompareOptions = {}): Comparison {
  if (baseline.length === 0) throw new RangeError('compareCollections: the baseline needs at least one collection');
  const k = options.noiseK ?? DEFAULT_NOISE_K;
  const names: string[] = [];
  const seen = new Set<string>();
  for (const c of [candidate, ...baseline]) {
    for (const kpi of c.kpis) {
      if (seen.has(kpi.name)) continue;
      seen.add(kpi.name);
      names.push(kpi.name);
    }
  }
  const byName = (c: ComparableCollection) => new Map(c.kpis.map((x) => [x.name, x]));
  const cand = byName(candidate);
  const bases = baseline.map(byName);
  const kpis = names.map((name) => compareKpi(name, cand.get(name), bases.map((m) => m.get(name)), k));
  return {
    candidate: candidate.ref,
    baseline: baseline.map((b) => b.ref),
    phase: candidate.phase,
    noise: { rule: NOISE_RULE, k, baseline_runs: baseline.length },
    kpis,
    summary: summarize(kpis),
  };
}

export function summarize(kpis: readonly KpiComparison[]): Partial<Record<Verdict, number>> {
  const out: Partial<Record<Verdict, number>> = {};
  for (const k of kpis) out[k.verdict] = (out[k.verdict] ?? 0) + 1;
  return out;
}

/** A row for a KPI that neither side has (the gate names it). */
export function absentKpiRow(name: string, baselineRuns: number): KpiComparison {
  return {
    name, unit: '', higher_is_better: null, baseline: null, baseline_values: Array.from({ length: baselineRuns }, () => null),
    candidate: null, delta: null, ratio: null, relative_change: null, change: null, noise: null, beyond_noise: null,
    verdict: 'missing_in_both', note: 'not in the candidate nor in the baseline',
  };
}
