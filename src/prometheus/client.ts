/**
 * Typed client for Prometheus's HTTP API. Every call has a timeout and every failure names the
 * call that failed and why (unreachable, HTTP status, Prometheus's errorType and error text).
 * fetch does not throw on 4xx/5xx, so each answer's status is checked.
 */
import { BenchmonError } from '../errors.js';

export interface PromSuccess<T> { status: 'success'; data: T; warnings?: string[] }
export interface PromFailure { status: 'error'; errorType: string; error: string }

export type PromLabels = Record<string, string>;
export interface VectorSample { metric: PromLabels; value: [number, string] }
export interface MatrixSeries { metric: PromLabels; values: Array<[number, string]> }
export type QueryResult =
  | { resultType: 'vector'; result: VectorSample[] }
  | { resultType: 'matrix'; result: MatrixSeries[] }
  | { resultType: 'scalar'; result: [number, string] }
  | { resultType: 'string'; result: [number, string] };

export interface ActiveTarget {
  discoveredLabels: PromLabels;
  labels: PromLabels;
  scrapePool: string;
  scrapeUrl: string;
  globalUrl: string;
  lastError: string;
  lastScrape: string;
  lastScrapeDuration: number;
  health: 'up' | 'down' | 'unknown';
  scrapeInterval?: string;
  scrapeTimeout?: string;
}
export interface TargetsResult { activeTargets: ActiveTarget[]; droppedTargets: Array<{ discoveredLabels: PromLabels }> }
export interface BuildInfo { version: string; revision: string; branch: string; buildUser: string; buildDate: string; goVersion: string }
export interface RuntimeInfo { startTime: string; CWD: string; reloadConfigSuccess: boolean; lastConfigTime: string; storageRetention: string; [k: string]: unknown }

export type TimeArg = string | number | Date;

function timeParam(t: TimeArg): string {
  if (t instanceof Date) return (t.getTime() / 1000).toString();
  return String(t);
}

export class PrometheusClient {
  constructor(public baseUrl: string, private readonly timeoutMs: number = 10_000) {}

  /** Point the client at another address (PROMETHEUS_MODE=slurm: the node the Prometheus job landed on). */
  setBaseUrl(url: string): void {
    this.baseUrl = url.replace(/\/+$/, '');
  }

  private async request(call: string, pathAndQuery: string, init: RequestInit = {}, timeoutMs = this.timeoutMs): Promise<Response> {
    try {
      return await fetch(`${this.baseUrl}${pathAndQuery}`, { ...init, signal: AbortSignal.timeout(timeoutMs) });
    } catch (err) {
      const reason = (err as Error).name === 'TimeoutError' ? `no answer within ${timeoutMs} ms` : describeFetchError(err);
      throw new BenchmonError('PROM_UNAVAILABLE', `Prometheus ${call} at ${this.baseUrl} failed: ${reason}`, { cause: err });
    }
  }

  /** Calls an /api/v1 endpoint and unwraps `data`; Prometheus's errorType/error are kept in the message. */
  private async api<T>(call: string, pathAndQuery: string, init?: RequestInit): Promise<T> {
    const res = await this.request(call, pathAndQuery, init);
    const text = await res.text();
    let body: PromSuccess<T> | PromFailure | undefined;
    try {
      body = JSON.parse(text) as PromSuccess<T> | PromFailure;
    } catch {
      body = undefined;
    }
    if (res.ok && body?.status === 'success') return body.data;
    const detail = body && body.status === 'error' ? `${body.errorType}: ${body.error}` : text.slice(0, 300);
    const code = res.status === 503 ? 'PROM_UNAVAILABLE' : 'PROM_REQUEST_FAILED';
    throw new BenchmonError(code, `Prometheus ${call} failed with HTTP ${res.status}: ${detail}`, {
      details: { prometheus_status: res.status, error_type: body && body.status === 'error' ? body.errorType : undefined },
    });
  }

  async isHealthy(): Promise<boolean> {
    try {
      return (await this.request('health check', '/-/healthy', {}, 2000)).ok;
    } catch {
      return false;
    }
  }

  async isReady(): Promise<boolean> {
    try {
      return (await this.request('readiness check', '/-/ready', {}, 2000)).ok;
    } catch {
      return false;
    }
  }

  /**
   * POST /-/reload. Prometheus answers 200 once the new config is applied, 500 with the reason
   * when it rejects it, 403 when started without --web.enable-lifecycle.
   */
  async reloadConfig(timeoutMs = 120_000): Promise<void> {
    const res = await this.request('reload', '/-/reload', { method: 'POST' }, timeoutMs);
    if (res.ok) return;
    const text = (await res.text()).trim();
    const hint = res.status === 403 ? ' (Prometheus must run with --web.enable-lifecycle)' : '';
    throw new BenchmonError('PROM_RELOAD_FAILED', `Prometheus reload failed with HTTP ${res.status}${hint}: ${text.slice(0, 500)}`, {
      details: { prometheus_status: res.status },
    });
  }

  queryInstant(query: string, time?: TimeArg): Promise<QueryResult> {
    const params = new URLSearchParams({ query });
    if (time !== undefined) params.set('time', timeParam(time));
    return this.api('query', '/api/v1/query', { method: 'POST', body: params });
  }

  queryRange(query: string, start: TimeArg, end: TimeArg, step: string | number): Promise<QueryResult> {
    const params = new URLSearchParams({ query, start: timeParam(start), end: timeParam(end), step: String(step) });
    return this.api('query_range', '/api/v1/query_range', { method: 'POST', body: params });
  }

  getTargets(options: { state?: 'active' | 'dropped' | 'any'; scrapePool?: string } = {}): Promise<TargetsResult> {
    const params = new URLSearchParams();
    if (options.state) params.set('state', options.state);
    if (options.scrapePool) params.set('scrapePool', options.scrapePool);
    const qs = params.toString();
    return this.api('targets', `/api/v1/targets${qs ? `?${qs}` : ''}`);
  }

  buildInfo(): Promise<BuildInfo> {
    return this.api('buildinfo', '/api/v1/status/buildinfo');
  }

  runtimeInfo(): Promise<RuntimeInfo> {
    return this.api('runtimeinfo', '/api/v1/status/runtimeinfo');
  }

  /** Whether the last reload succeeded, as Prometheus itself reports it (prometheus_config_last_reload_successful). */
  async lastReloadSuccessful(): Promise<boolean> {
    return (await this.runtimeInfo()).reloadConfigSuccess;
  }
}

function describeFetchError(err: unknown): string {
  const cause = (err as { cause?: { code?: string; message?: string } }).cause;
  if (cause?.code) return `${cause.code}${cause.message ? ` (${cause.message})` : ''}`;
  return (err as Error).message;
}
