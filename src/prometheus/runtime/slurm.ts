/**
 * PROMETHEUS_MODE=slurm: Prometheus runs as a Slurm batch job. benchmon writes the batch script,
 * submits it (`sbatch`, with the partition, time limit and extra options from the settings), waits
 * until the job runs, finds the node it landed on (its NodeAddr), points the Prometheus client at
 * `http://<node>:<port>`, and waits until Prometheus is ready. From then on it is driven over HTTP
 * as in the other modes (`--web.enable-lifecycle` for reloads). A watcher polls the job: when it
 * ends without benchmon asking (time limit, node failure, scancel by someone), the status says so
 * and the job is submitted again, at most SLURM_PROMETHEUS_MAX_RESUBMITS times. Shutdown cancels it.
 *
 * The config and data directories must be readable on the node (a shared filesystem on a real
 * cluster; on the single-node test cluster the same disk). The job is named after the config path,
 * so a job left behind by a benchmon that was killed is recognised and cancelled at start.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { Logger } from 'pino';
import { BenchmonError, describeError, isBenchmonError } from '../../errors.js';
import { shellQuote } from '../../slurm/command-runner.js';
import type { SlurmCommands } from '../../slurm/commands.js';
import type { SlurmJobResolver } from '../../slurm/job-resolver.js';
import { jobPhase, type SlurmJob } from '../../slurm/model.js';
import type { PrometheusClient } from '../client.js';
import type { PrometheusRuntime, RuntimeStatus } from './runtime.js';

export interface SlurmRuntimeOptions {
  slurm: Pick<SlurmCommands, 'submit' | 'job' | 'jobs' | 'cancel'>;
  resolver: Pick<SlurmJobResolver, 'describe'>;
  client: PrometheusClient;
  /** Prometheus binary as the node sees it (PROMETHEUS_BIN). */
  bin: string;
  configPath: string;
  dataDir: string;
  listenPort: number;
  retention: string;
  partition?: string | undefined;
  timeLimit?: string | undefined;
  extraSbatchArgs?: readonly string[];
  /** How long the job may stay PENDING and then take to become ready. */
  startTimeoutMs: number;
  maxResubmits: number;
  pollIntervalMs: number;
  logger: Logger;
  onRestart?: () => void;
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

export class SlurmRuntime implements PrometheusRuntime {
  readonly mode = 'slurm' as const;
  readonly jobName: string;
  readonly scriptPath: string;
  private jobId: string | null = null;
  private jobState: string | null = null;
  private node: string | null = null;
  private url: string | null = null;
  private running = false;
  private stopping = false;
  private resubmits = 0;
  private lastExit: string | null = null;
  private error: string | null = null;
  private watchTimer: NodeJS.Timeout | undefined;
  private resubmitting: Promise<void> | undefined;

  constructor(private readonly opts: SlurmRuntimeOptions) {
    const dir = path.dirname(opts.configPath);
    this.jobName = `benchmon-prometheus-${createHash('sha256').update(path.resolve(opts.configPath)).digest('hex').slice(0, 10)}`;
    this.scriptPath = path.join(dir, 'prometheus.sbatch');
  }

  status(): RuntimeStatus {
    return {
      mode: 'slurm',
      running: this.running,
      pid: null,
      restarts: this.resubmits,
      last_exit: this.lastExit,
      slurm: {
        job_id: this.jobId,
        state: this.jobState,
        node: this.node,
        url: this.url,
        resubmits: this.resubmits,
        max_resubmits: this.opts.maxResubmits,
        error: this.error,
      },
    };
  }

  /** The batch script: exec Prometheus with our config and data directories, listening on every address of the node. */
  batchScript(): string {
    const args = [
      this.opts.bin,
      `--config.file=${this.opts.configPath}`,
      `--storage.tsdb.path=${this.opts.dataDir}`,
      `--storage.tsdb.retention.time=${this.opts.retention}`,
      `--web.listen-address=0.0.0.0:${this.opts.listenPort}`,
      '--web.enable-lifecycle',
      '--web.enable-admin-api',
    ];
    return [
      '#!/bin/sh',
      '# Written by benchmon (PROMETHEUS_MODE=slurm): Prometheus as a Slurm job, driven by benchmon over HTTP.',
      `exec ${args.map(shellQuote).join(' ')}`,
      '',
    ].join('\n');
  }

  async start(): Promise<void> {
    this.stopping = false;
    fs.mkdirSync(this.opts.dataDir, { recursive: true });
    await this.cancelLeftovers();
    await this.submitAndWait();
    this.watch();
  }

