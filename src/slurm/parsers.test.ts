import assert from 'node:assert/strict';
import fs from 'node:fs';
import { describe, it } from 'node:test';
import { isFinalJobState, jobPhase } from './model.js';
import {
  SlurmOutputError,
  decodeWaitStatus,
  findJobs,
  isControllerUnreachable,
  isInvalidJobId,
  parseHostnames,
  parseSbatchParsable,
  parseScontrolJobs,
  parseScontrolLine,
  parseScontrolNodes,
  parseSqueueJson,
  parseSrunLaunchLine,
  parseSrunTaskStartLine,
  slurmExitCode,
  slurmJobState,
  slurmNumber,
} from './parsers.js';

// Compiled to dist/src/slurm/; the recordings stay in the source tree.
const testdata = new URL('../../../src/slurm/testdata/', import.meta.url);
const read = (name: string) => fs.readFileSync(new URL(name, testdata), 'utf8');

describe('parseSqueueJson on squeue --json of Slurm 22.05', () => {
  const result = parseSqueueJson(read('squeue-json.22.05.json'));
  const byId = new Map(result.jobs.map((j) => [j.id, j]));

  it('reads the schema, the version and every job', () => {
    assert.equal(result.schema, 'openapi/v0.0.38');
    assert.equal(result.slurmVersion, '22.05.8');
    assert.deepEqual(result.errors, []);
    assert.deepEqual(
      result.jobs.map((j) => j.id),
      ['1', '2', '3', '4', '5_1', '5_2', '7_[1-3]', '8', '9'],
    );
  });

  it('a cancelled job: state, node, SIGTERM from the raw wait status, name with spaces', () => {
    const j = byId.get('1');
    assert.ok(j);
    assert.equal(j.state, 'CANCELLED');
    assert.equal(j.name, 'svc with space');
    assert.equal(j.nodeList, 'vm');
    assert.deepEqual(j.exitCode, { code: 0, signal: 15 });
    assert.equal(j.reason, null, '"None" means no reason');
    assert.equal(j.user, 'root');
    assert.equal(j.partition, 'debug');
  });

  it('a pending job has no nodes and says why', () => {
    const j = byId.get('2');
    assert.equal(j?.state, 'PENDING');
    assert.equal(j?.nodeList, '');
    assert.equal(j?.reason, 'BeginTime');
    assert.equal(byId.get('4')?.reason, 'PartitionConfig');
    assert.equal(byId.get('4')?.startTime, null, 'start_time 0 means unknown');
  });

  it('a failed job: exit 3 is reported as 768 and decoded', () => {
    const j = byId.get('3');
    assert.equal(j?.state, 'FAILED');
    assert.equal(j?.reason, 'NonZeroExitCode');
    assert.deepEqual(j?.exitCode, { code: 3, signal: 0 });
  });

  it('array tasks get the N_M id; the last task carries the array id as its job_id', () => {
    assert.deepEqual({ jobId: byId.get('5_1')?.jobId, array: byId.get('5_1')?.arrayJobId, task: byId.get('5_1')?.arrayTaskId }, { jobId: 6, array: 5, task: 1 });
    assert.deepEqual({ jobId: byId.get('5_2')?.jobId, array: byId.get('5_2')?.arrayJobId, task: byId.get('5_2')?.arrayTaskId }, { jobId: 5, array: 5, task: 2 });
    assert.equal(byId.get('7_[1-3]')?.arrayTaskId, null);
    assert.equal(byId.get('7_[1-3]')?.state, 'PENDING');
  });

  it('findJobs filters client-side (squeue --json ignores -j) and never mistakes an array task for a job', () => {
    assert.deepEqual(findJobs(result.jobs, '3').map((j) => j.id), ['3']);
    assert.deepEqual(findJobs(result.jobs, '5').map((j) => j.id), ['5_1', '5_2'], 'job_id 5 is task 5_2, but "5" names the whole array');
    assert.deepEqual(findJobs(result.jobs, '5_2').map((j) => j.jobId), [5]);
    assert.deepEqual(findJobs(result.jobs, '6').map((j) => j.id), [], 'job_id 6 is task 5_1; users never call it 6');
    assert.deepEqual(findJobs(result.jobs, '7').map((j) => j.id), ['7_[1-3]']);
    assert.deepEqual(findJobs(result.jobs, '999'), []);
  });

  it('slurmctld down: exit 0, no jobs, the failure only in errors', () => {
    const down = parseSqueueJson(read('squeue-json-controller-down.22.05.json'));
    assert.deepEqual(down.jobs, []);
    assert.deepEqual(down.errors, [{ description: 'Failed while looking for jobs', error: 'Unspecified error', source: 'slurm_load_jobs', errorNumber: -1 }]);
  });

  it('output that is not squeue JSON is refused with what was wrong', () => {
    assert.throws(() => parseSqueueJson('squeue: error: x'), (e: unknown) => e instanceof SlurmOutputError && /not JSON/.test(e.message));
    assert.throws(() => parseSqueueJson('{"meta": {}}'), /no "jobs" list/);
    assert.throws(() => parseSqueueJson('{"jobs": [{"job_id": 1}]}'), /jobs\[0\] \(job 1\): job_state/);
  });
});

