/**
 * The Prometheus families of the EMULATED vLLM server: vLLM V1's real names, types, HELP texts, labels and
 * bucket boundaries, as read from a real V1 scrape (../shared/fixtures/vllm-v1-metrics-kops-conformance.prom,
 * cncf/k8s-ai-conformance @ 83cdb76a, an early-2026 vLLM build) and vllm/v1/metrics/loggers.py.
 * Registration order follows that scrape. One Registry per emulator instance (never the global default one),
 * so several emulators can run in one process.
 */
import { Counter, Gauge, Histogram, Registry, Summary } from 'prom-client';

/** `vllm:time_to_first_token_seconds` upper bounds (V1 `buckets.py` "time_to_first_token"). */
export const VLLM_TTFT_BUCKETS: readonly number[] = Object.freeze([
  0.001, 0.005, 0.01, 0.02, 0.04, 0.06, 0.08, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10, 20, 40, 80, 160, 640, 2560,
]);
/** `vllm:inter_token_latency_seconds` and `vllm:request_time_per_output_token_seconds`. */
export const VLLM_ITL_BUCKETS: readonly number[] = Object.freeze([
  0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.75, 1, 2.5, 5, 7.5, 10, 20, 40, 80,
]);
/** `vllm:e2e_request_latency_seconds` and the queue/inference/prefill/decode time histograms. */
export const VLLM_REQUEST_LATENCY_BUCKETS: readonly number[] = Object.freeze([
  0.3, 0.5, 0.8, 1, 1.5, 2, 2.5, 5, 10, 15, 20, 30, 40, 50, 60, 120, 240, 480, 960, 1920, 7680,
]);
/** `vllm:iteration_tokens_total` (a histogram despite its name). */
export const VLLM_ITERATION_TOKENS_BUCKETS: readonly number[] = Object.freeze([
  1, 8, 16, 32, 64, 128, 256, 512, 1024, 2048, 4096, 8192, 16384,
]);
/** `vllm:request_params_n`. */
export const VLLM_PARAMS_N_BUCKETS: readonly number[] = Object.freeze([1, 2, 5, 10, 20]);
/** prometheus-fastapi-instrumentator `latency_highr_buckets` and `latency_lowr_buckets`. */
export const HTTP_HIGHR_BUCKETS: readonly number[] = Object.freeze([
  0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 1.5, 2, 2.5, 3, 3.5, 4, 4.5, 5, 7.5, 10, 30, 60,
]);
export const HTTP_LOWR_BUCKETS: readonly number[] = Object.freeze([0.1, 0.5, 1]);

/** vLLM's `build_1_2_5_buckets(max_model_len)`: 1, 2, 5, 10, 20, 50, ... up to max_model_len. */
export function oneTwoFiveBuckets(maxValue: number): number[] {
  const out: number[] = [];
  for (let exponent = 0; ; exponent++) {
    for (const mantissa of [1, 2, 5]) {
      const value = mantissa * 10 ** exponent;
      if (value > maxValue) return out;
      out.push(value);
    }
  }
}

export type FinishedReason = 'stop' | 'length' | 'abort' | 'error' | 'repetition';
export const FINISHED_REASONS: readonly FinishedReason[] = ['stop', 'length', 'abort', 'error', 'repetition'];
export const PROMPT_TOKEN_SOURCES = ['local_compute', 'local_cache_hit', 'external_kv_transfer'] as const;
export type PromptTokenSource = (typeof PROMPT_TOKEN_SOURCES)[number];
export const SLEEP_STATES = ['awake', 'weights_offloaded', 'discard_all'] as const;

/**
 * Which KV-cache gauge(s) to expose: the current name, the deprecated V0/early-V1 name (to exercise a
 * recipe's fallback), or both (the deprecation period).
 */
export type KvCacheMetricName = 'kv_cache_usage_perc' | 'gpu_cache_usage_perc' | 'both';

