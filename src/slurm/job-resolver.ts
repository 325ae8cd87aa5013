/**
 * Job id → scrape endpoints. Users know a Slurm job id and the port their service listens on, not
 * the host: this resolves the job's node list to one endpoint per node and reports the job's state,
 * so that a target can wait while the job is PENDING, go live when it runs and leave when it ends.
 *
 * Addresses: each endpoint keeps the node's Slurm name (the `node` label) and is reached at, in
 * order, the caller's override for that node, or the node's NodeAddr from `scontrol show node`
 * (on the single-node test cluster NodeAddr=127.0.0.1 while the node is named after the host), or
 * the node name itself (`addressSource: 'node-name'`, for clusters whose node names resolve in DNS).
 * Node addresses and node-list expansions are cached: they do not change while a job runs, and a
 * tracker polling many jobs should cost one `squeue --json` per round, not calls per job.
 */
import { BenchmonError, invalidField } from '../errors.js';
import { METRICS_PATH_PATTERN } from '../sessions/identifiers.js';
import type { SlurmCommands } from './commands.js';
import { SLURM_JOB_ID_PATTERN, jobPhase, type SlurmExitCode, type SlurmJob, type SlurmJobPhase, type SlurmJobState } from './model.js';

/** The Slurm form of a target registration, as it arrives (unvalidated). */
export interface SlurmTargetInput {
  job_id: unknown;
  port: unknown;
  metrics_path?: unknown;
  scheme?: unknown;
}

export interface SlurmTarget {
  jobId: string;
  port: number;
  metricsPath: string;
  scheme: 'http' | 'https';
}

export interface SlurmEndpoint {
  /** The node's Slurm name: the `node` label. */
  node: string;
  /** Where it is reached (override, NodeAddr, or the node name). */
  host: string;
  port: number;
  /** `host:port`, as Prometheus wants a target. */
  target: string;
  /** `scheme://host:port/metrics_path`. */
  url: string;
}

export interface ResolvedSlurmJob {
  jobId: string;
  name: string;
  state: SlurmJobState;
  phase: SlurmJobPhase;
  reason: string | null;
  /** Compressed node list as Slurm prints it; empty while pending. */
  nodeList: string;
  exitCode: SlurmExitCode | null;
  /** One per node while the job runs; empty while it is pending or after it ended. */
  endpoints: SlurmEndpoint[];
  metricsPath: string;
  scheme: 'http' | 'https';
}

/** What the resolver needs from Slurm (SlurmCommands provides it). */
export type SlurmJobSource = Pick<SlurmCommands, 'job' | 'expandHostnames' | 'nodes'>;

export interface SlurmJobResolverOptions {
  /** Node name → host or address to reach it at; wins over everything else. */
  addressOverrides?: Readonly<Record<string, string>>;
  /** `node-addr` (default): NodeAddr from `scontrol show node`; `node-name`: the node name as is. */
  addressSource?: 'node-addr' | 'node-name';
  /** Prefix of the field names in validation errors (default `slurm`, as in the API body). */
  fieldPrefix?: string;
}

const jobIdRe = new RegExp(SLURM_JOB_ID_PATTERN);
const metricsPathRe = new RegExp(METRICS_PATH_PATTERN);
const CACHE_LIMIT = 10_000;

/** Checks a Slurm target registration; errors name the field (`slurm.job_id`, `slurm.port`, …). */
export function validateSlurmTarget(input: SlurmTargetInput, fieldPrefix = 'slurm'): SlurmTarget {
  const f = (name: string) => (fieldPrefix ? `${fieldPrefix}.${name}` : name);
  const rawId = typeof input.job_id === 'number' && Number.isSafeInteger(input.job_id) ? String(input.job_id) : input.job_id;
  if (typeof rawId !== 'string' || !jobIdRe.test(rawId)) {
    throw invalidField(f('job_id'), `${JSON.stringify(input.job_id) ?? 'undefined'} is not a Slurm job id (a number such as 3607637, or 3607637_2 for an array task)`);
  }
  const port = input.port;
  if (typeof port !== 'number' || !Number.isInteger(port) || port < 1 || port > 65535) {
    throw invalidField(f('port'), `${JSON.stringify(port) ?? 'undefined'} is not a port (an integer 1–65535)`);
  }
  const metricsPath = input.metrics_path ?? '/metrics';
  if (typeof metricsPath !== 'string' || !metricsPathRe.test(metricsPath)) {
    throw invalidField(f('metrics_path'), `${JSON.stringify(metricsPath)} is not a URL path starting with /`);
  }
  const scheme = input.scheme ?? 'http';
  if (scheme !== 'http' && scheme !== 'https') throw invalidField(f('scheme'), `${JSON.stringify(scheme)} must be http or https`);
  return { jobId: rawId, port, metricsPath, scheme };
}

