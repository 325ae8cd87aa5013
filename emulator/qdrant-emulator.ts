/**
 * EMULATOR — an emulated Qdrant 1.16.0 REST server for demos and tests. Not part of benchmon.
 *
 * `POST /collections/{name}/points/search` (and `/points/query`) sleep a latency drawn from a known distribution
 * and answer a plausible result; a configurable share of requests answers an error status instead. `GET /metrics`
 * exposes Qdrant 1.16.0's real families (see qdrant-metrics.ts), driven by the traffic actually served.
 */
import { PiecewiseUniform, createRng, type Rng } from './distributions.js';
import { BodyTooLargeError, nowSeconds, readBody, sendJson, sendMetrics, serve, sleepUntil, type RequestHandler } from './http-server.js';
import { QdrantMetrics, type QdrantCollectionSpec, type RestLabels } from './qdrant-metrics.js';

/** The Qdrant version whose metric layout (names, labels, endpoint templates, fail_total) is emulated. */
export const EMULATED_QDRANT_VERSION = '1.16.0';

/**
 * Default search latency: p50 0.030 s, p95 0.16 s, p99 0.20 s (support 0.02–0.24 s; 30 % of searches are slow,
 * 15 % above 0.1 s). In Qdrant's coarse buckets: p50 in (0.02, 0.05], p95 and p99 in (0.1, 0.5], far from the
 * bounds, so timer lateness on a busy machine cannot move a quantile into another bucket.
 */
export const DEFAULT_QDRANT_LATENCY = new PiecewiseUniform([
  { q: 0, x: 0.02 },
  { q: 0.5, x: 0.03 },
  { q: 0.7, x: 0.04 },
  { q: 0.85, x: 0.1 },
  { q: 0.95, x: 0.16 },
  { q: 0.99, x: 0.2 },
  { q: 1, x: 0.24 },
]);

export const DEFAULT_QDRANT_COLLECTION: QdrantCollectionSpec = Object.freeze({ name: 'benchmark', points: 100_000, dim: 64, vectorName: '' });

export interface QdrantEmulatorOptions {
  host?: string;
  port?: number;
  collections?: ReadonlyArray<Omit<QdrantCollectionSpec, 'vectorName'> & { vectorName?: string }>;
  latency?: PiecewiseUniform;
  /** Share of otherwise valid search requests that answer an error status. Default 0.02. */
  errorShare?: number;
  /** Error statuses to pick from (uniformly). Default [500, 429] (internal error; strict-mode rate limit). */
  errorStatuses?: readonly number[];
  /** Emulate cluster mode (single peer), as the 1.16.0 scrape does. Default true. */
  clusterEnabled?: boolean;
  seed?: number;
}

export interface ResolvedQdrantEmulatorConfig {
  readonly collections: readonly QdrantCollectionSpec[];
  readonly latency: PiecewiseUniform;
  readonly errorShare: number;
  readonly errorStatuses: readonly number[];
  readonly clusterEnabled: boolean;
  readonly seed: number;
}

/** Server-side truth: responses of the whitelisted (metered) endpoints, keyed `METHOD endpoint status`. */
export interface QdrantServedStats {
  readonly responses: Readonly<Record<string, number>>;
  /** Searches answered 200. */
  readonly ok: number;
  /** Error statuses injected on purpose. */
  readonly injectedErrors: number;
  /** Any non-200 answer of a metered endpoint (injected or real, e.g. a bad body). */
  readonly errors: number;
}

export interface QdrantEmulator {
  readonly address: string;
  readonly url: string;
  readonly config: ResolvedQdrantEmulatorConfig;
  readonly metrics: QdrantMetrics;
  stats(): QdrantServedStats;
  close(): Promise<void>;
}

class QdrantError extends Error {
  constructor(readonly status: number, message: string) {
    super(message);
  }
}

const ERROR_TEXT: Record<number, string> = {
  400: 'Bad request: emulated failure (benchmon Qdrant emulator)',
  429: 'Rate limiting exceeded: Read rate limit exceeded, retry later (benchmon Qdrant emulator)',
  500: 'Service internal error: emulated failure (benchmon Qdrant emulator)',
  503: 'Service unavailable: emulated failure (benchmon Qdrant emulator)',
};

