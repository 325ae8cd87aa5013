/**
 * EMULATOR — an emulated vLLM OpenAI-compatible inference server for demos and tests. Not part of benchmon.
 *
 * It serves `POST /v1/completions` (JSON or SSE streaming) by sleeping: a time-to-first-token drawn from a known
 * distribution, then one inter-token latency per further output token, and it exposes `GET /metrics` with vLLM
 * V1's real metric families (see vllm-metrics.ts). Every counter and histogram is driven by the traffic actually
 * served: histograms observe the measured times, not the drawn ones.
 *
 * Engine model (simplified, documented in README.md): continuous batching without a batch-size effect on
 * latency; a request is admitted when fewer than `maxNumSeqs` requests run and the KV cache has room for its
 * prompt plus all its output tokens (so the cache never overflows); otherwise it waits (queue time, and a
 * longer TTFT). With the workload's defaults nothing ever waits and the latency distributions hold exactly.
 */
import { DiscreteUniform, PiecewiseUniform } from './distributions.js';
import { BodyTooLargeError, nowSeconds, readBody, sendJson, sendMetrics, serve, type RequestHandler } from './http-server.js';
import { VllmEngine } from './vllm-engine.js';
import { FINISHED_REASONS, VllmMetrics, type FinishedReason, type KvCacheMetricName } from './vllm-metrics.js';

/** The version string `GET /version` answers; the metric layout is that of the early-2026 V1 scrape in the fixtures. */
export const EMULATED_VLLM_VERSION = '0.0.0+benchmon-emulator (vLLM V1 metrics layout, early 2026)';

/**
 * Default TTFT: p50 0.18 s, p95 0.33 s, p99 0.37 s (support 0.12–0.40 s). The bounds sit well inside vLLM's TTFT
 * buckets (p50 in (0.1, 0.25], p95 and p99 in (0.25, 0.5]) so that timer lateness on a busy machine does not move
 * a quantile into another bucket.
 */
export const DEFAULT_VLLM_TTFT = new PiecewiseUniform([
  { q: 0, x: 0.12 },
  { q: 0.5, x: 0.18 },
  { q: 0.75, x: 0.25 },
  { q: 0.95, x: 0.33 },
  { q: 0.99, x: 0.37 },
  { q: 1, x: 0.4 },
]);
/**
 * Default inter-token latency, drawn independently per token: p50 0.056 s, p95 0.104 s, p99 0.305 s.
 * Most steps take 0.05–0.065 s; 17 % are slow (0.065–0.108 s, as when other requests' prefills interleave) and
 * 3 % stall for about 0.3 s (scheduling hiccups). In ITL buckets: p50 in (0.05, 0.075], p95 in (0.1, 0.15],
 * p99 in (0.3, 0.4]; each quantile lies at least 45 ms (p99: 95 ms) below its bucket's upper bound, so timer
 * lateness on a busy machine does not push it into the next bucket.
 */
export const DEFAULT_VLLM_ITL = new PiecewiseUniform([
  { q: 0, x: 0.05 },
  { q: 0.5, x: 0.056 },
  { q: 0.8, x: 0.065 },
  { q: 0.88, x: 0.1 },
  { q: 0.95, x: 0.104 },
  { q: 0.97, x: 0.108 },
  { q: 0.9701, x: 0.3 },
  { q: 0.99, x: 0.305 },
  { q: 1, x: 0.31 },
]);
/** Default "natural" output length (tokens until the emulated model stops), before max_tokens caps it. */
export const DEFAULT_VLLM_OUTPUT_TOKENS = new DiscreteUniform(22, 42);

export interface VllmEmulatorOptions {
  /** Default 127.0.0.1. */
  host?: string;
  /** Default 0 (a free port). */
  port?: number;
  /** `model_name` label and the only model served. Default `emulated/Qwen2.5-0.5B-Instruct`. */
  modelName?: string;
  /** `engine` label. Default "0". */
  engine?: string;
  ttft?: PiecewiseUniform;
  itl?: PiecewiseUniform;
  outputTokens?: DiscreteUniform;
  /** Default 8192 (gives the 1-2-5 token buckets up to 5000, as in the real scrape). */
  maxModelLen?: number;
  /** Default 256. */
  maxNumSeqs?: number;
  /** Default 16. */
  blockSize?: number;
  /** KV-cache capacity in blocks. Default 1024 (16,384 tokens). */
  numGpuBlocks?: number;
  /** Share of each prompt (rounded down to whole blocks) served from the prefix cache. Default 0.25. */
  prefixCacheHitShare?: number;
  /** Probability that a request is counted as preempted once (no latency effect). Default 0.01. */
  preemptionProbability?: number;
  /** Which KV-cache usage gauge(s) to expose. Default the current `kv_cache_usage_perc`. */
  kvCacheMetric?: KvCacheMetricName;
  /** Parameter count for the MFU estimate counters. Default 494e6 (Qwen2.5-0.5B). */
  paramCount?: number;
  /** Seed of the latency/length random source. Default: random. */
  seed?: number;
}

