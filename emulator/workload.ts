/**
 * EMULATOR — the emulated AI-factory workload used by `benchmon demo` and the tests: an emulated vLLM inference
 * server and an emulated Qdrant vector DB on free local ports, a built-in open-loop load generator, and the
 * latency distributions they were built with (so a test can check KPIs against known truth). Not product code.
 */
import {
  bucketBounds,
  endToEndLatency,
  outputTokenPmf,
  type BucketBounds,
  type PiecewiseUniform,
  type QuantileKnot,
} from './distributions.js';
import { runLoad as runTargetsLoad, type RunLoadOptions, type TargetsLoadReport } from './load-generator.js';
import {
  EMULATED_QDRANT_VERSION,
  startQdrantEmulator,
  type QdrantEmulator,
  type QdrantEmulatorOptions,
  type QdrantServedStats,
} from './qdrant-emulator.js';
import { QDRANT_DURATION_BUCKETS } from './qdrant-metrics.js';
import { startVllmEmulator, type VllmEmulator, type VllmEmulatorOptions, type VllmServedStats } from './vllm-emulator.js';
import { VLLM_ITL_BUCKETS, VLLM_REQUEST_LATENCY_BUCKETS, VLLM_TTFT_BUCKETS } from './vllm-metrics.js';

export interface WorkloadLoadDefaults {
  /** vLLM completions per second. Default 10. */
  readonly vllmRate: number;
  /** Qdrant searches per second. Default 30. */
  readonly qdrantRate: number;
  /** `max_tokens` of every completion (it shapes the e2e distribution). Default 34. */
  readonly maxTokens: number;
  /** Prompt length in words (= emulated tokens), uniform. Default [64, 192]. */
  readonly promptWords: readonly [number, number];
  /** Stream completions (SSE), so the load generator measures client-side TTFT. Default true. */
  readonly stream: boolean;
  /** Qdrant `limit`. Default 10. */
  readonly searchLimit: number;
}

export interface WorkloadOptions {
  /** Interface both emulators bind to. Default 127.0.0.1. */
  readonly host?: string;
  readonly vllm?: VllmEmulatorOptions;
  readonly qdrant?: QdrantEmulatorOptions;
  readonly load?: Partial<WorkloadLoadDefaults>;
  /** Seeds every random source (emulators and load generator) for a reproducible request mix. */
  readonly seed?: number;
}

export interface KnownQuantile {
  readonly q: number;
  /** The distribution's true quantile, seconds. */
  readonly value: number;
  /** The emulator histogram's bucket (lower, upper] that holds it. */
  readonly bucket: BucketBounds;
}

export interface KnownDistribution {
  /** The histogram family the emulator observes these times in. */
  readonly metric: string;
  readonly unit: 'seconds';
  readonly kind: 'piecewise-uniform' | 'numerical-convolution';
  readonly definition: string;
  /** Quantile-function knots (piecewise-uniform only): P(X <= x) = q, linear in between. */
  readonly knots?: readonly QuantileKnot[];
  readonly min: number;
  readonly max: number;
  readonly mean: number;
  /** 0 when the quantiles are exact; otherwise their numerical precision. */
  readonly precisionSeconds: number;
  /** Histogram upper bounds the emulator uses for this family (without +Inf). */
  readonly buckets: readonly number[];
  readonly quantiles: { readonly p50: KnownQuantile; readonly p95: KnownQuantile; readonly p99: KnownQuantile };
}

export interface KnownDistributions {
  readonly ttft: KnownDistribution;
  readonly interTokenLatency: KnownDistribution;
  readonly e2eLatency: KnownDistribution;
  readonly qdrantLatency: KnownDistribution;
  readonly outputTokens: {
    readonly naturalMin: number;
    readonly naturalMax: number;
    readonly maxTokens: number;
    /** [k, P(k)] pairs of the output length actually served. */
    readonly pmf: ReadonlyArray<readonly [number, number]>;
    readonly mean: number;
    /** P(finished_reason = "length"). */
    readonly lengthShare: number;
  };
  /** Share of Qdrant searches answered with an error status on purpose. */
  readonly qdrantErrorShare: number;
  /** When the figures above hold. */
  readonly assumptions: readonly string[];
}

export interface WorkloadLoadOptions extends Omit<RunLoadOptions, 'durationMs'> {
  /** Default 60 000 (the demo's default). */
  readonly durationMs?: number;
  /** Override the rates for this run; 0 leaves that endpoint idle. */
  readonly vllmRate?: number;
  readonly qdrantRate?: number;
}

