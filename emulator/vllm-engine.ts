/**
 * EMULATOR — the engine model behind the emulated vLLM server (demo and tests only, not product code):
 * admission (max_num_seqs, KV-cache blocks), token timing from the known distributions, and every vLLM V1
 * metric update, driven by what is actually served.
 */
import { createRng, type Rng } from './distributions.js';
import { nowSeconds, sleepUntil } from './http-server.js';
import type { ResolvedVllmEmulatorConfig } from './vllm-emulator.js';
import { FINISHED_REASONS, type FinishedReason, type VllmMetrics } from './vllm-metrics.js';

export interface EngineRequest {
  readonly id: string;
  readonly promptTokens: number;
  readonly maxTokens: number | undefined;
  readonly outputTokens: number;
  readonly finishReason: FinishedReason;
  readonly arrival: number;
  /** KV blocks reserved at admission: prompt plus every output token, so the cache never overflows. */
  readonly blocksNeeded: number;
  scheduled: number;
  firstTokenAt: number;
  lastTokenAt: number;
  generated: number;
  /** KV blocks actually filled so far (drives kv_cache_usage_perc). */
  blocksHeld: number;
  state: 'waiting' | 'running' | 'finished' | 'aborted';
  wake?: () => void;
}

// Qwen2.5-0.5B: 24 layers, 2 KV heads of 64 dims, bf16 -> K and V bytes written per token.
const KV_BYTES_PER_TOKEN = 2 * 24 * 2 * 64 * 2;

/** The engine-labelled children, resolved once (the per-token path then does no label hashing). */
function boundMetrics(m: VllmMetrics) {
  const l = m.engineLabels;
  return {
    running: m.numRequestsRunning.labels(l),
    waiting: m.numRequestsWaiting.labels(l),
    flops: m.estimatedFlops.labels(l),
    readBytes: m.estimatedReadBytes.labels(l),
    writeBytes: m.estimatedWriteBytes.labels(l),
    generationTokens: m.generationTokens.labels(l),
    promptTokens: m.promptTokens.labels(l),
    promptLocalCompute: m.promptTokensBySource.labels(m.withLabel('source', 'local_compute')),
    promptLocalCacheHit: m.promptTokensBySource.labels(m.withLabel('source', 'local_cache_hit')),
    promptCached: m.promptTokensCached.labels(l),
    prefixQueries: m.prefixCacheQueries.labels(l),
    prefixHits: m.prefixCacheHits.labels(l),
    preemptions: m.numPreemptions.labels(l),
    ttft: m.timeToFirstToken.labels(l),
    itl: m.interTokenLatency.labels(l),
    iterationTokens: m.iterationTokens.labels(l),
    e2e: m.e2eRequestLatency.labels(l),
    queueTime: m.requestQueueTime.labels(l),
    prefillTime: m.requestPrefillTime.labels(l),
    decodeTime: m.requestDecodeTime.labels(l),
    inferenceTime: m.requestInferenceTime.labels(l),
    tpot: m.requestTimePerOutputToken.labels(l),
    promptTokensHist: m.requestPromptTokens.labels(l),
    generationTokensHist: m.requestGenerationTokens.labels(l),
    maxNumGenerationTokens: m.requestMaxNumGenerationTokens.labels(l),
    paramsN: m.requestParamsN.labels(l),
    paramsMaxTokens: m.requestParamsMaxTokens.labels(l),
    prefillKvComputed: m.requestPrefillKvComputedTokens.labels(l),
    success: Object.fromEntries(FINISHED_REASONS.map((f) => [f, m.requestSuccess.labels(m.withLabel('finished_reason', f))])) as Record<
      FinishedReason,
      { inc(value?: number): void }
    >,
  };
}

