/**
 * Targets registered by Slurm job id, through their whole life:
 *  - registration (SlurmTargets.register): validate, look the job up (unknown → 404, Slurm down →
 *    503, nothing stored), then store the target with the job's state and, if it runs, one endpoint
 *    per node;
 *  - tracking (SlurmJobTracker): one `squeue --json` per round for every tracked job (22.05 ignores
 *    its filters anyway, so one call costs the same as one per job), and for each target whose job
 *    changed: new state in the store, its file_sd shard rewritten. A PENDING job's target gets its
 *    endpoints when the job runs; an ended job's target loses them and keeps the final state (there
 *    is no accounting to ask later: a finished job disappears from squeue after MinJobAge).
 */
import type { Logger } from 'pino';
import { BenchmonError, describeError, isBenchmonError } from '../errors.js';
import type { FileSdWriter } from '../prometheus/config/file-sd-writer.js';
import type { RegisterTargetBody, Target } from '../sessions/model.js';
import { Registry } from '../sessions/registry.js';
import type { StateStore } from '../store/state-store.js';
import type { SlurmCommands } from './commands.js';
import type { SlurmJobResolver, ResolvedSlurmJob } from './job-resolver.js';
import { SLURM_JOB_GONE, jobPhase, type SlurmJob } from './model.js';
import { findJobs } from './parsers.js';

/** Registration in the Slurm form. */
export class SlurmTargets {
  constructor(private readonly registry: Registry, private readonly store: StateStore, private readonly resolver: SlurmJobResolver) {}

  /** Checks everything it can before asking Slurm, and stores nothing unless Slurm answered. */
  async register(sessionId: string, body: RegisterTargetBody): Promise<Target> {
    const session = this.registry.getSession(sessionId);
    const draft = this.registry.buildTarget(session, body);
    if (!draft.slurm) throw new BenchmonError('INTERNAL', 'SlurmTargets.register called without the slurm form');
    if (this.store.getTargetByJobName(sessionId, draft.job_name)) {
      throw new BenchmonError('DUPLICATE_JOB_NAME', `slurm.job_name: session ${JSON.stringify(sessionId)} already has a target with job_name ${JSON.stringify(draft.job_name)}`, {
        details: { field: 'slurm.job_name' },
      });
    }
    const job = await this.resolver.resolve({ job_id: draft.slurm.job_id, port: draft.slurm.port, metrics_path: draft.metrics_path, scheme: draft.scheme });
    if (job.phase === 'ended') {
      throw new BenchmonError('UNPROCESSABLE', `slurm.job_id: Slurm job ${job.jobId} has already ended (${job.state}${job.reason ? `, ${job.reason}` : ''}); there is nothing to scrape`, {
        details: { field: 'slurm.job_id', job_id: job.jobId, state: job.state },
      });
    }
    return this.registry.storeTarget(Registry.withSlurmJob(draft, job));
  }
}

/**
 * Quick checks: while a job registered in the last FRESH_WINDOW_MS is still pending, somebody is
 * most likely waiting for it (a benchmark script that has just submitted its service). Between
 * full rounds, such jobs are looked at every FAST_POLL_MS with `scontrol show job ID` (filtered by
 * Slurm, cheap) instead of waiting for the next `squeue --json` of the whole queue. At most
 * FAST_MAX_JOBS jobs get this; jobs pending for longer (queued behind others) wait for the normal
 * rounds, so a queue full of pending jobs does not multiply the calls.
 */
export const FAST_POLL_MS = 250;
export const FRESH_WINDOW_MS = 60_000;
export const FAST_MAX_JOBS = 8;

export interface SlurmJobTrackerOptions {
  store: StateStore;
  fileSd: Pick<FileSdWriter, 'markChanged'>;
  slurm: Pick<SlurmCommands, 'jobs' | 'jobRecords' | 'jobRecordsByScontrol'>;
  resolver: Pick<SlurmJobResolver, 'describe'>;
  intervalMs: number;
  logger: Logger;
  /** Called once when a tracked job is seen ended (exporters inside it are stopped). */
  onJobEnded?: (jobId: string, state: string) => void | Promise<void>;
}