export interface VllmMetricsConfig {
  readonly modelName: string;
  readonly engine: string;
  readonly maxModelLen: number;
  readonly kvCacheMetric: KvCacheMetricName;
  /** `vllm:cache_config_info` labels (all strings, as vLLM renders them). */
  readonly cacheConfig: Readonly<Record<string, string>>;
  /** Unix seconds, the value of every `*_created` gauge of the pre-initialised children. */
  readonly createdAt: number;
}

type EngineLabels = { engine: string; model_name: string };

/** A gauge named `<base>_created` with the parent's HELP text, as prometheus_client emits next to counters/histograms. */
function createdGauge(registry: Registry, name: string, help: string, labelNames: readonly string[]): Gauge {
  return new Gauge({ name, help, labelNames: [...labelNames], registers: [registry] });
}

export class VllmMetrics {
  readonly registry = new Registry();
  private readonly labels: EngineLabels;

  readonly estimatedFlops: Counter;
  readonly estimatedReadBytes: Counter;
  readonly estimatedWriteBytes: Counter;
  readonly numRequestsRunning: Gauge;
  readonly numRequestsWaiting: Gauge;
  readonly engineSleepState: Gauge;
  readonly kvCacheUsage: Gauge | undefined;
  readonly gpuCacheUsage: Gauge | undefined;
  readonly prefixCacheQueries: Counter;
  readonly prefixCacheHits: Counter;
  readonly externalPrefixCacheQueries: Counter;
  readonly externalPrefixCacheHits: Counter;
  readonly mmCacheQueries: Counter;
  readonly mmCacheHits: Counter;
  readonly numPreemptions: Counter;
  readonly promptTokens: Counter;
  readonly promptTokensBySource: Counter;
  readonly promptTokensCached: Counter;
  readonly promptTokensRecomputed: Counter;
  readonly generationTokens: Counter;
  readonly requestSuccess: Counter;
  readonly requestPromptTokens: Histogram;
  readonly requestGenerationTokens: Histogram;
  readonly iterationTokens: Histogram;
  readonly requestMaxNumGenerationTokens: Histogram;
  readonly requestParamsN: Histogram;
  readonly requestParamsMaxTokens: Histogram;
  readonly timeToFirstToken: Histogram;
  readonly interTokenLatency: Histogram;
  readonly requestTimePerOutputToken: Histogram;
  readonly e2eRequestLatency: Histogram;
  readonly requestQueueTime: Histogram;
  readonly requestInferenceTime: Histogram;
  readonly requestPrefillTime: Histogram;
  readonly requestDecodeTime: Histogram;
  readonly requestPrefillKvComputedTokens: Histogram;
  readonly cacheConfigInfo: Gauge;

  // prometheus-fastapi-instrumentator (vLLM excludes /metrics, /health, /load, /ping, /version, /server_info)
  readonly httpRequests: Counter;
  private readonly httpRequestsCreated: Gauge;
  readonly httpRequestSize: Summary;
  private readonly httpRequestSizeCreated: Gauge;
  readonly httpResponseSize: Summary;
  private readonly httpResponseSizeCreated: Gauge;
  readonly httpDurationHighr: Histogram;
  readonly httpDuration: Histogram;
  private readonly httpDurationCreated: Gauge;
  private readonly seenHttpChildren = new Set<string>();
  private readonly createdAt: number;

