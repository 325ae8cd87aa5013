/**
 * Typed client for benchmon's REST API: used by the CLI, the tests and any benchmark program
 * that registers itself (`import { BenchmonClient } from 'benchmon'`).
 */
import type { CreateSessionBody, RegisterTargetBody, Session, Target, TargetWithHealth } from '../sessions/model.js';
import type { PrometheusHealth, SessionStatus, WaitResult } from '../sessions/monitoring-service.js';
import type { QueryResult, TargetsResult } from '../prometheus/client.js';
import type { CollectRequestBody, CollectionSummary } from '../collect/run-collection.js';
import type { CollectProgress } from '../collect/collector.js';
import type { EndPhaseBody, MarkPhaseBody, Phase } from '../collect/phases.js';
import type { Manifest } from '../artifacts/manifest.js';
import type { ReportOutcome } from '../web/report.js';
import type { TimeseriesJson } from '../web/timeseries-json.js';
import type { ExporterView } from '../slurm/exporter-manager.js';
import type { StartExporterBody } from '../slurm/exporters.js';
import type { CompareRequest, CompareResult } from '../compare/run-compare.js';

import { ERROR_CODES, type ErrorCode } from '../errors.js';

/** What a collect request answers: the collection, and where its report.html is (or why it is not). */
export type CollectAnswer = CollectionSummary & ReportOutcome;

export class BenchmonApiError extends Error {
  constructor(readonly status: number, readonly code: string, message: string, readonly details?: Record<string, unknown>) {
    super(message);
    this.name = 'BenchmonApiError';
  }
}

/** A collection of a long window can take minutes. */
const COLLECT_TIMEOUT_MS = 30 * 60_000;

export interface ClientOptions { token?: string | undefined; timeoutMs?: number }

export class BenchmonClient {
  private readonly baseUrl: string;

  constructor(baseUrl: string, private readonly options: ClientOptions = {}) {
    this.baseUrl = baseUrl.replace(/\/+$/, '');
  }

  private async call<T>(method: string, path: string, body?: unknown, timeoutMs = this.options.timeoutMs ?? 60_000): Promise<T> {
    const res = await this.send(method, path, body, timeoutMs);
    const text = await res.text();
    if (!res.ok) return this.fail(res, text);
    try {
      return (text === '' ? undefined : JSON.parse(text)) as T;
    } catch {
      throw new BenchmonApiError(res.status, 'BAD_RESPONSE', `benchmon answered ${method} ${path} with something that is not JSON`);
    }
  }

  private fail(res: Response, text: string): never {
    let parsed: unknown;
    try {
      parsed = text === '' ? undefined : JSON.parse(text);
    } catch {
      parsed = undefined;
    }
    const e = (parsed as { error?: { code?: string; message?: string; details?: Record<string, unknown> } } | undefined)?.error;
    throw new BenchmonApiError(res.status, e?.code ?? `HTTP_${res.status}`, e?.message ?? (text.slice(0, 200) || res.statusText), e?.details);
  }

  private async send(method: string, path: string, body: unknown, timeoutMs: number): Promise<Response> {
    const headers: Record<string, string> = {};
    if (body !== undefined) headers['content-type'] = 'application/json';
    if (this.options.token) headers.authorization = `Bearer ${this.options.token}`;
    let res: Response;
    try {
      res = await fetch(`${this.baseUrl}${path}`, {
        method,
        headers,
        body: body === undefined ? null : JSON.stringify(body),
        signal: AbortSignal.timeout(timeoutMs),
      });
    } catch (err) {
      const cause = (err as { cause?: { code?: string; message?: string } }).cause;
      const why = (err as Error).name === 'TimeoutError' ? `no answer within ${timeoutMs} ms` : cause?.code ?? cause?.message ?? (err as Error).message;
      throw new BenchmonApiError(0, 'UNREACHABLE', `cannot reach benchmon at ${this.baseUrl}: ${why}`);
    }
    return res;
  }