describe('shapes of newer squeue JSON schemas (data_parser v0.0.39+)', () => {
  // Value shapes, not a whole document: no newer Slurm runs here to record one from.
  it('numbers wrapped as {set, infinite, number}', () => {
    assert.equal(slurmNumber({ set: true, infinite: false, number: 42 }), 42);
    assert.equal(slurmNumber({ set: false, infinite: false, number: 0 }), null);
    assert.equal(slurmNumber({ set: true, infinite: true, number: 0 }), null);
    assert.equal(slurmNumber(7), 7);
    assert.equal(slurmNumber('12'), 12);
    assert.equal(slurmNumber(null), null);
  });
  it('job_state as a list of base state and flags', () => {
    assert.equal(slurmJobState('RUNNING'), 'RUNNING');
    assert.equal(slurmJobState(['RUNNING']), 'RUNNING');
    assert.equal(slurmJobState(['COMPLETING', 'RUNNING']), 'COMPLETING');
    assert.equal(slurmJobState(['REQUEUED_FLAG_X', 'PENDING']), 'PENDING', 'the first known base state wins over flags');
    assert.throws(() => slurmJobState([]), SlurmOutputError);
  });
  it('exit_code as an object', () => {
    assert.deepEqual(slurmExitCode({ status: ['EXITED'], return_code: { set: true, infinite: false, number: 3 }, signal: { id: { set: false, infinite: false, number: 0 }, name: '' } }), { code: 3, signal: 0 });
    assert.deepEqual(slurmExitCode({ status: 'SIGNALED', return_code: 0, signal: { id: 15, name: 'TERM' } }), { code: 0, signal: 15 });
    assert.equal(slurmExitCode(undefined), null);
  });
  it('raw wait statuses of 22.05', () => {
    assert.deepEqual(decodeWaitStatus(256), { code: 1, signal: 0 });
    assert.deepEqual(decodeWaitStatus(15), { code: 0, signal: 15 });
    assert.deepEqual(decodeWaitStatus(9), { code: 0, signal: 9 });
  });
});

