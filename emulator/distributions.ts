/**
 * Known latency distributions for the EMULATED workload (demo and tests only, not product code).
 *
 * Every latency the emulators sleep is drawn from a distribution whose quantiles are known in closed form
 * (piecewise-uniform, defined by its quantile knots) or computed numerically with a stated precision
 * (end-to-end latency, a sum of a TTFT and a random number of inter-token latencies). A test can then say
 * "the true p95 of TTFT is 0.35 s, which lies in the histogram bucket (0.25, 0.5]".
 */

/** A uniform [0, 1) random source. */
export type Rng = () => number;

/** mulberry32: small, fast, seedable; good enough for emulated latencies (not for cryptography). */
export function createRng(seed: number): Rng {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** One point of a quantile function: P(X <= x) = q. */
export interface QuantileKnot {
  readonly q: number;
  readonly x: number;
}

/**
 * A continuous distribution whose quantile function is piecewise linear through the given knots
 * (equivalently: uniform between consecutive knots, with mass q[i+1] - q[i] on [x[i], x[i+1]]).
 * Its quantile at every knot's q is exactly that knot's x, so p50/p95/p99 can be stated exactly.
 */
export class PiecewiseUniform {
  readonly kind = 'piecewise-uniform' as const;
  readonly knots: readonly QuantileKnot[];

  constructor(knots: readonly QuantileKnot[]) {
    if (knots.length < 2) throw new Error('PiecewiseUniform needs at least two knots');
    const first = knots[0]!;
    const last = knots[knots.length - 1]!;
    if (first.q !== 0 || last.q !== 1) throw new Error('PiecewiseUniform knots must start at q=0 and end at q=1');
    for (let i = 1; i < knots.length; i++) {
      const prev = knots[i - 1]!;
      const cur = knots[i]!;
      if (!(cur.q > prev.q)) throw new Error(`PiecewiseUniform knot ${i}: q must increase (${prev.q} -> ${cur.q})`);
      if (!(cur.x > prev.x)) throw new Error(`PiecewiseUniform knot ${i}: x must increase (${prev.x} -> ${cur.x})`);
    }
    if (!(first.x >= 0)) throw new Error('PiecewiseUniform: values must be non-negative');
    this.knots = Object.freeze(knots.map((k) => Object.freeze({ q: k.q, x: k.x })));
  }

  get min(): number {
    return this.knots[0]!.x;
  }

  get max(): number {
    return this.knots[this.knots.length - 1]!.x;
  }

  /** Exact quantile: linear interpolation between knots. */
  quantile(p: number): number {
    if (!(p >= 0 && p <= 1)) throw new RangeError(`quantile: p must be in [0, 1], got ${p}`);
    const k = this.knots;
    for (let i = 1; i < k.length; i++) {
      const hi = k[i]!;
      if (p <= hi.q) {
        const lo = k[i - 1]!;
        return lo.x + ((p - lo.q) / (hi.q - lo.q)) * (hi.x - lo.x);
      }
    }
    return this.max;
  }

  /** Exact CDF: P(X <= x). */
  cdf(x: number): number {
    const k = this.knots;
    if (x <= this.min) return 0;
    if (x >= this.max) return 1;
    for (let i = 1; i < k.length; i++) {
      const hi = k[i]!;
      if (x <= hi.x) {
        const lo = k[i - 1]!;
        return lo.q + ((x - lo.x) / (hi.x - lo.x)) * (hi.q - lo.q);
      }
    }
    return 1;
  }

  mean(): number {
    let m = 0;
    for (let i = 1; i < this.knots.length; i++) {
      const lo = this.knots[i - 1]!;
      const hi = this.knots[i]!;
      m += (hi.q - lo.q) * ((lo.x + hi.x) / 2);
    }
    return m;
  }

  /** Inverse-CDF sampling. */
  sample(rng: Rng): number {
    return this.quantile(rng());
  }
}

/** Uniform on the integers min..max (inclusive). */
export class DiscreteUniform {
  readonly kind = 'discrete-uniform' as const;

  constructor(readonly min: number, readonly max: number) {
    if (!Number.isInteger(min) || !Number.isInteger(max) || min < 1 || max < min) {
      throw new Error(`DiscreteUniform: need integers 1 <= min <= max, got ${min}..${max}`);
    }
  }

  sample(rng: Rng): number {
    return this.min + Math.floor(rng() * (this.max - this.min + 1));
  }

  /** P(X = k). */
  pmf(k: number): number {
    return Number.isInteger(k) && k >= this.min && k <= this.max ? 1 / (this.max - this.min + 1) : 0;
  }

  mean(): number {
    return (this.min + this.max) / 2;
  }
}

/** The number of output tokens a request gets: min(natural length, max_tokens). Returns [k, P(k)] pairs. */
export function outputTokenPmf(natural: DiscreteUniform, maxTokens: number | undefined): Array<[number, number]> {
  const pmf = new Map<number, number>();
  for (let n = natural.min; n <= natural.max; n++) {
    const k = maxTokens === undefined ? n : Math.min(n, maxTokens);
    pmf.set(k, (pmf.get(k) ?? 0) + natural.pmf(n));
  }
  return [...pmf.entries()].sort((a, b) => a[0] - b[0]);
}

/** A distribution on a regular lattice (atoms at i*h), as produced by numerical convolution. */
export class LatticeDistribution {
  readonly kind = 'lattice' as const;
  private readonly cumulative: Float64Array;

  /** mass[i] is P(X = (offset + i) * step), each atom spread uniformly over ±step/2 for the CDF. */
  constructor(readonly step: number, readonly offset: number, readonly mass: Float64Array) {
    this.cumulative = new Float64Array(mass.length);
    let acc = 0;
    for (let i = 0; i < mass.length; i++) {
      acc += mass[i]!;
      this.cumulative[i] = acc;
    }
  }

  /** Total mass (1 up to rounding). */
  get total(): number {
    return this.cumulative[this.cumulative.length - 1] ?? 0;
  }

  /** Smallest value with positive mass (atom centre minus half a step). */
  get min(): number {
    for (let i = 0; i < this.mass.length; i++) if (this.mass[i]! > 0) return (this.offset + i - 0.5) * this.step;
    return Number.NaN;
  }

  get max(): number {
    for (let i = this.mass.length - 1; i >= 0; i--) if (this.mass[i]! > 0) return (this.offset + i + 0.5) * this.step;
    return Number.NaN;
  }

  mean(): number {
    let m = 0;
    for (let i = 0; i < this.mass.length; i++) m += this.mass[i]! * (this.offset + i) * this.step;
    return m / this.total;
  }

  cdf(x: number): number {
    const pos = x / this.step - this.offset + 0.5; // cell i covers [i, i+1) in these units
    if (pos <= 0) return 0;
    const i = Math.floor(pos);
    if (i >= this.mass.length) return 1;
    const below = i > 0 ? this.cumulative[i - 1]! : 0;
    return Math.min(1, (below + this.mass[i]! * (pos - i)) / this.total);
  }

  quantile(p: number): number {
    if (!(p >= 0 && p <= 1)) throw new RangeError(`quantile: p must be in [0, 1], got ${p}`);
    const target = p * this.total;
    // first cell whose cumulative mass reaches the target
    let lo = 0;
    let hi = this.cumulative.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.cumulative[mid]! < target) lo = mid + 1;
      else hi = mid;
    }
    const below = lo > 0 ? this.cumulative[lo - 1]! : 0;
    const m = this.mass[lo]!;
    const frac = m > 0 ? (target - below) / m : 0;
    return (this.offset + lo - 0.5 + frac) * this.step;
  }
}

