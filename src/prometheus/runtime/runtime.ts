/**
 * How benchmon gets a Prometheus: a supervised local child process (default), an external one
 * it only drives over HTTP (Docker compose), or, later, a Slurm job. The rest of benchmon sees
 * only this interface and the HTTP client.
 */
export interface RuntimeStatus {
  mode: 'local' | 'external';
  running: boolean;
  pid: number | null;
  restarts: number;
  last_exit: string | null;
}

export interface PrometheusRuntime {
  readonly mode: RuntimeStatus['mode'];
  /** Start (or attach to) Prometheus and wait until it is ready. The config file must already be written. */
  start(): Promise<void>;
  stop(): Promise<void>;
  status(): RuntimeStatus;
}
