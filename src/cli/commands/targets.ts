import type { Command } from 'commander';
import type { RegisterTargetBody, Role } from '../../sessions/model.js';
import type { TargetWithHealth } from '../../sessions/model.js';
import type { WaitResult } from '../../sessions/monitoring-service.js';
import { clientFor, globals } from '../context.js';
import { print, printJson, table } from '../output.js';

export class UsageError extends Error {}

export function parseLabels(pairs: string[]): Record<string, string> {
  const labels: Record<string, string> = {};
  for (const p of pairs) {
    const i = p.indexOf('=');
    if (i <= 0) throw new UsageError(`--label ${JSON.stringify(p)}: expected name=value`);
    labels[p.slice(0, i)] = p.slice(i + 1);
  }
  return labels;
}

/** `http://node01:8000/metrics` → target `node01:8000`, metrics path `/metrics`, scheme http. */
export function splitEndpoint(endpoint: string): { target: string; metrics_path: string; scheme: 'http' | 'https' } {
  let u: URL;
  try {
    u = new URL(endpoint.includes('://') ? endpoint : `http://${endpoint}`);
  } catch {
    throw new UsageError(`--endpoint ${JSON.stringify(endpoint)}: not a URL`);
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new UsageError(`--endpoint ${JSON.stringify(endpoint)}: scheme must be http or https`);
  const scheme = u.protocol === 'https:' ? 'https' : 'http';
  const port = u.port || (scheme === 'https' ? '443' : '80');
  return { target: `${u.hostname}:${port}`, metrics_path: u.pathname === '/' || u.pathname === '' ? '/metrics' : u.pathname, scheme };
}

const collect = (v: string, acc: string[]) => [...acc, v];

function report(cmd: Command, result: { target: TargetWithHealth; wait: WaitResult | null }): void {
  if (globals(cmd).json) return printJson(result);
  const t = result.target;
  if (t.slurm) {
    const where = t.endpoints.length > 0 ? t.slurm.nodes.map((n) => `${n.node} ${n.endpoint}`).join(', ') : 'no endpoints yet';
    print(`target ${t.target_id} registered in session ${t.session_id}: Slurm job ${t.slurm.job_id} ${t.slurm.state ?? ''}${t.slurm.reason ? ` (${t.slurm.reason})` : ''}, ${where}${t.via_proxy ? ', via the benchmon proxy' : ''}`);
  } else print(`target ${t.target_id} registered in session ${t.session_id} (${t.endpoints.join(', ')}${t.metrics_path})`);
  if (result.wait) {
    if (result.wait.satisfied) print(`up after ${(result.wait.waited_ms / 1000).toFixed(1)} s`);
    else {
      print(`not up after ${(result.wait.waited_ms / 1000).toFixed(1)} s: ${result.wait.pending.join(', ')}`);
      process.exitCode = 1;
    }
  }
}

export function registerTargetCommands(program: Command): void {
  program
    .command('service-register')
    .description('Register a service in a session: by metrics URL (--endpoint), or by Slurm job id and port (--job-id with --port: benchmon finds the nodes and tracks the job)')
    .requiredOption('--session <id>', 'session id')
    .requiredOption('--name <name>', 'service name, e.g. vllm (becomes target_type)')
    .option('--endpoint <url>', 'metrics URL, e.g. http://node01:8000/metrics')
    .option('--port <port>', 'Slurm form: the port the service listens on, on every node of --job-id')
    .option('--metrics-path <path>', 'Slurm form: metrics path (default /metrics)')
    .option('--scheme <scheme>', 'Slurm form: http or https')
    .option('--via-proxy', "Slurm form: Prometheus scrapes benchmon's /metrics/<name>/<job-id> proxy instead of the nodes")
    .option('--job-id <id>', 'benchmark job id, e.g. a Slurm job id (required with --port)')
    .option('--job-name <name>', 'Prometheus job label (default: <name>-<job-id>, or <name>)')
    .option('--role <role>', 'client | service | exporter')
    .option('--label <k=v>', 'extra label (repeatable)', collect, [] as string[])
    .option('--wait', 'answer only once Prometheus scrapes it (a pending Slurm job: once it runs and is scraped)')
    .option('--timeout <seconds>', 'how long --wait waits', '30')
    .action(async (opts: {
      session: string; name: string; endpoint?: string; port?: string; metricsPath?: string; scheme?: 'http' | 'https'; viaProxy?: boolean; jobId?: string;
      jobName?: string; role?: Role; label: string[]; wait?: boolean; timeout: string;
    }, cmd: Command) => {
      if (opts.endpoint !== undefined && opts.port !== undefined) throw new UsageError('give --endpoint (a metrics URL) or --port with --job-id (a Slurm job), not both');
      if (opts.endpoint === undefined && opts.port === undefined) throw new UsageError('give --endpoint <url>, or --job-id <slurm job id> with --port <port>');
      const wait = opts.wait ? { up: true as const, timeoutSeconds: Number(opts.timeout) } : undefined;
      if (opts.port !== undefined) {
        if (!opts.jobId) throw new UsageError('--port registers a Slurm job: give its id with --job-id');
        if (!/^\d+$/.test(opts.port)) throw new UsageError(`--port ${JSON.stringify(opts.port)}: expected a number 1-65535`);
        const body: RegisterTargetBody = {
          target_type: opts.name,
          ...(opts.role ? { role: opts.role } : {}),
          ...(opts.label.length ? { labels: parseLabels(opts.label) } : {}),
          ...(opts.viaProxy ? { via_proxy: true } : {}),
          slurm: {
            job_id: opts.jobId,
            port: Number(opts.port),
            ...(opts.metricsPath ? { metrics_path: opts.metricsPath } : {}),
            ...(opts.scheme ? { scheme: opts.scheme } : {}),
            ...(opts.jobName ? { job_name: opts.jobName } : {}),
          },
        };
        report(cmd, await clientFor(cmd).registerTarget(opts.session, body, wait));
        return;
      }
      if (opts.viaProxy || opts.metricsPath || opts.scheme) throw new UsageError('--via-proxy, --metrics-path and --scheme belong to the Slurm form (--job-id with --port); put path and scheme in --endpoint');
      const ep = splitEndpoint(opts.endpoint!);
      const body: RegisterTargetBody = {
        target_type: opts.name,
        ...(opts.jobId ? { job_id: opts.jobId } : {}),
        ...(opts.role ? { role: opts.role } : {}),
        scrape_config: {
          job_name: opts.jobName ?? (opts.jobId ? `${opts.name}-${opts.jobId}` : opts.name),
          metrics_path: ep.metrics_path,
          scheme: ep.scheme,
          targets: [ep.target],
          ...(opts.label.length ? { labels: parseLabels(opts.label) } : {}),
        },
      };
      report(cmd, await clientFor(cmd).registerTarget(opts.session, body, wait));
    });

  program
    .command('target-register')
    .description('Register a target with the full form')
    .requiredOption('--session <id>', 'session id')
    .requiredOption('--job-name <name>', 'Prometheus job label, unique in the session')
    .requiredOption('--target-type <type>', 'vllm, qdrant, node_exporter, client, …')
    .requiredOption('--targets <host:port,...>', 'comma-separated host:port list')
    .option('--metrics-path <path>', 'default /metrics')
    .option('--scheme <scheme>', 'http or https')
    .option('--scrape-interval <duration>', 'e.g. 5s')
    .option('--scrape-timeout <duration>', 'e.g. 4s')
    .option('--job-id <id>', 'benchmark job id')
    .option('--role <role>', 'client | service | exporter')
    .option('--label <k=v>', 'extra label (repeatable)', collect, [] as string[])
    .option('--wait', 'answer only once Prometheus scrapes it')
    .option('--timeout <seconds>', 'how long --wait waits', '30')
    .action(async (opts: {
      session: string; jobName: string; targetType: string; targets: string; metricsPath?: string; scheme?: 'http' | 'https'; scrapeInterval?: string;
      scrapeTimeout?: string; jobId?: string; role?: Role; label: string[]; wait?: boolean; timeout: string;
    }, cmd: Command) => {
      const body: RegisterTargetBody = {
        target_type: opts.targetType,
        ...(opts.jobId ? { job_id: opts.jobId } : {}),
        ...(opts.role ? { role: opts.role } : {}),
        scrape_config: {
          job_name: opts.jobName,
          targets: opts.targets.split(',').map((t) => t.trim()).filter(Boolean),
          ...(opts.metricsPath ? { metrics_path: opts.metricsPath } : {}),
          ...(opts.scheme ? { scheme: opts.scheme } : {}),
          ...(opts.scrapeInterval ? { scrape_interval: opts.scrapeInterval } : {}),
          ...(opts.scrapeTimeout ? { scrape_timeout: opts.scrapeTimeout } : {}),
          ...(opts.label.length ? { labels: parseLabels(opts.label) } : {}),
        },
      };
      report(cmd, await clientFor(cmd).registerTarget(opts.session, body, opts.wait ? { up: true, timeoutSeconds: Number(opts.timeout) } : undefined));
    });

  program
    .command('target-list')
    .description('List the targets of a session with live health')
    .requiredOption('--session <id>', 'session id')
    .action(async (opts: { session: string }, cmd: Command) => {
      const r = await clientFor(cmd).listTargets(opts.session);
      if (globals(cmd).json) return printJson(r);
      if (r.health_error) print(`health unknown: ${r.health_error}`);
      print(table(['TARGET', 'TYPE', 'ROLE', 'ENDPOINTS', 'PATH', 'INTERVAL', 'HEALTH'], r.targets.map((t) => [t.target_id, t.target_type, t.role, t.endpoints.join(','), t.metrics_path, t.scrape_interval, t.health])));
    });

  program
    .command('target-remove')
    .description('Deregister a target')
    .requiredOption('--session <id>', 'session id')
    .requiredOption('--target <id>', 'target id (its job_name)')
    .action(async (opts: { session: string; target: string }, cmd: Command) => {
      const r = await clientFor(cmd).deregisterTarget(opts.session, opts.target);
      if (globals(cmd).json) printJson(r);
      else print(`target ${r.deleted.target_id} removed from session ${r.deleted.session_id}`);
    });
}