interface Lattice {
  offset: number;
  mass: Float64Array;
}

/** Round X to the nearest lattice point i*h (zero-mean rounding error, |error| <= h/2). */
function discretize(d: PiecewiseUniform, h: number): Lattice {
  const first = Math.round(d.min / h);
  const last = Math.round(d.max / h);
  const mass = new Float64Array(last - first + 1);
  for (let i = first; i <= last; i++) {
    mass[i - first] = d.cdf((i + 0.5) * h) - d.cdf((i - 0.5) * h);
  }
  return { offset: first, mass };
}

function convolve(a: Lattice, b: Lattice): Lattice {
  const out = new Float64Array(a.mass.length + b.mass.length - 1);
  for (let i = 0; i < a.mass.length; i++) {
    const ai = a.mass[i]!;
    if (ai === 0) continue;
    for (let j = 0; j < b.mass.length; j++) out[i + j]! += ai * b.mass[j]!;
  }
  return { offset: a.offset + b.offset, mass: out };
}

/**
 * Distribution of the emulated end-to-end latency, TTFT + sum of (k - 1) independent inter-token latencies,
 * k drawn from `outputTokens` (pairs [k, P(k)]), computed by numerical convolution on a lattice of `step`
 * seconds. Each summand is rounded to the lattice with a zero-mean error of at most step/2; the quantiles move by
 * far less than one step (the default 1 ms lattice agrees with a 0.25 ms one to within 0.02 ms).
 */
