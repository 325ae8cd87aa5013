/**
 * The metrics proxy GET /metrics/{service}/{job_id} against the REAL single-node Slurm and a real
 * Prometheus: byte for byte with the upstream's content type, only for registered running Slurm
 * targets (404 otherwise), 502 when the job's server is down, 504 when it is too slow; via_proxy
 * targets are scraped through it; it stays open when an API token is set.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { TargetWithHealth } from '../../src/sessions/model.js';
import { freePort, startTestService, waitFor, type TestService } from '../helpers/harness.js';
import { NODE_NAME, TestJobs, fileSdGroups, requireSlurm, vllmExposition } from '../helpers/slurm-cluster.js';

const TOKEN = 'proxy-test-token-123';
const PROXY_TIMEOUT_MS = 2000;

type ErrorAnswer = { error: { code: string; message: string; details?: Record<string, unknown> } };

describe('metrics proxy /metrics/{service}/{job_id} (real Slurm, real Prometheus)', () => {
  let svc: TestService;
  const jobs = new TestJobs();
  const metrics = vllmExposition();
  const contentType = 'text/plain; version=0.0.4; charset=utf-8';
  let served: { jobId: string; port: number };

  const register = async (body: unknown, wait = false): Promise<{ target: TargetWithHealth; wait: { satisfied: boolean; pending: string[] } | null }> => {
    const res = await fetch(`${svc.url}/api/v1/sessions/proxy/targets${wait ? '?wait=up&timeout=40' : ''}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${TOKEN}` },
      body: JSON.stringify(body),
    });
    const json = (await res.json()) as { target: TargetWithHealth; wait: { satisfied: boolean; pending: string[] } | null };
    assert.equal(res.status, 201, JSON.stringify(json));
    return json;
  };
  const proxied = (path: string) => fetch(`${svc.url}${path}`, { signal: AbortSignal.timeout(30_000) });

  before(async () => {
    await requireSlurm();
    svc = await startTestService({ BENCHMON_API_TOKEN: TOKEN, PROXY_TIMEOUT: `${PROXY_TIMEOUT_MS}ms` });
    await svc.client.createSession({ session_id: 'proxy' });
    const port = await freePort();
    served = { jobId: await jobs.submitServer(port, metrics, { contentType }), port };
  });
  after(async () => {
    await svc?.close();
    await jobs.cleanup();
  });

  it('via_proxy: Prometheus scrapes the job through benchmon, with slurm_job_id, node and the real endpoint as instance', async () => {
    const reg = await register({ target_type: 'vllm', via_proxy: true, slurm: { job_id: served.jobId, port: served.port } }, true);
    assert.equal(reg.wait?.satisfied, true, `still pending: ${reg.wait?.pending.join(', ')}`);
    assert.equal(reg.target.health, 'up');
    assert.equal(reg.target.via_proxy, true);
    const [group] = fileSdGroups(svc.settings.PROMETHEUS_CONFIG_PATH, 'proxy');
    assert.deepEqual(group?.targets, [new URL(svc.settings.SERVER_API_URL).host], 'the rendered target is benchmon');
    assert.equal(group?.labels.__metrics_path__, `/metrics/vllm/${served.jobId}`);
    assert.equal(group?.labels.__param_node, NODE_NAME);
    const active = (await svc.client.prometheusTargets('active')).activeTargets.find((a) => a.labels.job === `vllm-${served.jobId}`);
    assert.ok(active);
    assert.equal(active.health, 'up');
    assert.equal(active.scrapeUrl, `${svc.settings.SERVER_API_URL}/metrics/vllm/${served.jobId}?node=${NODE_NAME}`);
    assert.equal(active.labels.instance, `127.0.0.1:${served.port}`);
    assert.equal(active.labels.node, NODE_NAME);
    assert.equal(active.labels.slurm_job_id, served.jobId);
    const up = await waitFor('a sample of the job through the proxy', async () => {
      const r = await svc.client.query(`vllm:num_requests_running{slurm_job_id="${served.jobId}"}`);
      return r.resultType === 'vector' && r.result.length > 0 ? r.result : undefined;
    });
    assert.equal(up[0]?.metric.node, NODE_NAME);
  });

  it("returns the job's metrics byte for byte with the upstream content type, without a token (like /metrics)", async () => {
    const direct = await fetch(`http://127.0.0.1:${served.port}/metrics`);
    const directBytes = Buffer.from(await direct.arrayBuffer());
    for (const path of [`/metrics/vllm/${served.jobId}`, `/metrics/vllm/${served.jobId}?node=${NODE_NAME}`]) {
      const res = await proxied(path);
      assert.equal(res.status, 200, path);
      assert.equal(res.headers.get('content-type'), contentType);
      assert.equal(res.headers.get('content-type'), direct.headers.get('content-type'));
      const bytes = Buffer.from(await res.arrayBuffer());
      assert.ok(bytes.equals(metrics), `${path}: the proxied body differs from the job's (${bytes.length} vs ${metrics.length} bytes)`);
      assert.ok(bytes.equals(directBytes));
    }
    const api = await fetch(`${svc.url}/api/v1/sessions`);
    assert.equal(api.status, 401, 'the API itself still needs the token');
  });

  it('anything not registered, not of that service, not running or not on that node → 404', async () => {
    const cases = [
      `/metrics/vllm/999999`,
      `/metrics/qdrant/${served.jobId}`,
      `/metrics/vllm/abc`,
      `/metrics/vllm/${served.jobId}?node=not-a-node`,
    ];
    for (const path of cases) {
      const res = await proxied(path);
      const body = (await res.json()) as ErrorAnswer;
      assert.equal(res.status, 404, `${path}: ${JSON.stringify(body)}`);
      assert.equal(body.error.code, 'PROXY_TARGET_NOT_FOUND', path);
    }
  });

  it('a registered job whose server is down → 502 with the reason', async () => {
    const port = await freePort();
    const jobId = await jobs.submitSleeper();
    await jobs.waitState(jobId, 'running');
    await register({ target_type: 'vllm', slurm: { job_id: jobId, port } });
    const res = await proxied(`/metrics/vllm/${jobId}`);
    const body = (await res.json()) as ErrorAnswer;
    assert.equal(res.status, 502, JSON.stringify(body));
    assert.equal(body.error.code, 'PROXY_UPSTREAM_FAILED');
    assert.match(body.error.message, new RegExp(`ECONNREFUSED.*127\\.0\\.0\\.1:${port}`));
    assert.match(body.error.message, new RegExp(`node ${NODE_NAME}`));
  });

  it('a slow one → 504 within the configured timeout', async () => {
    const port = await freePort();
    const jobId = await jobs.submitServer(port, metrics, { delayMs: 30_000 });
    await jobs.waitState(jobId, 'running');
    await register({ target_type: 'slowsvc', slurm: { job_id: jobId, port } });
    // The server must be listening (it answers, only late): wait until it accepts connections.
    await waitFor('the slow server to listen', async () => {
      const r = await fetch(`http://127.0.0.1:${port}/nothing`, { signal: AbortSignal.timeout(1000) }).catch(() => undefined);
      return r?.status === 404;
    }, 20_000);
    const t0 = Date.now();
    const res = await proxied(`/metrics/slowsvc/${jobId}`);
    const ms = Date.now() - t0;
    const body = (await res.json()) as ErrorAnswer;
    assert.equal(res.status, 504, JSON.stringify(body));
    assert.equal(body.error.code, 'PROXY_UPSTREAM_TIMEOUT');
    assert.ok(ms >= PROXY_TIMEOUT_MS - 50 && ms < PROXY_TIMEOUT_MS + 1500, `answered after ${ms} ms with PROXY_TIMEOUT ${PROXY_TIMEOUT_MS} ms`);
  });

  it('after the job ends the proxy serves it no more (404)', async () => {
    await jobs.slurm.cancel(served.jobId);
    await waitFor('the proxy to refuse the ended job', async () => (await proxied(`/metrics/vllm/${served.jobId}`)).status === 404, 15_000);
  });
});
