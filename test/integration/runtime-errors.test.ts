/**
 * Start-up as an operator meets it: `benchmon serve` with a missing binary, a taken port or a bad
 * setting stops with one clear line; two instances run side by side; external mode drives a
 * Prometheus that benchmon did not start and leaves it running.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { BenchmonClient } from '../../src/client/api-client.js';
import { PrometheusClient } from '../../src/prometheus/client.js';
import { freePort, isolatedEnv, spawnService, tempDir, waitFor, type ChildService } from '../helpers/harness.js';
import { killPids, pidAlive, prometheusPidsFor, runBenchmon, type Finished } from '../helpers/processes.js';
import { startTinyExporter } from '../helpers/tiny-exporter.js';

function configPathOf(env: Record<string, string>): string {
  return env.PROMETHEUS_CONFIG_PATH ?? path.join(env.BENCHMON_STATE_DIR!, 'prometheus', 'prometheus.yml');
}

/** The failure is one line on stderr, and nothing keeps running or listening afterwards. */
async function assertCleanFailure(r: Finished, env: Record<string, string>): Promise<string> {
  assert.notEqual(r.code, 0, `benchmon serve did not fail: ${r.stdout}${r.stderr}`);
  assert.equal(r.signal, null, 'benchmon serve hung and had to be killed');
  const lines = r.stderr.trim().split('\n');
  assert.equal(lines.length, 1, `expected one line on stderr, got:\n${r.stderr}`);
  assert.deepEqual(prometheusPidsFor(configPathOf(env)), [], 'a Prometheus was left running');
  const api = await fetch(`http://127.0.0.1:${env.BENCHMON_PORT}/health`).then(() => 'answered', () => 'closed');
  assert.equal(api, 'closed', 'the API port still answers');
  return lines[0]!;
}

describe('benchmon serve stops with one clear line when it cannot start', () => {
  const envs: Array<Record<string, string>> = [];
  const fresh = async (extra: Record<string, string> = {}) => {
    const env = await isolatedEnv(extra);
    envs.push(env);
    return env;
  };
  after(async () => {
    for (const env of envs) await killPids(prometheusPidsFor(configPathOf(env)));
  });

  it('PROMETHEUS_BIN pointing to a missing binary → names apt-get install prometheus', async () => {
    for (const bin of ['/nonexistent/bin/prometheus', 'prometheus-not-installed-here']) {
      const env = await fresh({ PROMETHEUS_BIN: bin });
      const line = await assertCleanFailure(await runBenchmon(['serve'], env), env);
      assert.match(line, /apt-get install prometheus/);
      assert.ok(line.includes(bin), `the line does not name the binary it looked for: ${line}`);
    }
  });

  it('PROMETHEUS_URL port already taken → names the address and PROMETHEUS_URL, and leaves the other listener alone', async () => {
    const env = await fresh();
    const port = Number(new URL(env.PROMETHEUS_URL!).port);
    const squatter = net.createServer((s) => s.end('mine\n'));
    await new Promise<void>((resolve) => squatter.listen(port, '127.0.0.1', resolve));
    try {
      const line = await assertCleanFailure(await runBenchmon(['serve'], env), env);
      assert.ok(line.includes(`127.0.0.1:${port}`), `the line does not name the port: ${line}`);
      assert.match(line, /PROMETHEUS_URL/);
      assert.match(line, /in use/);
      const reply = await new Promise<string>((resolve, reject) => {
        const s = net.connect(port, '127.0.0.1');
        let got = '';
        s.on('data', (d) => (got += d.toString()));
        s.on('end', () => resolve(got));
        s.on('error', reject);
      });
      assert.equal(reply, 'mine\n', 'the process that held the port no longer answers on it');
    } finally {
      await new Promise<void>((resolve) => squatter.close(() => resolve()));
    }
  });

  const badSettings: Array<[string, Record<string, string>]> = [
    ['BENCHMON_PORT', { BENCHMON_PORT: 'abc' }],
    ['DEFAULT_SCRAPE_INTERVAL', { DEFAULT_SCRAPE_INTERVAL: '5x' }],
    ['PROMETHEUS_URL', { PROMETHEUS_URL: 'ftp://x' }],
    ['DEFAULT_SCRAPE_TIMEOUT', { DEFAULT_SCRAPE_INTERVAL: '2s', DEFAULT_SCRAPE_TIMEOUT: '3s' }],
    ['PROMETHEUS_MODE', { PROMETHEUS_MODE: 'remote' }],
    ['PROMETHEUS_CONFIG_PATH', { PROMETHEUS_MODE: 'external' }],
    ['BENCHMON_API_TOKEN', { BENCHMON_API_TOKEN: 'short' }],
  ];
  it('a bad setting → exit 2 and the line names the variable', async () => {
    const runs = await Promise.all(badSettings.map(async ([variable, extra]) => {
      const env = await fresh(extra);
      return { variable, env, r: await runBenchmon(['serve'], env) };
    }));
    for (const { variable, env, r } of runs) {
      assert.equal(r.code, 2, `${variable}: exit ${r.code}: ${r.stderr}`);
      const line = await assertCleanFailure(r, env);
      assert.match(line, new RegExp(`^benchmon: invalid setting ${variable}: `), `${variable}: ${line}`);
      assert.equal(fs.existsSync(path.join(env.BENCHMON_STATE_DIR!, 'benchmon.sqlite')), false, `${variable}: a state store was created before the settings were checked`);
    }
  });
});

