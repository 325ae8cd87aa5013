/**
 * EMULATOR — the built-in open-loop load generator that drives the emulated workload (demo and tests only).
 *
 * Open loop: request i of an endpoint is sent at start + i/rate whether or not earlier ones have answered, for
 * a bounded duration and count. It records its own client-side counts and latencies, so a test has ground truth
 * that does not come from the servers' /metrics. Percentiles are exact sample quantiles (nearest rank).
 */
import http from 'node:http';
import { createRng, nearestRank, type Rng } from './distributions.js';

/** Exact summary of recorded samples (seconds). Quantiles by nearest rank: the ceil(q*n)-th smallest sample. */
export interface SampleSummary {
  readonly count: number;
  readonly min: number | null;
  readonly max: number | null;
  readonly mean: number | null;
  readonly p50: number | null;
  readonly p95: number | null;
  readonly p99: number | null;
}

export function summarize(samples: readonly number[]): SampleSummary {
  const sorted = Float64Array.from(samples).sort();
  const n = sorted.length;
  return {
    count: n,
    min: n > 0 ? sorted[0]! : null,
    max: n > 0 ? sorted[n - 1]! : null,
    mean: n > 0 ? sorted.reduce((a, b) => a + b, 0) / n : null,
    p50: nearestRank(sorted, 0.5),
    p95: nearestRank(sorted, 0.95),
    p99: nearestRank(sorted, 0.99),
  };
}

/** What one request ended with. */
export interface RequestOutcome {
  /** HTTP status, or null when no response arrived (connection error, timeout, abort). */
  readonly status: number | null;
  readonly error?: string;
  /** Send to end of response body. */
  readonly latencySeconds: number;
  /** Send to first body byte of a streamed response (client-side TTFT). */
  readonly firstByteSeconds?: number;
  readonly promptTokens?: number;
  readonly completionTokens?: number;
}

export interface EndpointLoadReport {
  readonly name: string;
  readonly url: string;
  /** Requests per second asked for. */
  readonly rate: number;
  /** Requests the schedule planned (min(maxRequests, ceil(duration * rate))). */
  readonly planned: number;
  readonly sent: number;
  /** Requests that got an HTTP response (any status). */
  readonly responses: number;
  /** Responses by HTTP status ("200", "429", ...). */
  readonly byStatus: Readonly<Record<string, number>>;
  /** 2xx responses. */
  readonly ok: number;
  /** Requests without a response, by reason. */
  readonly networkErrors: Readonly<Record<string, number>>;
  /** Latency of 2xx responses. */
  readonly latencySeconds: SampleSummary;
  /** Client-side time to first streamed byte of 2xx responses (vLLM with stream=true only). */
  readonly firstByteSeconds?: SampleSummary;
  /** Token usage summed over 2xx responses, as the server reported it (vLLM only). */
  readonly tokens?: { readonly prompt: number; readonly completion: number };
  /** Raw 2xx latencies in seconds, in completion order. */
  readonly okLatencies: readonly number[];
  /** Wall-clock (Unix ms) of the first send and of the last completion. */
  readonly firstSendAtMs: number | null;
  readonly lastDoneAtMs: number | null;
  /** Largest delay between a request's scheduled and actual send time (event-loop lag), ms. */
  readonly maxSendLagMs: number;
}

/** A request factory: performs one request and reports its outcome (never rejects). */
export type FireRequest = (agent: http.Agent, signal: AbortSignal) => Promise<RequestOutcome>;

export interface EndpointLoad {
  readonly name: string;
  readonly url: string;
  /** Requests per second (> 0). */
  readonly rate: number;
  readonly fire: FireRequest;
}

export interface LoadProgress {
  readonly elapsedMs: number;
  readonly durationMs: number;
  readonly endpoints: ReadonlyArray<{ name: string; sent: number; responses: number; ok: number; inFlight: number }>;
}

export interface RunLoadOptions {
  /** How long to keep sending (ms). */
  readonly durationMs: number;
  /** Cap on requests per endpoint. */
  readonly maxRequests?: number;
  /** Per-request timeout, ms. Default 30 000. */
  readonly requestTimeoutMs?: number;
  /** After the last send, how long to wait for answers before aborting them, ms. Default 30 000. */
  readonly drainTimeoutMs?: number;
  /** Stops sending new requests (in-flight ones still complete, within drainTimeoutMs). */
  readonly signal?: AbortSignal;
  readonly onProgress?: (progress: LoadProgress) => void;
  /** Default 1000. */
  readonly progressIntervalMs?: number;
}