export interface SlurmTrackerStatus {
  interval_ms: number;
  tracked_jobs: number;
  tracked_targets: number;
  /** Full rounds (one `squeue --json` each). */
  polls: number;
  /** Quick checks of just-registered pending jobs (one `scontrol show job` per job). */
  quick_checks: number;
  last_poll: string | null;
  last_poll_ms: number | null;
  last_error: string | null;
}

function sameSlurmState(a: Target, b: Target): boolean {
  return (
    a.slurm?.state === b.slurm?.state &&
    a.slurm?.reason === b.slurm?.reason &&
    JSON.stringify(a.slurm?.nodes) === JSON.stringify(b.slurm?.nodes) &&
    JSON.stringify(a.endpoints) === JSON.stringify(b.endpoints)
  );
}

/** Polls Slurm for the jobs behind Slurm targets and keeps their targets and file_sd current. */
export class SlurmJobTracker {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private stopped = true;
  private polls = 0;
  private quickChecks = 0;
  private lastPoll: string | null = null;
  private lastPollMs: number | null = null;
  private lastError: string | null = null;
  private trackedJobs = 0;
  private trackedTargets = 0;
  private nextAt = 0;
  private nextFullAt = 0;

  constructor(private readonly opts: SlurmJobTrackerOptions) {}

  start(): void {
    this.stopped = false;
    this.nextFullAt = 0;
    this.schedule(0);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    await this.running?.catch(() => undefined);
  }

  status(): SlurmTrackerStatus {
    return {
      interval_ms: this.opts.intervalMs,
      tracked_jobs: this.trackedJobs,
      tracked_targets: this.trackedTargets,
      polls: this.polls,
      quick_checks: this.quickChecks,
      last_poll: this.lastPoll,
      last_poll_ms: this.lastPollMs,
      last_error: this.lastError,
    };
  }

  /** A pending job was just registered: look at it soon rather than after a whole interval. */
  nudge(): void {
    if (this.timer && this.nextAt - Date.now() > FAST_POLL_MS) {
      clearTimeout(this.timer);
      this.timer = undefined;
      this.schedule(FAST_POLL_MS);
    }
  }