  constructor(config: VllmMetricsConfig) {
    const r = this.registry;
    this.labels = { engine: config.engine, model_name: config.modelName };
    this.createdAt = config.createdAt;
    const engineLabelNames = ['engine', 'model_name'] as const;
    const tokenBuckets = oneTwoFiveBuckets(config.maxModelLen);
    const createdInit: Array<() => void> = [];

    const counter = (base: string, help: string, extraLabel?: { name: string; values: readonly string[] }): Counter => {
      const labelNames = extraLabel ? ['engine', extraLabel.name, 'model_name'] : [...engineLabelNames];
      const c = new Counter({ name: `${base}_total`, help, labelNames, registers: [r] });
      const created = createdGauge(r, `${base}_created`, help, labelNames);
      createdInit.push(() => {
        for (const value of extraLabel?.values ?? [undefined]) {
          const labels = extraLabel && value !== undefined ? this.withLabel(extraLabel.name, value) : this.labels;
          c.inc(labels, 0);
          created.set(labels, this.createdAt);
        }
      });
      return c;
    };
    const gauge = (name: string, help: string): Gauge => {
      const g = new Gauge({ name, help, labelNames: [...engineLabelNames], registers: [r] });
      g.set(this.labels, 0);
      return g;
    };
    const histogram = (name: string, help: string, buckets: readonly number[]): Histogram => {
      const h = new Histogram({ name, help, labelNames: [...engineLabelNames], buckets: [...buckets], registers: [r] });
      const created = createdGauge(r, `${name}_created`, help, engineLabelNames);
      createdInit.push(() => {
        h.zero(this.labels);
        created.set(this.labels, this.createdAt);
      });
      return h;
    };
    const mfuHelp = (what: string): string => `Estimated number of ${what} per GPU (for Model Flops Utilization calculations).`;

    this.estimatedFlops = counter('vllm:estimated_flops_per_gpu', mfuHelp('floating point operations'));
    this.estimatedReadBytes = counter('vllm:estimated_read_bytes_per_gpu', mfuHelp('bytes read from memory'));
    this.estimatedWriteBytes = counter('vllm:estimated_write_bytes_per_gpu', mfuHelp('bytes written to memory'));
    this.numRequestsRunning = gauge('vllm:num_requests_running', 'Number of requests in model execution batches.');
    this.numRequestsWaiting = gauge('vllm:num_requests_waiting', 'Number of requests waiting to be processed.');
    this.engineSleepState = new Gauge({
      name: 'vllm:engine_sleep_state',
      help: 'Engine sleep state; awake = 0 means engine is sleeping; awake = 1 means engine is awake; weights_offloaded = 1 means sleep level 1; discard_all = 1 means sleep level 2.',
      labelNames: ['engine', 'model_name', 'sleep_state'],
      registers: [r],
    });
    for (const state of SLEEP_STATES) this.engineSleepState.set(this.withLabel('sleep_state', state), state === 'awake' ? 1 : 0);
    this.kvCacheUsage =
      config.kvCacheMetric === 'gpu_cache_usage_perc'
        ? undefined
        : gauge('vllm:kv_cache_usage_perc', 'KV-cache usage. 1 means 100 percent usage.');
    // Deprecated in vLLM 0.9 in favour of kv_cache_usage_perc, later hidden; HELP text as in the V0-era scrape.
    this.gpuCacheUsage =
      config.kvCacheMetric === 'kv_cache_usage_perc'
        ? undefined
        : gauge('vllm:gpu_cache_usage_perc', 'GPU KV-cache usage. 1 means 100 percent usage.');
    this.prefixCacheQueries = counter('vllm:prefix_cache_queries', 'Prefix cache queries, in terms of number of queried tokens.');
    this.prefixCacheHits = counter('vllm:prefix_cache_hits', 'Prefix cache hits, in terms of number of cached tokens.');
    this.externalPrefixCacheQueries = counter(
      'vllm:external_prefix_cache_queries',
      'External prefix cache queries from KV connector cross-instance cache sharing, in terms of number of queried tokens.',
    );
    this.externalPrefixCacheHits = counter(
      'vllm:external_prefix_cache_hits',
      'External prefix cache hits from KV connector cross-instance cache sharing, in terms of number of cached tokens.',
    );
    this.mmCacheQueries = counter('vllm:mm_cache_queries', 'Multi-modal cache queries, in terms of number of queried items.');
    this.mmCacheHits = counter('vllm:mm_cache_hits', 'Multi-modal cache hits, in terms of number of cached items.');
    this.numPreemptions = counter('vllm:num_preemptions', 'Cumulative number of preemption from the engine.');
    this.promptTokens = counter('vllm:prompt_tokens', 'Number of prefill tokens processed.');
    this.promptTokensBySource = counter('vllm:prompt_tokens_by_source', 'Number of prompt tokens by source.', {
      name: 'source',
      values: PROMPT_TOKEN_SOURCES,
    });
    this.promptTokensCached = counter('vllm:prompt_tokens_cached', 'Number of cached prompt tokens (local + external).');
    this.promptTokensRecomputed = counter('vllm:prompt_tokens_recomputed', 'Number of cached tokens recomputed for forward pass.');
    this.generationTokens = counter('vllm:generation_tokens', 'Number of generation tokens processed.');
    this.requestSuccess = counter('vllm:request_success', 'Count of successfully processed requests.', {
      name: 'finished_reason',
      values: FINISHED_REASONS,
    });
    this.requestPromptTokens = histogram('vllm:request_prompt_tokens', 'Number of prefill tokens processed.', tokenBuckets);
    this.requestGenerationTokens = histogram('vllm:request_generation_tokens', 'Number of generation tokens processed.', tokenBuckets);
    this.iterationTokens = histogram(
      'vllm:iteration_tokens_total',
      'Histogram of number of tokens per engine_step.',
      VLLM_ITERATION_TOKENS_BUCKETS,
    );
    this.requestMaxNumGenerationTokens = histogram(
      'vllm:request_max_num_generation_tokens',
      'Histogram of maximum number of requested generation tokens.',
      tokenBuckets,
    );
    this.requestParamsN = histogram('vllm:request_params_n', 'Histogram of the n request parameter.', VLLM_PARAMS_N_BUCKETS);
    this.requestParamsMaxTokens = histogram(
      'vllm:request_params_max_tokens',
      'Histogram of the max_tokens request parameter.',
      tokenBuckets,
    );
    this.timeToFirstToken = histogram(
      'vllm:time_to_first_token_seconds',
      'Histogram of time to first token in seconds.',
      VLLM_TTFT_BUCKETS,
    );
    this.interTokenLatency = histogram(
      'vllm:inter_token_latency_seconds',
      'Histogram of inter-token latency in seconds.',
      VLLM_ITL_BUCKETS,
    );
    this.requestTimePerOutputToken = histogram(
      'vllm:request_time_per_output_token_seconds',
      'Histogram of time_per_output_token_seconds per request.',
      VLLM_ITL_BUCKETS,
    );
    this.e2eRequestLatency = histogram(
      'vllm:e2e_request_latency_seconds',
      'Histogram of e2e request latency in seconds.',
      VLLM_REQUEST_LATENCY_BUCKETS,
    );
    this.requestQueueTime = histogram(
      'vllm:request_queue_time_seconds',
      'Histogram of time spent in WAITING phase for request.',
      VLLM_REQUEST_LATENCY_BUCKETS,
    );
    this.requestInferenceTime = histogram(
      'vllm:request_inference_time_seconds',
      'Histogram of time spent in RUNNING phase for request.',
      VLLM_REQUEST_LATENCY_BUCKETS,
    );
    this.requestPrefillTime = histogram(
      'vllm:request_prefill_time_seconds',
      'Histogram of time spent in PREFILL phase for request.',
      VLLM_REQUEST_LATENCY_BUCKETS,
    );
    this.requestDecodeTime = histogram(
      'vllm:request_decode_time_seconds',
      'Histogram of time spent in DECODE phase for request.',
      VLLM_REQUEST_LATENCY_BUCKETS,
    );
    this.requestPrefillKvComputedTokens = histogram(
      'vllm:request_prefill_kv_computed_tokens',
      'Histogram of new KV tokens computed during prefill (excluding cached tokens).',
      tokenBuckets,
    );
    const cacheConfigLabels = { ...config.cacheConfig, engine: config.engine };
    const cacheConfigLabelNames = Object.keys(cacheConfigLabels).sort();
    this.cacheConfigInfo = new Gauge({
      name: 'vllm:cache_config_info',
      help: 'Information of the LLMEngine CacheConfig',
      labelNames: cacheConfigLabelNames,
      registers: [r],
    });
    this.cacheConfigInfo.set(sortedLabels(cacheConfigLabels), 1);

    this.httpRequests = new Counter({
      name: 'http_requests_total',
      help: 'Total number of requests by method, status and handler.',
      labelNames: ['handler', 'method', 'status'],
      registers: [r],
    });
    this.httpRequestsCreated = createdGauge(r, 'http_requests_created', 'Total number of requests by method, status and handler.', [
      'handler',
      'method',
      'status',
    ]);
    const sizeHelp = (what: string): string =>
      `Content length of ${what} by handler. Only value of header is respected. Otherwise ignored. No percentile calculated.`;
    this.httpRequestSize = new Summary({
      name: 'http_request_size_bytes',
      help: sizeHelp('incoming requests'),
      labelNames: ['handler'],
      percentiles: [],
      registers: [r],
    });
    this.httpRequestSizeCreated = createdGauge(r, 'http_request_size_bytes_created', sizeHelp('incoming requests'), ['handler']);
    this.httpResponseSize = new Summary({
      name: 'http_response_size_bytes',
      help: sizeHelp('outgoing responses'),
      labelNames: ['handler'],
      percentiles: [],
      registers: [r],
    });
    this.httpResponseSizeCreated = createdGauge(r, 'http_response_size_bytes_created', sizeHelp('outgoing responses'), ['handler']);
    const highrHelp = 'Latency with many buckets but no API specific labels. Made for more accurate percentile calculations.';
    this.httpDurationHighr = new Histogram({
      name: 'http_request_duration_highr_seconds',
      help: highrHelp,
      buckets: [...HTTP_HIGHR_BUCKETS],
      registers: [r],
    });
    createdGauge(r, 'http_request_duration_highr_seconds_created', highrHelp, []).set(this.createdAt);
    const lowrHelp = 'Latency with only few buckets by handler. Made to be only used if aggregation by handler is important.';
    this.httpDuration = new Histogram({
      name: 'http_request_duration_seconds',
      help: lowrHelp,
      labelNames: ['handler', 'method'],
      buckets: [...HTTP_LOWR_BUCKETS],
      registers: [r],
    });
    this.httpDurationCreated = createdGauge(r, 'http_request_duration_seconds_created', lowrHelp, ['handler', 'method']);

    for (const init of createdInit) init();
  }

