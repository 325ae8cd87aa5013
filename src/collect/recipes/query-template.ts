/**
 * KPI queries are PromQL templates with placeholders:
 *
 *   ${session}  the matcher `session="<id>"`: written inside the braces of EVERY selector,
 *               e.g. `rate(http_requests_total{${session}}[${window}])` or `up{job="x", ${session}}`
 *   ${window}   the window W (instant value) or the sliding series window (time series)
 *   ${step}     the step, e.g. for subqueries `max_over_time(rate(x{${session}}[1m])[${window}:${step}])`
 *   ${by}       the slice labels: empty for the overall value, `job, instance` (slice_by) for the
 *               per-slice values; write it in the grouping clause, `sum by (le, ${by}) (…)`
 *
 * The session matcher is a placeholder for the whole matcher (not just the value) so that
 * benchmon writes and escapes it itself and a template cannot weaken it into `=~".*"`. Every
 * selector must carry it: a lexer below finds the selectors and refuses a template with one
 * that does not, so two sessions' series can never mix.
 */
import { isValidSessionId } from '../../sessions/identifiers.js';

export const PLACEHOLDERS = ['session', 'window', 'step', 'by'] as const;
export type Placeholder = (typeof PLACEHOLDERS)[number];

export type TokenKind = 'placeholder' | 'string' | 'number' | 'identifier' | 'punct' | 'operator';
export interface Token {
  kind: TokenKind;
  text: string;
  start: number;
  end: number;
}

const IDENT_START = /[A-Za-z_:]/;
const IDENT_PART = /[A-Za-z0-9_:]/;
const NUMBER_RE = /^(?:0[xX][0-9a-fA-F]+|(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)(?:[A-Za-z0-9]*)/;
const OPERATORS = ['==', '!=', '>=', '<=', '=~', '!~', '+', '-', '*', '/', '%', '^', '>', '<', '=', '@'];

/** PromQL tokens, enough to find selectors and grouping clauses; `${name}` is one token. */
export function tokenizePromql(text: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < text.length) {
    const c = text[i]!;
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    if (c === '#') {
      while (i < text.length && text[i] !== '\n') i++;
      continue;
    }
    const start = i;
    if (c === '$' && text[i + 1] === '{') {
      const close = text.indexOf('}', i);
      if (close < 0) throw new Error(`unclosed placeholder at character ${i + 1}`);
      tokens.push({ kind: 'placeholder', text: text.slice(i + 2, close), start, end: close + 1 });
      i = close + 1;
      continue;
    }
    if (c === '"' || c === "'" || c === '`') {
      i++;
      while (i < text.length && text[i] !== c) {
        if (text[i] === '\\' && c !== '`') i++;
        i++;
      }
      if (i >= text.length) throw new Error(`unclosed string starting at character ${start + 1}`);
      i++;
      tokens.push({ kind: 'string', text: text.slice(start, i), start, end: i });
      continue;
    }
    if (/[0-9]/.test(c) || (c === '.' && /[0-9]/.test(text[i + 1] ?? ''))) {
      const m = NUMBER_RE.exec(text.slice(i))!;
      i += m[0].length;
      tokens.push({ kind: 'number', text: m[0], start, end: i });
      continue;
    }
    if (IDENT_START.test(c)) {
      i++;
      while (i < text.length && IDENT_PART.test(text[i]!)) i++;
      tokens.push({ kind: 'identifier', text: text.slice(start, i), start, end: i });
      continue;
    }
    if ('(){}[],'.includes(c)) {
      i++;
      tokens.push({ kind: 'punct', text: c, start, end: i });
      continue;
    }
    const op = OPERATORS.find((o) => text.startsWith(o, i));
    if (op) {
      i += op.length;
      tokens.push({ kind: 'operator', text: op, start, end: i });
      continue;
    }
    throw new Error(`unexpected character ${JSON.stringify(c)} at character ${i + 1}`);
  }
  return tokens;
}

/** Words that are not metric names when they stand alone (PromQL keywords, binary set operators). */
const KEYWORDS = new Set(['by', 'without', 'on', 'ignoring', 'group_left', 'group_right', 'bool', 'offset', 'and', 'or', 'unless', 'atan2', 'inf', 'nan']);
/** Keywords followed by a parenthesised label list. */
const GROUPING_KEYWORDS = new Set(['by', 'without', 'on', 'ignoring', 'group_left', 'group_right']);

