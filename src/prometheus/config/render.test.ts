import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import YAML from 'yaml';
import type { Session, Target } from '../../sessions/model.js';
import { buildPrometheusConfig, proxyAddressOf, renderPrometheusYaml, shardOf, targetGroup, targetGroups, FILE_SD_SHARDS } from './render.js';
import { checkPrometheusConfig } from './validate.js';

const session: Session = { session_id: 'run-1', labels: { benchmark: 'llm' }, scrape_interval: '5s', created_at: '2026-01-01T00:00:00Z' };
const target: Target = {
  session_id: 'run-1', target_id: 'vllm-1', job_id: '3607637', target_type: 'vllm', role: 'service', job_name: 'vllm-1', metrics_path: '/metrics',
  scheme: 'http', scrape_interval: '5s', scrape_timeout: '10s', labels: { gpu: 'a100' }, endpoints: ['node01:8000'], created_at: '2026-01-01T00:00:00Z',
};

describe('rendering prometheus.yml and file_sd', () => {
  it('has the self-scrape job and one file_sd job per session, and passes its own checks', () => {
    const yml = renderPrometheusYaml(buildPrometheusConfig({
      sessions: [session], defaultScrapeInterval: '15s', defaultScrapeTimeout: '10s', serverApiUrl: 'http://127.0.0.1:8002', fileSdRefreshInterval: '5m', extraScrapeConfigs: [],
    }));
    const doc = YAML.parse(yml) as { scrape_configs: Array<Record<string, unknown>> };
    assert.deepEqual(doc.scrape_configs.map((j) => j.job_name), ['benchmon', 'benchmon-session-run-1']);
    const job = doc.scrape_configs[1]!;
    assert.equal(job.scrape_interval, '5s');
    assert.equal(job.scrape_timeout, '5s', 'job timeout is capped at its interval');
    assert.deepEqual(job.file_sd_configs, [{ files: ['file_sd/run-1/*.json'], refresh_interval: '5m' }]);
    assert.deepEqual(checkPrometheusConfig(yml), []);
  });

  it('puts job, path, scheme, interval, timeout and the session labels on the target; benchmon labels win', () => {
    const g = targetGroup({ ...target, labels: { gpu: 'a100' } }, { ...session, labels: { benchmark: 'llm' } });
    assert.deepEqual(g.targets, ['node01:8000']);
    assert.deepEqual(g.labels, {
      benchmark: 'llm', gpu: 'a100', job: 'vllm-1', __metrics_path__: '/metrics', __scheme__: 'http', __scrape_interval__: '5s',
      __scrape_timeout__: '5s', session: 'run-1', target_type: 'vllm', role: 'service', job_id: '3607637',
    });
  });

  const slurmTarget: Target = {
    ...target, target_id: 'vllm-42', job_name: 'vllm-42', job_id: '42', labels: {}, endpoints: ['10.0.0.1:8000', '10.0.0.2:8000'],
    slurm: { job_id: '42', port: 8000, state: 'RUNNING', phase: 'running', reason: null, nodes: [{ node: 'gpu01', endpoint: '10.0.0.1:8000' }, { node: 'gpu02', endpoint: '10.0.0.2:8000' }] },
    via_proxy: false,
  };

  it('a running Slurm target is one group per node, with slurm_job_id and node', () => {
    const groups = targetGroups(slurmTarget, session);
    assert.deepEqual(groups.map((g) => [g.targets, g.labels.node, g.labels.slurm_job_id, g.labels.job]), [
      [['10.0.0.1:8000'], 'gpu01', '42', 'vllm-42'],
      [['10.0.0.2:8000'], 'gpu02', '42', 'vllm-42'],
    ]);
  });

  it('a pending or ended Slurm target has no group', () => {
    assert.deepEqual(targetGroups({ ...slurmTarget, endpoints: [], slurm: { ...slurmTarget.slurm!, state: 'PENDING', phase: 'pending', nodes: [] } }, session), []);
    assert.deepEqual(targetGroups({ ...slurmTarget, endpoints: [], slurm: { ...slurmTarget.slurm!, state: 'CANCELLED', phase: 'ended' } }, session), []);
  });

  it('via_proxy points at benchmon with the proxy path and the node as a parameter, keeping the endpoint as instance', () => {
    const proxy = proxyAddressOf('http://bench-login:8002');
    const [g] = targetGroups({ ...slurmTarget, via_proxy: true }, session, { proxy });
    assert.deepEqual(g?.targets, ['bench-login:8002']);
    assert.equal(g?.labels.__metrics_path__, '/metrics/vllm/42');
    assert.equal(g?.labels.__param_node, 'gpu01');
    assert.equal(g?.labels.__scheme__, 'http');
    assert.equal(g?.labels.instance, '10.0.0.1:8000');
    assert.equal(g?.labels.node, 'gpu01');
    assert.deepEqual(proxyAddressOf('https://bench.example'), { address: 'bench.example:443', scheme: 'https' });
  });

  it('shards are stable and spread targets', () => {
    assert.equal(shardOf('vllm-1'), shardOf('vllm-1'));
    const used = new Set(Array.from({ length: 1000 }, (_, i) => shardOf(`client-${i}`)));
    assert.ok(used.size > FILE_SD_SHARDS * 0.9, `only ${used.size} shards used`);
  });
});