  /** Jobs of ours (same name: same config path) still queued or running after a benchmon was killed. */
  private async cancelLeftovers(): Promise<void> {
    let all: SlurmJob[];
    try {
      all = await this.opts.slurm.jobs();
    } catch (err) {
      // A Slurm whose squeue --json benchmon cannot read: no leftovers to find this way; not a reason to fail.
      if (isBenchmonError(err) && err.code === 'SLURM_COMMAND_FAILED') {
        this.opts.logger.warn({ err: describeError(err) }, 'cannot list jobs to find a Prometheus job left by an earlier benchmon');
        return;
      }
      throw err;
    }
    const mine = all.filter((j) => j.name === this.jobName && ['pending', 'running', 'unknown'].includes(jobPhase(j.state)));
    for (const j of mine) {
      this.opts.logger.warn({ slurm_job_id: j.id, state: j.state }, 'cancelling a Prometheus job left by an earlier benchmon');
      await this.opts.slurm.cancel(j.id);
    }
    for (const j of mine) await this.waitEnded(j.id, 15_000);
  }

  private logPath(jobId: string): string {
    return path.join(path.dirname(this.opts.configPath), `prometheus-slurm-${jobId}.log`);
  }

  private logTail(jobId: string | null): string {
    if (!jobId) return '';
    try {
      const text = fs.readFileSync(this.logPath(jobId), 'utf8').trim().split('\n');
      const errors = text.filter((l) => /level=(error|fatal)|"level":"(error|fatal)"|error/i.test(l));
      return (errors.at(-1) ?? text.at(-1) ?? '').slice(0, 500);
    } catch {
      return '';
    }
  }

  private async submitAndWait(): Promise<void> {
    const script = this.batchScript();
    fs.writeFileSync(this.scriptPath, script, { mode: 0o755 });
    const jobId = await this.opts.slurm.submit(script, {
      jobName: this.jobName,
      chdir: path.dirname(this.opts.configPath),
      output: path.join(path.dirname(this.opts.configPath), 'prometheus-slurm-%j.log'),
      ...(this.opts.partition ? { partition: this.opts.partition } : {}),
      ...(this.opts.timeLimit ? { timeLimit: this.opts.timeLimit } : {}),
      extraArgs: this.opts.extraSbatchArgs ?? [],
    });
    this.jobId = jobId;
    this.jobState = 'PENDING';
    this.node = null;
    this.url = null;
    this.opts.logger.info({ slurm_job_id: jobId, script: this.scriptPath }, 'prometheus submitted as a slurm job');
    const deadline = Date.now() + this.opts.startTimeoutMs;
    try {
      const job = await this.waitRunning(jobId, deadline);
      const resolved = await this.opts.resolver.describe(job, { jobId, port: this.opts.listenPort, metricsPath: '/metrics', scheme: 'http' });
      const ep = resolved.endpoints[0];
      if (!ep) throw new BenchmonError('PROM_RUNTIME_FAILED', `Prometheus job ${jobId} runs but has no node (node list ${JSON.stringify(job.nodeList)})`);
      this.node = ep.node;
      this.url = `http://${ep.host}:${ep.port}`;
      this.opts.client.setBaseUrl(this.url);
      await this.waitReady(jobId, deadline);
    } catch (err) {
      await this.opts.slurm.cancel(jobId).catch(() => undefined);
      this.running = false;
      throw err;
    }
    this.running = true;
    this.error = null;
    this.opts.logger.info({ slurm_job_id: jobId, node: this.node, url: this.url }, 'prometheus slurm job ready');
  }

  private async waitRunning(jobId: string, deadline: number): Promise<SlurmJob> {
    for (;;) {
      const job = await this.opts.slurm.job(jobId);
      this.jobState = job.state;
      const phase = jobPhase(job.state);
      if (phase === 'running') return job;
      if (phase === 'ended') {
        throw new BenchmonError('PROM_RUNTIME_FAILED', `Prometheus job ${jobId} ended before it ran (${job.state}${job.reason ? `, ${job.reason}` : ''})${this.tailText(jobId)}`);
      }
      if (Date.now() > deadline) {
        throw new BenchmonError('PROM_RUNTIME_FAILED', `Prometheus job ${jobId} is still ${job.state}${job.reason ? ` (${job.reason})` : ''} after ${this.opts.startTimeoutMs} ms (SLURM_PROMETHEUS_START_TIMEOUT); check the partition and resources (SLURM_PROMETHEUS_PARTITION, SLURM_PROMETHEUS_SBATCH_ARGS)`);
      }
      await sleep(300);
    }
  }