export interface WorkloadCounts {
  readonly vllm: VllmServedStats;
  readonly qdrant: QdrantServedStats;
}

export interface EmulatedWorkload {
  readonly vllm: {
    /** `host:port` scrape target. */
    readonly address: string;
    readonly url: string;
    readonly metricsPath: '/metrics';
    readonly modelName: string;
    readonly emulator: VllmEmulator;
  };
  readonly qdrant: {
    readonly address: string;
    readonly url: string;
    readonly metricsPath: '/metrics';
    readonly collection: string;
    readonly version: string;
    readonly emulator: QdrantEmulator;
  };
  readonly distributions: KnownDistributions;
  readonly load: WorkloadLoadDefaults;
  /** Drive both emulators with the built-in load generator; resolves when every answer is in. */
  runLoad(options?: WorkloadLoadOptions): Promise<TargetsLoadReport>;
  /** What the servers themselves served so far. */
  counts(): WorkloadCounts;
  /** Abort any running load and close both servers. Idempotent. */
  stop(): Promise<void>;
}

const QUANTILES = [0.5, 0.95, 0.99] as const;

function quantiles(quantile: (q: number) => number, buckets: readonly number[]): KnownDistribution['quantiles'] {
  const [p50, p95, p99] = QUANTILES.map((q) => {
    const value = quantile(q);
    return { q, value, bucket: bucketBounds(value, buckets) };
  }) as [KnownQuantile, KnownQuantile, KnownQuantile];
  return { p50, p95, p99 };
}

function piecewise(metric: string, d: PiecewiseUniform, buckets: readonly number[], definition: string): KnownDistribution {
  return {
    metric,
    unit: 'seconds',
    kind: 'piecewise-uniform',
    definition,
    knots: d.knots,
    min: d.min,
    max: d.max,
    mean: d.mean(),
    precisionSeconds: 0,
    buckets,
    quantiles: quantiles((q) => d.quantile(q), buckets),
  };
}

/** The known distributions of a vLLM/Qdrant emulator pair under the given max_tokens. */
export function knownDistributions(vllm: VllmEmulator['config'], qdrant: QdrantEmulator['config'], maxTokens: number): KnownDistributions {
  const pmf = outputTokenPmf(vllm.outputTokens, maxTokens);
  const step = 0.001;
  const e2e = endToEndLatency(vllm.ttft, vllm.itl, pmf, step);
  let lengthShare = 0;
  for (let n = vllm.outputTokens.min; n <= vllm.outputTokens.max; n++) if (n > maxTokens) lengthShare += vllm.outputTokens.pmf(n);
  return {
    ttft: piecewise(
      'vllm:time_to_first_token_seconds',
      vllm.ttft,
      VLLM_TTFT_BUCKETS,
      'Piecewise-uniform: linear quantile function through the knots; the emulator sleeps one draw before the first token.',
    ),
    interTokenLatency: piecewise(
      'vllm:inter_token_latency_seconds',
      vllm.itl,
      VLLM_ITL_BUCKETS,
      'Piecewise-uniform, drawn independently for every output token after the first.',
    ),
    e2eLatency: {
      metric: 'vllm:e2e_request_latency_seconds',
      unit: 'seconds',
      kind: 'numerical-convolution',
      definition:
        'TTFT + sum of (k - 1) independent inter-token latencies, k = min(natural output length, max_tokens); ' +
        `computed by convolution on a ${step * 1000} ms lattice (quantiles accurate to better than one step).`,
      min: e2e.min,
      max: e2e.max,
      mean: e2e.mean(),
      precisionSeconds: step,
      buckets: VLLM_REQUEST_LATENCY_BUCKETS,
      quantiles: quantiles((q) => e2e.quantile(q), VLLM_REQUEST_LATENCY_BUCKETS),
    },
    qdrantLatency: piecewise(
      'rest_responses_duration_seconds',
      qdrant.latency,
      QDRANT_DURATION_BUCKETS,
      'Piecewise-uniform latency of every POST /collections/{name}/points/search (errors included; only status 200 is observed by Qdrant).',
    ),
    outputTokens: {
      naturalMin: vllm.outputTokens.min,
      naturalMax: vllm.outputTokens.max,
      maxTokens,
      pmf,
      mean: pmf.reduce((m, [k, p]) => m + k * p, 0),
      lengthShare,
    },
    qdrantErrorShare: qdrant.errorShare,
    assumptions: [
      'No vLLM request waits for admission (emulator stats().queued === 0); a waiting request adds its queue time to TTFT and e2e.',
      'Observed times are the drawn sleeps plus a small positive overhead (timer lateness and I/O, typically about 1 ms; more on a loaded machine).',
      'Inter-token sleeps are scheduled against absolute deadlines, so the overhead does not accumulate over a request.',
    ],
  };
}

