/**
 * Registry: sessions and their targets, checked and stored, and the session's file_sd shard
 * written before a registration is acknowledged.
 */
import { BenchmonError, invalidField } from '../errors.js';
import { parseDuration } from '../prometheus/duration.js';
import type { FileSdWriter } from '../prometheus/config/file-sd-writer.js';
import { shardOf } from '../prometheus/config/render.js';
import type { StateStore } from '../store/state-store.js';
import { RESERVED_LABELS, isValidHostPort, isValidLabelValue } from './identifiers.js';
import { validateSlurmTarget, type ResolvedSlurmJob } from '../slurm/job-resolver.js';
import type { CreateSessionBody, RegisterTargetBody, Role, Session, Target } from './model.js';

export interface RegistryDefaults { scrapeInterval: string; scrapeTimeout: string }

function isUniqueViolation(err: unknown): boolean {
  const code = (err as { code?: string }).code;
  return code === 'SQLITE_CONSTRAINT_PRIMARYKEY' || code === 'SQLITE_CONSTRAINT_UNIQUE';
}

function checkLabels(field: string, labels: Record<string, string> | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(labels ?? {})) {
    if (RESERVED_LABELS.has(name) || name.startsWith('__')) throw invalidField(`${field}.${name}`, 'is set by benchmon and cannot be overridden');
    if (!isValidLabelValue(value)) throw invalidField(`${field}.${name}`, 'must be at most 1024 characters without control characters');
    out[name] = value;
  }
  return out;
}

function defaultRole(targetType: string): Role {
  if (/exporter$/i.test(targetType)) return 'exporter';
  if (/client|loadgen|load_generator/i.test(targetType)) return 'client';
  return 'service';
}

export class Registry {
  constructor(private readonly store: StateStore, private readonly fileSd: FileSdWriter, private readonly defaults: RegistryDefaults) {}

  getSession(id: string): Session {
    const s = this.store.getSession(id);
    if (!s) throw new BenchmonError('SESSION_NOT_FOUND', `session_id: session ${JSON.stringify(id)} does not exist`, { details: { field: 'session_id' } });
    return s;
  }

  listSessions(): Session[] {
    return this.store.listSessions();
  }

  async createSession(body: CreateSessionBody): Promise<Session> {
    const labels = checkLabels('labels', body.labels);
    const session: Session = { session_id: body.session_id, labels, scrape_interval: body.scrape_interval ?? null, created_at: new Date().toISOString() };
    try {
      this.store.insertSession(session);
    } catch (err) {
      if (isUniqueViolation(err)) throw new BenchmonError('SESSION_EXISTS', `session_id: session ${JSON.stringify(body.session_id)} already exists`, { details: { field: 'session_id' } });
      throw err;
    }
    await this.fileSd.ensureSessionDir(session.session_id);
    return session;
  }

  /** Remove from the store and delete its file_sd files. */
  async deleteSession(id: string): Promise<void> {
    this.getSession(id);
    this.store.deleteSession(id);
    await this.fileSd.removeSession(id);
  }

  /** Which form a registration uses: exactly one of scrape_config and slurm, else 400 naming the field. */
  static registrationForm(body: RegisterTargetBody): 'scrape_config' | 'slurm' {
    if (body.scrape_config !== undefined && body.slurm !== undefined) {
      throw invalidField('slurm', 'give either scrape_config (host:port targets) or slurm (a job id and a port), not both');
    }
    if (body.scrape_config === undefined && body.slurm === undefined) {
      throw invalidField('scrape_config', 'is required (or give slurm: {job_id, port} to register a Slurm job by its id)');
    }
    if (body.scrape_config !== undefined && body.via_proxy !== undefined) {
      throw invalidField('via_proxy', 'applies only to the slurm form (the proxy serves registered Slurm jobs)');
    }
    return body.slurm !== undefined ? 'slurm' : 'scrape_config';
  }

  /** Interval and timeout of a registration: its own, else the session's, else the defaults. */
  private scrapeTiming(session: Session, body: RegisterTargetBody): { interval: string; timeout: string } {
    const sc = body.scrape_config;
    const interval = sc?.scrape_interval ?? body.scrape_interval ?? session.scrape_interval ?? this.defaults.scrapeInterval;
    const intervalField = sc?.scrape_interval ? 'scrape_config.scrape_interval' : 'scrape_interval';
    const timeoutGiven = sc?.scrape_timeout ?? body.scrape_timeout;
    const timeoutField = sc?.scrape_timeout ? 'scrape_config.scrape_timeout' : 'scrape_timeout';
    const intervalMs = parseDuration(interval);
    if (intervalMs === undefined) throw invalidField(intervalField, `${JSON.stringify(interval)} is not a positive duration`);
    let timeout: string;
    if (timeoutGiven !== undefined) {
      const t = parseDuration(timeoutGiven);
      if (t === undefined) throw invalidField(timeoutField, `${JSON.stringify(timeoutGiven)} is not a positive duration`);
      if (t > intervalMs) throw invalidField(timeoutField, `${timeoutGiven} is longer than the scrape interval ${interval}`);
      timeout = timeoutGiven;
    } else {
      timeout = parseDuration(this.defaults.scrapeTimeout)! <= intervalMs ? this.defaults.scrapeTimeout : interval;
    }
    return { interval, timeout };
  }

