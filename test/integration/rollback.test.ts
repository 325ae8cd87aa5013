import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { PrometheusClient } from '../../src/prometheus/client.js';
import { selfMetric, startTestService, tempDir, type TestService } from '../helpers/harness.js';

const VALID_EXTRA = `- job_name: extra
  static_configs:
    - targets: ['127.0.0.1:1']
`;
// Passes benchmon's own checks (unique job name, durations, host:port) but Prometheus's strict
// decoder rejects the unknown field: the kind of mistake only Prometheus (or promtool) catches.
const PROMETHEUS_REJECTS = `- job_name: extra
  static_configs:
    - targets: ['127.0.0.1:1']
  not_a_prometheus_field: true
`;

describe('a reload Prometheus rejects is rolled back (promtool absent)', () => {
  let svc: TestService;
  let prom: PrometheusClient;
  let extraFile: string;

  before(async () => {
    extraFile = path.join(tempDir(), 'extra.yml');
    fs.writeFileSync(extraFile, VALID_EXTRA);
    // promtool "removed from PATH": benchmon falls back to its own checks only.
    svc = await startTestService({ PROMETHEUS_EXTRA_SCRAPE_CONFIGS: extraFile, PROMTOOL_BIN: '/nonexistent/promtool' });
    prom = new PrometheusClient(svc.settings.PROMETHEUS_URL);
    await svc.client.createSession({ session_id: 'keep' });
  });
  after(async () => svc?.close());

  it('answers with a clear error, restores the last good config, and counts the rollback', async () => {
    const configPath = svc.settings.PROMETHEUS_CONFIG_PATH;
    const goodConfig = fs.readFileSync(configPath, 'utf8');
    const rollbacksBefore = await selfMetric(svc.url, 'benchmon_config_rollbacks_total');
    const failuresBefore = await selfMetric(svc.url, 'benchmon_prometheus_reload_failures_total');

    fs.writeFileSync(extraFile, PROMETHEUS_REJECTS);
    const res = await fetch(`${svc.url}/api/v1/prometheus/reload`, { method: 'POST' });
    const body = (await res.json()) as { error: { code: string; message: string } };
    assert.equal(res.status, 502);
    assert.equal(body.error.code, 'PROM_RELOAD_FAILED');
    assert.match(body.error.message, /not_a_prometheus_field/, 'the error should carry Prometheus\'s reason');
    assert.match(body.error.message, /last good config was restored/);

    assert.equal(fs.readFileSync(configPath, 'utf8'), goodConfig, 'the last good config is not back on disk');
    const info = await prom.runtimeInfo();
    assert.equal(info.reloadConfigSuccess, true, 'Prometheus does not run the last good config');
    assert.equal(await selfMetric(svc.url, 'benchmon_config_rollbacks_total'), rollbacksBefore + 1);
    assert.equal(await selfMetric(svc.url, 'benchmon_prometheus_reload_failures_total'), failuresBefore + 1);
    const health = await svc.client.prometheusHealth();
    assert.equal(health.last_reload_ok, true);
    assert.match(health.last_reload_error ?? '', /not_a_prometheus_field/);
  });

  it('a session created while Prometheus rejects the config is not kept', async () => {
    await assert.rejects(svc.client.createSession({ session_id: 'doomed' }), (err: { status: number; code: string }) => err.status === 502 && err.code === 'PROM_RELOAD_FAILED');
    assert.equal(svc.running.service.store.getSession('doomed'), undefined);
    assert.ok(!fs.readFileSync(svc.settings.PROMETHEUS_CONFIG_PATH, 'utf8').includes('doomed'));
    const sessions = await svc.client.listSessions();
    assert.deepEqual(sessions.sessions.map((s) => s.session_id), ['keep']);
  });

  it('once the mistake is fixed, the next apply succeeds', async () => {
    fs.writeFileSync(extraFile, VALID_EXTRA);
    await svc.client.createSession({ session_id: 'after-fix' });
    const info = await prom.runtimeInfo();
    assert.equal(info.reloadConfigSuccess, true);
    assert.match(fs.readFileSync(svc.settings.PROMETHEUS_CONFIG_PATH, 'utf8'), /benchmon-session-after-fix/);
  });
});

describe('with promtool present, an invalid config never reaches Prometheus', () => {
  let svc: TestService;
  let extraFile: string;

  before(async () => {
    extraFile = path.join(tempDir(), 'extra.yml');
    fs.writeFileSync(extraFile, VALID_EXTRA);
    svc = await startTestService({ PROMETHEUS_EXTRA_SCRAPE_CONFIGS: extraFile });
  });
  after(async () => svc?.close());

  it('promtool rejects it: 502 PROM_CONFIG_INVALID, no reload attempted, file unchanged', async () => {
    const configPath = svc.settings.PROMETHEUS_CONFIG_PATH;
    const goodConfig = fs.readFileSync(configPath, 'utf8');
    const prom = new PrometheusClient(svc.settings.PROMETHEUS_URL);
    const lastConfigTime = (await prom.runtimeInfo()).lastConfigTime;
    const failuresBefore = await selfMetric(svc.url, 'benchmon_prometheus_reload_failures_total');
    fs.writeFileSync(extraFile, PROMETHEUS_REJECTS);
    const res = await fetch(`${svc.url}/api/v1/prometheus/reload`, { method: 'POST' });
    const body = (await res.json()) as { error: { code: string; message: string } };
    assert.equal(res.status, 502);
    assert.equal(body.error.code, 'PROM_CONFIG_INVALID');
    assert.match(body.error.message, /promtool/);
    assert.equal(fs.readFileSync(configPath, 'utf8'), goodConfig);
    assert.equal((await prom.runtimeInfo()).lastConfigTime, lastConfigTime, 'Prometheus was reloaded with an invalid config');
    assert.equal(await selfMetric(svc.url, 'benchmon_prometheus_reload_failures_total'), failuresBefore);
    const leftovers = fs.readdirSync(path.dirname(configPath)).filter((n) => n.includes('.tmp-'));
    assert.deepEqual(leftovers, [], 'temp files left behind');
  });

  it('an empty or target-less config is refused by benchmon before promtool', async () => {
    fs.writeFileSync(extraFile, '[]\n');
    const { checkPrometheusConfig } = await import('../../src/prometheus/config/validate.js');
    assert.deepEqual(checkPrometheusConfig(''), ['config is empty or not a mapping']);
    assert.match(checkPrometheusConfig('global: {}\n').join(), /no scrape_configs/);
    assert.match(checkPrometheusConfig('scrape_configs: []\n').join(), /no scrape_configs/);
    assert.match(checkPrometheusConfig('scrape_configs:\n- job_name: a\n- job_name: a\n').join(), /appears twice/);
  });
});