export class VllmEngine {
  private readonly rng: Rng;
  private readonly m: ReturnType<typeof boundMetrics>;
  private readonly running = new Set<EngineRequest>();
  private readonly waiting: EngineRequest[] = [];
  private reservedBlocks = 0;
  private usedBlocks = 0;
  private nextId = 1;
  readonly finishedByReason: Record<FinishedReason, number> = { stop: 0, length: 0, abort: 0, error: 0, repetition: 0 };
  promptTokens = 0;
  generationTokens = 0;
  preemptions = 0;
  queued = 0;
  readonly timers = new Set<NodeJS.Timeout>();

  constructor(private readonly config: ResolvedVllmEmulatorConfig, private readonly metrics: VllmMetrics) {
    this.rng = createRng(config.seed);
    this.m = boundMetrics(metrics);
  }

  get runningCount(): number {
    return this.running.size;
  }

  get waitingCount(): number {
    return this.waiting.length;
  }

  create(promptTokens: number, maxTokens: number | undefined): EngineRequest {
    const natural = this.config.outputTokens.sample(this.rng);
    const outputTokens = maxTokens === undefined ? natural : Math.min(natural, maxTokens);
    return {
      id: `cmpl-${(this.nextId++).toString(16).padStart(12, '0')}`,
      promptTokens,
      maxTokens,
      outputTokens,
      finishReason: maxTokens !== undefined && natural > maxTokens ? 'length' : 'stop',
      arrival: nowSeconds(),
      blocksNeeded: Math.ceil((promptTokens + outputTokens) / this.config.blockSize),
      scheduled: 0,
      firstTokenAt: 0,
      lastTokenAt: 0,
      generated: 0,
      blocksHeld: 0,
      state: 'waiting',
    };
  }

  /**
   * Run a request to completion. `onToken(i)` is called after token i (0-based) was produced, for every token
   * but the last; when the promise resolves the request is finished and recorded (or was aborted).
   * Token deadlines are absolute (first token at scheduled + TTFT draw, then + one ITL draw per token), so timer
   * lateness does not accumulate over a request: the e2e time is the sum of the draws plus the last token's lateness.
   */
  async run(r: EngineRequest, onToken: (index: number) => void): Promise<void> {
    if (!this.canAdmit(r)) {
      this.queued++;
      this.waiting.push(r);
      this.m.waiting.set(this.waiting.length);
      await new Promise<void>((resolve) => {
        r.wake = resolve;
      });
      if (r.state === 'aborted') return;
    } else {
      this.start(r);
    }
    const { config, m } = this;
    let deadline = r.scheduled + config.ttft.sample(this.rng);
    for (let i = 0; i < r.outputTokens; i++) {
      await sleepUntil(deadline, this.timers);
      if (r.state !== 'running') return;
      const t = nowSeconds();
      if (i === 0) {
        r.firstTokenAt = t;
        m.ttft.observe(t - r.arrival);
        m.iterationTokens.observe(r.promptTokens - this.prefixHits(r.promptTokens) + 1);
      } else {
        m.itl.observe(t - r.lastTokenAt);
        m.iterationTokens.observe(1);
      }
      r.lastTokenAt = t;
      r.generated++;
      this.generationTokens++;
      m.generationTokens.inc();
      m.flops.inc(2 * config.paramCount);
      m.readBytes.inc(2 * config.paramCount);
      m.writeBytes.inc(KV_BYTES_PER_TOKEN);
      this.holdBlocks(r);
      if (i < r.outputTokens - 1) {
        onToken(i);
        deadline += config.itl.sample(this.rng);
      }
    }
    this.finish(r);
  }

  abort(r: EngineRequest): void {
    if (r.state === 'finished' || r.state === 'aborted') return;
    const wasWaiting = r.state === 'waiting';
    r.state = 'aborted';
    if (wasWaiting) {
      const i = this.waiting.indexOf(r);
      if (i >= 0) this.waiting.splice(i, 1);
      this.m.waiting.set(this.waiting.length);
      r.wake?.();
    } else {
      this.release(r);
    }
    this.finishedByReason.abort++;
    this.m.success.abort.inc();
    this.admitWaiting();
  }