function resolveConfig(o: QdrantEmulatorOptions): ResolvedQdrantEmulatorConfig {
  const collections = (o.collections ?? [DEFAULT_QDRANT_COLLECTION]).map((c) => Object.freeze({ ...c, vectorName: c.vectorName ?? '' }));
  for (const c of collections) {
    if (!/^[A-Za-z0-9_-]+$/.test(c.name)) throw new Error(`Qdrant emulator: bad collection name ${JSON.stringify(c.name)}`);
    if (!Number.isInteger(c.points) || c.points < 0) throw new Error(`Qdrant emulator: collection ${c.name}: points must be an integer >= 0`);
    if (!Number.isInteger(c.dim) || c.dim < 1) throw new Error(`Qdrant emulator: collection ${c.name}: dim must be a positive integer`);
  }
  const errorShare = o.errorShare ?? 0.02;
  if (!(errorShare >= 0 && errorShare <= 1)) throw new Error(`Qdrant emulator: errorShare must be in [0, 1], got ${errorShare}`);
  const errorStatuses = o.errorStatuses ?? [500, 429];
  if (errorStatuses.length === 0 || errorStatuses.some((s) => !Number.isInteger(s) || s < 400 || s > 599)) {
    throw new Error('Qdrant emulator: errorStatuses must be a non-empty list of 4xx/5xx codes');
  }
  return Object.freeze({
    collections: Object.freeze(collections),
    latency: o.latency ?? DEFAULT_QDRANT_LATENCY,
    errorShare,
    errorStatuses: Object.freeze([...errorStatuses]),
    clusterEnabled: o.clusterEnabled ?? true,
    seed: o.seed ?? Math.floor(Math.random() * 2 ** 32),
  });
}

interface SearchRequest {
  vector: number[];
  limit: number;
  withPayload: boolean;
}