describe('two instances side by side', () => {
  let a: ChildService | undefined;
  let b: ChildService | undefined;
  let envA: Record<string, string>;
  let envB: Record<string, string>;
  let exporter: Awaited<ReturnType<typeof startTinyExporter>> | undefined;

  before(async () => {
    exporter = await startTinyExporter();
    envA = await isolatedEnv();
    envB = await isolatedEnv();
  });
  after(async () => {
    await a?.stop('SIGTERM');
    await b?.stop('SIGTERM');
    await killPids([...prometheusPidsFor(configPathOf(envA)), ...prometheusPidsFor(configPathOf(envB))]);
    await exporter?.close();
  });

  it('each has its own API, state and Prometheus, with the same session id in both', async () => {
    [a, b] = await Promise.all([spawnService(envA), spawnService(envB)]);
    const pairs = [{ svc: a, env: envA, job: 'only-in-a' }, { svc: b, env: envB, job: 'only-in-b' }];
    await Promise.all(pairs.map(async ({ svc, job }) => {
      const c = new BenchmonClient(svc.url);
      await c.createSession({ session_id: 'same-id' });
      const r = await c.registerTarget('same-id', { target_type: 'client', scrape_config: { job_name: job, targets: [exporter!.address] } }, { up: true, timeoutSeconds: 30 });
      assert.equal(r.wait?.satisfied, true, `${job} not up`);
    }));
    const pids = new Set<number>();
    for (const { svc, env, job } of pairs) {
      const c = new BenchmonClient(svc.url);
      assert.deepEqual((await c.listTargets('same-id')).targets.map((t) => t.target_id), [job]);
      const h = await c.prometheusHealth();
      assert.equal(h.url, env.PROMETHEUS_URL);
      assert.ok(h.runtime.pid);
      pids.add(h.runtime.pid);
      // Ask each Prometheus directly: it scrapes its own instance's target only.
      const active = (await new PrometheusClient(env.PROMETHEUS_URL!).getTargets({ state: 'active' })).activeTargets;
      assert.deepEqual(active.filter((t) => t.labels.session === 'same-id').map((t) => t.labels.job), [job]);
      assert.ok(fs.existsSync(path.join(env.BENCHMON_STATE_DIR!, 'benchmon.sqlite')));
      assert.deepEqual(prometheusPidsFor(configPathOf(env)), [h.runtime.pid]);
    }
    assert.equal(pids.size, 2, 'both instances report the same Prometheus');
    assert.equal(await a.stop('SIGTERM'), 0);
    assert.equal(await b.stop('SIGTERM'), 0);
  });
});

