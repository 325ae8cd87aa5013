/**
 * Targets by Slurm job id, against the REAL single-node Slurm (scripts/slurm/start.sh) and a real
 * Prometheus: register by job id, scrape with slurm_job_id and node labels, follow the job from
 * PENDING to RUNNING to CANCELLED, and refuse bad input or a Slurm that does not answer without
 * registering anything.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { TargetWithHealth } from '../../src/sessions/model.js';
import { freePort, startTestService, waitFor, type TestService } from '../helpers/harness.js';
import { runBenchmon } from '../helpers/processes.js';
import { NODE_NAME, TestJobs, fileSdGroups, requireSlurm, vllmExposition } from '../helpers/slurm-cluster.js';

interface Answer<T = Record<string, unknown>> { status: number; body: T }

async function call<T = Record<string, unknown>>(svc: TestService, method: string, url: string, body?: unknown): Promise<Answer<T>> {
  const res = await fetch(`${svc.url}${url}`, {
    method,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? null : JSON.stringify(body),
    signal: AbortSignal.timeout(90_000),
  });
  return { status: res.status, body: (await res.json()) as T };
}

type ErrorAnswer = { error: { code: string; message: string; details?: Record<string, unknown> } };
type Registered = { target: TargetWithHealth; wait: { satisfied: boolean; waited_ms: number; pending: string[] } | null };

const SCRAPE_INTERVAL_MS = 1000;
/** Prometheus's discovery manager sends updates at most every 5 s; the tracker polls every 2 s (default). */
const DISCOVERY_MS = 5000;
const POLL_MS = 2000;