function parseSearch(text: string, kind: 'search' | 'query', dim: number): SearchRequest {
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch (err) {
    throw new QdrantError(400, `Json deserialize error: ${(err as Error).message}`);
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new QdrantError(400, 'Json deserialize error: expected an object');
  const b = body as Record<string, unknown>;
  const raw = kind === 'search' ? b.vector : b.query;
  if (!Array.isArray(raw) || !raw.every((v) => typeof v === 'number')) {
    throw new QdrantError(400, `Json deserialize error: missing field \`${kind === 'search' ? 'vector' : 'query'}\` (the emulator takes a dense vector)`);
  }
  if (raw.length !== dim) throw new QdrantError(400, `Wrong input: Vector dimension error: expected dim: ${dim}, got ${raw.length}`);
  const limit = b.limit === undefined ? 10 : b.limit;
  if (typeof limit !== 'number' || !Number.isInteger(limit) || limit < 1) {
    throw new QdrantError(400, 'Validation error in JSON body: [limit: value 0 invalid, must be 1 or larger]');
  }
  return { vector: raw as number[], limit, withPayload: b.with_payload === true };
}

/** Start an emulated Qdrant server. Stop it with `close()`. */
export async function startQdrantEmulator(options: QdrantEmulatorOptions = {}): Promise<QdrantEmulator> {
  const config = resolveConfig(options);
  const rng: Rng = createRng(config.seed);
  const peerId = String(1e15 + Math.floor(rng() * 8e15));
  const metrics = new QdrantMetrics({ version: EMULATED_QDRANT_VERSION, collections: config.collections, clusterEnabled: config.clusterEnabled, peerId });
  const collections = new Map(config.collections.map((c) => [c.name, c]));
  const responses: Record<string, number> = {};
  let injectedErrors = 0;
  const timers = new Set<NodeJS.Timeout>();

  const handle: RequestHandler = async (req, res) => {
    const t0 = nowSeconds();
    const method = req.method ?? 'GET';
    const path = new URL(req.url ?? '/', 'http://emulator').pathname;
    const reply = (status: number, body: unknown, metered?: RestLabels['endpoint']): void =>
      sendJson(res, status, body, () => {
        if (metered === undefined) return;
        const labels: RestLabels = { method, endpoint: metered, status: String(status) };
        metrics.observeRest(labels, nowSeconds() - t0);
        const key = `${method} ${metered} ${status}`;
        responses[key] = (responses[key] ?? 0) + 1;
      });
    const elapsed = (): number => Math.round((nowSeconds() - t0) * 1e6) / 1e6;
    const fail = (status: number, message: string, metered?: string): void =>
      reply(status, { status: { error: message }, time: elapsed() }, metered);

    if (method === 'GET' && path === '/metrics') return sendMetrics(res, metrics);
    if (method === 'GET' && path === '/') return reply(200, { title: 'qdrant - vector search engine', version: EMULATED_QDRANT_VERSION, commit: 'benchmon-emulator' });
    if (method === 'GET' && (path === '/healthz' || path === '/livez' || path === '/readyz')) {
      res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8' });
      res.end(`${path.slice(1)} check passed`);
      return;
    }
    if (method === 'GET' && path === '/collections') {
      return reply(200, { result: { collections: config.collections.map((c) => ({ name: c.name })) }, status: 'ok', time: elapsed() });
    }
    const match = /^\/collections\/([^/]+)(?:\/points\/(search|query))?$/.exec(path);
    if (!match) return fail(404, `Not found: ${path}`);
    const name = decodeURIComponent(match[1]!);
    const kind = match[2] as 'search' | 'query' | undefined;
    const collection = collections.get(name);
    if (kind === undefined) {
      if (method !== 'GET') return fail(405, 'Method Not Allowed');
      if (!collection) return fail(404, `Not found: Collection \`${name}\` doesn't exist!`);
      return reply(200, {
        result: {
          status: 'green',
          optimizer_status: 'ok',
          points_count: collection.points,
          indexed_vectors_count: collection.points,
          segments_count: 1,
          config: { params: { vectors: { size: collection.dim, distance: 'Cosine' } } },
        },
        status: 'ok',
        time: elapsed(),
      });
    }
    // The route template as Qdrant 1.16 renders it in the `endpoint` label.
    const endpoint = `/collections/{name}/points/${kind}`;
    if (method !== 'POST') return fail(405, 'Method Not Allowed', endpoint);

    let request: SearchRequest;
    try {
      const text = await readBody(req);
      if (!collection) throw new QdrantError(404, `Not found: Collection \`${name}\` doesn't exist!`);
      request = parseSearch(text, kind, collection.dim);
    } catch (err) {
      if (err instanceof QdrantError) return fail(err.status, err.message, endpoint);
      if (err instanceof BodyTooLargeError) return fail(413, err.message, endpoint);
      return; // the client went away while sending
    }

    const injected = rng() < config.errorShare ? config.errorStatuses[Math.floor(rng() * config.errorStatuses.length)]! : undefined;
    await sleepUntil(t0 + config.latency.sample(rng), timers);
    if (res.destroyed) return;
    if (injected !== undefined) {
      injectedErrors++;
      return fail(injected, ERROR_TEXT[injected] ?? `Emulated failure ${injected} (benchmon Qdrant emulator)`, endpoint);
    }
    const count = Math.min(request.limit, collection!.points);
    const points = [];
    for (let i = 0; i < count; i++) {
      const id = Math.floor(rng() * collection!.points);
      points.push({ id, version: 0, score: Math.round((0.95 - i * 0.01) * 1e6) / 1e6, payload: request.withPayload ? { doc: `doc-${id}` } : null, vector: null });
    }
    // Emulated hardware accounting: a full scan compares every point; vectors are f32.
    metrics.addHardware(collection!.name, 'cpu', collection!.points);
    metrics.addHardware(collection!.name, 'vector_io_read', collection!.points * collection!.dim * 4);
    if (request.withPayload) metrics.addHardware(collection!.name, 'payload_io_read', count * 64);
    return reply(200, { result: kind === 'search' ? points : { points }, status: 'ok', time: elapsed() }, endpoint);
  };

  const bound = await serve(handle, {
    name: 'Qdrant emulator',
    host: options.host,
    port: options.port,
    internalErrorBody: (err) => ({ status: { error: `Service internal error: ${String(err)}` }, time: 0 }),
  });

  return {
    address: bound.address,
    url: `http://${bound.address}`,
    config,
    metrics,
    stats: () => {
      let ok = 0;
      let errors = 0;
      for (const [key, n] of Object.entries(responses)) {
        if (key.endsWith(' 200')) ok += n;
        else errors += n;
      }
      return { responses: { ...responses }, ok, injectedErrors, errors };
    },
    close: async () => {
      for (const t of timers) clearTimeout(t);
      timers.clear();
      await bound.close();
    },
  };
}