export interface ResolvedVllmEmulatorConfig {
  readonly modelName: string;
  readonly engine: string;
  readonly ttft: PiecewiseUniform;
  readonly itl: PiecewiseUniform;
  readonly outputTokens: DiscreteUniform;
  readonly maxModelLen: number;
  readonly maxNumSeqs: number;
  readonly blockSize: number;
  readonly numGpuBlocks: number;
  readonly prefixCacheHitShare: number;
  readonly preemptionProbability: number;
  readonly kvCacheMetric: KvCacheMetricName;
  readonly paramCount: number;
  readonly seed: number;
}

/** What the emulator itself served (server-side truth, equal to what its counters say). */
export interface VllmServedStats {
  /** Requests finished, by finished_reason (aborted ones included under `abort`). */
  readonly finishedByReason: Readonly<Record<FinishedReason, number>>;
  /** Requests that produced a full response (finished_reason stop or length). */
  readonly completed: number;
  readonly promptTokens: number;
  readonly generationTokens: number;
  readonly preemptions: number;
  /** Requests refused with 4xx before reaching the engine. */
  readonly rejected: number;
  readonly running: number;
  readonly waiting: number;
  /** Requests that ever waited for admission (if > 0 the TTFT distribution no longer holds exactly). */
  readonly queued: number;
}

export interface VllmEmulator {
  /** `host:port`. */
  readonly address: string;
  /** `http://host:port`. */
  readonly url: string;
  readonly config: ResolvedVllmEmulatorConfig;
  readonly metrics: VllmMetrics;
  stats(): VllmServedStats;
  close(): Promise<void>;
}

const TOKEN_WORDS = ['the', 'emulated', 'model', 'writes', 'plausible', 'tokens', 'at', 'a', 'known', 'pace'];

class OpenAiError extends Error {
  constructor(readonly status: number, readonly type: string, message: string) {
    super(message);
  }
}

function resolveConfig(o: VllmEmulatorOptions): ResolvedVllmEmulatorConfig {
  const config: ResolvedVllmEmulatorConfig = {
    modelName: o.modelName ?? 'emulated/Qwen2.5-0.5B-Instruct',
    engine: o.engine ?? '0',
    ttft: o.ttft ?? DEFAULT_VLLM_TTFT,
    itl: o.itl ?? DEFAULT_VLLM_ITL,
    outputTokens: o.outputTokens ?? DEFAULT_VLLM_OUTPUT_TOKENS,
    maxModelLen: o.maxModelLen ?? 8192,
    maxNumSeqs: o.maxNumSeqs ?? 256,
    blockSize: o.blockSize ?? 16,
    numGpuBlocks: o.numGpuBlocks ?? 1024,
    prefixCacheHitShare: o.prefixCacheHitShare ?? 0.25,
    preemptionProbability: o.preemptionProbability ?? 0.01,
    kvCacheMetric: o.kvCacheMetric ?? 'kv_cache_usage_perc',
    paramCount: o.paramCount ?? 494e6,
    seed: o.seed ?? Math.floor(Math.random() * 2 ** 32),
  };
  const positiveInts: Array<keyof ResolvedVllmEmulatorConfig> = ['maxModelLen', 'maxNumSeqs', 'blockSize', 'numGpuBlocks'];
  for (const key of positiveInts) {
    const v = config[key];
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 1) throw new Error(`vLLM emulator: ${key} must be a positive integer, got ${String(v)}`);
  }
  for (const key of ['prefixCacheHitShare', 'preemptionProbability'] as const) {
    if (!(config[key] >= 0 && config[key] <= 1)) throw new Error(`vLLM emulator: ${key} must be in [0, 1], got ${config[key]}`);
  }
  return Object.freeze(config);
}

/** Emulated tokenizer: one token per whitespace-separated word (or one per id for a token-id prompt). */
function countPromptTokens(prompt: unknown): number {
  const single = Array.isArray(prompt) && prompt.length === 1 && typeof prompt[0] === 'string' ? prompt[0] : prompt;
  if (typeof single === 'string') {
    const words = single.trim().split(/\s+/).filter((w) => w.length > 0).length;
    if (words === 0) throw new OpenAiError(400, 'BadRequestError', 'The prompt cannot be empty.');
    return words;
  }
  if (Array.isArray(single) && single.length > 0 && single.every((t) => Number.isInteger(t))) return single.length;
  throw new OpenAiError(400, 'BadRequestError', 'prompt must be a string, a one-element list of strings, or a list of token ids');
}

