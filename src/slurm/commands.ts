/**
 * The Slurm adapter: sbatch, squeue, scontrol, scancel and srun behind one typed interface. Every
 * call has a timeout and fails with a BenchmonError that names the command and keeps Slurm's own
 * message (command-runner.ts); the outputs are read by the pure parsers in parsers.ts.
 *
 * Behaviour of Slurm 22.05 this relies on (measured; ../../../shared/SLURM-NOTES.md):
 *  - `squeue --json` ignores every filter, so jobs are listed once and filtered here; one call
 *    serves any number of tracked jobs. It exits 0 when slurmctld is down and says so only in `errors`.
 *  - A finished job stays listed for MinJobAge (300 s by default), then `Invalid job id specified`;
 *    there is no accounting to ask afterwards, so callers must record a final state when they see it.
 *  - `scancel` exits 0 for unknown or finished jobs.
 *  - `scontrol show hostnames` prints `Invalid hostlist` on stderr and exits 0.
 *  - srun does not accept an array task id (`--jobid=11_1`: "Invalid numeric value"): steps are
 *    started with the task's own numeric job id.
 */
import { BenchmonError, invalidField, isBenchmonError } from '../errors.js';
import { SlurmCommandRunner, type SlurmCommandConfig } from './command-runner.js';
import { isValidSlurmJobId, jobPhase, type SlurmJob, type SlurmNode, type SqueueJsonResult } from './model.js';
import {
  SlurmOutputError,
  findJobs,
  isInvalidJobId,
  parseHostnames,
  parseSbatchParsable,
  parseScontrolJobs,
  parseScontrolNodes,
  parseSqueueJson,
} from './parsers.js';
import { startSrunStep, type SrunOptions, type SrunStep } from './srun-step.js';

export interface SubmitOptions {
  jobName?: string;
  partition?: string;
  /** `--time`, e.g. `30`, `1:00:00`. */
  timeLimit?: string;
  nodes?: number;
  ntasks?: number;
  cpusPerTask?: number;
  /** `--begin`, e.g. `now+60`. */
  begin?: string;
  /** `--chdir`: the job's working directory (default: the submitter's). */
  chdir?: string;
  /** `--output` file pattern. */
  output?: string;
  /** `--export` (default: Slurm's, ALL: the job inherits the submitter's environment). */
  export?: string;
  /** Further sbatch options, passed as they are. */
  extraArgs?: readonly string[];
}

function outputError(display: string, err: SlurmOutputError, text: string): BenchmonError {
  return new BenchmonError('SLURM_COMMAND_FAILED', `${display}: output not understood: ${err.message}`, {
    details: { command: display, output: text.slice(0, 500), unreadable_output: true },
    cause: err,
  });
}

function assertJobId(id: string, field: string): void {
  if (!isValidSlurmJobId(id)) throw invalidField(field, `${JSON.stringify(id)} is not a Slurm job id (a number, or NUMBER_TASK for an array task)`);
}

export interface SlurmCommandsOptions extends SlurmCommandConfig {
  /**
   * How job(id) looks a job up. `squeue-json` (default): `squeue --json`, filtered here, falling back
   * to scontrol where the JSON is not available. `scontrol`: `scontrol show job ID -o`, which Slurm
   * filters itself: cheaper for single lookups on a large cluster, where `squeue --json` (ignoring
   * -j in 22.05) returns every job in the queue.
   */
  jobLookup?: 'squeue-json' | 'scontrol';
}

export class SlurmCommands {
  readonly runner: SlurmCommandRunner;
  private readonly jobLookup: 'squeue-json' | 'scontrol';

  constructor(options: SlurmCommandsOptions = {}) {
    this.runner = new SlurmCommandRunner(options);
    this.jobLookup = options.jobLookup ?? 'squeue-json';
  }

