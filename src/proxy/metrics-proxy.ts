/**
 * GET /metrics/{service}/{job_id}[?node=NAME]: the seed's server-side proxy. A Prometheus that
 * cannot reach the compute nodes scrapes benchmon, which fetches the job's own /metrics from the
 * node it runs on and streams it back unchanged (status, content type and encoding, bytes).
 *
 * Not an open proxy: only a registered Slurm target whose target_type is `service`, whose job is
 * `job_id` and whose job runs now can be fetched, and only at the endpoint and path benchmon
 * resolved for it. Anything else is 404.
 */
import http from 'node:http';
import https from 'node:https';
import type { Readable } from 'node:stream';
import { BenchmonError } from '../errors.js';
import type { Target } from '../sessions/model.js';
import { isValidSlurmJobId } from '../slurm/model.js';

export interface ProxySource {
  findSlurmTargets(slurmJobId: string): Target[];
}

export interface ProxyUpstream {
  service: string;
  jobId: string;
  node: string;
  /** scheme://host:port/path the metrics come from. */
  url: string;
}

export interface ProxyResponse {
  upstream: ProxyUpstream;
  status: number;
  headers: Record<string, string>;
  body: Readable;
}

/** Request headers passed upstream: content negotiation (Prometheus asks for protobuf/OpenMetrics) and its scrape timeout. */
const FORWARDED_REQUEST_HEADERS = ['accept', 'accept-encoding', 'x-prometheus-scrape-timeout-seconds', 'user-agent'];
/** Response headers passed back: what the bytes are. */
const FORWARDED_RESPONSE_HEADERS = ['content-type', 'content-encoding', 'content-length'];

function notFound(message: string, details: Record<string, unknown>): BenchmonError {
  return new BenchmonError('PROXY_TARGET_NOT_FOUND', message, { details });
}

export class MetricsProxy {
  constructor(private readonly source: ProxySource, private readonly timeoutMs: number) {}

  /** The upstream of a registered, running Slurm target; 404 for anything else. */
  resolve(service: string, jobId: string, node: string | undefined): ProxyUpstream {
    const what = `${service}/${jobId}`;
    if (!isValidSlurmJobId(jobId)) throw notFound(`job_id: no registered Slurm target ${what} (not a Slurm job id)`, { field: 'job_id', job_id: jobId });
    const targets = this.source.findSlurmTargets(jobId).filter((t) => t.target_type === service);
    if (targets.length === 0) {
      throw notFound(`no registered Slurm target ${what}: register the job with target_type ${JSON.stringify(service)} first`, { service, job_id: jobId });
    }
    const live = targets.filter((t) => t.slurm?.phase === 'running' && t.endpoints.length > 0);
    const target = live[0];
    if (!target) {
      const s = targets[0]!.slurm;
      throw notFound(`Slurm job ${jobId} of ${service} is not running (${s?.state ?? 'state unknown'}); nothing to proxy`, { service, job_id: jobId, state: s?.state ?? null });
    }
    const nodes = target.slurm!.nodes.filter((n) => target.endpoints.includes(n.endpoint));
    let chosen = nodes[0];
    if (node !== undefined) {
      chosen = nodes.find((n) => n.node === node);
      if (!chosen) throw notFound(`node: Slurm job ${jobId} does not run on node ${JSON.stringify(node)} (it runs on ${nodes.map((n) => n.node).join(', ')})`, { field: 'node', job_id: jobId });
    } else if (nodes.length > 1) {
      throw new BenchmonError('VALIDATION_FAILED', `node: Slurm job ${jobId} runs on ${nodes.length} nodes (${nodes.map((n) => n.node).join(', ')}); name one with ?node=`, {
        details: { field: 'node' },
      });
    }
    if (!chosen) throw notFound(`Slurm job ${jobId} of ${service} has no endpoint`, { service, job_id: jobId });
    return { service, jobId, node: chosen.node, url: `${target.scheme}://${chosen.endpoint}${target.metrics_path}` };
  }

  /**
   * Fetches the upstream and answers with its status, headers and body stream. No answer (headers)
   * within the timeout → 504; connection refused, reset, DNS → 502 with the reason; an error
   * status from the upstream → 502 with the status and the start of its body.
   */
  fetch(upstream: ProxyUpstream, requestHeaders: Record<string, string | string[] | undefined>): Promise<ProxyResponse> {
    const headers: Record<string, string> = {};
    for (const name of FORWARDED_REQUEST_HEADERS) {
      const v = requestHeaders[name];
      if (typeof v === 'string') headers[name] = v;
    }
    const url = new URL(upstream.url);
    const lib = url.protocol === 'https:' ? https : http;
    const where = `${upstream.service}/${upstream.jobId} on node ${upstream.node} (${upstream.url})`;
    return new Promise((resolve, reject) => {
      let settled = false;
      const req = lib.request(url, { method: 'GET', headers });
      // The whole exchange is bounded: a body that stalls after the headers is cut off too.
      const timer = setTimeout(() => {
        if (!settled) {
          settled = true;
          reject(new BenchmonError('PROXY_UPSTREAM_TIMEOUT', `upstream ${where} did not answer within ${this.timeoutMs} ms`, { details: { url: upstream.url, node: upstream.node } }));
        }
        req.destroy(new Error(`no complete answer within ${this.timeoutMs} ms`));
      }, this.timeoutMs);
      req.once('error', (err: NodeJS.ErrnoException) => {
        clearTimeout(timer);
        if (settled) return;
        settled = true;
        reject(new BenchmonError('PROXY_UPSTREAM_FAILED', `upstream ${where} failed: ${err.code ? `${err.code} ` : ''}${err.message}`, {
          details: { url: upstream.url, node: upstream.node, reason: err.code ?? err.message },
        }));
      });
      req.once('response', (res) => {
        res.once('end', () => clearTimeout(timer));
        res.once('close', () => clearTimeout(timer));
        if (settled) {
          res.destroy();
          return;
        }
        settled = true;
        const status = res.statusCode ?? 502;
        if (status < 200 || status >= 300) {
          let text = '';
          res.setEncoding('utf8');
          res.on('data', (d: string) => {
            if (text.length < 300) text += d;
          });
          res.once('end', () =>
            reject(new BenchmonError('PROXY_UPSTREAM_FAILED', `upstream ${where} answered HTTP ${status}: ${text.trim().slice(0, 300)}`, {
              details: { url: upstream.url, node: upstream.node, upstream_status: status },
            })),
          );
          res.once('error', () => reject(new BenchmonError('PROXY_UPSTREAM_FAILED', `upstream ${where} answered HTTP ${status}`, { details: { url: upstream.url, upstream_status: status } })));
          return;
        }
        const out: Record<string, string> = {};
        for (const name of FORWARDED_RESPONSE_HEADERS) {
          const v = res.headers[name];
          if (typeof v === 'string') out[name] = v;
        }
        resolve({ upstream, status, headers: out, body: res });
      });
      req.end();
    });
  }
}