export interface LoadReport {
  /** Unix ms when the schedule started and when the last answer arrived. */
  readonly startedAtMs: number;
  readonly finishedAtMs: number;
  readonly durationMs: number;
  readonly endpoints: readonly EndpointLoadReport[];
}

class EndpointRecorder {
  sent = 0;
  responses = 0;
  ok = 0;
  inFlight = 0;
  readonly byStatus: Record<string, number> = {};
  readonly networkErrors: Record<string, number> = {};
  readonly okLatencies: number[] = [];
  readonly firstBytes: number[] = [];
  promptTokens = 0;
  completionTokens = 0;
  sawTokens = false;
  firstSendAtMs: number | null = null;
  lastDoneAtMs: number | null = null;
  maxSendLagMs = 0;

  constructor(readonly load: EndpointLoad, readonly planned: number) {}

  record(outcome: RequestOutcome): void {
    this.lastDoneAtMs = Date.now();
    if (outcome.status === null) {
      const reason = outcome.error ?? 'error';
      this.networkErrors[reason] = (this.networkErrors[reason] ?? 0) + 1;
      return;
    }
    this.responses++;
    const key = String(outcome.status);
    this.byStatus[key] = (this.byStatus[key] ?? 0) + 1;
    if (outcome.status < 200 || outcome.status > 299) return;
    this.ok++;
    this.okLatencies.push(outcome.latencySeconds);
    if (outcome.firstByteSeconds !== undefined) this.firstBytes.push(outcome.firstByteSeconds);
    if (outcome.promptTokens !== undefined || outcome.completionTokens !== undefined) {
      this.sawTokens = true;
      this.promptTokens += outcome.promptTokens ?? 0;
      this.completionTokens += outcome.completionTokens ?? 0;
    }
  }

  report(): EndpointLoadReport {
    return {
      name: this.load.name,
      url: this.load.url,
      rate: this.load.rate,
      planned: this.planned,
      sent: this.sent,
      responses: this.responses,
      byStatus: { ...this.byStatus },
      ok: this.ok,
      networkErrors: { ...this.networkErrors },
      latencySeconds: summarize(this.okLatencies),
      ...(this.firstBytes.length > 0 ? { firstByteSeconds: summarize(this.firstBytes) } : {}),
      ...(this.sawTokens ? { tokens: { prompt: this.promptTokens, completion: this.completionTokens } } : {}),
      okLatencies: [...this.okLatencies],
      firstSendAtMs: this.firstSendAtMs,
      lastDoneAtMs: this.lastDoneAtMs,
      maxSendLagMs: this.maxSendLagMs,
    };
  }
}

