/**
 * Gate files: a comparison turned into a pass/fail check for CI.
 *
 *     description: nightly vLLM benchmark        # optional
 *     default:                                   # optional: every KPI not listed under kpis
 *       max_regression: 10%
 *     kpis:                                      # KPI name → rule
 *       throughput:    { max_regression: 5% }    # B at most 5 % worse than A, in the KPI's direction
 *       latency_mean:  { max_regression_abs: 0.005 }   # at most 0.005 (the KPI's unit) worse
 *       latency_p99:   { max_regression: 10%, max: 0.5 }  # and never above 0.5
 *       cpu_utilisation: { max: 95 }             # absolute limits on B: min, max
 *
 * "Worse" follows the KPI's higher_is_better (from the recipe): for throughput a drop, for a
 * latency a rise. The relative change is against A, the baseline value (the mean of the
 * baseline runs when there are several): worse fraction = (A − B)/|A| when higher is better,
 * (B − A)/|A| when lower is better. A KPI the gate names (under kpis) must be there with a
 * value, or the gate fails and says why; the default rule checks what both sides have and
 * skips (with the reason) what they have not.
 *
 * Decoding is strict, like recipes: defaults → strict parse (duplicate and unknown keys are
 * errors) → validate → frozen; every message names the field, e.g.
 * `gate.kpis.throughput.max_regression: expected a percentage such as "5%"`.
 */
import { Type, type Static } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import YAML from 'yaml';
import { BenchmonError } from '../errors.js';
import { absentKpiRow, summarize, type Comparison, type KpiComparison } from './compare.js';
import { formatPercent, withUnit } from './format.js';

/** Same as a recipe's KPI names. */
const GATE_KPI_NAME_PATTERN = '^[a-z][a-z0-9_]{0,63}$';
const PERCENT_PATTERN = '^[0-9]+(\\.[0-9]+)?\\s?%$';

const Rule = Type.Object(
  {
    max_regression: Type.Optional(Type.String({ pattern: PERCENT_PATTERN, description: 'Largest allowed change for the worse, relative to A, e.g. "5%"' })),
    max_regression_abs: Type.Optional(Type.Number({ minimum: 0, description: "Largest allowed change for the worse, in the KPI's unit" })),
    min: Type.Optional(Type.Number({ description: 'B must be at least this' })),
    max: Type.Optional(Type.Number({ description: 'B must be at most this' })),
  },
  { additionalProperties: false, minProperties: 1 },
);

export const GateDocument = Type.Object(
  {
    description: Type.Optional(Type.String({ maxLength: 4096 })),
    default: Type.Optional(Rule),
    kpis: Type.Optional(Type.Record(Type.String({ pattern: GATE_KPI_NAME_PATTERN }), Rule, { additionalProperties: false, maxProperties: 500 })),
  },
  { additionalProperties: false },
);
export type GateDocument = Static<typeof GateDocument>;
export type GateRuleDocument = Static<typeof Rule>;

export interface GateRule {
  /** Fraction: "5%" → 0.05. */
  max_regression?: number;
  max_regression_abs?: number;
  min?: number;
  max?: number;
}

export interface Gate {
  description: string | null;
  default: GateRule | null;
  kpis: Readonly<Record<string, GateRule>>;
}

export type GateCheckName = 'max_regression' | 'max_regression_abs' | 'min' | 'max';

export interface GateCheck {
  check: GateCheckName;
  /** The limit as written: a fraction for max_regression, else in the KPI's unit. */
  limit: number;
  /** How much worse (max_regression: a fraction; max_regression_abs: in the unit), or B for min/max; null when it could not be computed. */
  actual: number | null;
  passed: boolean;
  message: string;
}

export interface KpiGateOutcome {
  /** Where the rule came from: the KPI's own entry, or the default rule. */
  rule: 'kpis' | 'default';
  status: 'pass' | 'fail' | 'skipped';
  checks: GateCheck[];
  /** For fail and skipped: why, in one line. */
  reason: string | null;
}

