/**
 * Exporters inside Slurm jobs (the seed's planned ExporterManager): `POST /sessions/{id}/exporters
 * {kind, slurm_job_id}` starts the kind's exporter on every node of a running job as an extra step
 * (`srun --jobid --overlap`), registers it as a Slurm target (role exporter, labels slurm_job_id and
 * node) and records it in the `exporters` table. It stops when the session is deleted, the exporter
 * is removed, or the job ends (srun ends with the job; the job tracker tells us the state).
 *
 * The steps are child processes of benchmon. On shutdown they are stopped but their rows keep the
 * state `running`, so that the next start (resume) launches them again where the job still runs; a
 * benchmon that was killed leaves its srun behind, and resume cancels those steps (found by name)
 * before launching new ones.
 */
import type { Logger } from 'pino';
import { BenchmonError, describeError, isBenchmonError } from '../errors.js';
import type { RegisterTargetBody, SlurmNodeEndpoint, Target } from '../sessions/model.js';
import type { ExporterRecord, StateStore } from '../store/state-store.js';
import type { SlurmCommands } from './commands.js';
import { EXPORTER_LAUNCHERS, type ExporterKind, type StartExporterBody } from './exporters.js';
import { jobPhase } from './model.js';
import type { SrunStep } from './srun-step.js';

/** What the API shows of an exporter: its stored record (id shown without the session prefix) and its live step. */
export interface ExporterView extends Omit<ExporterRecord, 'id'> {
  exporter_id: string;
  /** `JOB.STEP` of the srun step while it runs. */
  step_id: string | null;
  nodes: SlurmNodeEndpoint[];
  /** Why it stopped or failed (srun's last lines). */
  detail: string | null;
}

export interface ExporterManagerOptions {
  store: StateStore;
  slurm: Pick<SlurmCommands, 'job' | 'srunOverlap' | 'steps' | 'cancelStep' | 'expandHostnames'>;
  /** Binary of each kind (settings SLURM_NODE_EXPORTER_BIN, SLURM_DCGM_EXPORTER_BIN). */
  bins: Record<ExporterKind, string>;
  /** Registers the exporter's target (the facade's Slurm registration: resolves nodes, writes file_sd). */
  registerTarget: (sessionId: string, body: RegisterTargetBody) => Promise<Target>;
  deregisterTarget: (sessionId: string, targetId: string) => Promise<unknown>;
  getSession: (sessionId: string) => unknown;
  logger: Logger;
  /** How long start() waits for the exporter to answer on every node (default 15 s). */
  readyTimeoutMs?: number;
}

function rowId(sessionId: string, exporterId: string): string {
  return `${sessionId}/${exporterId}`;
}

function stepName(row: Pick<ExporterRecord, 'kind' | 'session_id'>): string {
  return `benchmon-exporter-${row.kind}-${row.session_id}`;
}

function lastLines(text: string, n = 5): string {
  return text.trim().split('\n').slice(-n).join('\n');
}

export class ExporterManager {
  private readonly steps = new Map<string, SrunStep>();
  private readonly details = new Map<string, string>();
  /** Steps being stopped on purpose: their exit is not a failure. */
  private readonly stopping = new Set<string>();
  private readonly readyTimeoutMs: number;

  constructor(private readonly opts: ExporterManagerOptions) {
    this.readyTimeoutMs = opts.readyTimeoutMs ?? 15_000;
  }

  private view(row: ExporterRecord): ExporterView {
    const step = this.steps.get(row.id);
    const target = this.opts.store.getTarget(row.session_id, row.target_id);
    return {
      exporter_id: row.id.slice(row.session_id.length + 1),
      session_id: row.session_id,
      kind: row.kind,
      slurm_job_id: row.slurm_job_id,
      port: row.port,
      target_id: row.target_id,
      state: row.state,
      step_id: step?.running() ? step.stepId : null,
      nodes: target?.slurm?.nodes ?? [],
      detail: this.details.get(row.id) ?? null,
      created_at: row.created_at,
    };
  }

  list(sessionId: string): ExporterView[] {
    this.opts.getSession(sessionId);
    return this.opts.store.listExporters(sessionId).map((r) => this.view(r));
  }

  get(sessionId: string, exporterId: string): ExporterRecord {
    this.opts.getSession(sessionId);
    const row = this.opts.store.getExporter(rowId(sessionId, exporterId));
    if (!row) {
      throw new BenchmonError('TARGET_NOT_FOUND', `exporter_id: session ${JSON.stringify(sessionId)} has no exporter ${JSON.stringify(exporterId)}`, { details: { field: 'exporter_id' } });
    }
    return row;
  }

