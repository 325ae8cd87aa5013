/**
 * PROMETHEUS_MODE=slurm against the REAL single-node Slurm: start submits Prometheus as a batch
 * job, benchmon drives it over HTTP on the node it landed on (a session target is scraped by it),
 * a job that dies is reported and resubmitted, and stop cancels it (squeue shows none left).
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { startTestService, waitFor, type TestService } from '../helpers/harness.js';
import { startTinyExporter } from '../helpers/tiny-exporter.js';
import { NODE_NAME, requireSlurm, run } from '../helpers/slurm-cluster.js';
import { SlurmCommands } from '../../src/slurm/commands.js';

/** Jobs with this name that are not finished (squeue's default listing shows only those). */
async function liveJobs(name: string): Promise<Array<{ id: string; state: string }>> {
  const out = (await run('squeue', ['-h', '-n', name, '-o', '%i %T'])).stdout;
  return out.split('\n').filter((l) => l.trim()).map((l) => {
    const [id = '', state = ''] = l.trim().split(/\s+/);
    return { id, state };
  });
}

describe('PROMETHEUS_MODE=slurm (real Slurm, real Prometheus in a job)', () => {
  let svc: TestService | undefined;
  let tiny: Awaited<ReturnType<typeof startTinyExporter>>;
  let jobName = '';
  const slurm = new SlurmCommands();
  const seen = new Set<string>();

  before(async () => {
    await requireSlurm();
    tiny = await startTinyExporter();
  });
  after(async () => {
    await svc?.close().catch(() => undefined);
    for (const id of seen) await slurm.cancel(id).catch(() => undefined);
    await tiny?.close();
  });

  it('start submits Prometheus as a job, finds its node and waits until it is ready', async (ctx) => {
    const t0 = Date.now();
    svc = await startTestService({ PROMETHEUS_MODE: 'slurm', SLURM_POLL_INTERVAL: '1s', SLURM_PROMETHEUS_TIME_LIMIT: '30', SLURM_PROMETHEUS_MAX_RESUBMITS: '1' });
    ctx.diagnostic(`benchmon with a Prometheus job ready in ${Date.now() - t0} ms`);
    const health = await svc.client.prometheusHealth();
    assert.equal(health.runtime.mode, 'slurm');
    assert.equal(health.healthy, true);
    assert.equal(health.ready, true);
    const job = health.runtime.slurm;
    assert.ok(job?.job_id, JSON.stringify(health.runtime));
    seen.add(job.job_id!);
    assert.equal(job.state, 'RUNNING');
    assert.equal(job.node, NODE_NAME);
    assert.equal(health.url, `http://127.0.0.1:${new URL(svc.settings.PROMETHEUS_URL).port}`, "the client talks to the job's node");
    const script = fs.readFileSync(`${svc.settings.BENCHMON_STATE_DIR}/prometheus/prometheus.sbatch`, 'utf8');
    assert.match(script, /^#!\/bin\/sh\n/);
    assert.match(script, /--web\.enable-lifecycle/);
    const squeue = (await run('squeue', ['-h', '-j', job.job_id!, '-o', '%j %T %l'])).stdout.trim().split(/\s+/);
    jobName = squeue[0] ?? '';
    assert.match(jobName, /^benchmon-prometheus-[0-9a-f]{10}$/);
    assert.equal(squeue[1], 'RUNNING');
    assert.equal(squeue[2], '30:00', 'SLURM_PROMETHEUS_TIME_LIMIT reached sbatch');
  });

  it("a session's target is scraped by the Prometheus in the job (config applied over HTTP)", async () => {
    assert.ok(svc);
    await svc.client.createSession({ session_id: 'in-slurm' });
    const reg = await svc.client.registerTarget('in-slurm', { target_type: 'tiny', scrape_config: { job_name: 'tiny', targets: [tiny.address] } }, { up: true, timeoutSeconds: 40 });
    assert.equal(reg.wait?.satisfied, true, `still pending: ${reg.wait?.pending.join(', ')}`);
    const r = await waitFor('tiny_up in the job Prometheus', async () => {
      const q = await svc!.client.query('tiny_up{session="in-slurm"}');
      return q.resultType === 'vector' && q.result.length > 0 ? q.result : undefined;
    });
    assert.equal(r[0]?.value[1], '1');
    assert.equal((await svc.client.reload()).reloaded, true, 'reloads go to the job over HTTP (--web.enable-lifecycle)');
  });

  it('a Prometheus job that dies is reported and resubmitted (bounded)', async (ctx) => {
    assert.ok(svc);
    const first = (await svc.client.prometheusHealth()).runtime.slurm!.job_id!;
    const t0 = Date.now();
    await slurm.cancel(first);
    const after = await waitFor('a resubmitted Prometheus job to be ready', async () => {
      const h = await svc!.client.prometheusHealth();
      if (h.runtime.slurm?.job_id && h.runtime.slurm.job_id !== first) seen.add(h.runtime.slurm.job_id);
      return h.runtime.running && h.runtime.slurm?.job_id !== first && h.ready ? h : undefined;
    }, 60_000, 250);
    ctx.diagnostic(`resubmitted and ready ${Date.now() - t0} ms after scancel`);
    assert.equal(after.runtime.restarts, 1);
    assert.equal(after.runtime.slurm?.resubmits, 1);
    assert.match(after.runtime.last_exit ?? '', new RegExp(`Slurm job ${first} CANCELLED`));
    // The new Prometheus reads the same config: the session's target is scraped again.
    await waitFor('the target up again', async () => (await svc!.client.listTargets('in-slurm')).targets[0]?.health === 'up', 40_000, 250);

    // The bound: with SLURM_PROMETHEUS_MAX_RESUBMITS=1 the next death is reported and not resubmitted.
    const second = after.runtime.slurm!.job_id!;
    await slurm.cancel(second);
    const dead = await waitFor('the status to report the dead job', async () => {
      const h = await svc!.client.prometheusHealth();
      return h.runtime.running === false && h.runtime.slurm?.error ? h : undefined;
    }, 20_000, 250);
    assert.match(dead.runtime.slurm!.error!, /resubmissions are used up/);
    assert.match(dead.runtime.last_exit ?? '', new RegExp(`Slurm job ${second} CANCELLED`));
    assert.equal(dead.runtime.slurm?.job_id, second);
    assert.equal(dead.healthy, false);
  });

  it('service stop cancels the Prometheus job: squeue shows none left', async () => {
    assert.ok(svc);
    // Bring one up again to have something to cancel: a fresh benchmon on the same state directory.
    const env = svc.env;
    await svc.close();
    svc = await startTestService({ ...env });
    const id = (await svc.client.prometheusHealth()).runtime.slurm!.job_id!;
    seen.add(id);
    assert.deepEqual((await liveJobs(jobName)).map((j) => j.id), [id], 'one Prometheus job, the new one');
    await svc.close();
    svc = undefined;
    assert.deepEqual(await liveJobs(jobName), [], 'a Prometheus job is still queued or running after stop');
    const final = await slurm.job(id);
    assert.equal(final.state, 'CANCELLED');
  });
});