/** A vector selector found in a template: its text (metric name and braces) and where it is. */
export interface SelectorRef {
  text: string;
  metric: string | undefined;
  start: number;
  end: number;
  hasSession: boolean;
}

function matchingClose(tokens: Token[], openIndex: number): number {
  const open = tokens[openIndex]!.text;
  const close = open === '(' ? ')' : open === '{' ? '}' : ']';
  let depth = 0;
  for (let j = openIndex; j < tokens.length; j++) {
    const t = tokens[j]!;
    if (t.kind !== 'punct') continue;
    if (t.text === open) depth++;
    else if (t.text === close && --depth === 0) return j;
  }
  throw new Error(`unbalanced ${JSON.stringify(open)} at character ${tokens[openIndex]!.start + 1}`);
}

/** The vector selectors of a template (its metric names and bare `{…}` selectors). */
export function findSelectors(template: string): SelectorRef[] {
  const tokens = tokenizePromql(template);
  const selectors: SelectorRef[] = [];
  const isPunct = (t: Token | undefined, p: string) => t !== undefined && t.kind === 'punct' && t.text === p;
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i]!;
    if (isPunct(t, '[')) {
      // Range and subquery brackets hold durations and placeholders, never selectors.
      i = matchingClose(tokens, i);
      continue;
    }
    if (isPunct(t, '{')) {
      const close = matchingClose(tokens, i);
      selectors.push(selectorFrom(template, tokens, undefined, i, close));
      i = close;
      continue;
    }
    if (t.kind !== 'identifier') continue;
    const next = tokens[i + 1];
    const word = t.text.toLowerCase();
    if (GROUPING_KEYWORDS.has(word)) {
      if (isPunct(next, '(')) i = matchingClose(tokens, i + 1);
      continue;
    }
    if (KEYWORDS.has(word)) continue;
    if (isPunct(next, '(')) continue; // a function or aggregation call
    if (isPunct(next, '{')) {
      const close = matchingClose(tokens, i + 1);
      selectors.push(selectorFrom(template, tokens, t, i + 1, close));
      i = close;
      continue;
    }
    // Aggregations written as `sum by (x) (…)` put a keyword, not "(", after the operator name.
    if (next?.kind === 'identifier' && GROUPING_KEYWORDS.has(next.text.toLowerCase())) continue;
    selectors.push({ text: t.text, metric: t.text, start: t.start, end: t.end, hasSession: false });
  }
  return selectors;
}

function selectorFrom(template: string, tokens: Token[], metric: Token | undefined, open: number, close: number): SelectorRef {
  const inner = tokens.slice(open + 1, close);
  const start = metric?.start ?? tokens[open]!.start;
  const end = tokens[close]!.end;
  return {
    text: template.slice(start, end),
    metric: metric?.text,
    start,
    end,
    hasSession: inner.some((tok) => tok.kind === 'placeholder' && tok.text === 'session'),
  };
}

/**
 * Problems with a template, as messages (empty when it is fine): unknown placeholders, a
 * `${session}` outside selector braces, a selector without `${session}`, unbalanced brackets.
 */
export function checkQueryTemplate(template: string): string[] {
  let tokens: Token[];
  let selectors: SelectorRef[];
  try {
    tokens = tokenizePromql(template);
    selectors = findSelectors(template);
  } catch (err) {
    return [(err as Error).message];
  }
  const problems: string[] = [];
  const unbalanced = firstUnbalanced(tokens);
  if (unbalanced) problems.push(unbalanced);
  for (const t of tokens) {
    if (t.kind === 'placeholder' && !(PLACEHOLDERS as readonly string[]).includes(t.text)) {
      problems.push(`unknown placeholder \${${t.text}} (known: ${PLACEHOLDERS.map((p) => `\${${p}}`).join(', ')})`);
    }
  }
  const sessionTokens = tokens.filter((t) => t.kind === 'placeholder' && t.text === 'session');
  const inSelector = (t: Token) => selectors.some((s) => t.start >= s.start && t.end <= s.end);
  if (sessionTokens.some((t) => !inSelector(t))) problems.push('${session} stands for a matcher and belongs inside a selector\'s braces: {${session}}');
  if (selectors.length === 0) problems.push('no metric selector found');
  for (const s of selectors) {
    if (!s.hasSession) problems.push(`selector ${s.text} lacks the session matcher: write ${s.metric ?? ''}{…, \${session}} so sessions never mix`);
  }
  return problems;
}