  /**
   * Starts the exporter in the job and registers its target. Answers once it serves on every node
   * (or, where benchmon cannot reach the nodes, once srun has run it for readyTimeoutMs). On any
   * failure the step is stopped and nothing stays registered.
   */
  async start(sessionId: string, body: StartExporterBody): Promise<ExporterView> {
    this.opts.getSession(sessionId);
    const kind = body.kind;
    const launcher = EXPORTER_LAUNCHERS[kind];
    const port = body.port ?? launcher.defaultPort;
    const jobId = body.slurm_job_id;
    const exporterId = `${kind}-${jobId}`;
    const id = rowId(sessionId, exporterId);
    const targetId = `${launcher.targetType}-${jobId}`;
    if (this.opts.store.getExporter(id)) {
      throw new BenchmonError('DUPLICATE_JOB_NAME', `kind: session ${JSON.stringify(sessionId)} already has a ${kind} exporter for job ${jobId} (${exporterId})`, { details: { field: 'kind' } });
    }
    if (this.opts.store.getTarget(sessionId, targetId)) {
      throw new BenchmonError('DUPLICATE_JOB_NAME', `kind: session ${JSON.stringify(sessionId)} already has a target ${JSON.stringify(targetId)}`, { details: { field: 'kind' } });
    }
    const clash = this.opts.store.listExporters().find((e) => e.slurm_job_id === jobId && e.port === port && (e.state === 'running' || e.state === 'starting'));
    if (clash) {
      throw new BenchmonError('UNPROCESSABLE', `port: an exporter (${clash.kind}, session ${clash.session_id}) already listens on port ${port} in job ${jobId}; choose another port`, {
        details: { field: 'port' },
      });
    }
    const job = await this.opts.slurm.job(jobId, 'slurm_job_id');
    if (jobPhase(job.state) !== 'running') {
      throw new BenchmonError('UNPROCESSABLE', `slurm_job_id: Slurm job ${jobId} is ${job.state}; an exporter can only start inside a running job`, {
        details: { field: 'slurm_job_id', job_id: jobId, state: job.state },
      });
    }
    const row: ExporterRecord = { id, session_id: sessionId, kind, slurm_job_id: jobId, port, target_id: targetId, state: 'starting', created_at: new Date().toISOString() };
    this.opts.store.insertExporter(row);
    let step: SrunStep | undefined;
    let target: Target | undefined;
    try {
      step = await this.launch(row);
      target = await this.opts.registerTarget(sessionId, {
        target_type: launcher.targetType,
        role: 'exporter',
        job_id: jobId,
        slurm: { job_id: jobId, port, metrics_path: launcher.metricsPath, job_name: targetId },
        ...(body.via_proxy !== undefined ? { via_proxy: body.via_proxy } : {}),
      });
      await this.waitServing(row, step, target);
    } catch (err) {
      this.stopping.add(id);
      await step?.stop().catch(() => undefined);
      if (target) await this.opts.deregisterTarget(sessionId, targetId).catch(() => undefined);
      this.opts.store.deleteExporter(id);
      this.steps.delete(id);
      this.stopping.delete(id);
      throw err;
    }
    this.opts.store.setExporterState(id, 'running');
    this.opts.logger.info({ session: sessionId, exporter: exporterId, step: step.stepId, nodes: step.nodes }, 'exporter started in slurm job');
    return this.view(this.opts.store.getExporter(id)!);
  }

  /** srun the exporter on every node of the job; watch its exit. */
  private async launch(row: ExporterRecord): Promise<SrunStep> {
    const kind = row.kind as ExporterKind;
    const launcher = EXPORTER_LAUNCHERS[kind];
    const job = await this.opts.slurm.job(row.slurm_job_id, 'slurm_job_id');
    // One task on each node of the job: --nodes is given explicitly, as srun run from outside the
    // job (with --jobid) does not know the allocation's node count from its environment.
    const nodes = (await this.opts.slurm.expandHostnames(job.nodeList)).length;
    const step = await this.opts.slurm.srunOverlap(row.slurm_job_id, launcher.argv(this.opts.bins[kind], row.port), {
      stepName: stepName(row),
      ntasksPerNode: 1,
      ...(nodes > 0 ? { nodes } : {}),
    });
    this.steps.set(row.id, step);
    this.details.delete(row.id);
    void step.exited.then((exit) => this.onStepExit(row, step, exit.code === null ? `signal ${exit.signal}` : `exit ${exit.code}`));
    return step;
  }

  /** Until every node's exporter answers; fails at once when srun exits (port taken, binary missing). */
  private async waitServing(row: ExporterRecord, step: SrunStep, target: Target): Promise<void> {
    const deadline = Date.now() + this.readyTimeoutMs;
    const urls = target.endpoints.map((e) => `${target.scheme}://${e}${target.metrics_path}`);
    const pending = new Set(urls);
    while (pending.size > 0 && Date.now() < deadline) {
      if (!step.running()) break;
      for (const url of [...pending]) {
        const ok = await fetch(url, { signal: AbortSignal.timeout(1000) }).then((r) => {
          void r.body?.cancel();
          return r.ok;
        }, () => false);
        if (ok) pending.delete(url);
      }
      if (pending.size > 0) await new Promise((r) => setTimeout(r, 200));
    }
    if (!step.running()) {
      await step.exited;
      throw new BenchmonError('SLURM_COMMAND_FAILED', `${row.kind} exporter in job ${row.slurm_job_id} exited right after it started: ${lastLines(step.outputTail()) || 'no output'}`, {
        details: { job_id: row.slurm_job_id, step_id: step.stepId },
      });
    }
    if (pending.size > 0) {
      // benchmon may not reach compute nodes (that is what the proxy is for): srun still runs it, so keep it.
      this.opts.logger.warn({ exporter: row.id, pending: [...pending] }, 'exporter runs but did not answer benchmon yet');
    }
  }

