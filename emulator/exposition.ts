/**
 * A small Prometheus text-format (0.0.4) reader for the emulator's own tests and for checking a scrape against
 * the fixtures. Not the product's parser: it is deliberately independent of benchmon's code.
 */

export interface Sample {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

export interface Family {
  readonly name: string;
  type: string | undefined;
  help: string | undefined;
}

export interface Exposition {
  /** Families by name, from HELP/TYPE lines. */
  readonly families: ReadonlyMap<string, Family>;
  readonly samples: readonly Sample[];
}

function parseValue(text: string): number {
  switch (text) {
    case '+Inf':
    case 'Inf':
      return Number.POSITIVE_INFINITY;
    case '-Inf':
      return Number.NEGATIVE_INFINITY;
    case 'NaN':
      return Number.NaN;
    default: {
      const v = Number(text);
      if (Number.isNaN(v)) throw new Error(`bad sample value ${JSON.stringify(text)}`);
      return v;
    }
  }
}

/** Parse `{a="x",b="y"}` starting at text[i] === '{'; returns the labels and the index after '}'. */
function parseLabels(text: string, i: number): [Record<string, string>, number] {
  const labels: Record<string, string> = {};
  i++; // '{'
  for (;;) {
    while (text[i] === ' ' || text[i] === ',') i++;
    if (text[i] === '}') return [labels, i + 1];
    const eq = text.indexOf('=', i);
    if (eq < 0) throw new Error(`label without '=' in ${JSON.stringify(text)}`);
    const name = text.slice(i, eq).trim();
    i = eq + 1;
    if (text[i] !== '"') throw new Error(`label ${name}: value must be quoted in ${JSON.stringify(text)}`);
    i++;
    let value = '';
    for (; i < text.length && text[i] !== '"'; i++) {
      if (text[i] === '\\') {
        i++;
        value += text[i] === 'n' ? '\n' : text[i];
      } else {
        value += text[i];
      }
    }
    if (i >= text.length) throw new Error(`unterminated label value in ${JSON.stringify(text)}`);
    labels[name] = value;
    i++; // closing quote
  }
}

export function parseExposition(text: string): Exposition {
  const families = new Map<string, Family>();
  const samples: Sample[] = [];
  const family = (name: string): Family => {
    let f = families.get(name);
    if (!f) {
      f = { name, type: undefined, help: undefined };
      families.set(name, f);
    }
    return f;
  };
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '') continue;
    if (line.startsWith('#')) {
      const m = /^#\s+(HELP|TYPE)\s+(\S+)\s?(.*)$/.exec(line);
      if (!m) continue;
      if (m[1] === 'TYPE') family(m[2]!).type = m[3]!.trim();
      else family(m[2]!).help = m[3]!;
      continue;
    }
    let i = 0;
    while (i < line.length && line[i] !== '{' && line[i] !== ' ') i++;
    const name = line.slice(0, i);
    let labels: Record<string, string> = {};
    if (line[i] === '{') [labels, i] = parseLabels(line, i);
    const rest = line.slice(i).trim().split(/\s+/);
    samples.push({ name, labels, value: parseValue(rest[0] ?? '') });
  }
  return { families, samples };
}

/** The family a sample line belongs to (strips histogram/summary suffixes when the base family is typed so). */
export function familyOf(sampleName: string, families: ReadonlyMap<string, Family>): string {
  for (const suffix of ['_bucket', '_count', '_sum']) {
    if (sampleName.endsWith(suffix)) {
      const base = sampleName.slice(0, -suffix.length);
      const type = families.get(base)?.type;
      if (type === 'histogram' || type === 'summary') return base;
    }
  }
  return sampleName;
}

/** Samples of one metric name whose labels include `match`. */
export function select(exp: Exposition, name: string, match: Record<string, string> = {}): Sample[] {
  return exp.samples.filter((s) => s.name === name && Object.entries(match).every(([k, v]) => s.labels[k] === v));
}

/** Sum of the values of `select(...)`; 0 when nothing matches. */
export function sum(exp: Exposition, name: string, match: Record<string, string> = {}): number {
  return select(exp, name, match).reduce((a, s) => a + s.value, 0);
}