interface CompletionParams {
  promptTokens: number;
  maxTokens: number | undefined;
  stream: boolean;
  includeUsage: boolean;
}

function parseCompletionRequest(body: unknown, config: ResolvedVllmEmulatorConfig): CompletionParams {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new OpenAiError(400, 'BadRequestError', 'request body must be a JSON object');
  }
  const b = body as Record<string, unknown>;
  if (b.model !== undefined && b.model !== config.modelName) {
    throw new OpenAiError(404, 'NotFoundError', `The model \`${String(b.model)}\` does not exist.`);
  }
  if (b.prompt === undefined) throw new OpenAiError(400, 'BadRequestError', 'prompt is required');
  const promptTokens = countPromptTokens(b.prompt);
  let maxTokens: number | undefined;
  if (b.max_tokens !== undefined && b.max_tokens !== null) {
    if (typeof b.max_tokens !== 'number' || !Number.isInteger(b.max_tokens) || b.max_tokens < 1) {
      throw new OpenAiError(400, 'BadRequestError', 'max_tokens must be at least 1');
    }
    maxTokens = b.max_tokens;
  }
  if (b.n !== undefined && b.n !== 1) throw new OpenAiError(400, 'BadRequestError', 'the emulator supports n=1 only');
  const requested = promptTokens + (maxTokens ?? 0);
  if (requested > config.maxModelLen) {
    throw new OpenAiError(
      400,
      'BadRequestError',
      `This model's maximum context length is ${config.maxModelLen} tokens. However, you requested ${requested} tokens (${promptTokens} in the messages, ${maxTokens ?? 0} in the completion).`,
    );
  }
  const streamOptions = b.stream_options as Record<string, unknown> | undefined;
  return {
    promptTokens,
    maxTokens,
    stream: b.stream === true,
    includeUsage: b.stream === true && streamOptions?.include_usage === true,
  };
}