  createSession(body: CreateSessionBody): Promise<Session> {
    return this.call('POST', '/api/v1/sessions', body);
  }

  listSessions(): Promise<{ sessions: Array<Session & { target_count: number }> }> {
    return this.call('GET', '/api/v1/sessions');
  }

  sessionStatus(sessionId: string): Promise<SessionStatus> {
    return this.call('GET', `/api/v1/sessions/${encodeURIComponent(sessionId)}`);
  }

  deleteSession(sessionId: string): Promise<{ deleted: true; session_id: string; targets_removed: number }> {
    return this.call('DELETE', `/api/v1/sessions/${encodeURIComponent(sessionId)}`);
  }

  registerTarget(sessionId: string, body: RegisterTargetBody, wait?: { up: true; timeoutSeconds?: number }): Promise<{ target: TargetWithHealth; wait: WaitResult | null }> {
    const qs = wait ? `?wait=up&timeout=${wait.timeoutSeconds ?? 30}` : '';
    const timeout = wait ? ((wait.timeoutSeconds ?? 30) + 30) * 1000 : undefined;
    return this.call('POST', `/api/v1/sessions/${encodeURIComponent(sessionId)}/targets${qs}`, body, timeout);
  }

  listTargets(sessionId: string): Promise<{ targets: TargetWithHealth[]; health_error: string | null }> {
    return this.call('GET', `/api/v1/sessions/${encodeURIComponent(sessionId)}/targets`);
  }

  deregisterTarget(sessionId: string, targetId: string): Promise<{ deleted: Target }> {
    return this.call('DELETE', `/api/v1/sessions/${encodeURIComponent(sessionId)}/targets/${encodeURIComponent(targetId)}`);
  }

  /** Start an exporter (kind node, dcgm) on every node of a running Slurm job and register it. */
  startExporter(sessionId: string, body: StartExporterBody): Promise<ExporterView> {
    return this.call('POST', `/api/v1/sessions/${encodeURIComponent(sessionId)}/exporters`, body);
  }

  listExporters(sessionId: string): Promise<{ exporters: ExporterView[] }> {
    return this.call('GET', `/api/v1/sessions/${encodeURIComponent(sessionId)}/exporters`);
  }

  removeExporter(sessionId: string, exporterId: string): Promise<{ deleted: ExporterView }> {
    return this.call('DELETE', `/api/v1/sessions/${encodeURIComponent(sessionId)}/exporters/${encodeURIComponent(exporterId)}`);
  }

  prometheusTargets(state?: 'active' | 'dropped' | 'any'): Promise<TargetsResult> {
    return this.call('GET', `/api/v1/prometheus/targets${state ? `?state=${state}` : ''}`);
  }

  query(query: string, time?: string | number): Promise<QueryResult> {
    return this.call('POST', '/api/v1/prometheus/query', time === undefined ? { query } : { query, time });
  }

  queryRange(query: string, start: string | number, end: string | number, step: string | number): Promise<QueryResult> {
    return this.call('POST', '/api/v1/prometheus/query_range', { query, start, end, step });
  }

  prometheusHealth(): Promise<PrometheusHealth> {
    return this.call('GET', '/api/v1/prometheus/health');
  }

