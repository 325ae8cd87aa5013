/**
 * The Slurm adapter and job resolver against the REAL single-node Slurm that
 * `scripts/slurm/start.sh` starts (no mocks). If Slurm is not running these tests fail, telling to
 * start it: `sudo scripts/slurm/start.sh` (and `scripts/slurm/stop.sh` afterwards).
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { isBenchmonError, type BenchmonError } from '../../src/errors.js';
import { freePort } from '../../src/net/free-port.js';
import { SlurmCommands } from '../../src/slurm/commands.js';
import { SlurmJobResolver, type ResolvedSlurmJob } from '../../src/slurm/job-resolver.js';
import { NODE_NAME, SAMPLE_EXPOSITION, TestJobs, jobSteps, requireSlurm, run } from '../helpers/slurm-cluster.js';

/** Job steps listen on 0.0.0.0, so their port must be free on every address. */
const freeNodePort = (): Promise<number> => freePort('0.0.0.0');

async function waitFor<T>(what: string, probe: () => Promise<T>, done: (v: T) => boolean, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: T | undefined;
  let lastErr: unknown;
  while (Date.now() < deadline) {
    try {
      last = await probe();
      if (done(last)) return last;
    } catch (err) {
      lastErr = err;
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  assert.fail(`${what} within ${timeoutMs} ms; last: ${JSON.stringify(last)} ${lastErr ? String(lastErr) : ''}`);
}

const benchmonError = (code: string, check: (e: BenchmonError) => void = () => undefined) => (err: unknown) => {
  assert.ok(isBenchmonError(err), `expected a BenchmonError ${code}, got ${String(err)}`);
  assert.equal(err.code, code, err.message);
  check(err);
  return true;
};

describe('Slurm adapter against the real single-node Slurm', () => {
  const jobs = new TestJobs();
  const { slurm, dir } = jobs;
  const resolver = new SlurmJobResolver(slurm);

  before(() => requireSlurm());
  after(() => jobs.cleanup());

  it('a job serving metrics: submit, resolve to node:port, scrape it there, scancel → CANCELLED', async () => {
    const port = await freeNodePort();
    const jobId = await jobs.submitServer(port, SAMPLE_EXPOSITION);
    assert.match(jobId, /^\d+$/);

    const running = await waitFor('the job to run', () => resolver.resolve({ job_id: jobId, port }), (r) => r.phase === 'running');
    assert.equal(running.state, 'RUNNING');
    assert.equal(running.nodeList, NODE_NAME);
    assert.equal(running.endpoints.length, 1);
    const [ep] = running.endpoints;
    assert.equal(ep?.node, NODE_NAME, 'the node label is the Slurm node name');
    assert.equal(ep?.target, `127.0.0.1:${port}`, "reached at the node's NodeAddr");
    assert.equal(ep?.url, `http://127.0.0.1:${port}/metrics`);

    const body = await waitFor(
      'the job to serve its metrics',
      async () => {
        const res = await fetch(ep?.url ?? '', { signal: AbortSignal.timeout(2000) });
        return res.ok ? Buffer.from(await res.arrayBuffer()) : null;
      },
      (b) => b !== null,
    );
    assert.deepEqual(body, Buffer.from(SAMPLE_EXPOSITION), 'the metrics came byte for byte from the job');

    // The same job as listed by jobs() (squeue --json, filtered here).
    const listed = (await slurm.jobs()).find((j) => j.id === jobId);
    assert.equal(listed?.name, 'benchmon-test-svc');

    await slurm.cancel(jobId);
    const ended = await waitFor('the job to be CANCELLED', () => resolver.resolve({ job_id: jobId, port }), (r: ResolvedSlurmJob) => r.state === 'CANCELLED', 15_000);
    assert.equal(ended.phase, 'ended');
    assert.deepEqual(ended.endpoints, [], 'an ended job has no endpoints');
    assert.equal(ended.exitCode?.signal, 15);
  });

  it('an extra step inside a running job (srun --overlap) serves, and is gone after stop()', async () => {
    const jobPort = await freeNodePort();
    const jobId = await jobs.submitServer(jobPort, SAMPLE_EXPOSITION, { jobName: 'benchmon-test-host' });
    await waitFor('the job to run', () => slurm.job(jobId), (j) => j.state === 'RUNNING');

    const stepPort = await freeNodePort();
    const step = await slurm.srunOverlap(jobId, jobs.serverCommand(stepPort, SAMPLE_EXPOSITION), {
      stepName: 'benchmon-exporter',
      ntasksPerNode: 1,
    });
    try {
      assert.match(step.stepId, new RegExp(`^${jobId}\\.\\d+$`));
      assert.deepEqual(step.nodes, [NODE_NAME]);
      const text = await waitFor(
        'the step to serve',
        async () => {
          const res = await fetch(`http://127.0.0.1:${stepPort}/metrics`, { signal: AbortSignal.timeout(2000) });
          return res.ok ? await res.text() : null;
        },
        (t) => t !== null,
      );
      assert.equal(text, SAMPLE_EXPOSITION);
      const steps = await jobSteps(jobId);
      assert.ok(steps.some((s) => s.stepId === step.stepId && s.name === 'benchmon-exporter'), `squeue lists the step by name: ${JSON.stringify(steps)}`);
    } finally {
      await step.stop();
    }
    assert.equal(step.running(), false);
    await waitFor(
      'the step to leave squeue',
      async () => (await run('squeue', ['-s', '-h', '-j', jobId, '-o', '%i'])).stdout,
      (s) => !s.split('\n').includes(step.stepId),
      10_000,
    );
    assert.equal((await slurm.job(jobId)).state, 'RUNNING', 'stopping the step leaves the job running');
    await slurm.cancel(jobId);
  });

  it('a job submitted with --begin=now+60 is PENDING with an empty node list and no endpoints', async () => {
    const jobId = await jobs.submit('#!/bin/sh\nsleep 600\n', { jobName: 'benchmon-test-later', begin: 'now+60', output: '/dev/null' });
    // Right after sbatch, while the previous tests' cancelled jobs still complete on the node, Slurm
    // can give the reason `Resources` before its scheduler sets `BeginTime` (seen once in CI): the job
    // must be PENDING with no nodes and no endpoints throughout, and say BeginTime within seconds.
    let r: ResolvedSlurmJob;
    for (const deadline = Date.now() + 15_000; ; await new Promise((res) => setTimeout(res, 500))) {
      r = await resolver.resolve({ job_id: jobId, port: 8000 });
      assert.equal(r.state, 'PENDING');
      assert.equal(r.phase, 'pending');
      assert.equal(r.nodeList, '');
      assert.deepEqual(r.endpoints, []);
      if (r.reason === 'BeginTime' || Date.now() > deadline) break;
    }
    assert.equal(r.reason, 'BeginTime');
    await assert.rejects(slurm.srunOverlap(jobId, ['true']), benchmonError('UNPROCESSABLE', (e) => assert.match(e.message, /is PENDING/)));
    await slurm.cancel(jobId);
  });

  it('an array: the bare id names several tasks and is refused, one task resolves', async () => {
    const jobId = await jobs.submit('#!/bin/sh\nsleep 600\n', { jobName: 'benchmon-test-array', extraArgs: ['--array=1-2'], output: '/dev/null' });
    await waitFor('both tasks to run', () => slurm.jobRecords(jobId), (js) => js.length === 2 && js.every((j) => j.state === 'RUNNING'));
    await assert.rejects(
      resolver.resolve({ job_id: jobId, port: 8000 }),
      benchmonError('UNPROCESSABLE', (e) => {
        assert.equal(e.details?.field, 'slurm.job_id');
        assert.ok(e.message.includes(`${jobId}_1`), e.message);
      }),
    );
    const task = await resolver.resolve({ job_id: `${jobId}_1`, port: 8000 });
    assert.equal(task.state, 'RUNNING');
    assert.equal(task.endpoints[0]?.node, NODE_NAME);
    await slurm.cancel(jobId);
  });

  it('job lookup through scontrol show job -o (the fallback, and the cheaper path on big clusters) agrees with squeue --json', async () => {
    const viaScontrol = new SlurmCommands({ jobLookup: 'scontrol' });
    const jobId = await jobs.submit('#!/bin/sh\nsleep 600\n', { jobName: 'benchmon test spaces', output: '/dev/null' });
    const running = await waitFor('the job to run', () => viaScontrol.job(jobId), (j) => j.state === 'RUNNING');
    const listed = await slurm.job(jobId);
    assert.deepEqual(
      { ...running, startTime: null, submitTime: null },
      { ...listed, startTime: null, submitTime: null },
      'both lookups read the same job the same way',
    );
    assert.equal(running.name, 'benchmon test spaces');
    assert.ok(Math.abs((running.startTime ?? 0) - (listed.startTime ?? 0)) <= 1, 'local-time StartTime read back as Unix seconds');
    await slurm.cancel(jobId);
    const cancelled = await waitFor('the job to be CANCELLED', () => viaScontrol.job(jobId), (j) => j.state === 'CANCELLED');
    assert.deepEqual(cancelled.exitCode, { code: 0, signal: 15 });
    await assert.rejects(viaScontrol.job('999999', 'slurm.job_id'), benchmonError('SLURM_JOB_NOT_FOUND', (e) => assert.equal(e.details?.field, 'slurm.job_id')));
  });

  it('a job id that is not a number, or a port out of range, is refused naming the field', async () => {
    for (const [input, field] of [
      [{ job_id: 'abc', port: 8000 }, 'slurm.job_id'],
      [{ job_id: '1; scancel -u root', port: 8000 }, 'slurm.job_id'],
      [{ job_id: '1', port: 0 }, 'slurm.port'],
      [{ job_id: '1', port: 70000 }, 'slurm.port'],
    ] as const) {
      await assert.rejects(
        resolver.resolve(input),
        benchmonError('VALIDATION_FAILED', (e) => {
          assert.equal(e.status, 400);
          assert.equal(e.details?.field, field);
          assert.ok(e.message.startsWith(`${field}:`), e.message);
        }),
      );
    }
  });

  it('an unknown job id → 404 naming the job id', async () => {
    await assert.rejects(
      resolver.resolve({ job_id: '999999', port: 8000 }),
      benchmonError('SLURM_JOB_NOT_FOUND', (e) => {
        assert.equal(e.status, 404);
        assert.match(e.message, /999999/);
        assert.equal(e.details?.job_id, '999999');
        assert.equal(e.details?.field, 'slurm.job_id');
      }),
    );
  });

  it('node lists expand through scontrol; an invalid one (exit 0 on stderr) is an error', async () => {
    assert.deepEqual(await slurm.expandHostnames('node[01-03,07]'), ['node01', 'node02', 'node03', 'node07']);
    assert.deepEqual(await slurm.expandHostnames(''), []);
    await assert.rejects(slurm.expandHostnames('gpu-[a,b]x'), benchmonError('SLURM_COMMAND_FAILED', (e) => assert.match(e.message, /Invalid hostlist/)));
    const [node] = await slurm.nodes(NODE_NAME);
    assert.equal(node?.address, '127.0.0.1');
  });

  it('missing Slurm commands → 503 naming the command', async () => {
    const nowhere = new SlurmCommands({ binDir: path.join(dir, 'no-slurm-here') });
    await assert.rejects(nowhere.jobs(), benchmonError('SLURM_UNAVAILABLE', (e) => {
      assert.equal(e.status, 503);
      assert.match(e.message, /^squeue --json: .*squeue not found/);
    }));
    await assert.rejects(nowhere.submit('#!/bin/sh\ntrue\n'), benchmonError('SLURM_UNAVAILABLE', (e) => assert.match(e.message, /^sbatch --parsable: /)));
    await assert.rejects(new SlurmJobResolver(nowhere).resolve({ job_id: '1', port: 80 }), benchmonError('SLURM_UNAVAILABLE'));
  });

  it("slurmctld down → 503 naming the command with Slurm's own message", async () => {
    // A client configuration whose controller port has nobody listening: what the commands see when
    // slurmctld is down, without stopping the shared test cluster.
    const conf = fs.readFileSync('/etc/slurm/slurm.conf', 'utf8').replace(/^SlurmctldPort=.*$/m, '');
    const downConf = path.join(dir, 'slurm-down.conf');
    fs.writeFileSync(downConf, `${conf}\nSlurmctldPort=${await freePort()}\n`);
    const down = new SlurmCommands({ env: { ...process.env, SLURM_CONF: downConf } });

    const t0 = Date.now();
    const [squeue, sbatch] = await Promise.allSettled([down.jobs(), down.submit('#!/bin/sh\ntrue\n', { chdir: dir })]);
    assert.ok(Date.now() - t0 < 25_000);
    assert.equal(squeue.status, 'rejected');
    benchmonError('SLURM_UNAVAILABLE', (e) => {
      assert.equal(e.status, 503);
      // squeue --json exits 0 and only says "slurm_load_jobs … Unspecified error" in its errors.
      assert.match(e.message, /^squeue --json reported: slurm_load_jobs: Failed while looking for jobs/);
    })((squeue as PromiseRejectedResult).reason);
    assert.equal(sbatch.status, 'rejected');
    benchmonError('SLURM_UNAVAILABLE', (e) => assert.match(e.message, /^sbatch --parsable .*Unable to contact slurm controller/))((sbatch as PromiseRejectedResult).reason);

    const impatient = new SlurmCommands({ env: { ...process.env, SLURM_CONF: downConf }, timeoutMs: 1000 });
    await assert.rejects(impatient.cancel('1'), benchmonError('SLURM_UNAVAILABLE', (e) => assert.match(e.message, /^scancel 1: no answer within 1000 ms/)));
  });
});