describe('targets by Slurm job id (real Slurm, real Prometheus)', () => {
  let svc: TestService;
  const jobs = new TestJobs();
  const metrics = vllmExposition();

  before(async () => {
    await requireSlurm();
    svc = await startTestService();
    await svc.client.createSession({ session_id: 'slurm-t', labels: { benchmark: 'slurm' } });
  });
  after(async () => {
    await svc?.close();
    await jobs.cleanup();
  });

  it('a running job registered with ?wait=up is up with slurm_job_id and node labels; scancel → it leaves the config and status shows CANCELLED', async (ctx) => {
    const port = await freePort();
    const jobId = await jobs.submitServer(port, metrics);
    const reg = await call<Registered>(svc, 'POST', '/api/v1/sessions/slurm-t/targets?wait=up&timeout=40', { target_type: 'vllm', slurm: { job_id: jobId, port } });
    assert.equal(reg.status, 201, JSON.stringify(reg.body));
    const t = reg.body.target;
    assert.equal(reg.body.wait?.satisfied, true, `still pending: ${reg.body.wait?.pending.join(', ')}`);
    assert.equal(t.health, 'up');
    assert.equal(t.job_name, `vllm-${jobId}`, 'job_name defaults to <target_type>-<job_id>');
    assert.equal(t.job_id, jobId);
    assert.equal(t.slurm?.state, 'RUNNING');
    assert.deepEqual(t.slurm?.nodes, [{ node: NODE_NAME, endpoint: `127.0.0.1:${port}` }]);
    assert.deepEqual(t.endpoints, [`127.0.0.1:${port}`]);

    const active = (await svc.client.prometheusTargets('active')).activeTargets.find((a) => a.labels.job === `vllm-${jobId}`);
    assert.ok(active, 'not in Prometheus active targets');
    assert.equal(active.health, 'up');
    assert.equal(active.labels.slurm_job_id, jobId);
    assert.equal(active.labels.node, NODE_NAME);
    assert.equal(active.labels.session, 'slurm-t');
    assert.equal(active.labels.target_type, 'vllm');
    assert.equal(active.labels.benchmark, 'slurm');

    // Every series of the job carries both labels.
    const series = await waitFor('the job series in Prometheus', async () => {
      const r = await svc.client.query(`count by (slurm_job_id, node, __name__) ({slurm_job_id="${jobId}"})`);
      return r.resultType === 'vector' && r.result.length > 3 ? r.result : undefined;
    });
    for (const s of series) assert.equal(s.metric.node, NODE_NAME, JSON.stringify(s.metric));
    const unlabelled = await svc.client.query(`count({job="vllm-${jobId}", slurm_job_id=""}) or vector(0)`);
    assert.equal(unlabelled.resultType === 'vector' ? unlabelled.result[0]?.value[1] : 'x', '0', 'some series of the job lack slurm_job_id');

    assert.ok(fileSdGroups(svc.settings.PROMETHEUS_CONFIG_PATH, 'slurm-t').some((g) => g.targets.includes(`127.0.0.1:${port}`)));

    const t0 = Date.now();
    await jobs.slurm.cancel(jobId);
    await waitFor('the target to leave file_sd and Prometheus', async () => {
      if (fileSdGroups(svc.settings.PROMETHEUS_CONFIG_PATH, 'slurm-t').some((g) => g.labels.slurm_job_id === jobId)) return false;
      const still = (await svc.client.prometheusTargets('active')).activeTargets.some((a) => a.labels.slurm_job_id === jobId);
      return !still;
    }, 30_000, 100);
    const gone = Date.now() - t0;
    ctx.diagnostic(`scancel → target gone from file_sd and Prometheus in ${gone} ms`);
    const budget = 2 * SCRAPE_INTERVAL_MS + DISCOVERY_MS + POLL_MS + 1000;
    assert.ok(gone <= budget, `left the config after ${gone} ms, more than two scrape intervals + discovery + one poll (${budget} ms)`);

    const status = await svc.client.sessionStatus('slurm-t');
    const ended = status.targets.find((x) => x.target_id === `vllm-${jobId}`);
    assert.equal(ended?.slurm?.state, 'CANCELLED', 'status shows the final job state');
    assert.equal(ended?.health, 'ended');
    assert.deepEqual(ended?.endpoints, []);
    assert.deepEqual(ended?.slurm?.nodes.map((n) => n.node), [NODE_NAME], 'where it ran stays visible');
  });

  it('a job with --begin in the future: accepted while PENDING, shown pending, goes live when it starts', async () => {
    const port = await freePort();
    const submittedAt = Date.now();
    const jobId = await jobs.submitServer(port, metrics, { begin: 'now+8' });
    const reg = await call<Registered>(svc, 'POST', '/api/v1/sessions/slurm-t/targets', { target_type: 'qdrant', slurm: { job_id: Number(jobId), port } });
    assert.equal(reg.status, 201, JSON.stringify(reg.body));
    assert.equal(reg.body.target.health, 'pending');
    assert.equal(reg.body.target.slurm?.state, 'PENDING');
    assert.equal(reg.body.target.slurm?.reason, 'BeginTime');
    assert.deepEqual(reg.body.target.endpoints, []);
    assert.equal(fileSdGroups(svc.settings.PROMETHEUS_CONFIG_PATH, 'slurm-t').some((g) => g.labels.slurm_job_id === jobId), false, 'a pending job has no endpoints in file_sd');
    const listed = (await svc.client.listTargets('slurm-t')).targets.find((x) => x.target_id === `qdrant-${jobId}`);
    assert.equal(listed?.health, 'pending');
    assert.equal(listed?.slurm?.state, 'PENDING');

    // Slurm starts a job whose begin time has come at its next scheduling pass: the periodic one
    // (sched_interval 60 s, backfill 30 s) or one triggered by an event such as a submission. A
    // trivial job submitted after the begin time triggers it, so the test does not wait up to a minute.
    await new Promise((r) => setTimeout(r, Math.max(0, submittedAt + 8500 - Date.now())));
    await jobs.submit('#!/bin/sh\ntrue\n', { jobName: 'benchmon-test-kick' });
    const live = await waitFor('the pending job to run and be scraped', async () => {
      const x = (await svc.client.listTargets('slurm-t')).targets.find((y) => y.target_id === `qdrant-${jobId}`);
      return x?.health === 'up' ? x : undefined;
    }, 40_000, 250);
    assert.equal(live.slurm?.state, 'RUNNING');
    assert.deepEqual(live.endpoints, [`127.0.0.1:${port}`]);
    const active = (await svc.client.prometheusTargets('active')).activeTargets.find((a) => a.labels.job === `qdrant-${jobId}`);
    assert.equal(active?.labels.node, NODE_NAME);
    assert.equal(active?.labels.slurm_job_id, jobId);
  });

  it('CLI: service-register --job-id --port --wait uses the Slurm form', async () => {
    const port = await freePort();
    const jobId = await jobs.submitServer(port, metrics);
    const r = await runBenchmon(['--url', svc.url, 'service-register', '--session', 'slurm-t', '--job-id', jobId, '--name', 'vllm', '--port', String(port), '--wait', '--timeout', '40'], {});
    assert.equal(r.code, 0, r.stderr + r.stdout);
    assert.match(r.stdout, new RegExp(`Slurm job ${jobId} (PENDING|RUNNING)`));
    assert.match(r.stdout, /^up after \d+\.\d s$/m);
    const t = (await svc.client.listTargets('slurm-t')).targets.find((x) => x.target_id === `vllm-${jobId}`);
    assert.equal(t?.health, 'up');
    // status shows every Slurm target with its job state, also the ended one without endpoints.
    const status = await runBenchmon(['--url', svc.url, 'status', '--session', 'slurm-t'], {});
    assert.equal(status.code, 0, status.stderr);
    assert.match(status.stdout, new RegExp(`^vllm-${jobId} .* up .*RUNNING`, 'm'));
    assert.match(status.stdout, /^vllm-\d+ .*ended .*CANCELLED/m);
    const bad = await runBenchmon(['--url', svc.url, 'service-register', '--session', 'slurm-t', '--name', 'vllm', '--port', '8000'], {});
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /--job-id/);
  });

  it('bad input → 4xx naming the field, and nothing registered', async () => {
    const before = (await svc.client.listTargets('slurm-t')).targets.map((t) => t.target_id);
    const sleeper = await jobs.submitSleeper();
    const cases: Array<[unknown, number, string, string]> = [
      [{ target_type: 'vllm', slurm: { job_id: 'abc', port: 8000 } }, 400, 'VALIDATION_FAILED', 'slurm.job_id'],
      [{ target_type: 'vllm', slurm: { job_id: '1; scancel -u root', port: 8000 } }, 400, 'VALIDATION_FAILED', 'slurm.job_id'],
      [{ target_type: 'vllm', slurm: { job_id: sleeper, port: 70000 } }, 400, 'VALIDATION_FAILED', 'slurm.port'],
      [{ target_type: 'vllm', slurm: { job_id: sleeper, port: 0 } }, 400, 'VALIDATION_FAILED', 'slurm.port'],
      [{ target_type: 'vllm', slurm: { job_id: sleeper } }, 400, 'VALIDATION_FAILED', 'slurm.port'],
      [{ target_type: 'vllm', slurm: { job_id: '999999', port: 8000 } }, 404, 'SLURM_JOB_NOT_FOUND', 'slurm.job_id'],
      [{ target_type: 'vllm', slurm: { job_id: sleeper, port: 8000 }, scrape_config: { job_name: 'x', targets: ['127.0.0.1:1'] } }, 400, 'VALIDATION_FAILED', 'slurm'],
      [{ target_type: 'vllm' }, 400, 'VALIDATION_FAILED', 'scrape_config'],
      [{ target_type: 'vllm', via_proxy: true, scrape_config: { job_name: 'x', targets: ['127.0.0.1:1'] } }, 400, 'VALIDATION_FAILED', 'via_proxy'],
      [{ target_type: 'vllm', labels: { node: 'x' }, slurm: { job_id: sleeper, port: 8000 } }, 400, 'VALIDATION_FAILED', 'labels.node'],
    ];
    for (const [body, status, code, field] of cases) {
      const r = await call<ErrorAnswer>(svc, 'POST', '/api/v1/sessions/slurm-t/targets', body);
      assert.equal(r.status, status, `${JSON.stringify(body)} → ${JSON.stringify(r.body)}`);
      assert.equal(r.body.error.code, code, JSON.stringify(r.body));
      assert.equal(r.body.error.details?.field, field, JSON.stringify(r.body));
      assert.ok(r.body.error.message.startsWith(`${field}:`) || code === 'SLURM_JOB_NOT_FOUND', r.body.error.message);
    }
    const unknown = await call<ErrorAnswer>(svc, 'POST', '/api/v1/sessions/slurm-t/targets', { target_type: 'vllm', slurm: { job_id: '999999', port: 8000 } });
    assert.match(unknown.body.error.message, /999999/);
    assert.equal(unknown.body.error.details?.job_id, '999999');
    assert.deepEqual((await svc.client.listTargets('slurm-t')).targets.map((t) => t.target_id), before, 'a rejected registration was stored');
  });
});