describe('external mode (PROMETHEUS_MODE=external)', () => {
  let prom: ChildProcess | undefined;
  let promExited: Promise<unknown> | undefined;
  let promUrl: string;
  let configPath: string;
  let svc: ChildService | undefined;
  let exporter: Awaited<ReturnType<typeof startTinyExporter>> | undefined;
  let env: Record<string, string>;

  before(async () => {
    exporter = await startTinyExporter();
    const dir = tempDir('benchmon-external-');
    configPath = path.join(dir, 'config', 'prometheus.yml');
    fs.mkdirSync(path.dirname(configPath));
    fs.writeFileSync(configPath, 'global:\n  scrape_interval: 1s\nscrape_configs: []\n');
    const port = await freePort();
    promUrl = `http://127.0.0.1:${port}`;
    // Our own Prometheus, as Docker compose would run it: benchmon only gets its URL and config path.
    prom = spawn('prometheus', [
      `--config.file=${configPath}`,
      `--storage.tsdb.path=${path.join(dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
      '--web.enable-lifecycle',
    ], { stdio: 'ignore' });
    promExited = new Promise((resolve) => prom!.once('exit', resolve));
    await waitFor('our external Prometheus to be ready', async () => (await fetch(`${promUrl}/-/ready`).catch(() => undefined))?.ok, 30_000);
    env = await isolatedEnv({ PROMETHEUS_MODE: 'external', PROMETHEUS_URL: promUrl, PROMETHEUS_CONFIG_PATH: configPath });
  });
  after(async () => {
    await svc?.stop('SIGTERM');
    if (prom && prom.exitCode === null && prom.signalCode === null) prom.kill('SIGTERM');
    await promExited;
    await exporter?.close();
  });

  it('registers a target that the external Prometheus scrapes, without starting a Prometheus of its own', async () => {
    svc = await spawnService(env);
    const client = new BenchmonClient(svc.url);
    const health = await client.prometheusHealth();
    assert.equal(health.runtime.mode, 'external');
    assert.equal(health.runtime.pid, null);
    assert.deepEqual(prometheusPidsFor(configPath), [prom!.pid], 'benchmon started a Prometheus of its own');

    await client.createSession({ session_id: 'ext' });
    const r = await client.registerTarget('ext', { target_type: 'client', role: 'client', job_id: '77', scrape_config: { job_name: 'tiny', targets: [exporter!.address] } }, { up: true, timeoutSeconds: 30 });
    assert.equal(r.wait?.satisfied, true, `not up: ${r.wait?.pending.join(',')}`);

    // Straight from the Prometheus we started, not through benchmon.
    const active = (await new PrometheusClient(promUrl).getTargets({ state: 'active' })).activeTargets;
    const mine = active.find((t) => t.labels.session === 'ext' && t.labels.job === 'tiny');
    assert.ok(mine, 'the external Prometheus does not have the target');
    assert.equal(mine.health, 'up');
    assert.equal(mine.labels.job_id, '77');
    assert.equal(mine.labels.target_type, 'client');
    assert.match(fs.readFileSync(configPath, 'utf8'), /job_name: benchmon-session-ext\n/, 'benchmon did not write the config the external Prometheus reads');
  });

  it("benchmon's stop leaves the external Prometheus running and scraping", async () => {
    assert.ok(svc, 'benchmon is not running');
    assert.equal(await svc.stop('SIGTERM'), 0, svc.output());
    const stoppedAt = Date.now();
    assert.ok(prom!.pid && pidAlive(prom!.pid), 'benchmon stopped the external Prometheus');
    assert.equal((await fetch(`${promUrl}/-/ready`)).status, 200);
    await waitFor('the external Prometheus to keep scraping after benchmon stopped', async () => {
      const t = (await new PrometheusClient(promUrl).getTargets({ state: 'active' })).activeTargets.find((a) => a.labels.session === 'ext');
      return t && t.health === 'up' && Date.parse(t.lastScrape) > stoppedAt;
    }, 15_000, 250);
  });
});
