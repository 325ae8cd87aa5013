/**
 * Test harness: real benchmon services with a real local Prometheus, on free ports, in temp
 * directories, always stopped at the end. No fixed ports, no shared state between tests.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import pino from 'pino';
import { BenchmonClient } from '../../src/client/api-client.js';
import type { RegisterTargetBody } from '../../src/sessions/model.js';
import { startBenchmon, type RunningBenchmon } from '../../src/server.js';
import { loadSettings, type Settings } from '../../src/settings/settings.js';
import { freePort } from '../../src/net/free-port.js';

export { freePort };

/** Repository root, from dist/test/helpers or test/helpers. */
export const REPO_ROOT = (() => {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  while (!fs.existsSync(path.join(dir, 'package.json'))) dir = path.dirname(dir);
  return dir;
})();

export const BENCHMON_BIN = path.join(REPO_ROOT, 'bin', 'benchmon.js');


export function tempDir(prefix = 'benchmon-test-'): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

/** Thrown inside a waitFor condition to stop waiting at once (e.g. the process being waited for has exited). */
export class GiveUp extends Error {}

export async function waitFor<T>(what: string, fn: () => Promise<T | undefined | false> | T | undefined | false, timeoutMs = 30_000, everyMs = 200): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastErr: unknown;
  while (Date.now() < deadline) {
    try {
      const v = await fn();
      if (v !== undefined && v !== false) return v;
    } catch (err) {
      if (err instanceof GiveUp) throw err;
      lastErr = err;
    }
    await new Promise((r) => setTimeout(r, everyMs));
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${lastErr ? `: ${(lastErr as Error).message}` : ''}`);
}

/** Environment for one isolated benchmon: own state dir, own ports, 1 s scrapes. */
export async function isolatedEnv(extra: Record<string, string> = {}): Promise<Record<string, string>> {
  const dir = tempDir();
  const port = await freePort();
  const promPort = await freePort();
  return {
    BENCHMON_STATE_DIR: path.join(dir, 'state'),
    ARTIFACTS_ROOT: path.join(dir, 'artifacts'),
    BENCHMON_HOST: '127.0.0.1',
    BENCHMON_PORT: String(port),
    PROMETHEUS_URL: `http://127.0.0.1:${promPort}`,
    DEFAULT_SCRAPE_INTERVAL: '1s',
    DEFAULT_SCRAPE_TIMEOUT: '1s',
    LOG_LEVEL: 'warn',
    ...extra,
  };
}

export interface TestService {
  running: RunningBenchmon;
  settings: Settings;
  env: Record<string, string>;
  url: string;
  client: BenchmonClient;
  close(): Promise<void>;
}

/** A benchmon in this process (real Prometheus child), for tests that need its internals too. */
export async function startTestService(extra: Record<string, string> = {}): Promise<TestService> {
  const env = await isolatedEnv(extra);
  const settings = loadSettings(env);
  const running = await startBenchmon(settings, pino({ level: settings.LOG_LEVEL }));
  return {
    running,
    settings,
    env,
    url: running.url,
    client: new BenchmonClient(running.url, { token: settings.BENCHMON_API_TOKEN }),
    close: () => running.close(),
  };
}

export interface ChildService { child: ChildProcess; url: string; env: Record<string, string>; output: () => string; stop(signal?: NodeJS.Signals): Promise<number | null> }

/** A benchmon as its own process (`benchmon serve`), for crash and CLI tests. */
export async function spawnService(env: Record<string, string>): Promise<ChildService> {
  const child = spawn(process.execPath, [BENCHMON_BIN, 'serve'], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const url = `http://127.0.0.1:${env.BENCHMON_PORT}`;
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  await waitFor('benchmon to answer /health', async () => {
    if (child.exitCode !== null) throw new GiveUp(`benchmon exited with ${child.exitCode}: ${out}`);
    const r = await fetch(`${url}/health`).catch(() => undefined);
    return r?.ok;
  }, 60_000);
  return {
    child,
    url,
    env,
    output: () => out,
    async stop(signal: NodeJS.Signals = 'SIGTERM') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exited;
    },
  };
}

export interface NodeExporter { address: string; stop(): Promise<void> }

/** Debian's prometheus-node-exporter on a free port, with a small set of collectors. */
export async function startNodeExporter(): Promise<NodeExporter> {
  const port = await freePort();
  const address = `127.0.0.1:${port}`;
  const child = spawn('prometheus-node-exporter', [
    `--web.listen-address=${address}`,
    '--collector.disable-defaults',
    '--collector.cpu',
    '--collector.meminfo',
    '--collector.loadavg',
    '--collector.stat',
  ], { stdio: 'ignore' });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  await waitFor('node_exporter', async () => (await fetch(`http://${address}/metrics`).catch(() => undefined))?.ok, 15_000);
  return {
    address,
    async stop() {
      if (child.exitCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}

/** Reads one sample of benchmon's own /metrics. */
export async function selfMetric(url: string, name: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`${name} `) || l.startsWith(`${name}{`));
  if (!line) throw new Error(`metric ${name} not found`);
  return Number(line.slice(line.lastIndexOf(' ') + 1));
}

/** Registers a target with ?wait=up (30 s) and fails the test, naming `what`, when it does not come up. */
export async function registerUp(client: BenchmonClient, session: string, body: RegisterTargetBody, what: string) {
  const reg = await client.registerTarget(session, body, { up: true, timeoutSeconds: 30 });
  assert.ok(reg.wait?.satisfied, `${what} did not come up: ${JSON.stringify(reg.wait)}`);
  return reg;
}

export function nodeExporterBody(session: string, address: string, jobName = 'node') {
  return { job_id: 'job-1', target_type: 'node_exporter', role: 'exporter' as const, scrape_config: { job_name: jobName, metrics_path: '/metrics', targets: [address] } };
}
