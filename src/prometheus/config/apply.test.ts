/**
 * The verify step of the apply protocol when Prometheus answers /-/reload but not runtimeinfo.
 * A FAKE Prometheus (http.createServer) stands in here, because a real one cannot be made to
 * stall runtimeinfo on demand: bench/register saw it take longer than the call's timeout with
 * 10,000 targets, and that must not count as a rejected reload (which rolled back needlessly).
 * The real-Prometheus paths (accepted, rejected → rollback) are test/integration/rollback.test.ts.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import pino from 'pino';
import { PrometheusClient } from '../client.js';
import { ConfigApplier } from './apply.js';

const CONFIG_V1 = 'global:\n  scrape_interval: 15s\nscrape_configs:\n  - job_name: a\n    static_configs: [{targets: ["127.0.0.1:9"]}]\n';
const CONFIG_V2 = CONFIG_V1.replace('15s', '10s');

describe('ConfigApplier verify (fake Prometheus: runtimeinfo stalls or reports failure)', () => {
  let server: http.Server;
  let url: string;
  let runtimeinfo: 'stall' | 'failed' = 'stall';
  let runtimeinfoCalls = 0;
  before(async () => {
    server = http.createServer((req, res) => {
      if (req.url === '/-/reload') return void res.end();
      if (req.url?.startsWith('/api/v1/status/runtimeinfo')) {
        runtimeinfoCalls++;
        if (runtimeinfo === 'stall') return; // never answers: the client's timeout fires
        res.setHeader('content-type', 'application/json');
        return void res.end(JSON.stringify({ status: 'success', data: { reloadConfigSuccess: false } }));
      }
      res.statusCode = 404;
      res.end();
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(() => {
    server.closeAllConnections();
    server.close();
  });

  function applier(content: { v: string }) {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'benchmon-apply-'));
    const configPath = path.join(dir, 'prometheus.yml');
    const counts = { reloads: 0, failures: 0, rollbacks: 0, revisions: [] as string[] };
    const a = new ConfigApplier({
      configPath,
      promtoolBin: '/nonexistent/promtool', // own checks only; promtool is covered by the integration tests
      client: new PrometheusClient(url, 200),
      render: async () => content.v,
      revisions: { recordConfigRevision: (_c, _t, outcome) => void counts.revisions.push(outcome) },
      counters: { reloads: () => void counts.reloads++, reloadFailures: () => void counts.failures++, rollbacks: () => void counts.rollbacks++ },
      logger: pino({ level: 'silent' }),
    });
    return { a, configPath, counts, dir };
  }

  it('a 2xx reload whose runtimeinfo never answers is applied, not rolled back (after a few tries)', async () => {
    runtimeinfo = 'stall';
    runtimeinfoCalls = 0;
    const content = { v: CONFIG_V1 };
    const { a, configPath, counts, dir } = applier(content);
    await a.writeInitial();
    content.v = CONFIG_V2;
    const outcome = await a.request();
    assert.equal(outcome.changed, true);
    assert.equal(fs.readFileSync(configPath, 'utf8'), CONFIG_V2);
    assert.deepEqual({ reloads: counts.reloads, failures: counts.failures, rollbacks: counts.rollbacks }, { reloads: 1, failures: 0, rollbacks: 0 });
    assert.equal(runtimeinfoCalls, 3, 'asked runtimeinfo three times before taking the 2xx');
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('a reload Prometheus reports as failed is still rolled back to the last good config', async () => {
    runtimeinfo = 'failed';
    const content = { v: CONFIG_V1 };
    const { a, configPath, counts, dir } = applier(content);
    await a.writeInitial();
    content.v = CONFIG_V2;
    await assert.rejects(a.request(), (err: Error & { code?: string }) => err.code === 'PROM_RELOAD_FAILED');
    assert.equal(fs.readFileSync(configPath, 'utf8'), CONFIG_V1);
    assert.equal(counts.rollbacks, 1);
    assert.deepEqual(counts.revisions, ['rolled_back']);
    fs.rmSync(dir, { recursive: true, force: true });
  });
});