  /** The engine labels plus one more, in the alphabetical order the real scrape shows. */
  withLabel(name: string, value: string): Record<string, string> {
    return sortedLabels({ ...this.labels, [name]: value });
  }

  get engineLabels(): EngineLabels {
    return this.labels;
  }

  /** Record one HTTP request the way prometheus-fastapi-instrumentator does (status grouped as `2xx`, ...). */
  observeHttp(obs: { handler: string; method: string; status: number; requestBytes: number; responseBytes: number; seconds: number }): void {
    const status = `${Math.floor(obs.status / 100)}xx`;
    const key = `${obs.handler}\u0000${obs.method}\u0000${status}`;
    if (!this.seenHttpChildren.has(key)) {
      this.seenHttpChildren.add(key);
      const now = Date.now() / 1000;
      this.httpRequestsCreated.set({ handler: obs.handler, method: obs.method, status }, now);
      this.httpRequestSizeCreated.set({ handler: obs.handler }, now);
      this.httpResponseSizeCreated.set({ handler: obs.handler }, now);
      this.httpDurationCreated.set({ handler: obs.handler, method: obs.method }, now);
    }
    this.httpRequests.inc({ handler: obs.handler, method: obs.method, status });
    this.httpRequestSize.observe({ handler: obs.handler }, obs.requestBytes);
    this.httpResponseSize.observe({ handler: obs.handler }, obs.responseBytes);
    this.httpDurationHighr.observe(obs.seconds);
    this.httpDuration.observe({ handler: obs.handler, method: obs.method }, obs.seconds);
  }

  setKvCacheUsage(fraction: number): void {
    this.kvCacheUsage?.set(this.labels, fraction);
    this.gpuCacheUsage?.set(this.labels, fraction);
  }

  metrics(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}

function sortedLabels(labels: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const key of Object.keys(labels).sort()) out[key] = labels[key]!;
  return out;
}
