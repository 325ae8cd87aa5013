/**
 * How comparison figures are written for people: the CLI table, the gate's reasons and the HTML
 * diff report use the same strings. JSON output keeps the raw numbers.
 */
import type { KpiComparison } from './compare.js';

/** 5 significant digits; exponent form for very large or small magnitudes; '' for null. */
export function formatNumber(v: number | null | undefined): string {
  if (v === null || v === undefined) return '';
  if (!Number.isFinite(v)) return String(v);
  if (v !== 0 && (Math.abs(v) >= 1e6 || Math.abs(v) < 1e-3)) return v.toExponential(3);
  return String(Number(v.toPrecision(5)));
}

/** 3 significant digits, for spreads and bands. */
export function formatShort(v: number): string {
  if (!Number.isFinite(v)) return String(v);
  if (v !== 0 && (Math.abs(v) >= 1e6 || Math.abs(v) < 1e-3)) return v.toExponential(2);
  return String(Number(v.toPrecision(3)));
}

export function formatSigned(v: number | null): string {
  if (v === null) return '';
  const s = formatNumber(v);
  return v > 0 ? `+${s}` : s;
}

/** A fraction as a percentage: 0.05 → "5%", 0.2013 → "20.1%". */
export function formatPercent(fraction: number, signed = false): string {
  const p = fraction * 100;
  const text = `${Number(p.toFixed(Math.abs(p) >= 10 ? 1 : 2))}%`;
  return signed && p > 0 ? `+${text}` : text;
}

export function withUnit(v: number | null, unit: string): string {
  const n = formatNumber(v);
  if (n === '' || unit === '') return n;
  return unit === '%' ? `${n}%` : `${n} ${unit}`;
}

export function directionText(k: Pick<KpiComparison, 'higher_is_better'>): string {
  if (k.higher_is_better === null) return '?';
  return k.higher_is_better ? 'higher=better' : 'lower=better';
}

/** Δ with the relative change: "-10.2 (-20.1%)". */
export function deltaText(k: Pick<KpiComparison, 'delta' | 'relative_change'>): string {
  if (k.delta === null) return '';
  const rel = k.relative_change === null ? '' : ` (${formatPercent(k.relative_change, true)})`;
  return `${formatSigned(k.delta)}${rel}`;
}

export function ratioText(k: Pick<KpiComparison, 'ratio'>): string {
  return k.ratio === null ? '' : k.ratio.toFixed(3);
}

export function noiseText(k: Pick<KpiComparison, 'noise' | 'baseline_values'>): string {
  if (k.noise === null) return k.baseline_values.length > 1 ? 'no estimate (<2 values)' : 'no estimate';
  return `sd ${formatShort(k.noise.stddev)}, band ${formatShort(k.noise.lower)}..${formatShort(k.noise.upper)} (${k.noise.runs} runs)`;
}

export function verdictText(k: Pick<KpiComparison, 'verdict' | 'change'>): string {
  switch (k.verdict) {
    case 'no_noise_estimate':
      return k.change === 'same' ? 'same, no noise estimate' : `${k.change ?? '?'}, no noise estimate`;
    case 'unchanged':
      return 'unchanged (within noise)';
    case 'missing_in_baseline':
      return 'missing in A';
    case 'missing_in_candidate':
      return 'missing in B';
    case 'missing_in_both':
      return 'missing in A and B';
    case 'no_value':
      return 'no value';
    case 'unit_mismatch':
      return 'units differ';
    case 'no_direction':
      return 'direction unknown';
    default:
      return k.verdict;
  }
}
