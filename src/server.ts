/**
 * Start and stop a whole benchmon: facade (store, Prometheus runtime, config) + HTTP API.
 * server.ts owns listen/close; the app itself is built in api/build-app.ts.
 */
import type { FastifyInstance } from 'fastify';
import pino, { type Logger } from 'pino';
import { buildApp } from './api/build-app.js';
import { SelfMetrics } from './api/self-metrics.js';
import { MonitoringService } from './sessions/monitoring-service.js';
import type { Settings } from './settings/settings.js';

export interface RunningBenchmon {
  app: FastifyInstance;
  service: MonitoringService;
  /** Base URL of the API as bound (the real port when BENCHMON_PORT=0). */
  url: string;
  close(): Promise<void>;
}

export function createLogger(settings: Settings): Logger {
  return pino({ level: settings.LOG_LEVEL, base: { service: 'benchmon' } });
}

export async function startBenchmon(settings: Settings, logger: Logger = createLogger(settings)): Promise<RunningBenchmon> {
  const service = new MonitoringService(settings, new SelfMetrics(), logger);
  const app = await buildApp(service, logger);
  try {
    await service.start();
    await app.listen({ host: settings.BENCHMON_HOST, port: settings.BENCHMON_PORT });
  } catch (err) {
    await app.close().catch(() => undefined);
    await service.stop().catch(() => undefined);
    throw err;
  }
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : settings.BENCHMON_PORT;
  const host = settings.BENCHMON_HOST === '0.0.0.0' || settings.BENCHMON_HOST === '::' ? '127.0.0.1' : settings.BENCHMON_HOST;
  let closed: Promise<void> | undefined;
  return {
    app,
    service,
    url: `http://${host.includes(':') ? `[${host}]` : host}:${port}`,
    close() {
      closed ??= (async () => {
        await app.close();
        await service.stop();
      })();
      return closed;
    },
  };
}
