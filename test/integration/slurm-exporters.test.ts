/**
 * Exporters inside Slurm jobs against the REAL single-node Slurm and a real Prometheus: Debian's
 * prometheus-node-exporter started as a step of a running job (srun --overlap), scraped with the
 * job's labels, gone when the session is deleted or the job ends; bad requests register nothing.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { ExporterView } from '../../src/slurm/exporter-manager.js';
import { freePort, startTestService, waitFor, type TestService } from '../helpers/harness.js';
import { NODE_NAME, TestJobs, jobSteps, requireSlurm } from '../helpers/slurm-cluster.js';

type ErrorAnswer = { error: { code: string; message: string; details?: Record<string, unknown> } };

async function post<T>(svc: TestService, path: string, body: unknown): Promise<{ status: number; body: T }> {
  const res = await fetch(`${svc.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body), signal: AbortSignal.timeout(60_000) });
  return { status: res.status, body: (await res.json()) as T };
}

const listens = (port: number) => fetch(`http://127.0.0.1:${port}/metrics`, { signal: AbortSignal.timeout(2000) }).then((r) => r.ok, () => false);

describe('exporters in Slurm jobs (real Slurm, real node_exporter, real Prometheus)', () => {
  let svc: TestService;
  const jobs = new TestJobs();

  before(async () => {
    await requireSlurm();
    svc = await startTestService();
  });
  after(async () => {
    await svc?.close();
    await jobs.cleanup();
  });

  it('a node exporter deployed for a job is scraped with the job labels, and its step is gone after the session is deleted', async (ctx) => {
    await svc.client.createSession({ session_id: 'exp-1' });
    const jobId = await jobs.submitSleeper();
    await jobs.waitState(jobId, 'running');
    const port = await freePort();
    const t0 = Date.now();
    const started = await post<ExporterView>(svc, '/api/v1/sessions/exp-1/exporters', { kind: 'node', slurm_job_id: jobId, port });
    ctx.diagnostic(`exporter started in ${Date.now() - t0} ms`);
    assert.equal(started.status, 201, JSON.stringify(started.body));
    const ex = started.body;
    assert.equal(ex.exporter_id, `node-${jobId}`);
    assert.equal(ex.state, 'running');
    assert.match(ex.step_id ?? '', new RegExp(`^${jobId}\\.\\d+$`));
    assert.deepEqual(ex.nodes, [{ node: NODE_NAME, endpoint: `127.0.0.1:${port}` }]);
    assert.equal(ex.target_id, `node_exporter-${jobId}`);

    const steps = await jobSteps(jobId);
    assert.ok(steps.some((s) => s.stepId === ex.step_id && s.name === 'benchmon-exporter-node-exp-1'), JSON.stringify(steps));
    const listed = (await svc.client.listExporters('exp-1')).exporters;
    assert.deepEqual(listed.map((e) => [e.exporter_id, e.state, e.step_id]), [[`node-${jobId}`, 'running', ex.step_id]]);

    const target = (await svc.client.listTargets('exp-1')).targets.find((t) => t.target_id === ex.target_id);
    assert.equal(target?.role, 'exporter');
    assert.equal(target?.target_type, 'node_exporter');
    const sample = await waitFor('node_exporter series with the job labels', async () => {
      const r = await svc.client.query(`node_exporter_build_info{slurm_job_id="${jobId}"}`);
      return r.resultType === 'vector' && r.result.length > 0 ? r.result[0] : undefined;
    }, 30_000, 250);
    assert.equal(sample.metric.node, NODE_NAME);
    assert.equal(sample.metric.session, 'exp-1');
    assert.equal(sample.metric.role, 'exporter');
    assert.equal(sample.metric.target_type, 'node_exporter');
    const cpu = await svc.client.query(`count(node_cpu_seconds_total{slurm_job_id="${jobId}", node="${NODE_NAME}"})`);
    assert.ok(cpu.resultType === 'vector' && Number(cpu.result[0]?.value[1]) > 0, 'node metrics carry the job labels');

    await svc.client.deleteSession('exp-1');
    const remaining = await jobSteps(jobId);
    assert.equal(remaining.some((s) => s.stepId === ex.step_id), false, `the exporter step is still there: ${JSON.stringify(remaining)}`);
    assert.equal(await listens(port), false, 'the exporter still answers');
    assert.equal((await jobs.slurm.job(jobId)).state, 'RUNNING', 'deleting the session leaves the job running');
  });

  it('the exporter stops when its job ends, and the listing says so', async () => {
    await svc.client.createSession({ session_id: 'exp-2' });
    const jobId = await jobs.submitSleeper();
    await jobs.waitState(jobId, 'running');
    const port = await freePort();
    const started = await post<ExporterView>(svc, '/api/v1/sessions/exp-2/exporters', { kind: 'node', slurm_job_id: Number(jobId), port });
    assert.equal(started.status, 201, JSON.stringify(started.body));
    await jobs.slurm.cancel(jobId);
    const stopped = await waitFor('the exporter to be stopped', async () => {
      const [e] = (await svc.client.listExporters('exp-2')).exporters;
      return e?.state === 'stopped' ? e : undefined;
    }, 20_000, 250);
    assert.equal(stopped.step_id, null);
    assert.match(stopped.detail ?? '', /CANCELLED|ended/);
    const target = await waitFor('the job tracker to record the end of the job', async () => {
      const t = (await svc.client.listTargets('exp-2')).targets.find((x) => x.target_id === `node_exporter-${jobId}`);
      return t?.health === 'ended' ? t : undefined;
    }, 10_000, 250);
    assert.equal(target?.slurm?.state, 'CANCELLED');
    await waitFor('the exporter to stop listening', async () => !(await listens(port)), 10_000);
  });

  it('benchmon shutdown stops the exporter step; the next start launches it again while the job runs', async () => {
    await svc.client.createSession({ session_id: 'exp-4' });
    const jobId = await jobs.submitSleeper();
    await jobs.waitState(jobId, 'running');
    const port = await freePort();
    const started = await post<ExporterView>(svc, '/api/v1/sessions/exp-4/exporters', { kind: 'node', slurm_job_id: jobId, port });
    assert.equal(started.status, 201, JSON.stringify(started.body));
    const env = svc.env;
    await svc.close();
    const exporterSteps = async () => (await jobSteps(jobId)).filter((st) => st.name.startsWith('benchmon-exporter'));
    try {
      assert.deepEqual(await exporterSteps(), [], 'an exporter step outlived benchmon');
      assert.equal(await listens(port), false);
    } finally {
      svc = await startTestService({ ...env });
    }
    const resumed = await waitFor('the exporter to run again', async () => {
      const [e] = (await svc.client.listExporters('exp-4')).exporters;
      return e?.state === 'running' && e.step_id ? e : undefined;
    }, 20_000, 250);
    assert.notEqual(resumed.step_id, started.body.step_id);
    await waitFor('the resumed exporter to answer', () => listens(port), 10_000);
    await svc.client.deleteSession('exp-4');
    assert.deepEqual(await exporterSteps(), []);
  });

  it('bad requests → 4xx naming the field; nothing started or registered', async () => {
    await svc.client.createSession({ session_id: 'exp-3' });
    const pending = await jobs.submitSleeper({ begin: 'now+600' });
    const cases: Array<[unknown, number, string, string]> = [
      [{ kind: 'bogus', slurm_job_id: '1' }, 400, 'VALIDATION_FAILED', 'kind'],
      [{ kind: 'node', slurm_job_id: 'abc' }, 400, 'VALIDATION_FAILED', 'slurm_job_id'],
      [{ kind: 'node', slurm_job_id: '1', port: 70000 }, 400, 'VALIDATION_FAILED', 'port'],
      [{ kind: 'node', slurm_job_id: '999999', port: 19100 }, 404, 'SLURM_JOB_NOT_FOUND', 'slurm_job_id'],
      [{ kind: 'node', slurm_job_id: pending, port: 19100 }, 422, 'UNPROCESSABLE', 'slurm_job_id'],
    ];
    for (const [body, status, code, field] of cases) {
      const r = await post<ErrorAnswer>(svc, '/api/v1/sessions/exp-3/exporters', body);
      assert.equal(r.status, status, `${JSON.stringify(body)} → ${JSON.stringify(r.body)}`);
      assert.equal(r.body.error.code, code);
      assert.equal(r.body.error.details?.field, field, JSON.stringify(r.body));
    }
    assert.deepEqual((await svc.client.listExporters('exp-3')).exporters, []);
    assert.deepEqual((await svc.client.listTargets('exp-3')).targets, []);
    assert.deepEqual(await jobSteps(pending), []);
  });
});
