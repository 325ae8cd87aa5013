/**
 * Test support (used only by *.test.ts): a real Debian `prometheus` on a free port in a temp
 * directory, optionally preloaded with backfilled blocks through `promtool tsdb
 * create-blocks-from openmetrics`. Every process started here is stopped by stop().
 */
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { PrometheusClient } from '../../prometheus/client.js';
import { freePort } from '../../net/free-port.js';

export { freePort };

const execFileAsync = promisify(execFile);

export const PROMETHEUS_BIN = process.env.PROMETHEUS_BIN ?? '/usr/bin/prometheus';
export const PROMTOOL_BIN = process.env.PROMTOOL_BIN ?? '/usr/bin/promtool';


export interface RunningPrometheus {
  url: string;
  client: PrometheusClient;
  dir: string;
  stop(): Promise<void>;
}

/** Writes OpenMetrics text (ending in "# EOF") into TSDB blocks under dataDir. */
export async function backfillOpenMetrics(openMetrics: string, dataDir: string): Promise<void> {
  const input = path.join(path.dirname(dataDir), `backfill-${process.pid}-${Date.now()}.om`);
  fs.mkdirSync(dataDir, { recursive: true });
  fs.writeFileSync(input, openMetrics);
  try {
    await execFileAsync(PROMTOOL_BIN, ['tsdb', 'create-blocks-from', 'openmetrics', input, dataDir], { maxBuffer: 16 << 20 });
  } finally {
    fs.rmSync(input, { force: true });
  }
}

export interface StartOptions {
  /** prometheus.yml content; default: no scrape jobs. */
  config?: string;
  /** OpenMetrics text to backfill before start. */
  backfill?: string;
  /** Listen port (a config that scrapes Prometheus itself needs to know it); default: a free one. */
  port?: number;
}

export async function startPrometheus(options: StartOptions = {}): Promise<RunningPrometheus> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'benchmon-collect-prom-'));
  const dataDir = path.join(dir, 'data');
  if (options.backfill !== undefined) await backfillOpenMetrics(options.backfill, dataDir);
  const configFile = path.join(dir, 'prometheus.yml');
  fs.writeFileSync(configFile, options.config ?? 'global:\n  scrape_interval: 1s\nscrape_configs: []\n');
  const port = options.port ?? (await freePort());
  const url = `http://127.0.0.1:${port}`;
  const logFile = path.join(dir, 'prometheus.log');
  const log = fs.openSync(logFile, 'a');
  const child: ChildProcess = spawn(
    PROMETHEUS_BIN,
    [`--config.file=${configFile}`, `--storage.tsdb.path=${dataDir}`, `--web.listen-address=127.0.0.1:${port}`, '--web.enable-lifecycle'],
    { stdio: ['ignore', log, log] },
  );
  fs.closeSync(log);
  let exited = false;
  const exitedPromise = new Promise<void>((resolve) => child.once('exit', () => {
    exited = true;
    resolve();
  }));
  const stop = async () => {
    if (!exited) {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exitedPromise;
      clearTimeout(timer);
    }
    fs.rmSync(dir, { recursive: true, force: true });
  };
  const client = new PrometheusClient(url, 30_000);
  const deadline = Date.now() + 30_000;
  while (!(await client.isReady())) {
    if (exited || Date.now() > deadline) {
      const text = fs.existsSync(logFile) ? fs.readFileSync(logFile, 'utf8').slice(-2000) : '';
      await stop();
      throw new Error(`prometheus did not become ready:\n${text}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return { url, client, dir, stop };
}