/** Drive every endpoint at its fixed rate for `durationMs` (open loop), then wait for the answers. */
export async function runOpenLoopLoad(endpoints: readonly EndpointLoad[], options: RunLoadOptions): Promise<LoadReport> {
  const { durationMs } = options;
  if (!(durationMs > 0)) throw new RangeError(`runLoad: durationMs must be > 0, got ${durationMs}`);
  if (options.maxRequests !== undefined && !(Number.isInteger(options.maxRequests) && options.maxRequests >= 0)) {
    throw new RangeError(`runLoad: maxRequests must be an integer >= 0, got ${options.maxRequests}`);
  }
  for (const e of endpoints) if (!(e.rate > 0)) throw new RangeError(`runLoad: ${e.name}: rate must be > 0, got ${e.rate}`);

  const agent = new http.Agent({ keepAlive: true, maxSockets: Infinity });
  const drain = new AbortController();
  const requestTimeoutMs = options.requestTimeoutMs ?? 30_000;
  const recorders = endpoints.map(
    (e) => new EndpointRecorder(e, Math.min(options.maxRequests ?? Infinity, Math.ceil((durationMs / 1000) * e.rate - 1e-9))),
  );
  const pending = new Set<Promise<void>>();
  const timers = new Set<NodeJS.Timeout>();
  const startedAtMs = Date.now();
  const t0 = performance.now();
  let stopped = options.signal?.aborted ?? false;
  const progress = (): void => {
    options.onProgress?.({
      elapsedMs: Math.min(performance.now() - t0, durationMs),
      durationMs,
      endpoints: recorders.map((r) => ({ name: r.load.name, sent: r.sent, responses: r.responses, ok: r.ok, inFlight: r.inFlight })),
    });
  };
  const progressTimer = options.onProgress ? setInterval(progress, options.progressIntervalMs ?? 1000) : undefined;

  const send = (rec: EndpointRecorder, scheduledMs: number): void => {
    rec.sent++;
    rec.inFlight++;
    rec.firstSendAtMs ??= Date.now();
    rec.maxSendLagMs = Math.max(rec.maxSendLagMs, performance.now() - t0 - scheduledMs);
    const signal = AbortSignal.any([drain.signal, AbortSignal.timeout(requestTimeoutMs)]);
    const p = rec.load
      .fire(agent, signal)
      .catch((err: unknown): RequestOutcome => ({ status: null, error: String(err), latencySeconds: 0 }))
      .then((outcome) => {
        rec.inFlight--;
        rec.record(outcome);
      });
    pending.add(p);
    void p.finally(() => pending.delete(p));
  };

  const schedules = recorders.map(
    (rec) =>
      new Promise<void>((resolve) => {
        const intervalMs = 1000 / rec.load.rate;
        let i = 0;
        const tick = (): void => {
          const now = performance.now() - t0;
          while (!stopped && i < rec.planned && i * intervalMs <= now) send(rec, i++ * intervalMs);
          if (stopped || i >= rec.planned) return resolve();
          const t = setTimeout(() => {
            timers.delete(t);
            tick();
          }, Math.max(0, i * intervalMs - (performance.now() - t0)));
          timers.add(t);
        };
        tick();
      }),
  );
  const onAbort = (): void => {
    stopped = true;
    for (const t of timers) clearTimeout(t);
    timers.clear();
  };
  options.signal?.addEventListener('abort', onAbort, { once: true });
  // resolve the schedules that were cut short by an abort
  const scheduled = Promise.race([
    Promise.all(schedules),
    new Promise<void>((resolve) => options.signal?.addEventListener('abort', () => resolve(), { once: true })),
  ]);
  await scheduled;

  const drainTimer = setTimeout(() => drain.abort(new Error('drain timeout')), options.drainTimeoutMs ?? 30_000);
  while (pending.size > 0) await Promise.allSettled([...pending]);
  clearTimeout(drainTimer);
  if (progressTimer) clearInterval(progressTimer);
  options.signal?.removeEventListener('abort', onAbort);
  progress();
  agent.destroy();
  return {
    startedAtMs,
    finishedAtMs: Date.now(),
    durationMs,
    endpoints: recorders.map((r) => r.report()),
  };
}

interface RawResponse {
  status: number;
  body: string;
  firstByteSeconds: number | undefined;
  latencySeconds: number;
}

/** POST a JSON body with node:http; resolves with status, body and timings, rejects on network errors. */
function postJson(url: URL, body: string, agent: http.Agent, signal: AbortSignal): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const start = performance.now();
    const req = http.request(
      url,
      {
        method: 'POST',
        agent,
        signal,
        headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), accept: '*/*' },
      },
      (res) => {
        const chunks: Buffer[] = [];
        let firstByte: number | undefined;
        res.on('data', (chunk: Buffer) => {
          firstByte ??= (performance.now() - start) / 1000;
          chunks.push(chunk);
        });
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            body: Buffer.concat(chunks).toString('utf8'),
            firstByteSeconds: firstByte,
            latencySeconds: (performance.now() - start) / 1000,
          }),
        );
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

function networkError(err: unknown, signal: AbortSignal): RequestOutcome {
  const reason = signal.aborted ? (String(signal.reason).includes('drain') ? 'aborted' : 'timeout') : ((err as NodeJS.ErrnoException).code ?? 'error');
  return { status: null, error: reason, latencySeconds: 0 };
}

export interface VllmLoadSpec {
  /** Base URL, e.g. http://127.0.0.1:8000. */
  readonly url: string;
  readonly rate: number;
  /** `model` field; omitted when undefined (the emulator then serves its own model). */
  readonly model?: string;
  /** Default 34. */
  readonly maxTokens?: number;
  /** Prompt length in words (= emulated tokens), uniform on [min, max]. Default [64, 192]. */
  readonly promptWords?: readonly [number, number];
  /** Stream the answer (SSE) to measure client-side TTFT. Default true. */
  readonly stream?: boolean;
  readonly seed?: number;
}