function resolveLoadDefaults(load: Partial<WorkloadLoadDefaults> | undefined): WorkloadLoadDefaults {
  const d: WorkloadLoadDefaults = {
    vllmRate: load?.vllmRate ?? 10,
    qdrantRate: load?.qdrantRate ?? 30,
    maxTokens: load?.maxTokens ?? 34,
    promptWords: load?.promptWords ?? [64, 192],
    stream: load?.stream ?? true,
    searchLimit: load?.searchLimit ?? 10,
  };
  if (!(d.vllmRate >= 0) || !(d.qdrantRate >= 0)) throw new RangeError('workload: rates must be >= 0');
  if (!Number.isInteger(d.maxTokens) || d.maxTokens < 1) throw new RangeError('workload: maxTokens must be a positive integer');
  const [lo, hi] = d.promptWords;
  if (!Number.isInteger(lo) || !Number.isInteger(hi) || lo < 1 || hi < lo) throw new RangeError('workload: promptWords must be [min, max] with 1 <= min <= max');
  return Object.freeze(d);
}

/** Start the emulated vLLM and Qdrant servers on free ports. Call `stop()` when done. */
export async function startEmulatedWorkload(options: WorkloadOptions = {}): Promise<EmulatedWorkload> {
  const host = options.host ?? '127.0.0.1';
  const load = resolveLoadDefaults(options.load);
  const seed = options.seed;
  const vllm = await startVllmEmulator({ host, ...(seed !== undefined ? { seed } : {}), ...options.vllm });
  let qdrant: QdrantEmulator;
  try {
    qdrant = await startQdrantEmulator({ host, ...(seed !== undefined ? { seed: seed + 1 } : {}), ...options.qdrant });
  } catch (err) {
    await vllm.close();
    throw err;
  }
  const collection = qdrant.config.collections[0];
  if (!collection) {
    await Promise.all([vllm.close(), qdrant.close()]);
    throw new Error('workload: the Qdrant emulator needs at least one collection');
  }
  const distributions = knownDistributions(vllm.config, qdrant.config, load.maxTokens);
  const stopAll = new AbortController();
  let stopping: Promise<void> | undefined;
  let loadSeed = seed ?? 1;

  return {
    vllm: { address: vllm.address, url: vllm.url, metricsPath: '/metrics', modelName: vllm.config.modelName, emulator: vllm },
    qdrant: {
      address: qdrant.address,
      url: qdrant.url,
      metricsPath: '/metrics',
      collection: collection.name,
      version: EMULATED_QDRANT_VERSION,
      emulator: qdrant,
    },
    distributions,
    load,
    runLoad: (o: WorkloadLoadOptions = {}) => {
      if (stopping) return Promise.reject(new Error('workload: stopped'));
      const vllmRate = o.vllmRate ?? load.vllmRate;
      const qdrantRate = o.qdrantRate ?? load.qdrantRate;
      loadSeed += 2;
      const signal = o.signal ? AbortSignal.any([o.signal, stopAll.signal]) : stopAll.signal;
      return runTargetsLoad(
        {
          ...(vllmRate > 0
            ? {
                vllm: {
                  url: vllm.url,
                  rate: vllmRate,
                  model: vllm.config.modelName,
                  maxTokens: load.maxTokens,
                  promptWords: load.promptWords,
                  stream: load.stream,
                  seed: loadSeed,
                },
              }
            : {}),
          ...(qdrantRate > 0
            ? { qdrant: { url: qdrant.url, rate: qdrantRate, collection: collection.name, dim: collection.dim, limit: load.searchLimit, seed: loadSeed + 1 } }
            : {}),
        },
        { ...o, durationMs: o.durationMs ?? 60_000, signal },
      );
    },
    counts: () => ({ vllm: vllm.stats(), qdrant: qdrant.stats() }),
    stop: () => {
      stopping ??= (async () => {
        stopAll.abort(new Error('workload stopped'));
        await Promise.all([vllm.close(), qdrant.close()]);
      })();
      return stopping;
    },
  };
}