  /**
   * Collect a window. With onProgress, the answer is streamed (NDJSON) and each progress event
   * is passed on as it happens; the promise settles with the collection or its error.
   */
  async collect(sessionId: string, body: CollectRequestBody, onProgress?: (p: CollectProgress) => void): Promise<CollectAnswer> {
    const path = `/api/v1/sessions/${encodeURIComponent(sessionId)}/collect`;
    if (!onProgress) return this.call('POST', path, body, COLLECT_TIMEOUT_MS);
    const res = await this.send('POST', `${path}?progress=ndjson`, body, COLLECT_TIMEOUT_MS);
    if (!res.ok || !res.body) return this.fail(res, await res.text());
    let buffered = '';
    let result: CollectAnswer | undefined;
    const decoder = new TextDecoder();
    const handle = (text: string) => {
      if (text.trim() === '') return;
      const event = JSON.parse(text) as { type: string; collection?: CollectAnswer; error?: { code: string; message: string; details?: Record<string, unknown> } } & CollectProgress;
      if (event.type === 'progress') onProgress(event);
      else if (event.type === 'result') result = event.collection;
      else if (event.type === 'error') {
        const code = event.error?.code ?? 'INTERNAL';
        const status = code in ERROR_CODES ? ERROR_CODES[code as ErrorCode].status : 502;
        throw new BenchmonApiError(status, code, event.error?.message ?? 'collection failed', event.error?.details);
      }
    };
    for await (const chunk of res.body as AsyncIterable<Uint8Array>) {
      buffered += decoder.decode(chunk, { stream: true });
      let nl: number;
      while ((nl = buffered.indexOf('\n')) >= 0) {
        handle(buffered.slice(0, nl));
        buffered = buffered.slice(nl + 1);
      }
    }
    handle(buffered);
    if (!result) throw new BenchmonApiError(502, 'COLLECT_FAILED', 'the collection stream ended without a result');
    return result;
  }

  listCollections(sessionId: string): Promise<{ collections: Array<CollectionSummary & { manifest_content: unknown; manifest_error: string | null }> }> {
    return this.call('GET', `/api/v1/sessions/${encodeURIComponent(sessionId)}/collections`);
  }

  getCollection(collectionId: string): Promise<CollectionSummary & { manifest_content: Manifest }> {
    return this.call('GET', `/api/v1/collections/${encodeURIComponent(collectionId)}`);
  }

  /** The collection's time series as the plots draw them (one time axis, series, panels). */
  collectionTimeseries(collectionId: string): Promise<TimeseriesJson> {
    return this.call('GET', `/api/v1/collections/${encodeURIComponent(collectionId)}/timeseries`);
  }

  /** Re-creates the collection's report.html on the server; answers its path there. */
  writeReport(collectionId: string): Promise<{ collection_id: string; path: string }> {
    return this.call('POST', `/api/v1/collections/${encodeURIComponent(collectionId)}/report`);
  }

  /** Mark a phase (warmup, steady, …): start default now; open until endPhase unless end_time is given. */
  markPhase(sessionId: string, body: MarkPhaseBody): Promise<Phase> {
    return this.call('POST', `/api/v1/sessions/${encodeURIComponent(sessionId)}/phases`, body);
  }

  /** End an open phase (end default now). */
  endPhase(sessionId: string, name: string, body: EndPhaseBody = {}): Promise<Phase> {
    return this.call('POST', `/api/v1/sessions/${encodeURIComponent(sessionId)}/phases/${encodeURIComponent(name)}/end`, body);
  }

  listPhases(sessionId: string): Promise<{ phases: Phase[] }> {
    return this.call('GET', `/api/v1/sessions/${encodeURIComponent(sessionId)}/phases`);
  }

  getPhase(sessionId: string, name: string): Promise<Phase> {
    return this.call('GET', `/api/v1/sessions/${encodeURIComponent(sessionId)}/phases/${encodeURIComponent(name)}`);
  }

  deletePhase(sessionId: string, name: string): Promise<{ deleted: Phase }> {
    return this.call('DELETE', `/api/v1/sessions/${encodeURIComponent(sessionId)}/phases/${encodeURIComponent(name)}`);
  }

  /** Compare a candidate collection with a baseline (one id or several), with an optional inline gate. */
  compare(body: CompareRequest): Promise<CompareResult> {
    return this.call('POST', '/api/v1/compare', body);
  }

  reload(): Promise<{ reloaded: true; checksum: string; changed: boolean }> {
    return this.call('POST', '/api/v1/prometheus/reload');
  }
}
