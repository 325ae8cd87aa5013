/** Small node:http helpers shared by the emulators (listen on a free port, read a JSON body, close cleanly). */
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
