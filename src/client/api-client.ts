/**
 * Typed client for benchmon's REST API: used by the CLI, the tests and any benchmark program
 * that registers itself (`import { BenchmonClient } from 'benchmon'`).
 */
import type { CreateSessionBody, RegisterTargetBody, Session, Target, TargetWithHealth } from '../sessions/model.js';
import type { PrometheusHealth, SessionStatus, WaitResult } from '../sessions/monitoring-service.js';
import type { QueryResult, TargetsResult } from '../prometheus/client.js';

export class BenchmonApiError extends Error {
  constructor(readonly status: number, readonly code: string, message: string, readonly details?: Record<string, unknown>) {
    super(message);
    this.name = 'BenchmonApiError';
  }
}

export interface ClientOptions { token?: string | undefined; timeoutMs?: number }

export class BenchmonClient {
  private readonly baseUrl: string;

  constructor(baseUrl: string, private readonly options: ClientOptions = {}) {
    this.baseUrl = baseUrl.replace(/\/+$/, '');
  }

  private async call<T>(method: string, path: string, body?: unknown, timeoutMs = this.options.timeoutMs ?? 60_000): Promise<T> {
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
    const text = await res.text();
    let parsed: unknown;
    try {
      parsed = text === '' ? undefined : JSON.parse(text);
    } catch {
      parsed = undefined;
    }
    if (!res.ok) {
      const e = (parsed as { error?: { code?: string; message?: string; details?: Record<string, unknown> } } | undefined)?.error;
      throw new BenchmonApiError(res.status, e?.code ?? `HTTP_${res.status}`, e?.message ?? (text.slice(0, 200) || res.statusText), e?.details);
    }
    return parsed as T;
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

  reload(): Promise<{ reloaded: true; checksum: string; changed: boolean }> {
    return this.call('POST', '/api/v1/prometheus/reload');
  }
}