/** One `POST /v1/completions` per call. */
export function vllmCompletionLoad(spec: VllmLoadSpec): EndpointLoad {
  const url = new URL('/v1/completions', spec.url);
  const rng: Rng = createRng(spec.seed ?? 1);
  const [minWords, maxWords] = spec.promptWords ?? [64, 192];
  const stream = spec.stream ?? true;
  return {
    name: 'vllm',
    url: url.toString(),
    rate: spec.rate,
    fire: async (agent, signal) => {
      const words = minWords + Math.floor(rng() * (maxWords - minWords + 1));
      const body = JSON.stringify({
        ...(spec.model !== undefined ? { model: spec.model } : {}),
        prompt: 'benchmark '.repeat(words).trimEnd(),
        max_tokens: spec.maxTokens ?? 34,
        temperature: 0,
        stream,
        ...(stream ? { stream_options: { include_usage: true } } : {}),
      });
      let raw: RawResponse;
      try {
        raw = await postJson(url, body, agent, signal);
      } catch (err) {
        return networkError(err, signal);
      }
      const usage = raw.status === 200 ? parseUsage(raw.body, stream) : undefined;
      return {
        status: raw.status,
        latencySeconds: raw.latencySeconds,
        ...(stream && raw.status === 200 && raw.firstByteSeconds !== undefined ? { firstByteSeconds: raw.firstByteSeconds } : {}),
        ...(usage ? { promptTokens: usage.prompt, completionTokens: usage.completion } : {}),
      };
    },
  };
}

function parseUsage(body: string, stream: boolean): { prompt: number; completion: number } | undefined {
  const pick = (u: unknown): { prompt: number; completion: number } | undefined => {
    const usage = u as { prompt_tokens?: unknown; completion_tokens?: unknown } | null | undefined;
    return typeof usage?.prompt_tokens === 'number' && typeof usage.completion_tokens === 'number'
      ? { prompt: usage.prompt_tokens, completion: usage.completion_tokens }
      : undefined;
  };
  try {
    if (!stream) return pick((JSON.parse(body) as { usage?: unknown }).usage);
    let found: { prompt: number; completion: number } | undefined;
    for (const event of body.split('\n\n')) {
      const data = event.startsWith('data: ') ? event.slice(6) : '';
      if (data === '' || data === '[DONE]') continue;
      found = pick((JSON.parse(data) as { usage?: unknown }).usage) ?? found;
    }
    return found;
  } catch {
    return undefined;
  }
}

export interface QdrantLoadSpec {
  readonly url: string;
  readonly rate: number;
  /** Default "benchmark". */
  readonly collection?: string;
  /** Query vector size; must match the collection. Default 64. */
  readonly dim?: number;
  /** Default 10. */
  readonly limit?: number;
  readonly seed?: number;
}

/** One `POST /collections/{name}/points/search` per call. */
export function qdrantSearchLoad(spec: QdrantLoadSpec): EndpointLoad {
  const collection = spec.collection ?? 'benchmark';
  const url = new URL(`/collections/${encodeURIComponent(collection)}/points/search`, spec.url);
  const rng: Rng = createRng(spec.seed ?? 2);
  const dim = spec.dim ?? 64;
  return {
    name: 'qdrant',
    url: url.toString(),
    rate: spec.rate,
    fire: async (agent, signal) => {
      const vector = Array.from({ length: dim }, () => Math.round((rng() * 2 - 1) * 1e4) / 1e4);
      const body = JSON.stringify({ vector, limit: spec.limit ?? 10, with_payload: false });
      try {
        const raw = await postJson(url, body, agent, signal);
        return { status: raw.status, latencySeconds: raw.latencySeconds };
      } catch (err) {
        return networkError(err, signal);
      }
    },
  };
}

export interface LoadTargets {
  readonly vllm?: VllmLoadSpec;
  readonly qdrant?: QdrantLoadSpec;
}

export interface TargetsLoadReport extends LoadReport {
  readonly vllm?: EndpointLoadReport;
  readonly qdrant?: EndpointLoadReport;
}

/** Drive a vLLM-compatible and/or a Qdrant-compatible endpoint at fixed rates (open loop). */
export async function runLoad(targets: LoadTargets, options: RunLoadOptions): Promise<TargetsLoadReport> {
  const loads: EndpointLoad[] = [];
  if (targets.vllm) loads.push(vllmCompletionLoad(targets.vllm));
  if (targets.qdrant) loads.push(qdrantSearchLoad(targets.qdrant));
  if (loads.length === 0) throw new Error('runLoad: no target given');
  const report = await runOpenLoopLoad(loads, options);
  const byName = (name: string): EndpointLoadReport | undefined => report.endpoints.find((e) => e.name === name);
  const vllm = byName('vllm');
  const qdrant = byName('qdrant');
  return { ...report, ...(vllm ? { vllm } : {}), ...(qdrant ? { qdrant } : {}) };
}