  private onStepExit(row: ExporterRecord, step: SrunStep, how: string): void {
    if (this.steps.get(row.id) !== step) return;
    this.steps.delete(row.id);
    if (this.stopping.has(row.id)) return;
    const current = this.opts.store.getExporter(row.id);
    if (!current || (current.state !== 'running' && current.state !== 'starting')) return;
    // srun ends with its job: say "stopped" then; otherwise the exporter died on its own.
    void this.opts.slurm.job(row.slurm_job_id).then(
      (job) => jobPhase(job.state) === 'running' ? 'failed' : 'stopped',
      () => 'stopped',
    ).then((state) => {
      const still = this.opts.store.getExporter(row.id);
      if (!still || (still.state !== 'running' && still.state !== 'starting')) return;
      this.opts.store.setExporterState(row.id, state);
      this.details.set(row.id, `srun ${step.stepId} ended (${how})${state === 'failed' ? `: ${lastLines(step.outputTail())}` : ''}`);
      this.opts.logger.warn({ exporter: row.id, how, state }, 'exporter step ended');
    });
  }

  private async stopStep(id: string): Promise<void> {
    const step = this.steps.get(id);
    if (!step) return;
    this.stopping.add(id);
    try {
      await step.stop();
    } finally {
      this.steps.delete(id);
      this.stopping.delete(id);
    }
  }

  /** DELETE: stop the step, deregister its target, forget it. */
  async remove(sessionId: string, exporterId: string): Promise<ExporterView> {
    const row = this.get(sessionId, exporterId);
    const view = this.view(row);
    await this.stopStep(row.id);
    await this.opts.deregisterTarget(sessionId, row.target_id).catch((err: unknown) => {
      if (!(isBenchmonError(err) && err.code === 'TARGET_NOT_FOUND')) throw err;
    });
    this.opts.store.deleteExporter(row.id);
    return { ...view, state: 'stopped', step_id: null };
  }

  /** Before a session is deleted: its exporters' steps end (rows go with the session). */
  async stopSession(sessionId: string): Promise<void> {
    for (const row of this.opts.store.listExporters(sessionId)) {
      await this.stopStep(row.id);
      this.opts.store.setExporterState(row.id, 'stopped');
    }
  }

  /** The job tracker saw the job end: its exporters are stopped. */
  async onJobEnded(jobId: string, state: string): Promise<void> {
    for (const row of this.opts.store.listExporters()) {
      if (row.slurm_job_id !== jobId || (row.state !== 'running' && row.state !== 'starting')) continue;
      await this.stopStep(row.id);
      this.opts.store.setExporterState(row.id, 'stopped');
      this.details.set(row.id, `job ${jobId} ended (${state})`);
    }
  }

  /** Shutdown: end every step benchmon started; rows keep their state for resume(). */
  async shutdown(): Promise<void> {
    await Promise.all([...this.steps.keys()].map((id) => this.stopStep(id).catch(() => undefined)));
  }

  /** Start-up: launch again what was running before a restart, after cancelling steps a killed benchmon left. */
  async resume(): Promise<void> {
    const rows = this.opts.store.listExporters().filter((r) => (r.state === 'running' || r.state === 'starting') && !this.steps.has(r.id));
    if (rows.length === 0) return;
    let steps: Array<{ stepId: string; name: string }> = [];
    try {
      steps = await this.opts.slurm.steps();
    } catch (err) {
      this.opts.logger.warn({ err: describeError(err) }, 'exporter resume: cannot list job steps');
    }
    for (const row of rows) {
      try {
        const job = await this.opts.slurm.job(row.slurm_job_id, 'slurm_job_id');
        for (const s of steps) {
          if (s.name === stepName(row) && s.stepId.startsWith(`${job.jobId}.`)) await this.opts.slurm.cancelStep(s.stepId).catch(() => undefined);
        }
        if (jobPhase(job.state) !== 'running') {
          this.opts.store.setExporterState(row.id, 'stopped');
          this.details.set(row.id, `job ${row.slurm_job_id} is ${job.state}`);
          continue;
        }
        await this.launch(row);
        this.opts.store.setExporterState(row.id, 'running');
      } catch (err) {
        const gone = isBenchmonError(err) && err.code === 'SLURM_JOB_NOT_FOUND';
        this.opts.store.setExporterState(row.id, gone ? 'stopped' : 'failed');
        this.details.set(row.id, `resume after restart: ${describeError(err)}`);
        this.opts.logger.warn({ exporter: row.id, err: describeError(err) }, 'exporter resume failed');
      }
    }
  }
}
