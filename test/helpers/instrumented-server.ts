/**
 * A real HTTP service for the collection tests, instrumented the way an application would be
 * with prom-client: an `http_requests_total` counter and an OpenTelemetry-style
 * `http_server_request_duration_seconds` histogram, timed from the arrival of a request to the
 * end of its response. Every request to `/work` sleeps a latency drawn from a known
 * distribution, so the percentiles a collection reports can be checked against the truth.
 * `/metrics` serves the exposition (not counted, not timed).
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Counter, Histogram, Registry } from 'prom-client';

/** The OpenTelemetry semantic-conventions default buckets of http.server.request.duration (seconds). */
export const OTEL_HTTP_DURATION_BUCKETS = [0, 0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10];

/**
 * A piecewise-uniform latency distribution given by its quantile function: knots (q, seconds),
 * linear in between; two knots with the same q make a jump (a mixture of uniform parts).
 */
export interface PiecewiseLatency {
  knots: ReadonlyArray<readonly [number, number]>;
}

/**
 * The distribution of the ground-truth test: 90 % uniform in [30, 45] ms, 10 % uniform in
 * [130, 170] ms. p50 = 38.3 ms in the OTel bucket (25, 50] ms, p95 = 150 ms and p99 = 166 ms in
 * (100, 250] ms: each quantile is at least 11 ms from its bucket's edges, more than the server's
 * timer lateness and the client-side overhead of a load generator on a busy machine.
 */
export const GROUND_TRUTH_LATENCY: PiecewiseLatency = {
  knots: [[0, 0.03], [0.9, 0.045], [0.9, 0.13], [1, 0.17]],
};

/** The exact q-quantile of a piecewise-uniform distribution (for a jump at q, the lower side). */
export function latencyQuantile(d: PiecewiseLatency, q: number): number {
  const k = d.knots;
  for (let i = 1; i < k.length; i++) {
    const [q0, x0] = k[i - 1]!;
    const [q1, x1] = k[i]!;
    if (q <= q1 && q1 > q0) return x0 + ((q - q0) / (q1 - q0)) * (x1 - x0);
  }
  return k[k.length - 1]![1];
}

/** The mean of a piecewise-uniform distribution. */
export function latencyMean(d: PiecewiseLatency): number {
  let m = 0;
  for (let i = 1; i < d.knots.length; i++) {
    const [q0, x0] = d.knots[i - 1]!;
    const [q1, x1] = d.knots[i]!;
    m += (q1 - q0) * ((x0 + x1) / 2);
  }
  return m;
}

/**
 * The latency of request i: the part of the distribution is chosen by i (so the shares of the
 * parts are exact, e.g. every 10th request is a slow one), the value within it at random.
 */
export function latencyOfRequest(d: PiecewiseLatency, i: number): number {
  const segments: Array<{ q0: number; q1: number; x0: number; x1: number }> = [];
  for (let j = 1; j < d.knots.length; j++) {
    const [q0, x0] = d.knots[j - 1]!;
    const [q1, x1] = d.knots[j]!;
    if (q1 > q0) segments.push({ q0, q1, x0, x1 });
  }
  // A low-discrepancy position in [0, 1) picks the segment; its shares are exact over any 1/share run.
  const position = ((i % 100) + 0.5) / 100;
  const s = segments.find((seg) => position < seg.q1) ?? segments[segments.length - 1]!;
  return s.x0 + Math.random() * (s.x1 - s.x0);
}

export interface InstrumentedServer {
  /** host:port, to register as a scrape target. */
  address: string;
  /** http://host:port/work: the endpoint a load generator drives. */
  workUrl: string;
  /** Requests to /work answered so far. */
  served(): number;
  /** Stops listening and drops every connection (a scrape then fails: the target is down). */
  close(): Promise<void>;
}

export interface InstrumentedServerOptions {
  latency?: PiecewiseLatency;
  buckets?: number[];
}

export async function startInstrumentedServer(options: InstrumentedServerOptions = {}): Promise<InstrumentedServer> {
  const latency = options.latency ?? GROUND_TRUTH_LATENCY;
  const registry = new Registry();
  const labels = { http_request_method: 'GET', http_route: '/work', http_response_status_code: '200' };
  const requests = new Counter({
    name: 'http_requests_total',
    help: 'HTTP requests answered.',
    labelNames: ['http_request_method', 'http_route', 'http_response_status_code'] as const,
    registers: [registry],
  });
  const duration = new Histogram({
    name: 'http_server_request_duration_seconds',
    help: 'Duration of HTTP server requests.',
    labelNames: ['http_request_method', 'http_route', 'http_response_status_code'] as const,
    buckets: options.buckets ?? OTEL_HTTP_DURATION_BUCKETS,
    registers: [registry],
  });
  // Series exist (at 0) from the first scrape on, as in an application that pre-registers its routes.
  requests.inc(labels, 0);
  duration.zero(labels);

  let next = 0;
  let served = 0;
  const server = http.createServer((req, res) => {
    const t0 = performance.now();
    if (req.url === '/metrics') {
      registry.metrics().then(
        (text) => {
          res.writeHead(200, { 'content-type': registry.contentType });
          res.end(text);
        },
        (err: Error) => {
          res.writeHead(500);
          res.end(err.message);
        },
      );
      return;
    }
    if (req.url !== '/work') {
      res.writeHead(404);
      res.end('not found\n');
      return;
    }
    const sleepMs = latencyOfRequest(latency, next++) * 1000;
    res.once('finish', () => {
      duration.observe(labels, (performance.now() - t0) / 1000);
      requests.inc(labels);
      served++;
    });
    setTimeout(() => {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.end('ok\n');
    }, sleepMs);
  });
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  let closing: Promise<void> | undefined;
  return {
    address: `127.0.0.1:${port}`,
    workUrl: `http://127.0.0.1:${port}/work`,
    served: () => served,
    close() {
      closing ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      return closing;
    },
  };
}
