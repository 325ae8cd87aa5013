/**
 * Pure parsers for the output of Slurm's commands. No I/O: each takes the text a command printed
 * and returns typed values, or throws SlurmOutputError saying what it could not read; the command
 * layer (commands.ts) adds which command printed it.
 *
 * Tested on outputs recorded from Slurm 22.05.8 (testdata/, see its README.md). Newer Slurm
 * versions print other JSON schemas (data_parser v0.0.39+: numbers wrapped as
 * `{set, infinite, number}`, `job_state` as a list of state and flags, `exit_code` as an object),
 * so the JSON readers accept those shapes too instead of hard-coding v0.0.38.
 */
import {
  SLURM_JOB_STATES,
  type SlurmExitCode,
  type SlurmJob,
  type SlurmJobState,
  type SlurmJsonError,
  type SlurmNode,
  type SqueueJsonResult,
} from './model.js';

export class SlurmOutputError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SlurmOutputError';
  }
}

type Json = Record<string, unknown>;

function isObject(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * A number as any schema prints it: a plain number (v0.0.38), a numeric string, or
 * `{set, infinite, number}` (v0.0.39+). Unset or infinite → null.
 */
export function slurmNumber(v: unknown): number | null {
  if (typeof v === 'number') return Number.isFinite(v) ? v : null;
  if (typeof v === 'string' && /^-?\d+$/.test(v.trim())) return Number(v.trim());
  if (isObject(v)) {
    if (v.set === false || v.infinite === true) return null;
    return slurmNumber(v.number);
  }
  return null;
}

function str(v: unknown): string {
  return typeof v === 'string' ? v : '';
}

const knownStates: ReadonlySet<string> = new Set(SLURM_JOB_STATES);

/** `"RUNNING"` (v0.0.38) or `["RUNNING", "COMPLETING"]` (newer): the base state. */
export function slurmJobState(v: unknown): SlurmJobState {
  if (typeof v === 'string' && v.length > 0) return v.toUpperCase();
  if (Array.isArray(v)) {
    const names = v.filter((s): s is string => typeof s === 'string').map((s) => s.toUpperCase());
    const base = names.find((s) => knownStates.has(s)) ?? names[0];
    if (base) return base;
  }
  throw new SlurmOutputError(`job_state ${JSON.stringify(v)} is not a state`);
}

/**
 * v0.0.38 prints `exit_code` as the raw wait status (exit 1 → 256, killed by SIGTERM → 15), as
 * measured here; this splits it into exit code and signal.
 */
export function decodeWaitStatus(status: number): SlurmExitCode {
  return { code: (status >> 8) & 0xff, signal: status & 0x7f };
}

/** Exit code from any schema: a raw wait status, or `{status, return_code, signal: {id}}` (newer). */
export function slurmExitCode(v: unknown): SlurmExitCode | null {
  if (typeof v === 'number') return decodeWaitStatus(v);
  if (isObject(v)) {
    const code = slurmNumber(v.return_code);
    const signal = isObject(v.signal) ? slurmNumber(v.signal.id) : slurmNumber(v.signal);
    if (code === null && signal === null) return null;
    return { code: code ?? 0, signal: signal ?? 0 };
  }
  return null;
}

/** `"None"` is how Slurm says there is no reason. */
function reasonOf(v: string): string | null {
  const r = v.trim();
  return r === '' || r === 'None' || r === '(null)' ? null : r;
}

/** Unix seconds; 0 means "not known" in Slurm's JSON. */
function timeOf(v: unknown): number | null {
  const n = slurmNumber(v);
  return n === null || n <= 0 ? null : n;
}

/** The id users write for a job: `42`, `42_3` (array task), `42_[1-3]` (pending array not yet split). */
export function displayJobId(jobId: number, arrayJobId: number | null, arrayTaskId: number | null, arrayTaskString = ''): string {
  if (arrayJobId === null) return String(jobId);
  if (arrayTaskId !== null) return `${arrayJobId}_${arrayTaskId}`;
  return arrayTaskString ? `${arrayJobId}_[${arrayTaskString}]` : String(arrayJobId);
}

function jobFromJson(raw: unknown, index: number): SlurmJob {
  if (!isObject(raw)) throw new SlurmOutputError(`jobs[${index}] is not an object`);
  const jobId = slurmNumber(raw.job_id);
  if (jobId === null) throw new SlurmOutputError(`jobs[${index}].job_id ${JSON.stringify(raw.job_id)} is not a number`);
  const arrayJobIdRaw = slurmNumber(raw.array_job_id);
  const arrayJobId = arrayJobIdRaw === null || arrayJobIdRaw === 0 ? null : arrayJobIdRaw;
  const arrayTaskId = arrayJobId === null ? null : slurmNumber(raw.array_task_id);
  let state: SlurmJobState;
  try {
    state = slurmJobState(raw.job_state);
  } catch (err) {
    throw new SlurmOutputError(`jobs[${index}] (job ${jobId}): ${(err as Error).message}`);
  }
  return {
    id: displayJobId(jobId, arrayJobId, arrayTaskId, str(raw.array_task_string)),
    jobId,
    arrayJobId,
    arrayTaskId,
    name: str(raw.name),
    state,
    reason: reasonOf(str(raw.state_reason)),
    nodeList: str(raw.nodes).trim(),
    exitCode: slurmExitCode(raw.exit_code),
    partition: str(raw.partition),
    user: str(raw.user_name),
    startTime: timeOf(raw.start_time),
    submitTime: timeOf(raw.submit_time),
  };
}

function jsonErrors(v: unknown): SlurmJsonError[] {
  if (!Array.isArray(v)) return [];
  return v.map((e) => {
    const o = isObject(e) ? e : {};
    return { description: str(o.description), error: str(o.error), source: str(o.source), errorNumber: slurmNumber(o.error_number ?? o.error_code) };
  });
}

/**
 * `squeue --json`. On 22.05 it lists every job the controller still knows (filters such as -j are
 * ignored: filter with findJobs), and exits 0 even when slurmctld is down, reporting that only in
 * `errors` (`slurm_load_jobs`: "Unspecified error"). Errors are returned, not thrown: the caller
 * decides what they mean.
 */
export function parseSqueueJson(text: string): SqueueJsonResult {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    throw new SlurmOutputError(`not JSON (${(err as Error).message}): ${JSON.stringify(text.slice(0, 200))}`);
  }
  if (!isObject(doc)) throw new SlurmOutputError('the JSON answer is not an object');
  if (!Array.isArray(doc.jobs)) throw new SlurmOutputError(`the JSON answer has no "jobs" list (keys: ${Object.keys(doc).join(', ') || 'none'})`);
  const meta = isObject(doc.meta) ? doc.meta : {};
  const plugin = isObject(meta.plugin) ? meta.plugin : {};
  const slurm = isObject(meta.Slurm) ? meta.Slurm : isObject(meta.slurm) ? meta.slurm : {};
  const plugins = isObject(meta.plugins) ? meta.plugins : {};
  const schema = str(plugin.type) || str(plugins.data_parser) || null;
  return {
    jobs: doc.jobs.map(jobFromJson),
    errors: jsonErrors(doc.errors),
    schema,
    slurmVersion: str(slurm.release) || null,
  };
}