describe('scontrol show job -o', () => {
  it('keeps values with spaces together', () => {
    const [j] = parseScontrolJobs(read('scontrol-show-job-cancelled.22.05.txt'));
    assert.equal(j?.id, '1');
    assert.equal(j?.name, 'svc with space');
    assert.equal(j?.state, 'CANCELLED');
    assert.deepEqual(j?.exitCode, { code: 0, signal: 15 });
    assert.equal(j?.nodeList, 'vm');
    assert.equal(j?.user, 'root');
  });
  it('pending: empty NodeList, reason BeginTime', () => {
    const [j] = parseScontrolJobs(read('scontrol-show-job-pending.22.05.txt'));
    assert.deepEqual([j?.state, j?.nodeList, j?.reason], ['PENDING', '', 'BeginTime']);
  });
  it('failed: ExitCode 3:0', () => {
    const [j] = parseScontrolJobs(read('scontrol-show-job-failed.22.05.txt'));
    assert.deepEqual([j?.state, j?.reason, j?.exitCode], ['FAILED', 'NonZeroExitCode', { code: 3, signal: 0 }]);
  });
  it('running and completed', () => {
    assert.equal(parseScontrolJobs(read('scontrol-show-job-running.22.05.txt'))[0]?.state, 'RUNNING');
    assert.equal(parseScontrolJobs(read('scontrol-show-job-completed.22.05.txt'))[0]?.state, 'COMPLETED');
  });
  it('an array task: ArrayJobId/ArrayTaskId make the N_M id', () => {
    const [j] = parseScontrolJobs(read('scontrol-show-job-array-task.22.05.txt'));
    assert.deepEqual([j?.id, j?.jobId, j?.arrayJobId, j?.arrayTaskId], ['11_1', 12, 11, 1]);
  });
  it('the message for an unknown job is recognised', () => {
    assert.ok(isInvalidJobId(read('scontrol-show-job-invalid.22.05.stderr.txt')));
  });
  it('key=value splitting', () => {
    assert.deepEqual(parseScontrolLine('A=1 Name=a b  c=d AllocNode:Sid=x:1 CPUs/Task=2 Empty= Z=9'), {
      A: '1',
      Name: 'a b',
      c: 'd',
      'AllocNode:Sid': 'x:1',
      'CPUs/Task': '2',
      Empty: '',
      Z: '9',
    });
  });
});

describe('scontrol show node -o', () => {
  it('NodeAddr differs from the node name here; the OS value has spaces', () => {
    const nodes = parseScontrolNodes(read('scontrol-show-node.22.05.txt'));
    assert.equal(nodes.length, 1);
    assert.deepEqual(nodes[0], { name: 'vm', address: '127.0.0.1', hostname: 'vm', state: 'MIXED' });
    assert.match(parseScontrolLine(read('scontrol-show-node.22.05.txt').trim()).OS ?? '', /^Linux .* #1 SMP PREEMPT_DYNAMIC @0$/);
  });
});

describe('small outputs', () => {
  it('scontrol show hostnames', () => {
    assert.deepEqual(parseHostnames(read('scontrol-show-hostnames.22.05.txt')), ['vm', 'node01', 'node02', 'node03', 'node07', 'gpu-08', 'gpu-09', 'gpu-10']);
    assert.match(read('scontrol-show-hostnames-invalid.22.05.stderr.txt'), /^Invalid hostlist: /);
  });
  it('sbatch --parsable', () => {
    assert.deepEqual(parseSbatchParsable('42\n'), { jobId: '42', cluster: null });
    assert.deepEqual(parseSbatchParsable('42;benchmon\n'), { jobId: '42', cluster: 'benchmon' });
    assert.throws(() => parseSbatchParsable('Submitted batch job 42\n'), /expected a job id/);
  });
  it('srun -v: step id, host and task start', () => {
    const lines = read('srun-overlap-verbose.22.05.stderr.txt').split('\n');
    assert.deepEqual(lines.map(parseSrunLaunchLine).filter(Boolean), [{ stepId: '13.0', host: 'vm' }]);
    assert.deepEqual(lines.map(parseSrunTaskStartLine).filter(Boolean), ['vm']);
    const pending = read('srun-overlap-pending.22.05.stderr.txt').split('\n');
    assert.deepEqual(pending.map(parseSrunLaunchLine).filter(Boolean), []);
  });
  it('controller unreachable messages', () => {
    assert.ok(isControllerUnreachable('sbatch: error: Batch job submission failed: Unable to contact slurm controller (connect failure)'));
    assert.ok(!isControllerUnreachable('sbatch: error: invalid partition specified: nopart'));
  });
});

describe('job states', () => {
  it('phases', () => {
    assert.equal(jobPhase('PENDING'), 'pending');
    assert.equal(jobPhase('RUNNING'), 'running');
    assert.equal(jobPhase('COMPLETING'), 'ending');
    for (const s of ['COMPLETED', 'CANCELLED', 'FAILED', 'TIMEOUT', 'NODE_FAIL', 'OUT_OF_MEMORY']) {
      assert.equal(jobPhase(s), 'ended', s);
      assert.ok(isFinalJobState(s), s);
    }
    assert.equal(jobPhase('SOMETHING_NEW'), 'unknown');
    assert.ok(!isFinalJobState('COMPLETING'));
  });
});
