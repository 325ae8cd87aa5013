/**
 * A long-running job step inside an existing allocation: `srun --jobid=ID --overlap … -- CMD`, the
 * way an exporter (node_exporter, DCGM exporter) runs on the nodes of a benchmark job. `--overlap`
 * lets the step share the CPUs the job's own steps hold.
 *
 * srun runs with `-v` so that its launch lines tell the step id (`launching StepId=13.0 on host vm`)
 * and when the tasks started (`_task_start: Node vm, 1 tasks started`). Stopping sends `scancel
 * JOB.STEP` (which also works when srun runs behind ssh, where signalling the local process would
 * not reach the remote srun) and SIGTERM to srun, then SIGKILL after a timeout.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { BenchmonError } from '../errors.js';
import type { SlurmCommandRunner } from './command-runner.js';
import { isControllerUnreachable, parseSrunLaunchLine, parseSrunTaskStartLine } from './parsers.js';

export interface SrunOptions {
  /** Nodes to run on (`--nodes`); default: Slurm's default for the allocation (srun: all nodes of the job). */
  nodes?: number;
  /** Tasks per node (`--ntasks-per-node`); 1 for an exporter. */
  ntasksPerNode?: number;
  /** Step name shown by `squeue -s` (`--job-name`). */
  stepName?: string;
  /** Further srun options, passed as they are. */
  extraArgs?: readonly string[];
  /** How long to wait for the tasks to start (default 30 s). */
  startTimeoutMs?: number;
}

export interface SrunExit { code: number | null; signal: NodeJS.Signals | null }

export interface SrunStep {
  /** The job's numeric id (srun does not accept the `N_M` form of an array task). */
  jobId: string;
  /** `JOB.STEP`, e.g. `13.0`. */
  stepId: string;
  /** Nodes the step's tasks started on. */
  nodes: string[];
  pid: number | undefined;
  /** Resolves when srun exits (the step ended, was stopped, or the job ended). */
  readonly exited: Promise<SrunExit>;
  running(): boolean;
  /** The last lines srun printed (its own messages and the tasks' output). */
  outputTail(): string;
  /** Cancels the step and waits for srun to exit. Idempotent. */
  stop(timeoutMs?: number): Promise<SrunExit>;
}

const TAIL_BYTES = 16 * 1024;

export async function startSrunStep(runner: SlurmCommandRunner, jobId: string, command: readonly string[], options: SrunOptions = {}): Promise<SrunStep> {
  if (!/^\d+$/.test(jobId)) throw new BenchmonError('INTERNAL', `srun needs a numeric job id, got ${JSON.stringify(jobId)}`);
  if (command.length === 0) throw new BenchmonError('INTERNAL', 'srun needs a command to run');
  const args = [`--jobid=${jobId}`, '--overlap', '-v'];
  if (options.stepName !== undefined) args.push(`--job-name=${options.stepName}`);
  if (options.nodes !== undefined) args.push(`--nodes=${options.nodes}`);
  if (options.ntasksPerNode !== undefined) args.push(`--ntasks-per-node=${options.ntasksPerNode}`);
  args.push(...(options.extraArgs ?? []), '--', ...command);
  const argv = runner.argv('srun', args);
  const display = ['srun', ...args].join(' ');
  const [file = 'srun', ...rest] = argv;
  const startTimeoutMs = options.startTimeoutMs ?? 30_000;

  const child: ChildProcess = spawn(file, rest, { env: runner.env, stdio: ['ignore', 'pipe', 'pipe'] });
  let tail = '';
  let lineBuf = '';
  let stepId = '';
  const launched = new Set<string>();
  const started: string[] = [];
  let exitInfo: SrunExit | null = null;

  const exited = new Promise<SrunExit>((resolve) => {
    child.once('close', (code, signal) => {
      exitInfo = { code, signal };
      resolve(exitInfo);
    });
  });

  return new Promise<SrunStep>((resolve, reject) => {
    let done = false;
    const fail = (err: BenchmonError) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      if (exitInfo === null) child.kill('SIGKILL');
      reject(err);
    };
    const timer = setTimeout(() => {
      void cancelStep().finally(() =>
        fail(new BenchmonError('SLURM_COMMAND_FAILED', `${display}: tasks did not start within ${startTimeoutMs} ms: ${tail.trim().slice(-1000)}`, { details: { command: display } })),
      );
    }, startTimeoutMs);

    const cancelStep = async () => {
      if (!stepId) return;
      try {
        await runner.run('scancel', [stepId], { timeoutMs: 15_000 });
      } catch {
        // srun's own exit (SIGTERM below) still ends the step; the caller sees exited.
      }
    };

    const step: SrunStep = {
      jobId,
      get stepId() {
        return stepId;
      },
      nodes: started,
      pid: child.pid,
      exited,
      running: () => exitInfo === null,
      outputTail: () => tail,
      stop: async (timeoutMs = 10_000) => {
        if (exitInfo) return exitInfo;
        await cancelStep();
        child.kill('SIGTERM');
        const killer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
        try {
          return await exited;
        } finally {
          clearTimeout(killer);
        }
      },
    };

    const onLine = (line: string) => {
      const launch = parseSrunLaunchLine(line);
      if (launch) {
        stepId = launch.stepId;
        launched.add(launch.host);
      }
      const node = parseSrunTaskStartLine(line);
      if (node) started.push(node);
      if (!done && stepId && launched.size > 0 && started.length >= launched.size) {
        done = true;
        clearTimeout(timer);
        resolve(step);
      }
    };

    const onData = (d: Buffer) => {
      const s = d.toString();
      tail = (tail + s).slice(-TAIL_BYTES);
      if (done) return;
      lineBuf += s;
      const lines = lineBuf.split('\n');
      lineBuf = lines.pop() ?? '';
      lines.forEach(onLine);
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);

    child.once('error', (err: NodeJS.ErrnoException) => {
      const reason = err.code === 'ENOENT' ? `${file} not found (install slurm-client, or configure the Slurm command directory/prefix)` : err.message;
      fail(new BenchmonError('SLURM_UNAVAILABLE', `${display}: ${reason}`, { details: { command: display }, cause: err }));
    });
    void exited.then(({ code, signal }) => {
      const message = tail
        .split('\n')
        .filter((l) => /error|expired|invalid|unable/i.test(l))
        .join('\n')
        .trim();
      fail(
        new BenchmonError(isControllerUnreachable(message) ? 'SLURM_UNAVAILABLE' : 'SLURM_COMMAND_FAILED', `${display} exited (${code === null ? `signal ${signal}` : `exit ${code}`}) before its tasks started: ${message || tail.trim().slice(-1000) || 'no output'}`, {
          details: { command: display, exit_code: code },
        }),
      );
    });
  });
}
