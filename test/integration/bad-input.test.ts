import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { PrometheusClient } from '../../src/prometheus/client.js';
import { startTestService, type TestService } from '../helpers/harness.js';

/** Every file under a directory with its content, to prove nothing on disk changed. */
function snapshot(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (d: string) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.name.endsWith('.json') || e.name.endsWith('.yml') || e.name.endsWith('.last-good')) out[path.relative(dir, p)] = fs.readFileSync(p, 'utf8');
    }
  };
  walk(dir);
  return out;
}

const good = { target_type: 'node_exporter', scrape_config: { job_name: 'node', targets: ['127.0.0.1:9100'] } };
const withScrape = (over: Record<string, unknown>) => ({ ...good, scrape_config: { ...good.scrape_config, ...over } });

interface Case { name: string; method?: string; path: string; body: unknown; raw?: boolean; status: number; field: string }

const cases: Case[] = [
  { name: 'job_name with spaces', path: '/api/v1/sessions/s1/targets', body: withScrape({ job_name: 'my job' }), status: 400, field: 'scrape_config.job_name' },
  { name: 'job_name with a newline (YAML injection)', path: '/api/v1/sessions/s1/targets', body: withScrape({ job_name: 'x\n- job_name: evil\n  static_configs: [{targets: ["evil:1"]}]' }), status: 400, field: 'scrape_config.job_name' },
  { name: 'duplicate job_name', path: '/api/v1/sessions/s1/targets', body: withScrape({ job_name: 'existing' }), status: 409, field: 'scrape_config.job_name' },
  { name: 'target without port', path: '/api/v1/sessions/s1/targets', body: withScrape({ targets: ['localhost'] }), status: 400, field: 'scrape_config.targets[0]' },
  { name: 'target as URL', path: '/api/v1/sessions/s1/targets', body: withScrape({ targets: ['127.0.0.1:9100', 'http://x:1/metrics'] }), status: 400, field: 'scrape_config.targets[1]' },
  { name: 'target port out of range', path: '/api/v1/sessions/s1/targets', body: withScrape({ targets: ['host:99999'] }), status: 400, field: 'scrape_config.targets[0]' },
  { name: 'bad duration', path: '/api/v1/sessions/s1/targets', body: withScrape({ scrape_interval: '5x' }), status: 400, field: 'scrape_config.scrape_interval' },
  { name: 'timeout longer than interval', path: '/api/v1/sessions/s1/targets', body: withScrape({ scrape_interval: '5s', scrape_timeout: '10s' }), status: 400, field: 'scrape_config.scrape_timeout' },
  { name: 'metrics_path without leading slash', path: '/api/v1/sessions/s1/targets', body: withScrape({ metrics_path: 'metrics' }), status: 400, field: 'scrape_config.metrics_path' },
  { name: 'label overriding session', path: '/api/v1/sessions/s1/targets', body: withScrape({ labels: { session: 'other' } }), status: 400, field: 'scrape_config.labels.session' },
  { name: 'unknown field', path: '/api/v1/sessions/s1/targets', body: { ...good, oops: 1 }, status: 400, field: 'oops' },
  { name: 'missing target_type', path: '/api/v1/sessions/s1/targets', body: { scrape_config: good.scrape_config }, status: 400, field: 'target_type' },
  { name: 'unknown session', path: '/api/v1/sessions/nope/targets', body: good, status: 404, field: 'session_id' },
  { name: 'session id with ../ in the path', path: '/api/v1/sessions/..%2F..%2Fetc/targets', body: good, status: 400, field: 'params.session_id' },
  { name: 'session id with ../ in the body', path: '/api/v1/sessions', body: { session_id: '../../etc' }, status: 400, field: 'session_id' },
  { name: 'session that already exists', path: '/api/v1/sessions', body: { session_id: 's1' }, status: 409, field: 'session_id' },
  { name: 'body that is not JSON', path: '/api/v1/sessions/s1/targets', body: '{"target_type": "x", ', raw: true, status: 400, field: 'body' },
  { name: 'query without query', path: '/api/v1/prometheus/query', body: {}, status: 400, field: 'query' },
];

describe('bad input → 4xx naming the field, nothing changed on disk or in Prometheus', () => {
  let svc: TestService;
  let prom: PrometheusClient;
  let configDir: string;

  before(async () => {
    svc = await startTestService();
    prom = new PrometheusClient(svc.settings.PROMETHEUS_URL);
    configDir = path.dirname(svc.settings.PROMETHEUS_CONFIG_PATH);
    await svc.client.createSession({ session_id: 's1' });
    await svc.client.registerTarget('s1', withScrape({ job_name: 'existing' }) as never);
  });
  after(async () => svc?.close());

  for (const c of cases) {
    it(c.name, async () => {
      const before = snapshot(configDir);
      const runtimeBefore = await prom.runtimeInfo();
      const res = await fetch(`${svc.url}${c.path}`, {
        method: c.method ?? 'POST',
        headers: { 'content-type': 'application/json' },
        body: c.raw ? (c.body as string) : JSON.stringify(c.body),
      });
      const body = (await res.json()) as { error: { code: string; message: string; details?: { field?: string } } };
      assert.equal(res.status, c.status, JSON.stringify(body));
      assert.equal(body.error.details?.field, c.field, body.error.message);
      assert.ok(body.error.message.includes(c.field.replace(/^params\./, 'params.')), `message should name ${c.field}: ${body.error.message}`);
      assert.deepEqual(snapshot(configDir), before, 'a rejected request changed Prometheus config files');
      const runtimeAfter = await prom.runtimeInfo();
      assert.equal(runtimeAfter.reloadConfigSuccess, true);
      assert.equal(runtimeAfter.lastConfigTime, runtimeBefore.lastConfigTime, 'a rejected request caused a reload');
    });
  }

  it('the rejected YAML-injection job never reaches prometheus.yml or file_sd', () => {
    for (const content of Object.values(snapshot(configDir))) assert.ok(!content.includes('evil'), 'injected text found on disk');
  });

  it('GET on an unknown route is a 404 with the error shape', async () => {
    const res = await fetch(`${svc.url}/api/v1/nothing`);
    assert.equal(res.status, 404);
    assert.equal(((await res.json()) as { error: { code: string } }).error.code, 'NOT_FOUND');
  });
});
