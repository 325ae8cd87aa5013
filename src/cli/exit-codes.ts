/** Exit codes of the CLI, by what went wrong, so scripts can tell a typo from an outage. */
import { BenchmonApiError } from '../client/api-client.js';

export const EXIT = {
  OK: 0,
  FAILURE: 1,
  /** `compare --gate`: a gated KPI regressed past its limit (or is missing); the CI job fails. */
  GATE_FAILED: 1,
  USAGE: 2,
  NOT_FOUND: 3,
  CONFLICT: 4,
  UNREACHABLE: 5,
  PROMETHEUS: 6,
  UNAUTHORIZED: 7,
} as const;

export function exitCodeFor(err: unknown): number {
  if (!(err instanceof BenchmonApiError)) return EXIT.FAILURE;
  if (err.status === 0) return EXIT.UNREACHABLE;
  if (err.status === 401) return EXIT.UNAUTHORIZED;
  if (err.status === 404) return EXIT.NOT_FOUND;
  if (err.status === 409) return EXIT.CONFLICT;
  if (err.status === 400 || err.status === 422) return EXIT.USAGE;
  if (err.status >= 500) return EXIT.PROMETHEUS;
  return EXIT.FAILURE;
}