/**
 * The records a user's job id names. `N_M` is one array task; `N` is a plain job, or every task of
 * array N. (Match on the display id, never on job_id alone: in 22.05 the LAST task of array 5
 * carries job_id 5 itself, so `job_id == 5` would pick one task of the array.)
 */
export function findJobs(jobs: readonly SlurmJob[], id: string): SlurmJob[] {
  const task = /^(\d+)_(\d+)$/.exec(id);
  if (task) {
    const arrayId = Number(task[1]);
    const taskId = Number(task[2]);
    return jobs.filter((j) => j.arrayJobId === arrayId && j.arrayTaskId === taskId);
  }
  const n = Number(id);
  const plain = jobs.filter((j) => j.arrayJobId === null && j.jobId === n);
  if (plain.length > 0) return plain;
  return jobs.filter((j) => j.arrayJobId === n);
}

/** `sbatch --parsable`: `ID` or `ID;CLUSTER`. */
export function parseSbatchParsable(text: string): { jobId: string; cluster: string | null } {
  const line = text.split('\n').map((l) => l.trim()).find((l) => l.length > 0) ?? '';
  const [id = '', cluster] = line.split(';');
  if (!/^\d+$/.test(id)) throw new SlurmOutputError(`expected a job id, got ${JSON.stringify(text.slice(0, 200))}`);
  return { jobId: id, cluster: cluster?.trim() || null };
}

/** `scontrol show hostnames LIST`: one name per line. */
export function parseHostnames(text: string): string[] {
  return text.split('\n').map((l) => l.trim()).filter((l) => l.length > 0);
}

const KEY_START = /(?:^| )([A-Za-z][A-Za-z0-9_/:]*)=/g;

/**
 * One line of `scontrol show … -o`: `Key=value` pairs separated by spaces, where values may
 * contain spaces themselves (`JobName=svc with space`, `OS=Linux 6.1 #1 SMP`). A new pair starts
 * at a space followed by `Key=`; anything else belongs to the current value. A value that itself
 * contains ` Word=` cannot be told apart from a new key: the first occurrence of a key wins, so such
 * a value can only shadow keys that come after it (for jobs, JobName is second: only JobId precedes it).
 */
export function parseScontrolLine(line: string): Record<string, string> {
  const out: Record<string, string> = {};
  const starts: Array<{ key: string; keyAt: number; valueAt: number }> = [];
  for (const m of line.matchAll(KEY_START)) {
    const lead = m[0].startsWith(' ') ? 1 : 0;
    const key = m[1] ?? '';
    starts.push({ key, keyAt: (m.index ?? 0) + lead, valueAt: (m.index ?? 0) + m[0].length });
  }
  starts.forEach((s, i) => {
    const end = i + 1 < starts.length ? (starts[i + 1]?.keyAt ?? line.length) : line.length;
    if (!(s.key in out)) out[s.key] = line.slice(s.valueAt, end).trimEnd();
  });
  return out;
}