  private schedule(delayMs: number): void {
    if (this.stopped) return;
    this.nextAt = Date.now() + delayMs;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.running = this.tick()
        .catch((err: unknown) => {
          this.lastError = describeError(err);
          this.opts.logger.warn({ err: this.lastError }, 'slurm job tracking: poll failed; targets keep their last known state');
        })
        .finally(() => {
          this.running = undefined;
          const untilFull = Math.max(0, this.nextFullAt - Date.now());
          this.schedule(this.freshPending().size > 0 ? Math.min(FAST_POLL_MS, untilFull) : untilFull);
        });
    }, delayMs);
    this.timer.unref();
  }

  private async tick(): Promise<void> {
    if (Date.now() >= this.nextFullAt) {
      this.nextFullAt = Date.now() + this.opts.intervalMs;
      await this.pollOnce();
    } else {
      await this.quickCheck();
    }
  }

  /** Targets whose job has not been seen ended yet, grouped by Slurm job id. */
  private tracked(): Map<string, Target[]> {
    const byJob = new Map<string, Target[]>();
    for (const t of this.opts.store.listSlurmTargets()) {
      if (!t.slurm || t.slurm.phase === 'ended') continue;
      const list = byJob.get(t.slurm.job_id) ?? [];
      list.push(t);
      byJob.set(t.slurm.job_id, list);
    }
    return byJob;
  }

  /** Pending jobs registered within FRESH_WINDOW_MS (none when there are more than FAST_MAX_JOBS). */
  private freshPending(): Map<string, Target[]> {
    const now = Date.now();
    const fresh = new Map<string, Target[]>();
    for (const [jobId, targets] of this.tracked()) {
      if (targets.some((t) => t.slurm!.phase !== 'running' && t.slurm!.phase !== 'ending' && now - Date.parse(t.created_at) < FRESH_WINDOW_MS)) fresh.set(jobId, targets);
    }
    return fresh.size <= FAST_MAX_JOBS ? fresh : new Map();
  }

  /** One `scontrol show job` per just-registered pending job. */
  async quickCheck(): Promise<void> {
    const fresh = this.freshPending();
    if (fresh.size === 0) return;
    const listing = new Map<string, SlurmJob[]>();
    for (const jobId of fresh.keys()) {
      try {
        listing.set(jobId, await this.opts.slurm.jobRecordsByScontrol(jobId));
      } catch (err) {
        // Unknown here is left to the full round (squeue) to decide; other failures are the poll's.
        if (!(isBenchmonError(err) && err.code === 'SLURM_JOB_NOT_FOUND')) throw err;
      }
    }
    this.quickChecks++;
    await this.apply(fresh, listing);
  }

  /** One full round: one job listing for every tracked job, then the changed targets written. */
  async pollOnce(): Promise<void> {
    const byJob = this.tracked();
    this.trackedJobs = byJob.size;
    this.trackedTargets = [...byJob.values()].reduce((n, l) => n + l.length, 0);
    if (byJob.size === 0) return;
    const started = Date.now();
    const listing = await this.listJobs([...byJob.keys()]);
    await this.apply(byJob, listing, true);
    this.polls++;
    this.lastPoll = new Date().toISOString();
    this.lastPollMs = Date.now() - started;
    this.lastError = null;
  }

  /** Brings the targets of each job in line with its records; a job missing from a full listing is gone. */
  private async apply(byJob: Map<string, Target[]>, listing: Map<string, SlurmJob[]>, complete = false): Promise<void> {
    for (const [jobId, targets] of byJob) {
      const records = listing.get(jobId);
      if (records === undefined && !complete) continue;
      if (records && records.length > 1) continue; // a pending array split into tasks: the registration named the array, keep as is
      const job = records?.[0];
      for (const target of targets) {
        try {
          await this.update(target, job);
        } catch (err) {
          this.lastError = describeError(err);
          this.opts.logger.warn({ err: this.lastError, session: target.session_id, target: target.target_id, slurm_job_id: jobId }, 'slurm job tracking: could not update target');
        }
      }
      const state = job?.state ?? SLURM_JOB_GONE;
      if (jobPhase(state) === 'ended') {
        await Promise.resolve(this.opts.onJobEnded?.(jobId, state)).catch((err: unknown) => this.opts.logger.warn({ err: describeError(err), slurm_job_id: jobId }, 'on job end'));
      }
    }
  }
  /**
   * job id → its records. One `squeue --json` for all; where that output cannot be read (older or
   * unusual Slurm), one lookup per job (scontrol). A job not listed has no records.
   */
  private async listJobs(ids: string[]): Promise<Map<string, SlurmJob[]>> {
    const out = new Map<string, SlurmJob[]>();
    let all: SlurmJob[] | undefined;
    try {
      all = await this.opts.slurm.jobs();
    } catch (err) {
      if (!isBenchmonError(err) || err.code !== 'SLURM_COMMAND_FAILED') throw err;
    }
    for (const id of ids) {
      if (all) out.set(id, findJobs(all, id));
      else {
        try {
          out.set(id, await this.opts.slurm.jobRecords(id));
        } catch (err) {
          if (isBenchmonError(err) && err.code === 'SLURM_JOB_NOT_FOUND') out.set(id, []);
          else throw err;
        }
      }
    }
    return out;
  }

  private async update(target: Target, job: SlurmJob | undefined): Promise<void> {
    const slurm = target.slurm!;
    let resolved: ResolvedSlurmJob;
    if (job) {
      resolved = await this.opts.resolver.describe(job, { jobId: slurm.job_id, port: slurm.port, metricsPath: target.metrics_path, scheme: target.scheme });
    } else {
      resolved = {
        jobId: slurm.job_id, name: '', state: SLURM_JOB_GONE, phase: 'ended', reason: 'slurmctld no longer lists the job', nodeList: '', exitCode: null,
        endpoints: [], metricsPath: target.metrics_path, scheme: target.scheme,
      };
    }
    const next = Registry.withSlurmJob(target, resolved);
    if (sameSlurmState(target, next)) return;
    const u = next.slurm!;
    if (!this.opts.store.updateSlurmTarget(target.session_id, target.target_id, { state: u.state, reason: u.reason, nodes: u.nodes, endpoints: next.endpoints })) return;
    await this.opts.fileSd.markChanged(target.session_id, target.target_id);
    this.opts.logger.info(
      { session: target.session_id, target: target.target_id, slurm_job_id: slurm.job_id, from: slurm.state, to: u.state, endpoints: next.endpoints },
      'slurm job state changed',
    );
  }
}