export function endToEndLatency(
  ttft: PiecewiseUniform,
  itl: PiecewiseUniform,
  outputTokens: ReadonlyArray<readonly [number, number]>,
  step = 0.001,
): LatticeDistribution {
  const itlLattice = discretize(itl, step);
  const maxK = Math.max(...outputTokens.map(([k]) => k));
  const weight = new Map(outputTokens.map(([k, p]) => [k, p] as const));
  // mixture over k of the (k-1)-fold sum of ITLs
  const maxIndex = (maxK - 1) * (itlLattice.offset + itlLattice.mass.length - 1);
  const mixture = new Float64Array(maxIndex + 1);
  let sum: Lattice = { offset: 0, mass: Float64Array.of(1) };
  for (let n = 0; n <= maxK - 1; n++) {
    if (n > 0) sum = convolve(sum, itlLattice);
    const p = weight.get(n + 1) ?? 0;
    if (p === 0) continue;
    for (let i = 0; i < sum.mass.length; i++) mixture[sum.offset + i]! += p * sum.mass[i]!;
  }
  let firstNonZero = 0;
  while (firstNonZero < mixture.length && mixture[firstNonZero] === 0) firstNonZero++;
  const decode: Lattice = { offset: firstNonZero, mass: mixture.subarray(firstNonZero) };
  const total = convolve(discretize(ttft, step), decode);
  return new LatticeDistribution(step, total.offset, total.mass);
}

/** The histogram bucket (lower, upper] a value falls in, with Prometheus `le` semantics; lower is 0 for the first bucket. */
export interface BucketBounds {
  readonly lower: number;
  readonly upper: number;
}

export function bucketBounds(value: number, upperBounds: readonly number[]): BucketBounds {
  let lower = 0;
  for (const upper of upperBounds) {
    if (value <= upper) return { lower, upper };
    lower = upper;
  }
  return { lower, upper: Number.POSITIVE_INFINITY };
}

/**
 * Exact sample quantile by the nearest-rank method: the ceil(q*n)-th smallest sample (q in (0, 1]).
 * `sorted` must be sorted ascending. Returns null for no samples.
 */
export function nearestRank(sorted: ArrayLike<number>, q: number): number | null {
  if (sorted.length === 0) return null;
  if (!(q > 0 && q <= 1)) throw new RangeError(`nearestRank: q must be in (0, 1], got ${q}`);
  const rank = Math.max(1, Math.ceil(q * sorted.length));
  return sorted[rank - 1]!;
}
