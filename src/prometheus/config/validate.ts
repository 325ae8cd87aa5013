/**
 * benchmon's own checks on a rendered prometheus.yml, run before promtool and before anything
 * is written: Prometheus accepts an empty file (and drops every target), so that and other
 * mistakes must be caught here.
 */
import YAML from 'yaml';
import { isValidHostPort } from '../../sessions/identifiers.js';
import { parseDuration } from '../duration.js';

const DURATION_KEYS = ['scrape_interval', 'scrape_timeout', 'evaluation_interval', 'refresh_interval'];

function checkDurations(where: string, obj: Record<string, unknown>, problems: string[]): void {
  for (const key of DURATION_KEYS) {
    const v = obj[key];
    if (v !== undefined && (typeof v !== 'string' || parseDuration(v) === undefined)) problems.push(`${where}: ${key} ${JSON.stringify(v)} is not a duration`);
  }
  const interval = typeof obj.scrape_interval === 'string' ? parseDuration(obj.scrape_interval) : undefined;
  const timeout = typeof obj.scrape_timeout === 'string' ? parseDuration(obj.scrape_timeout) : undefined;
  if (interval !== undefined && timeout !== undefined && timeout > interval) problems.push(`${where}: scrape_timeout is longer than scrape_interval`);
}

/** Problems found in a rendered config; empty when it passes. */
export function checkPrometheusConfig(content: string): string[] {
  const problems: string[] = [];
  let doc: unknown;
  try {
    doc = YAML.parse(content);
  } catch (err) {
    return [`not valid YAML: ${(err as Error).message}`];
  }
  if (doc === null || typeof doc !== 'object' || Array.isArray(doc)) return ['config is empty or not a mapping'];
  const cfg = doc as Record<string, unknown>;
  if (cfg.global && typeof cfg.global === 'object') checkDurations('global', cfg.global as Record<string, unknown>, problems);
  const jobs = cfg.scrape_configs;
  if (!Array.isArray(jobs) || jobs.length === 0) return [...problems, 'config has no scrape_configs: Prometheus would drop every target'];
  const seen = new Set<string>();
  jobs.forEach((job: unknown, i) => {
    if (job === null || typeof job !== 'object') {
      problems.push(`scrape_configs[${i}] is not a mapping`);
      return;
    }
    const j = job as Record<string, unknown>;
    const name = j.job_name;
    if (typeof name !== 'string' || name === '') problems.push(`scrape_configs[${i}] has no job_name`);
    else if (seen.has(name)) problems.push(`job_name ${JSON.stringify(name)} appears twice`);
    else seen.add(name);
    checkDurations(`job ${String(name)}`, j, problems);
    const statics = j.static_configs;
    if (Array.isArray(statics)) {
      for (const sc of statics) {
        const targets = (sc as { targets?: unknown }).targets;
        if (Array.isArray(targets)) {
          for (const t of targets) if (typeof t !== 'string' || !isValidHostPort(t)) problems.push(`job ${String(name)}: target ${JSON.stringify(t)} is not host:port`);
        }
      }
    }
  });
  return problems;
}