describe('Slurm unavailable → 503 naming the command, nothing registered', () => {
  const services: TestService[] = [];
  after(async () => {
    for (const s of services) await s.close();
  });

  const register = async (svc: TestService) => {
    await svc.client.createSession({ session_id: 'down' });
    const t0 = Date.now();
    const r = await call<ErrorAnswer>(svc, 'POST', '/api/v1/sessions/down/targets', { target_type: 'vllm', slurm: { job_id: '42', port: 8000 } });
    const ms = Date.now() - t0;
    assert.equal(r.status, 503, JSON.stringify(r.body));
    assert.equal(r.body.error.code, 'SLURM_UNAVAILABLE');
    assert.deepEqual((await svc.client.listTargets('down')).targets, [], 'something was registered half-way');
    assert.deepEqual(fileSdGroups(svc.settings.PROMETHEUS_CONFIG_PATH, 'down'), []);
    return { message: r.body.error.message, ms };
  };

  it('Slurm commands missing', async () => {
    const svc = await startTestService({ SLURM_BIN_DIR: '/nonexistent/slurm/bin' });
    services.push(svc);
    const { message } = await register(svc);
    assert.match(message, /^squeue --json: .*squeue not found/);
  });

  it("slurmctld down (a client configuration whose controller nobody answers): Slurm's own message", async () => {
    await requireSlurm();
    const dir = fs.mkdtempSync(path.join(svcTmp(), 'slurm-down-'));
    const conf = fs.readFileSync('/etc/slurm/slurm.conf', 'utf8').replace(/^SlurmctldPort=.*$/m, '');
    const downConf = path.join(dir, 'slurm-down.conf');
    fs.writeFileSync(downConf, `${conf}\nSlurmctldPort=${await freePort()}\n`);
    // The commands run through a prefix, as on clusters where they go through a wrapper.
    const svc = await startTestService({ SLURM_COMMAND_PREFIX: `env SLURM_CONF=${downConf}` });
    services.push(svc);
    const { message, ms } = await register(svc);
    assert.match(message, /squeue --json reported: slurm_load_jobs/);
    assert.ok(ms < 30_000, `took ${ms} ms`);
    fs.rmSync(dir, { recursive: true, force: true });
  });
});

function svcTmp(): string {
  return process.env.TMPDIR ?? '/tmp';
}