function firstUnbalanced(tokens: Token[]): string | undefined {
  const pairs: Record<string, string> = { ')': '(', '}': '{', ']': '[' };
  const stack: Token[] = [];
  for (const t of tokens) {
    if (t.kind !== 'punct') continue;
    if ('({['.includes(t.text)) stack.push(t);
    else if (t.text in pairs) {
      const open = stack.pop();
      if (open?.text !== pairs[t.text]) return `unbalanced ${JSON.stringify(t.text)} at character ${t.start + 1}`;
    }
  }
  const open = stack.pop();
  return open ? `unbalanced ${JSON.stringify(open.text)} at character ${open.start + 1}` : undefined;
}

export function usesPlaceholder(template: string, name: Placeholder): boolean {
  return tokenizePromql(template).some((t) => t.kind === 'placeholder' && t.text === name);
}

/** A label value inside double quotes in PromQL (Go string escapes). */
export function escapePromqlString(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

export interface TemplateValues {
  sessionId: string;
  /** Prometheus duration for ${window}. */
  window: string;
  /** Prometheus duration for ${step}. */
  step: string;
  /** Labels for ${by}; empty for the overall value. */
  by: readonly string[];
}

const LABEL_NAME_RE = /^[A-Za-z_][A-Za-z0-9_]*$/;

/**
 * The template with its placeholders replaced. An empty ${by} takes one neighbouring comma
 * with it, so `sum by (le, ${by})` becomes `sum by (le)` rather than `sum by (le, )`.
 */
export function expandQueryTemplate(template: string, values: TemplateValues): string {
  if (!isValidSessionId(values.sessionId)) throw new Error(`invalid session id ${JSON.stringify(values.sessionId)}`);
  for (const label of values.by) if (!LABEL_NAME_RE.test(label)) throw new Error(`invalid label name ${JSON.stringify(label)} in slice_by`);
  const tokens = tokenizePromql(template);
  let out = '';
  let cursor = 0;
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i]!;
    if (t.kind !== 'placeholder') continue;
    let start = t.start;
    let end = t.end;
    let replacement: string;
    switch (t.text) {
      case 'session':
        replacement = `session="${escapePromqlString(values.sessionId)}"`;
        break;
      case 'window':
        replacement = values.window;
        break;
      case 'step':
        replacement = values.step;
        break;
      case 'by':
        replacement = values.by.join(', ');
        if (replacement === '') {
          const prev = tokens[i - 1];
          const next = tokens[i + 1];
          if (prev?.kind === 'punct' && prev.text === ',') start = prev.start;
          else if (next?.kind === 'punct' && next.text === ',') end = next.end + (/^\s*/.exec(template.slice(next.end))?.[0].length ?? 0);
        }
        break;
      default:
        throw new Error(`unknown placeholder \${${t.text}}`);
    }
    out += template.slice(cursor, start) + replacement;
    cursor = end;
  }
  return out + template.slice(cursor);
}

/**
 * For `histogram_quantile(<q>, <buckets>)` templates: q and the bucket expression, which the
 * collector evaluates itself to find the bucket the estimate fell into. Undefined when the
 * template is not exactly one such call.
 */
export function splitHistogramQuantile(template: string): { quantile: number; buckets: string } | undefined {
  const tokens = tokenizePromql(template);
  const [fn, open, q, comma] = tokens;
  if (fn?.kind !== 'identifier' || fn.text !== 'histogram_quantile') return undefined;
  if (open?.text !== '(' || q?.kind !== 'number' || comma?.text !== ',') return undefined;
  let close: number;
  try {
    close = matchingClose(tokens, 1);
  } catch {
    return undefined;
  }
  if (close !== tokens.length - 1 || close <= 4) return undefined;
  const quantile = Number(q.text);
  if (!Number.isFinite(quantile)) return undefined;
  return { quantile, buckets: template.slice(comma.end, tokens[close]!.start).trim() };
}