  private tailText(jobId: string): string {
    const t = this.logTail(jobId);
    return t ? `: ${t}` : '';
  }

  private async waitReady(jobId: string, deadline: number): Promise<void> {
    let checks = 0;
    for (;;) {
      if (await this.opts.client.isReady()) return;
      // Every few tries: did the job die (bad flag, port taken on the node)?
      if (++checks % 5 === 0) {
        const job = await this.opts.slurm.job(jobId);
        this.jobState = job.state;
        if (jobPhase(job.state) !== 'running') {
          throw new BenchmonError('PROM_RUNTIME_FAILED', `Prometheus job ${jobId} ${job.state} on ${this.node ?? 'its node'} before it was ready${this.tailText(jobId)}`);
        }
      }
      if (Date.now() > deadline) {
        throw new BenchmonError('PROM_RUNTIME_FAILED', `Prometheus job ${jobId} runs on ${this.node} but ${this.url} is not ready after ${this.opts.startTimeoutMs} ms${this.tailText(jobId)}`);
      }
      await sleep(200);
    }
  }

  private async waitEnded(jobId: string, timeoutMs: number): Promise<string | null> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      try {
        const job = await this.opts.slurm.job(jobId);
        if (jobPhase(job.state) === 'ended') return job.state;
      } catch (err) {
        if (isBenchmonError(err) && err.code === 'SLURM_JOB_NOT_FOUND') return null;
        throw err;
      }
      if (Date.now() > deadline) return null;
      await sleep(200);
    }
  }

  private watch(): void {
    if (this.stopping) return;
    this.watchTimer = setTimeout(() => {
      this.watchTimer = undefined;
      void this.checkJob().finally(() => this.watch());
    }, this.opts.pollIntervalMs);
    this.watchTimer.unref();
  }

  /** One look at the job; when it died, say so and resubmit (bounded). */
  private async checkJob(): Promise<void> {
    const jobId = this.jobId;
    if (!jobId || this.stopping || this.resubmitting) return;
    let state: string;
    let reason: string | null = null;
    try {
      const job = await this.opts.slurm.job(jobId);
      state = job.state;
      reason = job.reason;
    } catch (err) {
      if (!(isBenchmonError(err) && err.code === 'SLURM_JOB_NOT_FOUND')) {
        this.opts.logger.warn({ err: describeError(err) }, 'prometheus slurm job: cannot read its state');
        return;
      }
      state = 'GONE';
    }
    this.jobState = state;
    if (jobPhase(state) !== 'ended' || this.stopping) return;
    this.running = false;
    this.lastExit = `Slurm job ${jobId} ${state}${reason ? ` (${reason})` : ''}`;
    this.opts.logger.error({ slurm_job_id: jobId, state, reason, resubmits: this.resubmits }, 'prometheus slurm job ended');
    if (this.resubmits >= this.opts.maxResubmits) {
      this.error = `Prometheus job ${jobId} ended (${state}) and ${this.opts.maxResubmits} resubmissions are used up (SLURM_PROMETHEUS_MAX_RESUBMITS)`;
      return;
    }
    this.resubmits++;
    this.opts.onRestart?.();
    this.resubmitting = this.waitGone()
      .then(() => this.submitAndWait())
      .catch((err: unknown) => {
        this.error = `resubmission ${this.resubmits} failed: ${describeError(err)}`;
        this.opts.logger.error({ err: this.error }, 'prometheus slurm job resubmission failed');
      })
      .finally(() => {
        this.resubmitting = undefined;
      });
    await this.resubmitting;
  }

  /**
   * A cancelled job's Prometheus may still be shutting down (Slurm reports CANCELLED at once, the
   * process gets KillWait to exit): wait until it stops answering, so that a resubmission landing on
   * the same node finds its port and its TSDB lock free.
   */
  private async waitGone(timeoutMs = 15_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline && (await this.opts.client.isHealthy())) await sleep(200);
    await sleep(500);
  }

  async stop(): Promise<void> {
    this.stopping = true;
    if (this.watchTimer) clearTimeout(this.watchTimer);
    this.watchTimer = undefined;
    await this.resubmitting?.catch(() => undefined);
    const jobId = this.jobId;
    this.running = false;
    if (!jobId) return;
    await this.opts.slurm.cancel(jobId);
    const final = await this.waitEnded(jobId, 20_000);
    this.jobState = final ?? this.jobState;
    this.lastExit = `Slurm job ${jobId} ${final ?? 'cancelled'} (benchmon stopped)`;
  }
}