  private prefixHits(promptTokens: number): number {
    const bs = this.config.blockSize;
    return Math.floor((promptTokens * this.config.prefixCacheHitShare) / bs) * bs;
  }

  private canAdmit(r: EngineRequest): boolean {
    return (
      this.waiting.length === 0 &&
      this.running.size < this.config.maxNumSeqs &&
      this.reservedBlocks + r.blocksNeeded <= this.config.numGpuBlocks
    );
  }

  private start(r: EngineRequest): void {
    const { m, config } = this;
    r.state = 'running';
    r.scheduled = nowSeconds();
    this.running.add(r);
    this.reservedBlocks += r.blocksNeeded;
    const hits = this.prefixHits(r.promptTokens);
    const computed = r.promptTokens - hits;
    this.promptTokens += r.promptTokens;
    m.promptTokens.inc(r.promptTokens);
    m.promptLocalCompute.inc(computed);
    m.promptLocalCacheHit.inc(hits);
    m.promptCached.inc(hits);
    m.prefixQueries.inc(r.promptTokens);
    m.prefixHits.inc(hits);
    m.flops.inc(2 * config.paramCount * computed);
    m.readBytes.inc(2 * config.paramCount);
    m.writeBytes.inc(KV_BYTES_PER_TOKEN * computed);
    if (this.rng() < config.preemptionProbability) {
      this.preemptions++;
      m.preemptions.inc();
    }
    m.running.set(this.running.size);
    m.waiting.set(this.waiting.length);
    this.holdBlocks(r);
  }

  private finish(r: EngineRequest): void {
    const { m } = this;
    r.state = 'finished';
    this.release(r);
    m.e2e.observe(r.lastTokenAt - r.arrival);
    m.queueTime.observe(r.scheduled - r.arrival);
    m.prefillTime.observe(r.firstTokenAt - r.scheduled);
    m.decodeTime.observe(r.lastTokenAt - r.firstTokenAt);
    m.inferenceTime.observe(r.lastTokenAt - r.scheduled);
    if (r.generated > 1) m.tpot.observe((r.lastTokenAt - r.firstTokenAt) / (r.generated - 1));
    m.promptTokensHist.observe(r.promptTokens);
    m.generationTokensHist.observe(r.generated);
    m.maxNumGenerationTokens.observe(r.generated);
    m.paramsN.observe(1);
    if (r.maxTokens !== undefined) m.paramsMaxTokens.observe(r.maxTokens);
    m.prefillKvComputed.observe(r.promptTokens - this.prefixHits(r.promptTokens));
    this.finishedByReason[r.finishReason]++;
    m.success[r.finishReason].inc();
    this.admitWaiting();
  }

  /** Account the KV blocks a running request fills (prompt + tokens so far) and publish the usage. */
  private holdBlocks(r: EngineRequest): void {
    const held = Math.ceil((r.promptTokens + r.generated) / this.config.blockSize);
    if (held === r.blocksHeld) return;
    this.usedBlocks += held - r.blocksHeld;
    r.blocksHeld = held;
    this.metrics.setKvCacheUsage(Math.min(1, this.usedBlocks / this.config.numGpuBlocks));
  }

  private release(r: EngineRequest): void {
    if (!this.running.delete(r)) return;
    this.reservedBlocks -= r.blocksNeeded;
    this.usedBlocks -= r.blocksHeld;
    r.blocksHeld = 0;
    this.metrics.setKvCacheUsage(Math.min(1, this.usedBlocks / this.config.numGpuBlocks));
    this.m.running.set(this.running.size);
  }

  private admitWaiting(): void {
    while (this.waiting.length > 0) {
      const next = this.waiting[0]!;
      if (this.running.size >= this.config.maxNumSeqs || this.reservedBlocks + next.blocksNeeded > this.config.numGpuBlocks) break;
      this.waiting.shift();
      this.start(next);
      next.wake?.();
    }
    this.m.waiting.set(this.waiting.length);
  }
}
