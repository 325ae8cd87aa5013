/**
 * The whole job on one machine, in one call: a benchmon service with its local Prometheus,
 * Debian's node_exporter, and the EMULATED AI-factory workload (emulator/: a vLLM-like and a
 * Qdrant-like endpoint with a load generator of known latency distributions). It registers
 * them in a session, runs the load for a while, collects the window with the matching recipes,
 * and stops everything it started. The emulator is loaded at run time from its own folder: it
 * is demo and test equipment, not part of the product.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { BenchmonClient, type CollectAnswer } from '../client/api-client.js';
import { BenchmonError } from '../errors.js';
import { findExecutable } from '../prometheus/config/promtool.js';
import { startBenchmon, type RunningBenchmon } from '../server.js';
import { loadSettings } from '../settings/settings.js';
import { freePort } from '../net/free-port.js';

export interface DemoOptions {
  durationMs: number;
  /** Where the collections go (default ./artifacts, or ARTIFACTS_ROOT). */
  artifactsRoot: string;
  sessionId?: string;
  /** Progress lines for a person. */
  log: (line: string) => void;
  /** Stops the load early (Ctrl-C). */
  signal?: AbortSignal;
}

export interface DemoResult {
  sessionId: string;
  window: { start: string; end: string };
  collections: CollectAnswer[];
  load: { vllm: { sent: number; ok: number }; qdrant: { sent: number; ok: number } };
}

interface EmulatorModule {
  startEmulatedWorkload(options?: Record<string, unknown>): Promise<{
    vllm: { address: string; metricsPath: string };
    qdrant: { address: string; metricsPath: string };
    runLoad(options: { durationMs: number; signal?: AbortSignal; onProgress?: (p: { elapsedMs: number; durationMs: number; endpoints: ReadonlyArray<{ name: string; sent: number; ok: number }> }) => void; progressIntervalMs?: number }): Promise<{
      startedAtMs: number; finishedAtMs: number; vllm?: { sent: number; ok: number }; qdrant?: { sent: number; ok: number };
    }>;
    stop(): Promise<void>;
  }>;
}


function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

async function startNodeExporter(): Promise<{ address: string; stop(): Promise<void> }> {
  const exe = findExecutable('prometheus-node-exporter');
  if (!exe) throw new BenchmonError('PROM_RUNTIME_FAILED', 'prometheus-node-exporter not found; install it with: sudo apt-get install prometheus-node-exporter');
  const address = `127.0.0.1:${await freePort()}`;
  const child: ChildProcess = spawn(exe, [`--web.listen-address=${address}`], { stdio: 'ignore' });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  for (let i = 0; i < 100; i++) {
    if (child.exitCode !== null) throw new BenchmonError('PROM_RUNTIME_FAILED', `prometheus-node-exporter exited with ${child.exitCode}`);
    if ((await fetch(`http://${address}/metrics`).catch(() => undefined))?.ok) break;
    await sleep(100);
  }
  return {
    address,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}

export async function runDemo(options: DemoOptions): Promise<DemoResult> {
  const { log } = options;
  const emulator = (await import(new URL('../../emulator/index.js', import.meta.url).href)) as EmulatorModule;
  const stateDir = fs.mkdtempSync(path.join(os.tmpdir(), 'benchmon-demo-'));
  const stops: Array<() => Promise<void>> = [];
  try {
    // Free ports and a throw-away state directory: the demo never collides with a running benchmon.
    const settings = loadSettings({
      BENCHMON_STATE_DIR: stateDir,
      ARTIFACTS_ROOT: options.artifactsRoot,
      BENCHMON_HOST: '127.0.0.1',
      BENCHMON_PORT: String(await freePort()),
      PROMETHEUS_URL: `http://127.0.0.1:${await freePort()}`,
      DEFAULT_SCRAPE_INTERVAL: '1s',
      DEFAULT_SCRAPE_TIMEOUT: '1s',
      LOG_LEVEL: 'warn',
    });
    log('starting benchmon with a local Prometheus …');
    const running: RunningBenchmon = await startBenchmon(settings, pino({ level: 'warn' }));
    stops.push(() => running.close());
    log(`  API ${running.url}, Prometheus ${settings.PROMETHEUS_URL}`);

    const nodeExporter = await startNodeExporter();
    stops.push(() => nodeExporter.stop());
    const workload = await emulator.startEmulatedWorkload();
    stops.push(() => workload.stop());
    log(`starting node_exporter ${nodeExporter.address}, vLLM emulator ${workload.vllm.address}, Qdrant emulator ${workload.qdrant.address}`);

    const client = new BenchmonClient(running.url);
    const sessionId = options.sessionId ?? `demo-${new Date().toISOString().replace(/[-:]/g, '').replace(/\..*$/, '').replace('T', '-')}`;
    await client.createSession({ session_id: sessionId, labels: { benchmark: 'demo' } });
    const register = async (targetType: string, jobName: string, address: string, role: 'service' | 'exporter') => {
      const r = await client.registerTarget(sessionId, { target_type: targetType, role, job_id: 'demo', scrape_config: { job_name: jobName, targets: [address] } }, { up: true, timeoutSeconds: 30 });
      if (!r.wait?.satisfied) throw new BenchmonError('PROM_UNAVAILABLE', `${jobName} was not scraped within 30 s: ${r.wait?.pending.join(', ')}`);
    };
    await Promise.all([
      register('vllm', 'vllm-emulator', workload.vllm.address, 'service'),
      register('qdrant', 'qdrant-emulator', workload.qdrant.address, 'service'),
      register('node_exporter', 'node', nodeExporter.address, 'exporter'),
    ]);
    log(`session ${sessionId}: 3 targets up`);

    log(`running the emulated workload for ${Math.round(options.durationMs / 1000)} s …`);
    let lastShown = -1;
    const report = await workload.runLoad({
      durationMs: options.durationMs,
      ...(options.signal ? { signal: options.signal } : {}),
      progressIntervalMs: 1000,
      onProgress: (p) => {
        const s = Math.floor(p.elapsedMs / 1000);
        if (s - lastShown < 10 && s < Math.floor(p.durationMs / 1000)) return;
        lastShown = s;
        log(`  ${s}/${Math.round(p.durationMs / 1000)} s  ${p.endpoints.map((e) => `${e.name} ${e.ok}/${e.sent} ok`).join(', ')}`);
      },
    });
    // Let the last scrapes of the window land before asking for it.
    await sleep(2500);
    const start = new Date(report.startedAtMs).toISOString();
    const end = new Date(report.finishedAtMs).toISOString();
    log(`collecting ${start} .. ${end} with the vllm, qdrant and node recipes …`);
    const collections: CollectAnswer[] = [];
    for (const recipe of ['vllm', 'qdrant', 'node']) collections.push(await client.collect(sessionId, { start_time: start, end_time: end, recipe }));
    return {
      sessionId,
      window: { start, end },
      collections,
      load: { vllm: { sent: report.vllm?.sent ?? 0, ok: report.vllm?.ok ?? 0 }, qdrant: { sent: report.qdrant?.sent ?? 0, ok: report.qdrant?.ok ?? 0 } },
    };
  } finally {
    for (const stop of stops.reverse()) await stop().catch(() => undefined);
    fs.rmSync(stateDir, { recursive: true, force: true });
  }
}
