/**
 * How benchmon gets a Prometheus: a supervised local child process (default), an external one
 * it only drives over HTTP (Docker compose), or a Slurm job (slurm.ts). The rest of benchmon sees
 * only this interface and the HTTP client.
 */
export interface RuntimeStatus {
  mode: 'local' | 'external' | 'slurm';
  running: boolean;
  pid: number | null;
  restarts: number;
  last_exit: string | null;
  /** PROMETHEUS_MODE=slurm: the job Prometheus runs in. */
  slurm?: {
    job_id: string | null;
    state: string | null;
    node: string | null;
    url: string | null;
    resubmits: number;
    max_resubmits: number;
    /** Set when the job died and no more resubmissions are allowed, or a resubmission failed. */
    error: string | null;
  };
}

export interface PrometheusRuntime {
  readonly mode: RuntimeStatus['mode'];
  /** Start (or attach to) Prometheus and wait until it is ready. The config file must already be written. */
  start(): Promise<void>;
  stop(): Promise<void>;
  status(): RuntimeStatus;
}
