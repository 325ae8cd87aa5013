/**
 * Small node:http helpers shared by the emulators (serve a handler on a free port, read a JSON body, answer JSON or
 * a metrics scrape, close cleanly).
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ListeningServer {
  /** `host:port`, as a Prometheus scrape target. */
  readonly address: string;
  readonly host: string;
  readonly port: number;
  close(): Promise<void>;
}

/** Listen on host:port (port 0 = a free port chosen by the OS) and report the address actually bound. */
export async function listen(server: http.Server, host: string, port: number): Promise<ListeningServer> {
  await new Promise<void>((resolve, reject) => {
    const onError = (err: Error): void => reject(err);
    server.once('error', onError);
    server.listen(port, host, () => {
      server.off('error', onError);
      resolve();
    });
  });
  const bound = server.address() as AddressInfo;
  const shownHost = bound.family === 'IPv6' ? `[${bound.address}]` : bound.address;
  let closing: Promise<void> | undefined;
  return {
    address: `${shownHost}:${bound.port}`,
    host: bound.address,
    port: bound.port,
    close: () => {
      closing ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      return closing;
    },
  };
}

export type RequestHandler = (req: http.IncomingMessage, res: http.ServerResponse) => Promise<void>;

export interface ServeOptions {
  /** Names the server in the error thrown when it cannot listen, e.g. `vLLM emulator`. */
  readonly name: string;
  /** Default 127.0.0.1. */
  readonly host?: string | undefined;
  /** Default 0 (a free port). */
  readonly port?: number | undefined;
  /** JSON body of the 500 answered when `handle` rejects before it has sent headers (each emulator's own error shape). */
  readonly internalErrorBody: (err: unknown) => unknown;
}

/**
 * Serve `handle` on host:port (keep-alive 65 s). A handler that rejects answers 500 with `internalErrorBody(err)`,
 * or drops the connection once headers are out.
 */
export async function serve(handle: RequestHandler, options: ServeOptions): Promise<ListeningServer> {
  const server = http.createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      if (!res.headersSent) {
        res.writeHead(500, { 'content-type': 'application/json' });
        res.end(JSON.stringify(options.internalErrorBody(err)));
      } else {
        res.destroy();
      }
    });
  });
  server.keepAliveTimeout = 65_000;
  const host = options.host ?? '127.0.0.1';
  const port = options.port ?? 0;
  try {
    return await listen(server, host, port);
  } catch (err) {
    throw new Error(`${options.name}: cannot listen on ${host}:${port}`, { cause: err });
  }
}

/**
 * Answer `body` as JSON with its Content-Length. `observe` runs first, with that length, so that what it meters
 * (duration, response size) is in place before the client can see the answer.
 */
export function sendJson(res: http.ServerResponse, status: number, body: unknown, observe?: (responseBytes: number) => void): void {
  const text = JSON.stringify(body);
  const bytes = Buffer.byteLength(text);
  observe?.(bytes);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': bytes });
  res.end(text);
}

/** Answer a Prometheus scrape of `source` (an emulator's metrics registry). */
export async function sendMetrics(res: http.ServerResponse, source: { metrics(): Promise<string>; readonly contentType: string }): Promise<void> {
  const text = await source.metrics();
  res.writeHead(200, { 'content-type': source.contentType });
  res.end(text);
}

export class BodyTooLargeError extends Error {}

/** Read the whole request body (bounded), as UTF-8 text. */
export function readBody(req: http.IncomingMessage, limitBytes = 1 << 20): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limitBytes) {
        reject(new BodyTooLargeError(`request body larger than ${limitBytes} bytes`));
        req.destroy();
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
    req.on('close', () => {
      if (!req.complete) reject(new Error('client closed the connection before sending the whole body'));
    });
  });
}

/** Monotonic clock in seconds. */
export function nowSeconds(): number {
  return performance.now() / 1000;
}

/**
 * Sleep until a monotonic deadline (seconds, from nowSeconds()); resolves immediately if it has passed.
 * libuv measures timers from its cached loop time, so a timeout can fire up to ~1 ms before the deadline by
 * performance.now(); re-arm until the deadline has really passed, so a measured sleep is never shorter than drawn.
 */
export function sleepUntil(deadlineSeconds: number, timers: Set<NodeJS.Timeout>): Promise<void> {
  return new Promise((resolve) => {
    const arm = (): void => {
      const ms = (deadlineSeconds - nowSeconds()) * 1000;
      if (ms <= 0) return resolve();
      const t = setTimeout(() => {
        timers.delete(t);
        arm();
      }, ms);
      timers.add(t);
    };
    arm();
  });
}
