/**
 * runCollection end to end against a real Prometheus that scrapes itself, and its error order:
 * the caller's mistakes are answered before Prometheus is asked, and a Prometheus that is down
 * leaves no artifacts behind.
 *
 * "A server nobody here wrote": exactly N requests to Prometheus's own /api/v1/query during the
 * window; benchmon's throughput from prometheus_http_requests_total must be N / W within 3 %.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { BenchmonError } from '../errors.js';
import { PrometheusClient } from '../prometheus/client.js';
import { runCollection, type RunCollectionOptions } from './run-collection.js';
import { freePort, startPrometheus, type RunningPrometheus } from './testing/real-prometheus.js';

const SESSION = 'self-1';
const N = 400;
const W_MS = 10_000;

async function failure(promise: Promise<unknown>): Promise<BenchmonError> {
  try {
    await promise;
  } catch (err) {
    assert.ok(err instanceof BenchmonError, String(err));
    return err;
  }
  assert.fail('expected a failure');
}

describe('runCollection', () => {
  let prom: RunningPrometheus;
  let root: string;
  let windowStartMs = 0;
  let sent = 0;
  const options = (body: RunCollectionOptions['body']): RunCollectionOptions => ({
    sessionId: SESSION, body, scrapeIntervalMs: 1000, artifactsRoot: root, sessionLabels: { purpose: 'test' }, targets: [], prometheusConfigSha256: null,
  });
  const throughputQuery = [{
    name: 'query_api_rps', unit: 'req/s', method: 'rate', higher_is_better: true,
    query: 'sum(rate(prometheus_http_requests_total{handler="/api/v1/query", ${session}}[${window}]))',
  }];

  before(async () => {
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'benchmon-run-'));
    const port = await freePort();
    prom = await startPrometheus({
      port,
      config: `global:\n  scrape_interval: 1s\nscrape_configs:\n  - job_name: prometheus\n    static_configs: [{targets: ['127.0.0.1:${port}'], labels: {session: ${SESSION}}}]\n`,
    });
    // One query first, so the handler's series exists before the window starts.
    await prom.client.queryInstant('1');
    const deadline = Date.now() + 30_000;
    while (!(await prom.client.getTargets()).activeTargets.some((t) => t.health === 'up' && t.lastScrape > new Date(Date.now() - 1500).toISOString())) {
      if (Date.now() > deadline) throw new Error('self-scrape never came up');
      await new Promise((r) => setTimeout(r, 200));
    }
    // Exactly N queries spread evenly over the window.
    windowStartMs = Math.ceil(Date.now() / 1000) * 1000 + 1000;
    for (let i = 0; i < N; i++) {
      const at = windowStartMs + ((i + 0.5) * W_MS) / N;
      await new Promise((r) => setTimeout(r, Math.max(0, at - Date.now())));
      await prom.client.queryInstant('vector(1)');
      sent++;
    }
    await new Promise((r) => setTimeout(r, windowStartMs + W_MS + 1500 - Date.now()));
  });

  after(async () => {
    await prom?.stop();
    if (root) fs.rmSync(root, { recursive: true, force: true });
  });

  it('measures Prometheus\'s own request rate as N / W within 3 % and writes the artifacts', async () => {
    const body = { start_time: windowStartMs / 1000, end_time: (windowStartMs + W_MS) / 1000, queries: throughputQuery };
    const progress: number[] = [];
    const { summary, written } = await runCollection(prom.client, { ...options(body), onProgress: (p) => progress.push(p.done) });
    const rps = summary.kpis[0]!.value!;
    const expected = sent / (W_MS / 1000);
    assert.ok(Math.abs(rps - expected) / expected <= 0.03, `measured ${rps} req/s, sent ${expected} req/s`);
    assert.equal(summary.recipe, 'ad-hoc');
    assert.equal(summary.session_id, SESSION);
    assert.equal(path.dirname(summary.directory), path.join(root, SESSION));
    for (const file of Object.values(summary.files)) assert.ok(fs.statSync(file).size > 0, file);
    assert.equal(written.manifest.session.prometheus_targets[0]!.health, 'up');
    assert.equal(written.manifest.session.labels.purpose, 'test');
    assert.ok(progress.length > 0);
  });

  it('answers the caller\'s mistakes first, without asking Prometheus', async () => {
    const gone = new PrometheusClient(`http://127.0.0.1:${await freePort()}`, 1000);
    const ok = { start_time: windowStartMs / 1000, end_time: (windowStartMs + W_MS) / 1000 };
    const badRecipe = await failure(runCollection(gone, options({ ...ok, recipe: 'nope' })));
    assert.deepEqual([badRecipe.status, badRecipe.details?.field], [400, 'recipe']);
    const badDir = await failure(runCollection(gone, options({ ...ok, output_dir: '../../etc' })));
    assert.deepEqual([badDir.status, badDir.details?.field], [400, 'output_dir']);
    const backwards = await failure(runCollection(gone, options({ start_time: ok.end_time, end_time: ok.start_time })));
    assert.equal(backwards.status, 422);
    assert.match(backwards.message, /must be after start_time/);
    const future = await failure(runCollection(gone, options({ start_time: Date.now() / 1000, end_time: Date.now() / 1000 + 3600 })));
    assert.match(future.message, /in the future/);
  });

  it('refuses a window older than Prometheus\'s retention, saying so (422)', async () => {
    const day = 86_400;
    const err = await failure(runCollection(prom.client, options({ start_time: Date.now() / 1000 - 20 * day, end_time: Date.now() / 1000 - 19 * day })));
    assert.equal(err.status, 422);
    assert.match(err.message, /retention of 360h/);
  });

  it('answers 503 when Prometheus is down, and writes nothing', async () => {
    const gone = new PrometheusClient(`http://127.0.0.1:${await freePort()}`, 1000);
    const body = { start_time: windowStartMs / 1000, end_time: (windowStartMs + W_MS) / 1000, output_dir: 'down-test' };
    const err = await failure(runCollection(gone, options(body)));
    assert.deepEqual([err.code, err.status], ['PROM_UNAVAILABLE', 503]);
    assert.equal(fs.existsSync(path.join(root, 'down-test')), false);
  });
});
