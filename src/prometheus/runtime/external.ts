/**
 * PROMETHEUS_MODE=external: a Prometheus somebody else runs (e.g. Docker compose) at
 * PROMETHEUS_URL, reading the PROMETHEUS_CONFIG_PATH benchmon writes and started with
 * --web.enable-lifecycle. benchmon only waits for it to be ready.
 */
import { BenchmonError } from '../../errors.js';
import type { PrometheusClient } from '../client.js';
import type { PrometheusRuntime, RuntimeStatus } from './runtime.js';

export class ExternalRuntime implements PrometheusRuntime {
  readonly mode = 'external' as const;

  constructor(private readonly client: PrometheusClient, private readonly readyTimeoutMs = 60_000) {}

  async start(): Promise<void> {
    const deadline = Date.now() + this.readyTimeoutMs;
    while (Date.now() < deadline) {
      if (await this.client.isReady()) return;
      await new Promise((r) => setTimeout(r, 500));
    }
    throw new BenchmonError('PROM_RUNTIME_FAILED', `external Prometheus at ${this.client.baseUrl} is not ready after ${this.readyTimeoutMs} ms`);
  }

  async stop(): Promise<void> {
    // Not ours to stop.
  }

  status(): RuntimeStatus {
    return { mode: 'external', running: true, pid: null, restarts: 0, last_exit: null };
  }
}