  /** Normalise and check a registration; throws a 4xx naming the field. */
  buildTarget(session: Session, body: RegisterTargetBody): Target {
    if (Registry.registrationForm(body) === 'slurm') return this.buildSlurmTarget(session, body);
    const sc = body.scrape_config!;
    const { interval, timeout } = this.scrapeTiming(session, body);
    const endpoints: string[] = [];
    sc.targets.forEach((t, i) => {
      if (!isValidHostPort(t)) throw invalidField(`scrape_config.targets[${i}]`, `${JSON.stringify(t)} is not host:port (port 1-65535)`);
      if (endpoints.includes(t)) throw invalidField(`scrape_config.targets[${i}]`, `${JSON.stringify(t)} is listed twice`);
      endpoints.push(t);
    });
    const labels = { ...checkLabels('labels', body.labels), ...checkLabels('scrape_config.labels', sc.labels) };
    return {
      session_id: session.session_id,
      target_id: sc.job_name,
      job_id: body.job_id ?? null,
      target_type: body.target_type,
      role: body.role ?? defaultRole(body.target_type),
      job_name: sc.job_name,
      metrics_path: sc.metrics_path ?? '/metrics',
      scheme: sc.scheme ?? body.scheme ?? 'http',
      scrape_interval: interval,
      scrape_timeout: timeout,
      labels,
      endpoints,
      created_at: new Date().toISOString(),
      slurm: null,
      via_proxy: false,
    };
  }

  /**
   * The Slurm form, checked but not yet resolved: no endpoints and no job state until
   * withSlurmJob() fills them in from what Slurm says.
   */
  buildSlurmTarget(session: Session, body: RegisterTargetBody): Target {
    const input = body.slurm!;
    const slurm = validateSlurmTarget(input);
    const { interval, timeout } = this.scrapeTiming(session, body);
    const jobName = input.job_name ?? `${body.target_type}-${slurm.jobId}`;
    return {
      session_id: session.session_id,
      target_id: jobName,
      job_id: body.job_id ?? slurm.jobId,
      target_type: body.target_type,
      role: body.role ?? defaultRole(body.target_type),
      job_name: jobName,
      metrics_path: slurm.metricsPath,
      scheme: input.scheme ?? body.scheme ?? 'http',
      scrape_interval: interval,
      scrape_timeout: timeout,
      labels: checkLabels('labels', body.labels),
      endpoints: [],
      created_at: new Date().toISOString(),
      slurm: { job_id: slurm.jobId, port: slurm.port, state: null, phase: 'unknown', reason: null, nodes: [] },
      via_proxy: body.via_proxy ?? false,
    };
  }

  /** A Slurm target with the job's state and, while it runs, one endpoint per node. */
  static withSlurmJob(target: Target, job: ResolvedSlurmJob): Target {
    const nodes = job.endpoints.map((e) => ({ node: e.node, endpoint: e.target }));
    const previous = target.slurm;
    if (!previous) return target;
    return {
      ...target,
      // Once a job has run, keep where it ran: the nodes stay visible after it ended.
      slurm: { ...previous, state: job.state, phase: job.phase, reason: job.reason, nodes: nodes.length > 0 ? nodes : previous.nodes },
      endpoints: job.phase === 'running' ? nodes.map((n) => n.endpoint) : [],
    };
  }

  /** Store the target and write its file_sd shard; resolves once the shard is on disk. */
  async registerTarget(sessionId: string, body: RegisterTargetBody): Promise<Target> {
    const session = this.getSession(sessionId);
    return this.storeTarget(this.buildTarget(session, body));
  }

  /** Store a built target and write its file_sd shard; not kept when the shard cannot be written. */
  async storeTarget(target: Target): Promise<Target> {
    const sessionId = target.session_id;
    const field = target.slurm ? 'slurm.job_name' : 'scrape_config.job_name';
    try {
      this.store.insertTarget(target, shardOf(target.target_id));
    } catch (err) {
      if (isUniqueViolation(err)) {
        throw new BenchmonError('DUPLICATE_JOB_NAME', `${field}: session ${JSON.stringify(sessionId)} already has a target with job_name ${JSON.stringify(target.job_name)}`, {
          details: { field },
        });
      }
      if ((err as { code?: string }).code === 'SQLITE_CONSTRAINT_FOREIGNKEY') this.getSession(sessionId);
      throw err;
    }
    try {
      await this.fileSd.markChanged(sessionId, target.target_id);
    } catch (err) {
      // Not acknowledged, so not kept: the store must not hold a target Prometheus never saw.
      this.store.deleteTarget(sessionId, target.target_id);
      throw err;
    }
    return target;
  }

  getTarget(sessionId: string, targetId: string): Target {
    this.getSession(sessionId);
    const t = this.store.getTarget(sessionId, targetId);
    if (!t) throw new BenchmonError('TARGET_NOT_FOUND', `target_id: session ${JSON.stringify(sessionId)} has no target ${JSON.stringify(targetId)}`, { details: { field: 'target_id' } });
    return t;
  }

  listTargets(sessionId: string): Target[] {
    this.getSession(sessionId);
    return this.store.listTargets(sessionId);
  }

  async deregisterTarget(sessionId: string, targetId: string): Promise<Target> {
    const t = this.getTarget(sessionId, targetId);
    this.store.deleteTarget(sessionId, targetId);
    await this.fileSd.markChanged(sessionId, targetId);
    return t;
  }
}