  /** `sbatch --parsable` with the script on stdin; returns the job id. */
  async submit(script: string, options: SubmitOptions = {}): Promise<string> {
    if (!script.startsWith('#!')) throw invalidField('script', 'a batch script must start with a #! line (sbatch refuses it otherwise)');
    const args = ['--parsable'];
    const opt = (flag: string, v: string | number | undefined) => {
      if (v !== undefined) args.push(`--${flag}=${v}`);
    };
    opt('job-name', options.jobName);
    opt('partition', options.partition);
    opt('time', options.timeLimit);
    opt('nodes', options.nodes);
    opt('ntasks', options.ntasks);
    opt('cpus-per-task', options.cpusPerTask);
    opt('begin', options.begin);
    opt('chdir', options.chdir);
    opt('output', options.output);
    opt('export', options.export);
    args.push(...(options.extraArgs ?? []));
    const res = await this.runner.run('sbatch', args, { input: script });
    try {
      return parseSbatchParsable(res.stdout).jobId;
    } catch (err) {
      if (err instanceof SlurmOutputError) throw outputError(res.display, err, res.stdout + res.stderr);
      throw err;
    }
  }

  /** `squeue --json` with its schema and errors, unfiltered (22.05 ignores filters). */
  async squeueJson(): Promise<SqueueJsonResult> {
    const res = await this.runner.run('squeue', ['--json']);
    let parsed: SqueueJsonResult;
    try {
      parsed = parseSqueueJson(res.stdout);
    } catch (err) {
      if (err instanceof SlurmOutputError) throw outputError(res.display, err, res.stdout);
      throw err;
    }
    if (parsed.errors.length > 0) {
      const text = parsed.errors.map((e) => [e.source, e.description, e.error].filter(Boolean).join(': ')).join('; ');
      // slurmctld down: exit 0, no jobs, errors [{source: slurm_load_jobs, error: "Unspecified error"}] after ~9 s.
      const down = parsed.jobs.length === 0 && parsed.errors.some((e) => e.source === 'slurm_load_jobs');
      throw new BenchmonError(
        down ? 'SLURM_UNAVAILABLE' : 'SLURM_COMMAND_FAILED',
        `${res.display} reported: ${text}${down ? ' (slurmctld is down or unreachable?)' : ''}`,
        { details: { command: res.display, errors: parsed.errors } },
      );
    }
    return parsed;
  }

  /** Every job slurmctld knows, including finished ones until MinJobAge. */
  async jobs(): Promise<SlurmJob[]> {
    return (await this.squeueJson()).jobs;
  }

  /**
   * The records a job id names (one, or the tasks of an array). From `squeue --json`; where that
   * is not available or not readable (Slurm before 21.08, an unknown schema) from
   * `scontrol show job ID -o`. Unknown id → SLURM_JOB_NOT_FOUND.
   */
  async jobRecords(id: string, field = 'job_id'): Promise<SlurmJob[]> {
    assertJobId(id, field);
    let found: SlurmJob[];
    if (this.jobLookup === 'scontrol') found = await this.scontrolJob(id, field);
    else {
      try {
        found = findJobs(await this.jobs(), id);
      } catch (err) {
        if (!this.shouldFallBack(err)) throw err;
        found = await this.scontrolJob(id, field);
      }
    }
    if (found.length === 0) throw this.notFound(id, field);
    return found;
  }

  /** One job (or one array task): state, node list, reason, exit code. */
  async job(id: string, field = 'job_id'): Promise<SlurmJob> {
    const found = await this.jobRecords(id, field);
    if (found.length > 1) {
      throw new BenchmonError('UNPROCESSABLE', `${field}: job ${id} is an array with tasks ${found.map((j) => j.id).join(', ')}; name one task as ${id}_TASK`, {
        details: { field, job_id: id },
      });
    }
    return found[0] as SlurmJob;
  }

  /**
   * The records of one job from `scontrol show job ID -o`, which Slurm filters itself: a cheap look
   * at one job (the tracker's quick checks of just-registered pending jobs) whatever `jobLookup` says.
   */
  async jobRecordsByScontrol(id: string, field = 'job_id'): Promise<SlurmJob[]> {
    assertJobId(id, field);
    const found = await this.scontrolJob(id, field);
    if (found.length === 0) throw this.notFound(id, field);
    return found;
  }

  private shouldFallBack(err: unknown): boolean {
    if (!isBenchmonError(err) || err.code !== 'SLURM_COMMAND_FAILED') return false;
    return err.details?.unreadable_output === true || /unrecognized option|invalid option/i.test(err.message);
  }

