import assert from 'node:assert/strict';
import fs from 'node:fs';
import { describe, it } from 'node:test';
import { isBenchmonError } from '../errors.js';
import { SlurmJobResolver, validateSlurmTarget, type SlurmJobSource } from './job-resolver.js';
import { parseSqueueJson } from './parsers.js';

const testdata = new URL('../../../src/slurm/testdata/', import.meta.url);
const recorded = parseSqueueJson(fs.readFileSync(new URL('squeue-json.22.05.json', testdata), 'utf8')).jobs;
const recordedJob = (id: string) => {
  const j = recorded.find((r) => r.id === id);
  assert.ok(j, id);
  return j;
};

/** A source that must not be asked: bad input is rejected before any Slurm call. */
const untouchable: SlurmJobSource = {
  job: () => assert.fail('Slurm was called for bad input'),
  expandHostnames: () => assert.fail('Slurm was called for bad input'),
  nodes: () => assert.fail('Slurm was called for bad input'),
};

interface BadCase { name: string; input: Record<string, unknown>; field: string }
const bad: BadCase[] = [
  { name: 'job id that is not a number', input: { job_id: 'abc', port: 8000 }, field: 'slurm.job_id' },
  { name: 'job id with shell syntax', input: { job_id: '12;rm -rf /', port: 8000 }, field: 'slurm.job_id' },
  { name: 'job id with a step', input: { job_id: '12.0', port: 8000 }, field: 'slurm.job_id' },
  { name: 'negative job id', input: { job_id: -1, port: 8000 }, field: 'slurm.job_id' },
  { name: 'missing job id', input: { port: 8000 }, field: 'slurm.job_id' },
  { name: 'port 0', input: { job_id: '42', port: 0 }, field: 'slurm.port' },
  { name: 'port 65536', input: { job_id: '42', port: 65536 }, field: 'slurm.port' },
  { name: 'port as a string', input: { job_id: '42', port: '8000' }, field: 'slurm.port' },
  { name: 'fractional port', input: { job_id: '42', port: 80.5 }, field: 'slurm.port' },
  { name: 'metrics path without /', input: { job_id: '42', port: 8000, metrics_path: 'metrics' }, field: 'slurm.metrics_path' },
  { name: 'scheme ftp', input: { job_id: '42', port: 8000, scheme: 'ftp' }, field: 'slurm.scheme' },
];

describe('Slurm target validation', () => {
  for (const c of bad) {
    it(`${c.name} → 400 naming ${c.field}, no Slurm call`, async () => {
      const resolver = new SlurmJobResolver(untouchable);
      await assert.rejects(resolver.resolve(c.input as never), (err: unknown) => {
        assert.ok(isBenchmonError(err));
        assert.equal(err.status, 400);
        assert.equal(err.details?.field, c.field);
        assert.ok(err.message.startsWith(`${c.field}:`), err.message);
        return true;
      });
    });
  }

  it('accepts numbers and array tasks, defaults the path and scheme', () => {
    assert.deepEqual(validateSlurmTarget({ job_id: 3607637, port: 8000 }), { jobId: '3607637', port: 8000, metricsPath: '/metrics', scheme: 'http' });
    assert.deepEqual(validateSlurmTarget({ job_id: '42_3', port: 1, metrics_path: '/m', scheme: 'https' }), { jobId: '42_3', port: 1, metricsPath: '/m', scheme: 'https' });
    assert.equal(validateSlurmTarget({ job_id: '42', port: 65535 }).port, 65535);
  });
});

describe('SlurmJobResolver.describe on recorded jobs', () => {
  const target = validateSlurmTarget({ job_id: '1', port: 9100 });

  it('a pending job has no endpoints and keeps its reason', async () => {
    const r = await new SlurmJobResolver(untouchable).describe(recordedJob('2'), { ...target, jobId: '2' });
    assert.deepEqual([r.state, r.phase, r.reason, r.nodeList, r.endpoints], ['PENDING', 'pending', 'BeginTime', '', []]);
  });

  it('an ended job has no endpoints and shows its final state', async () => {
    const r = await new SlurmJobResolver(untouchable).describe(recordedJob('1'), target);
    assert.deepEqual([r.state, r.phase, r.endpoints], ['CANCELLED', 'ended', []]);
    assert.deepEqual(r.exitCode, { code: 0, signal: 15 });
  });

  it('a running job: the node keeps its name, the address comes from the override map', async () => {
    const source: SlurmJobSource = { ...untouchable, expandHostnames: async (list) => (list === 'vm' ? ['vm'] : assert.fail(list)) };
    const r = await new SlurmJobResolver(source, { addressOverrides: { vm: 'localhost' } }).describe(recordedJob('5_1'), { ...target, jobId: '5_1' });
    assert.equal(r.phase, 'running');
    assert.deepEqual(r.endpoints, [{ node: 'vm', host: 'localhost', port: 9100, target: 'localhost:9100', url: 'http://localhost:9100/metrics' }]);
  });
});