export interface GateOutcome {
  passed: boolean;
  description: string | null;
  /** KPIs whose rule ran (pass or fail). */
  checked: number;
  skipped: number;
  failures: Array<{ kpi: string; reason: string }>;
}

export interface GatedKpiComparison extends KpiComparison {
  gate: KpiGateOutcome | null;
}

export interface GatedComparison extends Omit<Comparison, 'kpis'> {
  kpis: GatedKpiComparison[];
  gate: GateOutcome | null;
}

/** A problem: where (a dotted field path, '' for the document) and what. */
type Problem = [where: string, message: string];

function gateError(field: string, problems: Problem[]): BenchmonError {
  const texts = problems.map(([where, message]) => (where === '' ? message : `${where}: ${message}`));
  return new BenchmonError('GATE_INVALID', texts.join('; '), { details: { field: problems[0]?.[0] || field || 'gate', problems: texts } });
}

const at = (field: string, p: string) => [field, p].filter((x) => x !== '').join('.');

/**
 * A gate from an already-decoded value (the API's inline `gate`, or YAML). `field` prefixes
 * every problem (`gate` for the API; '' for a file, whose name the CLI puts in front).
 */
export function parseGateObject(value: unknown, field = 'gate'): Gate {
  const problems: Problem[] = [];
  const seen = new Set<string>();
  for (const e of Value.Errors(GateDocument, value)) {
    const p = e.path === '' ? '' : e.path.slice(1).replace(/\//g, '.');
    if (seen.has(p)) continue;
    seen.add(p);
    let message = e.message;
    if (message === 'Unexpected property') {
      const parent = p.split('.').slice(0, -1).join('.');
      message = parent === 'kpis' && !new RegExp(GATE_KPI_NAME_PATTERN).test(p.split('.').pop() ?? '')
        ? `not a KPI name (snake_case: ${GATE_KPI_NAME_PATTERN})`
        : `unknown key (allowed: ${parent === '' ? 'description, default, kpis' : parent === 'kpis' ? 'KPI names' : 'max_regression, max_regression_abs, min, max'})`;
    } else if (p.endsWith('max_regression')) {
      message = `expected a percentage such as "5%" (the largest allowed change for the worse), got ${JSON.stringify((e as { value?: unknown }).value)}`;
    } else if (/at least 1 properties/.test(message)) {
      message = 'a rule needs at least one of max_regression, max_regression_abs, min, max';
    } else if (p === '' && message === 'Expected object') {
      message = 'expected a mapping with description, default, kpis';
    }
    problems.push([at(field, p), message]);
  }
  if (problems.length > 0) throw gateError(field, problems);
  const doc = value as GateDocument;
  if (doc.default === undefined && (doc.kpis === undefined || Object.keys(doc.kpis).length === 0)) {
    throw gateError(field, [[at(field, 'kpis'), 'the gate has no rule: give kpis (KPI name → rule) and/or default']]);
  }
  const rules: Array<[string, GateRuleDocument]> = [
    ...(doc.default ? [['default', doc.default] as [string, GateRuleDocument]] : []),
    ...Object.entries(doc.kpis ?? {}).map(([name, r]) => [`kpis.${name}`, r] as [string, GateRuleDocument]),
  ];
  for (const [where, r] of rules) {
    if (r.min !== undefined && r.max !== undefined && r.min > r.max) problems.push([at(field, `${where}.min`), `${r.min} is above max ${r.max}`]);
  }
  if (problems.length > 0) throw gateError(field, problems);
  const normalize = (r: GateRuleDocument): GateRule => Object.freeze({
    ...(r.max_regression !== undefined ? { max_regression: Number(r.max_regression.replace(/\s?%$/, '')) / 100 } : {}),
    ...(r.max_regression_abs !== undefined ? { max_regression_abs: r.max_regression_abs } : {}),
    ...(r.min !== undefined ? { min: r.min } : {}),
    ...(r.max !== undefined ? { max: r.max } : {}),
  });
  return Object.freeze({
    description: doc.description ?? null,
    default: doc.default ? normalize(doc.default) : null,
    kpis: Object.freeze(Object.fromEntries(Object.entries(doc.kpis ?? {}).map(([name, r]) => [name, normalize(r)]))),
  });
}

/** YAML text decoded strictly (duplicate keys are errors), not yet checked as a gate: what the CLI sends inline. */
export function decodeGateYaml(text: string, field = ''): unknown {
  const doc = YAML.parseDocument(text, { uniqueKeys: true, prettyErrors: true, strict: true });
  if (doc.errors.length > 0) throw gateError(field, doc.errors.map((e): Problem => [field, `YAML: ${e.message.split('\n')[0]}`]));
  const value: unknown = doc.toJS({ maxAliasCount: 50 });
  if (value === null || value === undefined) throw gateError(field, [[field, 'the gate document is empty']]);
  return value;
}

/** A gate from YAML text (a gate file). Problems name the field; the caller adds the file name. */
export function parseGateYaml(text: string, field = ''): Gate {
  return parseGateObject(decodeGateYaml(text, field), field);
}

/** How much worse B is than A in the KPI's direction (negative: better), in the unit. */
function worseBy(k: KpiComparison): number {
  return k.higher_is_better ? k.baseline! - k.candidate! : k.candidate! - k.baseline!;
}

const EPSILON = 1e-9;

function runChecks(k: KpiComparison, rule: GateRule, named: boolean): KpiGateOutcome {
  const source = named ? 'kpis' : 'default';
  const fail = (reason: string): KpiGateOutcome => ({ rule: source, status: named ? 'fail' : 'skipped', checks: [], reason });
  if (k.verdict === 'missing_in_candidate' || k.verdict === 'missing_in_both') return fail(`not in the candidate${k.verdict === 'missing_in_both' ? ' nor in the baseline' : ''}`);
  if (k.candidate === null) return fail(`no value in the candidate${k.note ? ` (${k.note})` : ''}`);
  if (k.verdict === 'unit_mismatch') return fail(k.note ?? 'units differ');

  const checks: GateCheck[] = [];
  const unusable: string[] = [];
  const b = k.candidate;
  const relativeNeeds = (): string | null => {
    if (k.verdict === 'missing_in_baseline') return 'not in the baseline';
    if (k.baseline === null) return 'no value in the baseline';
    if (k.higher_is_better === null) return 'the collections do not say whether higher is better';
    return null;
  };
  if (rule.max_regression !== undefined) {
    const why = relativeNeeds();
    if (why) unusable.push(`max_regression: ${why}`);
    else {
      const worse = worseBy(k);
      const a = k.baseline!;
      const limit = rule.max_regression;
      if (a === 0) {
        const passed = worse <= 0;
        checks.push({ check: 'max_regression', limit, actual: passed ? 0 : null, passed,
          message: passed ? `not worse than a baseline of 0 (limit ${formatPercent(limit)})` : `worse than a baseline of 0: relative change unbounded (limit ${formatPercent(limit)})` });
      } else {
        const fraction = worse / Math.abs(a);
        const passed = fraction <= limit + EPSILON;
        const how = fraction > 0 ? `${formatPercent(fraction)} worse` : fraction < 0 ? `${formatPercent(-fraction)} better` : 'unchanged';
        checks.push({ check: 'max_regression', limit, actual: fraction, passed,
          message: `${how} than the baseline (${withUnit(b, k.unit)} vs ${withUnit(a, k.unit)}), ${passed ? 'within' : 'past'} the limit of ${formatPercent(limit)} worse` });
      }
    }
  }
  if (rule.max_regression_abs !== undefined) {
    const why = relativeNeeds();
    if (why) unusable.push(`max_regression_abs: ${why}`);
    else {
      const worse = worseBy(k);
      const limit = rule.max_regression_abs;
      const passed = worse <= limit + EPSILON * Math.max(1, Math.abs(limit));
      const how = worse > 0 ? `${withUnit(worse, k.unit)} worse` : worse < 0 ? `${withUnit(-worse, k.unit)} better` : 'unchanged';
      checks.push({ check: 'max_regression_abs', limit, actual: worse, passed,
        message: `${how} than the baseline (${withUnit(b, k.unit)} vs ${withUnit(k.baseline, k.unit)}), ${passed ? 'within' : 'past'} the limit of ${withUnit(limit, k.unit)} worse` });
    }
  }
  if (rule.min !== undefined) {
    const passed = b >= rule.min;
    checks.push({ check: 'min', limit: rule.min, actual: b, passed, message: `${withUnit(b, k.unit)} ${passed ? 'is at least' : 'is below'} the minimum ${withUnit(rule.min, k.unit)}` });
  }
  if (rule.max !== undefined) {
    const passed = b <= rule.max;
    checks.push({ check: 'max', limit: rule.max, actual: b, passed, message: `${withUnit(b, k.unit)} ${passed ? 'is at most' : 'is above'} the maximum ${withUnit(rule.max, k.unit)}` });
  }
  const failed = checks.filter((c) => !c.passed);
  if (failed.length > 0) return { rule: source, status: 'fail', checks, reason: [...failed.map((c) => c.message), ...(named ? unusable : [])].join('; ') };
  if (unusable.length > 0 && named) return { rule: source, status: 'fail', checks, reason: unusable.join('; ') };
  if (checks.length === 0) return { rule: source, status: 'skipped', checks, reason: unusable.join('; ') || 'nothing to check' };
  return { rule: source, status: 'pass', checks, reason: unusable.length > 0 ? `not checked: ${unusable.join('; ')}` : null };
}

/**
 * The comparison with the gate applied: each row gets its gate outcome (null when no rule
 * covers it); a KPI the gate names that neither side has gets a row of its own, failing.
 */
export function applyGate(comparison: Comparison, gate: Gate | null): GatedComparison {
  if (gate === null) return { ...comparison, kpis: comparison.kpis.map((k) => ({ ...k, gate: null })), gate: null };
  const rows: KpiComparison[] = [...comparison.kpis];
  for (const name of Object.keys(gate.kpis)) {
    if (!rows.some((k) => k.name === name)) rows.push(absentKpiRow(name, comparison.baseline.length));
  }
  const kpis: GatedKpiComparison[] = rows.map((k) => {
    const own = gate.kpis[k.name];
    const rule = own ?? gate.default;
    return { ...k, gate: rule ? runChecks(k, rule, own !== undefined) : null };
  });
  const failures = kpis.filter((k) => k.gate?.status === 'fail').map((k) => ({ kpi: k.name, reason: k.gate!.reason ?? 'failed' }));
  return {
    ...comparison,
    kpis,
    summary: summarize(kpis),
    gate: {
      passed: failures.length === 0,
      description: gate.description,
      checked: kpis.filter((k) => k.gate?.status === 'pass' || k.gate?.status === 'fail').length,
      skipped: kpis.filter((k) => k.gate?.status === 'skipped').length,
      failures,
    },
  };
}

/** One line for people: "gate passed: 3 KPIs checked" / "gate FAILED: 1 of 3 gated KPIs failed: throughput (20.1% worse …)". */
export function gateSummaryLine(g: GateOutcome): string {
  if (g.passed) return `gate passed: ${g.checked} KPI${g.checked === 1 ? '' : 's'} checked${g.skipped > 0 ? `, ${g.skipped} skipped` : ''}`;
  return `gate FAILED: ${g.failures.length} of ${g.checked + g.skipped} gated KPIs failed: ${g.failures.map((f) => `${f.kpi} (${f.reason})`).join('; ')}`;
}