  private notFound(id: string, field: string): BenchmonError {
    return new BenchmonError('SLURM_JOB_NOT_FOUND', `${field}: Slurm job ${id} not found (unknown, or finished longer ago than MinJobAge)`, {
      details: { field, job_id: id },
    });
  }

  private async scontrolJob(id: string, field: string): Promise<SlurmJob[]> {
    try {
      const res = await this.runner.run('scontrol', ['show', 'job', id, '-o']);
      try {
        return findJobs(parseScontrolJobs(res.stdout), id);
      } catch (err) {
        if (err instanceof SlurmOutputError) throw outputError(res.display, err, res.stdout);
        throw err;
      }
    } catch (err) {
      if (isBenchmonError(err) && err.code === 'SLURM_COMMAND_FAILED' && isInvalidJobId(err.message)) throw this.notFound(id, field);
      throw err;
    }
  }

  /** `scontrol show hostnames LIST`: `node[01-03]` → node01, node02, node03. */
  async expandHostnames(nodeList: string): Promise<string[]> {
    if (nodeList.trim() === '') return [];
    const res = await this.runner.run('scontrol', ['show', 'hostnames', nodeList]);
    const names = parseHostnames(res.stdout);
    // An invalid list prints "Invalid hostlist: …" on stderr and exits 0.
    if (names.length === 0 || /invalid/i.test(res.stderr)) {
      throw new BenchmonError('SLURM_COMMAND_FAILED', `${res.display}: ${res.stderr.trim() || 'no host names'}`, { details: { command: res.display } });
    }
    return names;
  }

  /** `scontrol show node LIST -o`: each node's NodeAddr (where it is reached), host name and state. */
  async nodes(nodeList: string): Promise<SlurmNode[]> {
    if (nodeList.trim() === '') return [];
    const res = await this.runner.run('scontrol', ['show', 'node', nodeList, '-o']);
    try {
      return parseScontrolNodes(res.stdout);
    } catch (err) {
      if (err instanceof SlurmOutputError) throw outputError(res.display, err, res.stdout);
      throw err;
    }
  }

  /** `scancel [--signal=SIG] ID`. Exits 0 (and so succeeds) for unknown or already finished jobs. */
  async cancel(id: string, options: { signal?: string } = {}): Promise<void> {
    assertJobId(id, 'job_id');
    const args = options.signal ? [`--signal=${options.signal}`, id] : [id];
    await this.runner.run('scancel', args);
  }

  /** Running job steps (`squeue -s`): `JOB.STEP` and the step's name. */
  async steps(): Promise<Array<{ stepId: string; name: string }>> {
    const res = await this.runner.run('squeue', ['-s', '-h', '-o', '%i|%j']);
    return res.stdout
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => l.length > 0)
      .map((l) => {
        const i = l.indexOf('|');
        return { stepId: i < 0 ? l : l.slice(0, i), name: i < 0 ? '' : l.slice(i + 1) };
      });
  }

  /** `scancel JOB.STEP`: ends one step, leaving the job running. */
  async cancelStep(stepId: string): Promise<void> {
    if (!/^\d+(_\d+)?\.\d+$/.test(stepId)) throw invalidField('step_id', `${JSON.stringify(stepId)} is not a Slurm step id (JOB.STEP)`);
    await this.runner.run('scancel', [stepId]);
  }

  /**
   * Runs `argv` as an extra step inside running job `id` (`srun --jobid --overlap`) and resolves
   * once its tasks started; the handle stops it. A job that is not running → UNPROCESSABLE.
   */
  async srunOverlap(id: string, argv: readonly string[], options: SrunOptions = {}): Promise<SrunStep> {
    const job = await this.job(id);
    if (jobPhase(job.state) !== 'running') {
      throw new BenchmonError('UNPROCESSABLE', `job_id: Slurm job ${id} is ${job.state}; a step can only run inside a running job`, {
        details: { field: 'job_id', job_id: id, state: job.state },
      });
    }
    return startSrunStep(this.runner, String(job.jobId), argv, options);
  }
}