/** Start an emulated vLLM server. Stop it with `close()`. */
export async function startVllmEmulator(options: VllmEmulatorOptions = {}): Promise<VllmEmulator> {
  const config = resolveConfig(options);
  const metrics = new VllmMetrics({
    modelName: config.modelName,
    engine: config.engine,
    maxModelLen: config.maxModelLen,
    kvCacheMetric: config.kvCacheMetric,
    createdAt: Date.now() / 1000,
    cacheConfig: {
      block_size: String(config.blockSize),
      cache_dtype: 'auto',
      calculate_kv_scales: 'False',
      cpu_kvcache_space_bytes: 'None',
      cpu_offload_gb: '0',
      cpu_offload_params: 'set()',
      enable_prefix_caching: 'True',
      gpu_memory_utilization: '0.9',
      is_attention_free: 'False',
      kv_cache_memory_bytes: 'None',
      kv_offloading_backend: 'native',
      kv_offloading_size: 'None',
      kv_sharing_fast_prefill: 'False',
      mamba_block_size: 'None',
      mamba_cache_dtype: 'auto',
      mamba_cache_mode: 'none',
      mamba_page_size_padded: 'None',
      mamba_ssm_cache_dtype: 'auto',
      num_cpu_blocks: 'None',
      num_gpu_blocks: String(config.numGpuBlocks),
      num_gpu_blocks_override: 'None',
      prefix_caching_hash_algo: 'sha256',
      sliding_window: 'None',
      swap_space: '4.0',
    },
  });
  const engine = new VllmEngine(config, metrics);
  let rejected = 0;
  const createdAtSeconds = Math.floor(Date.now() / 1000);

  const handle: RequestHandler = async (req, res) => {
    const t0 = nowSeconds();
    const method = req.method ?? 'GET';
    const path = new URL(req.url ?? '/', 'http://emulator').pathname;
    // vLLM's instrumentator excludes these handlers from the http_* families.
    if (path === '/metrics') return sendMetrics(res, metrics);
    if (path === '/health' || path === '/ping') {
      res.writeHead(200, { 'content-length': 0 });
      res.end();
      return;
    }
    if (path === '/version') return sendJson(res, 200, { version: EMULATED_VLLM_VERSION });
    const known = path === '/v1/completions' || path === '/v1/models';
    const handler = known ? path : 'none';
    const requestBytes = Number(req.headers['content-length'] ?? 0) || 0;
    const record = (status: number, responseBytes: number): void =>
      metrics.observeHttp({ handler, method, status, requestBytes, responseBytes, seconds: nowSeconds() - t0 });
    const reply = (status: number, body: unknown): void => sendJson(res, status, body, (bytes) => record(status, bytes));
    const replyError = (err: OpenAiError): void => {
      rejected++;
      reply(err.status, { error: { message: err.message, type: err.type, param: null, code: err.status } });
    };

    if (!known) return reply(404, { detail: 'Not Found' });
    if (path === '/v1/models') {
      if (method !== 'GET') return reply(405, { detail: 'Method Not Allowed' });
      return reply(200, {
        object: 'list',
        data: [
          {
            id: config.modelName,
            object: 'model',
            created: createdAtSeconds,
            owned_by: 'vllm',
            root: config.modelName,
            parent: null,
            max_model_len: config.maxModelLen,
            permission: [],
          },
        ],
      });
    }
    if (method !== 'POST') return reply(405, { detail: 'Method Not Allowed' });

    let params: CompletionParams;
    try {
      const text = await readBody(req);
      let body: unknown;
      try {
        body = JSON.parse(text);
      } catch (err) {
        throw new OpenAiError(400, 'BadRequestError', `invalid JSON body: ${(err as Error).message}`);
      }
      params = parseCompletionRequest(body, config);
    } catch (err) {
      if (err instanceof OpenAiError) return replyError(err);
      if (err instanceof BodyTooLargeError) return replyError(new OpenAiError(413, 'BadRequestError', err.message));
      return; // the client went away while sending
    }

    const r = engine.create(params.promptTokens, params.maxTokens);
    const created = Math.floor(Date.now() / 1000);
    const tokenText = (i: number): string => ` ${TOKEN_WORDS[i % TOKEN_WORDS.length]}`;
    const usage = (): Record<string, unknown> => ({
      prompt_tokens: r.promptTokens,
      total_tokens: r.promptTokens + r.generated,
      completion_tokens: r.generated,
      prompt_tokens_details: null,
    });
    res.on('close', () => {
      if (!res.writableFinished) engine.abort(r);
    });

    if (!params.stream) {
      await engine.run(r, () => {});
      if (r.state !== 'finished') return;
      let text = '';
      for (let i = 0; i < r.generated; i++) text += tokenText(i);
      return reply(200, {
        id: r.id,
        object: 'text_completion',
        created,
        model: config.modelName,
        choices: [{ index: 0, text, logprobs: null, finish_reason: r.finishReason, stop_reason: null, prompt_logprobs: null }],
        usage: usage(),
      });
    }

    res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache' });
    // Every chunk differs only in its text and finish_reason: build the JSON around them once.
    const head = `data: {"id":"${r.id}","object":"text_completion","created":${created},"model":${JSON.stringify(config.modelName)},"choices":[{"index":0,"text":`;
    const tail0 = `,"logprobs":null,"finish_reason":`;
    const tail1 = `,"stop_reason":null}]${params.includeUsage ? ',"usage":null' : ''}}\n\n`;
    const chunk = (text: string, finishReason: FinishedReason | null): string =>
      head + JSON.stringify(text) + tail0 + (finishReason === null ? 'null' : `"${finishReason}"`) + tail1;
    await engine.run(r, (i) => {
      res.write(chunk(tokenText(i), null));
    });
    if (r.state !== 'finished') return;
    let tail = chunk(tokenText(r.generated - 1), r.finishReason);
    if (params.includeUsage) {
      tail += `data: ${JSON.stringify({ id: r.id, object: 'text_completion', created, model: config.modelName, choices: [], usage: usage() })}\n\n`;
    }
    tail += 'data: [DONE]\n\n';
    record(200, 0); // streaming responses carry no Content-Length; the instrumentator then records 0
    res.end(tail);
  };

  const bound = await serve(handle, {
    name: 'vLLM emulator',
    host: options.host,
    port: options.port,
    internalErrorBody: (err) => ({ error: { message: String(err), type: 'InternalServerError', param: null, code: 500 } }),
  });

  return {
    address: bound.address,
    url: `http://${bound.address}`,
    config,
    metrics,
    stats: () => ({
      finishedByReason: { ...engine.finishedByReason },
      completed: FINISHED_REASONS.filter((f) => f !== 'abort').reduce((n, f) => n + engine.finishedByReason[f], 0),
      promptTokens: engine.promptTokens,
      generationTokens: engine.generationTokens,
      preemptions: engine.preemptions,
      rejected,
      running: engine.runningCount,
      waiting: engine.waitingCount,
      queued: engine.queued,
    }),
    close: async () => {
      for (const t of engine.timers) clearTimeout(t);
      engine.timers.clear();
      await bound.close();
    },
  };
}