function bracketIfIpv6(host: string): string {
  return host.includes(':') && !host.startsWith('[') ? `[${host}]` : host;
}

export class SlurmJobResolver {
  private readonly addresses = new Map<string, string>();
  private readonly expansions = new Map<string, string[]>();
  private readonly fieldPrefix: string;

  constructor(
    private readonly slurm: SlurmJobSource,
    private readonly options: SlurmJobResolverOptions = {},
  ) {
    this.fieldPrefix = options.fieldPrefix ?? 'slurm';
  }

  validate(input: SlurmTargetInput): SlurmTarget {
    return validateSlurmTarget(input, this.fieldPrefix);
  }

  /** Validates, looks the job up, and resolves its endpoints. Unknown job → SLURM_JOB_NOT_FOUND naming the id. */
  async resolve(input: SlurmTargetInput): Promise<ResolvedSlurmJob> {
    const target = this.validate(input);
    const job = await this.slurm.job(target.jobId, this.field('job_id'));
    return this.describe(job, target);
  }

  /**
   * Endpoints and state of a job already looked up (e.g. from one `jobs()` call for many tracked
   * jobs). Only a running job has endpoints.
   */
  async describe(job: SlurmJob, target: SlurmTarget): Promise<ResolvedSlurmJob> {
    const phase = jobPhase(job.state);
    const endpoints = phase === 'running' && job.nodeList ? await this.endpoints(job.nodeList, target) : [];
    return {
      jobId: target.jobId,
      name: job.name,
      state: job.state,
      phase,
      reason: job.reason,
      nodeList: job.nodeList,
      exitCode: job.exitCode,
      endpoints,
      metricsPath: target.metricsPath,
      scheme: target.scheme,
    };
  }

  private field(name: string): string {
    return this.fieldPrefix ? `${this.fieldPrefix}.${name}` : name;
  }

  private async endpoints(nodeList: string, target: SlurmTarget): Promise<SlurmEndpoint[]> {
    const nodes = await this.expand(nodeList);
    const hosts = await this.hostsOf(nodes, nodeList);
    return nodes.map((node) => {
      const host = bracketIfIpv6(hosts.get(node) ?? node);
      return { node, host, port: target.port, target: `${host}:${target.port}`, url: `${target.scheme}://${host}:${target.port}${target.metricsPath}` };
    });
  }

  private async expand(nodeList: string): Promise<string[]> {
    const cached = this.expansions.get(nodeList);
    if (cached) return cached;
    const names = await this.slurm.expandHostnames(nodeList);
    if (this.expansions.size >= CACHE_LIMIT) this.expansions.clear();
    this.expansions.set(nodeList, names);
    return names;
  }

  private async hostsOf(nodes: readonly string[], nodeList: string): Promise<Map<string, string>> {
    const out = new Map<string, string>();
    const overrides = this.options.addressOverrides ?? {};
    const missing: string[] = [];
    for (const node of nodes) {
      const override = overrides[node];
      if (override !== undefined) out.set(node, override);
      else if (this.options.addressSource === 'node-name') out.set(node, node);
      else {
        const known = this.addresses.get(node);
        if (known !== undefined) out.set(node, known);
        else missing.push(node);
      }
    }
    if (missing.length > 0) {
      // One call for the whole list (scontrol accepts the compressed form); fewer names when some are cached.
      const query = missing.length === nodes.length ? nodeList : missing.join(',');
      const found = await this.slurm.nodes(query);
      if (this.addresses.size >= CACHE_LIMIT) this.addresses.clear();
      for (const n of found) this.addresses.set(n.name, n.address);
      for (const node of missing) {
        const address = this.addresses.get(node);
        if (address === undefined) {
          throw new BenchmonError('SLURM_COMMAND_FAILED', `scontrol show node ${query}: no entry for node ${node}`, { details: { node } });
        }
        out.set(node, address);
      }
    }
    return out;
  }
}
