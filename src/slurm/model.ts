/**
 * What benchmon knows about a Slurm job, independent of the command or output format it came
 * from (squeue --json of any schema version, `squeue -o`, `scontrol show job -o`).
 */

/** A job id as users write it: `42`, or one task of a job array, `42_7`. */
export const SLURM_JOB_ID_PATTERN = '^\\d+(_\\d+)?$';
const jobIdRe = new RegExp(SLURM_JOB_ID_PATTERN);

export function isValidSlurmJobId(id: string): boolean {
  return jobIdRe.test(id);
}

/**
 * Base job states (squeue(1) "JOB STATE CODES"). Newer Slurm reports `job_state` as a list of a
 * base state plus flags (e.g. `["RUNNING", "COMPLETING"]`); only the base state is kept here.
 */
export const SLURM_JOB_STATES = [
  'PENDING', 'CONFIGURING', 'RUNNING', 'SUSPENDED', 'COMPLETING', 'STAGE_OUT', 'SIGNALING', 'RESIZING', 'REQUEUED',
  'REQUEUE_HOLD', 'REQUEUE_FED', 'RESV_DEL_HOLD', 'STOPPED',
  'COMPLETED', 'CANCELLED', 'FAILED', 'TIMEOUT', 'NODE_FAIL', 'PREEMPTED', 'BOOT_FAIL', 'DEADLINE', 'OUT_OF_MEMORY',
  'REVOKED', 'SPECIAL_EXIT',
] as const;
export type KnownSlurmJobState = (typeof SLURM_JOB_STATES)[number];
/** A known state, or whatever a future Slurm reports (kept verbatim rather than guessed). */
export type SlurmJobState = KnownSlurmJobState | (string & {});

const FINAL_STATES: ReadonlySet<string> = new Set([
  'COMPLETED', 'CANCELLED', 'FAILED', 'TIMEOUT', 'NODE_FAIL', 'PREEMPTED', 'BOOT_FAIL', 'DEADLINE', 'OUT_OF_MEMORY',
  'REVOKED', 'SPECIAL_EXIT',
]);
const PENDING_STATES: ReadonlySet<string> = new Set(['PENDING', 'REQUEUED', 'REQUEUE_HOLD', 'REQUEUE_FED', 'RESV_DEL_HOLD']);
const RUNNING_STATES: ReadonlySet<string> = new Set(['CONFIGURING', 'RUNNING', 'SUSPENDED', 'STOPPED', 'SIGNALING', 'RESIZING']);

/** A state that no longer changes (the job is gone from the node and will not run again). */
export function isFinalJobState(state: SlurmJobState): boolean {
  return FINAL_STATES.has(state);
}

/**
 * Where a job is in its life, for whoever tracks it: `pending` (no node yet), `running` (has
 * nodes, its processes may serve), `ending` (COMPLETING, STAGE_OUT: processes are being torn
 * down, the final state is not known yet), `ended` (final state), `unknown` (a state this code
 * does not know).
 */
export type SlurmJobPhase = 'pending' | 'running' | 'ending' | 'ended' | 'unknown';

/**
 * benchmon's own mark (not a Slurm state) for a tracked job that slurmctld no longer lists before
 * benchmon saw it end: it finished longer ago than MinJobAge while nobody polled, or the
 * controller's state was cleared (`slurmctld -c`). Its final state is unknown; it will not run again.
 */
export const SLURM_JOB_GONE = 'GONE';

export function jobPhase(state: SlurmJobState): SlurmJobPhase {
  if (FINAL_STATES.has(state) || state === SLURM_JOB_GONE) return 'ended';
  if (PENDING_STATES.has(state)) return 'pending';
  if (RUNNING_STATES.has(state)) return 'running';
  if (state === 'COMPLETING' || state === 'STAGE_OUT') return 'ending';
  return 'unknown';
}

/** How the job's batch script ended: its exit code, or the signal that killed it (0 = none). */
export interface SlurmExitCode { code: number; signal: number }

export interface SlurmJob {
  /** The id as users write it: `42`, `42_3` for an array task, `42_[1-3]` for a pending array. */
  id: string;
  /** Slurm's internal job id (for an array task, its own id, not the array's). */
  jobId: number;
  /** For array jobs: the array's id and this record's task (null for a not-yet-split pending array). */
  arrayJobId: number | null;
  arrayTaskId: number | null;
  name: string;
  state: SlurmJobState;
  /** Why the job is pending or ended as it did (`BeginTime`, `NonZeroExitCode`); null when Slurm says None. */
  reason: string | null;
  /** Compressed node list (`node[01-03]`), empty while pending. */
  nodeList: string;
  exitCode: SlurmExitCode | null;
  partition: string;
  user: string;
  /** Unix seconds; null when unknown (a pending job without a planned start reports 0). */
  startTime: number | null;
  submitTime: number | null;
}

/** One element of `errors` in squeue's JSON answer (slurmctld down: `slurm_load_jobs` "Unspecified error"). */
export interface SlurmJsonError { description: string; error: string; source: string; errorNumber: number | null }

export interface SqueueJsonResult {
  jobs: SlurmJob[];
  errors: SlurmJsonError[];
  /** `openapi/v0.0.38` on Slurm 22.05; null when the answer does not say. */
  schema: string | null;
  slurmVersion: string | null;
}

export interface SlurmNode {
  name: string;
  /** NodeAddr: where the node is reached (may differ from its name). */
  address: string;
  hostname: string;
  state: string;
}
