/**
 * Coded errors: every failure benchmon reports has a stable code, an HTTP status and,
 * for the caller's mistakes, the field that was wrong. The API maps them to
 * `{error: {code, message, details}}`; the CLI maps them to exit codes.
 */
export const ERROR_CODES = {
  VALIDATION_FAILED: { status: 400, doc: 'A request field is missing or malformed; details.field names it.' },
  INVALID_JSON: { status: 400, doc: 'The request body is not valid JSON.' },
  UNAUTHORIZED: { status: 401, doc: 'BENCHMON_API_TOKEN is set and the request has no or a wrong bearer token.' },
  NOT_FOUND: { status: 404, doc: 'The route does not exist.' },
  SESSION_NOT_FOUND: { status: 404, doc: 'No session with that id.' },
  TARGET_NOT_FOUND: { status: 404, doc: 'No target with that id in the session.' },
  COLLECTION_NOT_FOUND: { status: 404, doc: 'No collection with that id (details.collection_id names it).' },
  COLLECTION_UNREADABLE: { status: 422, doc: "A collection to compare, plot or report is known (or a directory was given) but its MANIFEST.json (or timeseries.csv) is missing, not readable or malformed; the message names the file." },
  GATE_INVALID: { status: 400, doc: 'The gate document is invalid; details.field names the first bad field (e.g. gate.kpis.throughput.max_regression), details.problems lists all.' },
  SESSION_EXISTS: { status: 409, doc: 'A session with that id already exists.' },
  DUPLICATE_JOB_NAME: { status: 409, doc: 'The session already has a target with that job_name.' },
  PHASE_NOT_FOUND: { status: 404, doc: 'No phase with that name in the session (details.field names where the name was given).' },
  PHASE_EXISTS: { status: 409, doc: 'The session already has a phase with that name.' },
  PHASE_ALREADY_ENDED: { status: 409, doc: 'The phase has already been ended (details.end_time says when).' },
  UNPROCESSABLE: { status: 422, doc: 'The request is well-formed but cannot be carried out (e.g. a bad time window).' },
  PROM_UNAVAILABLE: { status: 503, doc: 'Prometheus could not be reached or is not ready.' },
  PROM_REQUEST_FAILED: { status: 502, doc: 'Prometheus answered a request with an error.' },
  PROM_CONFIG_INVALID: { status: 502, doc: 'The rendered Prometheus configuration failed validation; nothing was applied.' },
  PROM_RELOAD_FAILED: { status: 502, doc: 'Prometheus rejected a configuration reload; the last good configuration was restored.' },
  PROM_RUNTIME_FAILED: { status: 503, doc: 'The Prometheus process could not be started or supervised.' },
  SLURM_UNAVAILABLE: { status: 503, doc: 'A Slurm command is missing, did not answer in time, or could not reach slurmctld; the message names the command.' },
  SLURM_COMMAND_FAILED: { status: 502, doc: "A Slurm command failed or printed output benchmon cannot read; the message names the command and keeps Slurm's own error." },
  SLURM_JOB_NOT_FOUND: { status: 404, doc: 'No Slurm job with that id (unknown, or finished longer ago than MinJobAge); details.job_id names it.' },
  PROXY_TARGET_NOT_FOUND: { status: 404, doc: 'GET /metrics/{service}/{job_id}: no registered Slurm target of that service and job runs now (the proxy serves nothing else).' },
  PROXY_UPSTREAM_FAILED: { status: 502, doc: "The proxied job's metrics endpoint refused the connection, failed, or answered an error status; the message says why." },
  PROXY_UPSTREAM_TIMEOUT: { status: 504, doc: "The proxied job's metrics endpoint did not answer within PROXY_TIMEOUT." },
  INTERNAL: { status: 500, doc: 'An unexpected error inside benchmon.' },
} as const;

export type ErrorCode = keyof typeof ERROR_CODES;

export class BenchmonError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  readonly details: Record<string, unknown> | undefined;

  constructor(code: ErrorCode, message: string, options: { details?: Record<string, unknown>; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'BenchmonError';
    this.code = code;
    this.status = ERROR_CODES[code].status;
    this.details = options.details;
  }
}

/** A caller's mistake in one field: 400 with details.field. */
export function invalidField(field: string, message: string): BenchmonError {
  return new BenchmonError('VALIDATION_FAILED', `${field}: ${message}`, { details: { field } });
}

export function isBenchmonError(err: unknown): err is BenchmonError {
  return err instanceof BenchmonError;
}

/** The message of any thrown value, with its cause chain, for logs and error answers. */
export function describeError(err: unknown): string {
  if (err instanceof Error) {
    const cause = (err as { cause?: unknown }).cause;
    return cause === undefined ? err.message : `${err.message}: ${describeError(cause)}`;
  }
  return String(err);
}