/** `ExitCode=3:0` → exit 3, signal 0. */
function scontrolExitCode(v: string | undefined): SlurmExitCode | null {
  const m = /^(\d+):(\d+)$/.exec(v ?? '');
  return m ? { code: Number(m[1]), signal: Number(m[2]) } : null;
}

/** `2026-11-29T06:24:03` in the local time zone of the machine that ran scontrol; Unknown/None → null. */
function scontrolTime(v: string | undefined): number | null {
  if (!v || !/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}$/.test(v)) return null;
  const ms = new Date(v).getTime();
  return Number.isFinite(ms) ? Math.floor(ms / 1000) : null;
}

function nullish(v: string | undefined): string {
  return v === undefined || v === '(null)' ? '' : v;
}

/**
 * `scontrol show job ID -o`: one line per job (several for an array). 22.05 has no
 * `scontrol show job --json` (it arrived in 23.02), so this is the fallback where squeue's JSON
 * cannot be used.
 */
export function parseScontrolJobs(text: string): SlurmJob[] {
  return text
    .split('\n')
    .filter((l) => l.trim().length > 0)
    .map((line, i) => {
      const kv = parseScontrolLine(line.trim());
      const jobId = slurmNumber(kv.JobId);
      if (jobId === null) throw new SlurmOutputError(`line ${i + 1} has no JobId: ${JSON.stringify(line.slice(0, 120))}`);
      if (!kv.JobState) throw new SlurmOutputError(`job ${jobId} has no JobState`);
      const arrayJobId = slurmNumber(kv.ArrayJobId);
      const taskRaw = kv.ArrayTaskId;
      const arrayTaskId = taskRaw !== undefined && /^\d+$/.test(taskRaw) ? Number(taskRaw) : null;
      const taskString = taskRaw !== undefined && arrayTaskId === null ? taskRaw : '';
      return {
        id: displayJobId(jobId, arrayJobId, arrayTaskId, taskString),
        jobId,
        arrayJobId,
        arrayTaskId,
        name: nullish(kv.JobName),
        state: slurmJobState(kv.JobState.split('+')[0]),
        reason: reasonOf(nullish(kv.Reason)),
        nodeList: nullish(kv.NodeList).trim(),
        exitCode: scontrolExitCode(kv.ExitCode),
        partition: nullish(kv.Partition),
        user: nullish(kv.UserId).replace(/\(\d+\)$/, ''),
        startTime: scontrolTime(kv.StartTime),
        submitTime: scontrolTime(kv.SubmitTime),
      } satisfies SlurmJob;
    });
}

/** `scontrol show node LIST -o`: name, NodeAddr, NodeHostName and state of each node. */
export function parseScontrolNodes(text: string): SlurmNode[] {
  return text
    .split('\n')
    .filter((l) => l.trim().length > 0)
    .map((line, i) => {
      const kv = parseScontrolLine(line.trim());
      const name = kv.NodeName;
      if (!name) throw new SlurmOutputError(`line ${i + 1} has no NodeName: ${JSON.stringify(line.slice(0, 120))}`);
      return { name, address: kv.NodeAddr || name, hostname: kv.NodeHostName || name, state: kv.State ?? '' };
    });
}

/**
 * Messages with which Slurm's clients say the controller cannot be reached (after ~9 s, or ~18 s
 * for scontrol, which retries). Such a failure is "Slurm unavailable", not a bad request.
 */
export function isControllerUnreachable(message: string): boolean {
  return /Unable to contact slurm controller|Socket timed out on send\/recv|Zero Bytes were transmitted or received|Communication connection failure/i.test(message);
}

/** `scontrol show job` / `squeue -j` on a job the controller does not know (unknown, or older than MinJobAge). */
export function isInvalidJobId(message: string): boolean {
  return /Invalid job id specified/i.test(message);
}

/**
 * The step srun launched, from its `-v` output: `srun: launching StepId=10.0 on host vm, 1 tasks: 0`.
 * Returns the step id (`10.0`) and the host, or null when the line is something else.
 */
export function parseSrunLaunchLine(line: string): { stepId: string; host: string } | null {
  const m = /launching StepId=(\d+\.\d+)(?:\+\d+)? on host (\S+?),/.exec(line);
  return m ? { stepId: m[1] ?? '', host: m[2] ?? '' } : null;
}

/** `srun: launch/slurm: _task_start: Node vm, 1 tasks started` → the node. */
export function parseSrunTaskStartLine(line: string): string | null {
  const m = /_task_start: Node (\S+?), \d+ tasks? started/.exec(line);
  return m ? (m[1] ?? null) : null;
}
