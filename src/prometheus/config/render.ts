/**
 * Rendering what Prometheus reads:
 *  - prometheus.yml: the static part (global settings, benchmon's self-scrape, one file_sd job
 *    per session, optional user-provided extra scrape configs), produced with the YAML library;
 *  - per-session file_sd JSON: one target group per registered target, with job, metrics path,
 *    scheme, interval and timeout as target labels, so registering a target never needs a reload.
 * Few jobs, many targets: Prometheus's reload time grows with the square of the number of jobs.
 */
import { createHash } from 'node:crypto';
import YAML from 'yaml';
import type { Session, Target } from '../../sessions/model.js';
import { parseDuration } from '../duration.js';

export const SELF_SCRAPE_JOB = 'benchmon';
export const FILE_SD_DIR = 'file_sd';

/** Scrape job name of a session's file_sd job in prometheus.yml. */
export function sessionJobName(sessionId: string): string {
  return `benchmon-session-${sessionId}`;
}

export interface RenderInput {
  sessions: Session[];
  defaultScrapeInterval: string;
  defaultScrapeTimeout: string;
  /** URL of benchmon's own API, scraped at /metrics. */
  serverApiUrl: string;
  fileSdRefreshInterval: string;
  /** Scrape configs the operator supplies (PROMETHEUS_EXTRA_SCRAPE_CONFIGS), appended as they are. */
  extraScrapeConfigs: Array<Record<string, unknown>>;
}

export interface PrometheusConfigDoc {
  global: Record<string, unknown>;
  scrape_configs: Array<Record<string, unknown>>;
}

function minDuration(a: string, b: string): string {
  return parseDuration(a)! <= parseDuration(b)! ? a : b;
}

export function buildPrometheusConfig(input: RenderInput): PrometheusConfigDoc {
  const api = new URL(input.serverApiUrl);
  const selfTarget = api.port ? `${api.hostname}:${api.port}` : `${api.hostname}:${api.protocol === 'https:' ? 443 : 80}`;
  const scrapeConfigs: Array<Record<string, unknown>> = [
    {
      job_name: SELF_SCRAPE_JOB,
      scheme: api.protocol.replace(':', ''),
      metrics_path: '/metrics',
      static_configs: [{ targets: [selfTarget], labels: { role: 'benchmon' } }],
    },
  ];
  for (const session of input.sessions) {
    const interval = session.scrape_interval ?? input.defaultScrapeInterval;
    scrapeConfigs.push({
      job_name: sessionJobName(session.session_id),
      scrape_interval: interval,
      scrape_timeout: minDuration(input.defaultScrapeTimeout, interval),
      file_sd_configs: [{ files: [`${FILE_SD_DIR}/${session.session_id}/*.json`], refresh_interval: input.fileSdRefreshInterval }],
    });
  }
  scrapeConfigs.push(...input.extraScrapeConfigs);
  return {
    global: { scrape_interval: input.defaultScrapeInterval, scrape_timeout: input.defaultScrapeTimeout, evaluation_interval: input.defaultScrapeInterval },
    scrape_configs: scrapeConfigs,
  };
}

export function renderPrometheusYaml(doc: PrometheusConfigDoc): string {
  return `# Written by benchmon. Edits are overwritten; register targets through the API instead.\n${YAML.stringify(doc, { lineWidth: 0 })}`;
}

export function configChecksum(content: string): string {
  return createHash('sha256').update(content).digest('hex');
}

export interface FileSdGroup { targets: string[]; labels: Record<string, string> }

/** Where Prometheus reaches benchmon's metrics proxy (from SERVER_API_URL). */
export interface ProxyAddress { address: string; scheme: 'http' | 'https' }

export interface TargetGroupOptions { proxy?: ProxyAddress }

/** `http://host:8002` → `{address: 'host:8002', scheme: 'http'}`. */
export function proxyAddressOf(serverApiUrl: string): ProxyAddress {
  const u = new URL(serverApiUrl);
  const scheme = u.protocol === 'https:' ? 'https' : 'http';
  return { address: `${u.hostname}:${u.port || (scheme === 'https' ? '443' : '80')}`, scheme };
}

/** The path of the metrics proxy for one service of one Slurm job. */
export function proxyMetricsPath(targetType: string, slurmJobId: string): string {
  return `/metrics/${targetType}/${slurmJobId}`;
}

/**
 * The file_sd target groups of one registered target. A plain target is one group; a Slurm
 * target is one group per node it runs on (each with its `node` label), none while its job is
 * pending or after it ended. With via_proxy the group points at benchmon's proxy, keeping the
 * node's endpoint as `instance`, so health and series look the same as when scraped directly.
 */
export function targetGroups(target: Target, session: Session, options: TargetGroupOptions = {}): FileSdGroup[] {
  const slurm = target.slurm;
  if (!slurm) return [targetGroup(target, session)];
  const base = targetGroup(target, session).labels;
  base.slurm_job_id = slurm.job_id;
  return target.endpoints.map((endpoint) => {
    const node = slurm.nodes.find((n) => n.endpoint === endpoint)?.node ?? endpoint.replace(/:\d+$/, '');
    const labels: Record<string, string> = { ...base, node };
    if (target.via_proxy && options.proxy) {
      labels.instance = endpoint;
      labels.__metrics_path__ = proxyMetricsPath(target.target_type, slurm.job_id);
      labels.__scheme__ = options.proxy.scheme;
      labels.__param_node = node;
      return { targets: [options.proxy.address], labels };
    }
    return { targets: [endpoint], labels };
  });
}

/** The file_sd target group of one registered target. benchmon's labels win over user labels. */
export function targetGroup(target: Target, session: Session): FileSdGroup {
  const timeout = minDuration(target.scrape_timeout, target.scrape_interval);
  const labels: Record<string, string> = {
    ...session.labels,
    ...target.labels,
    job: target.job_name,
    __metrics_path__: target.metrics_path,
    __scheme__: target.scheme,
    __scrape_interval__: target.scrape_interval,
    __scrape_timeout__: timeout,
    session: target.session_id,
    target_type: target.target_type,
    role: target.role,
  };
  if (target.job_id !== null) labels.job_id = target.job_id;
  return { targets: target.endpoints, labels };
}

/** Buckets of the stable target-id hash (file_sd chunks in memory, see file-sd-writer.ts; also stored per target). */
export const FILE_SD_SHARDS = 64;

export function shardOf(targetId: string): number {
  // FNV-1a: stable across runs and processes, so a target always lives in the same file.
  let h = 0x811c9dc5;
  for (let i = 0; i < targetId.length; i++) {
    h ^= targetId.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h % FILE_SD_SHARDS;
}

/** Each session's one file_sd file, in file_sd/<session>/. */
export const FILE_SD_FILE = 'targets.json';

