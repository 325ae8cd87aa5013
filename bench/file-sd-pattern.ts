/**
 * bench/file-sd-pattern — what a stream of file_sd writes costs Prometheus, by write pattern.
 * Supporting measurement for bench/register (see BENCHMARKS.md): Prometheus's file_sd re-reads
 * EVERY file of a job on EVERY inotify event in the watched directory (whatever the file name), so
 * the cost of one registration to Prometheus is (events per write) × (targets in the job).
 *
 * For each pattern, a fresh Prometheus (Debian's, temp dir, free port) watches one directory that
 * holds N targets (benchmon's file_sd format: one group per target, job/metrics path/scheme/interval
 * as labels); then W single-target additions are written at a fixed rate, the last one pointing at
 * a real tiny exporter. Measured: file_sd scans, seconds spent scanning, Prometheus CPU seconds,
 * time from the last write until that target is `up`, and until the scans stop (backlog drained).
 * Patterns:
 *   benchmon      64 shard files, temp file next to the shard in the watched directory (as src/fs/atomic-write.ts does)
 *   temp-outside  64 shard files, temp file in the parent directory (same filesystem), then rename
 *   one-file      one file for all targets, temp file in the parent directory, then rename
 *
 * Run: npx tsc -p tsconfig.json && node dist/bench/file-sd-pattern.js
 * Knobs: BENCH_FSD_TARGETS (10000), BENCH_FSD_WRITES (100), BENCH_FSD_RATE (20 writes/s),
 * BENCH_FSD_PATTERNS (benchmon,temp-outside,one-file), BENCH_FSD_DRAIN_S (240).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import type net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { freePort } from '../src/net/free-port.js';
import { progressLog } from './bench-process.js';

const N = Number(process.env.BENCH_FSD_TARGETS ?? 10_000);
const WRITES = Number(process.env.BENCH_FSD_WRITES ?? 100);
const RATE = Number(process.env.BENCH_FSD_RATE ?? 20);
const DRAIN_S = Number(process.env.BENCH_FSD_DRAIN_S ?? 240);
const PATTERNS = (process.env.BENCH_FSD_PATTERNS ?? 'benchmon,temp-outside,one-file').split(',') as Pattern[];
const SHARDS = 64;
type Pattern = 'benchmon' | 'temp-outside' | 'one-file';

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
const started = performance.now();
const log = progressLog(started);

interface Group { targets: string[]; labels: Record<string, string> }
function group(job: string, address: string, interval = '10s'): Group {
  return {
    targets: [address],
    labels: {
      job, __metrics_path__: '/metrics', __scheme__: 'http', __scrape_interval__: interval, __scrape_timeout__: '1s',
      session: 'fsd', target_type: 'client', role: 'client', job_id: 'bench',
    },
  };
}
function shardOf(i: number): number {
  return i % SHARDS;
}

async function promMetrics(url: string): Promise<{ scans: number; scanSec: number; cpu: number; discovered: number }> {
  const text = await (await fetch(`${url}/metrics`, { signal: AbortSignal.timeout(60_000) })).text();
  const get = (prefix: string) => {
    const line = text.split('\n').find((l) => l.startsWith(prefix));
    return line ? Number(line.slice(line.lastIndexOf(' ') + 1)) : NaN;
  };
  return {
    scans: get('prometheus_sd_file_scan_duration_seconds_count '),
    scanSec: get('prometheus_sd_file_scan_duration_seconds_sum '),
    cpu: get('process_cpu_seconds_total '),
    discovered: get('prometheus_sd_discovered_targets{config="s",name="scrape"}'),
  };
}

async function upIs1(url: string, job: string): Promise<boolean> {
  try {
    const r = await fetch(`${url}/api/v1/query?${new URLSearchParams({ query: `up{job="${job}"}` })}`, { signal: AbortSignal.timeout(10_000) });
    const body = (await r.json()) as { data?: { result: Array<{ value: [number, string] }> } };
    return body.data?.result.some((s) => s.value[1] === '1') ?? false;
  } catch {
    return false;
  }
}

interface Result { pattern: Pattern; scans: number; scan_s: number; cpu_s: number; last_up_ms: number | null; drained_ms: number | null; write_s: number }

async function runPattern(pattern: Pattern, exporter: string, cleanups: Array<() => Promise<void>>): Promise<Result> {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), `benchmon-fsd-${pattern}-`));
  cleanups.push(async () => fs.rmSync(root, { recursive: true, force: true }));
  const dir = path.join(root, 'sd');
  fs.mkdirSync(dir);
  const groups: Group[][] = Array.from({ length: pattern === 'one-file' ? 1 : SHARDS }, () => []);
  const fileOf = (i: number) => (pattern === 'one-file' ? 0 : shardOf(i));
  for (let i = 0; i < N; i++) groups[fileOf(i)]!.push(group(`f${i}`, `127.0.0.1:${1 + (i % 8)}`)); // refused: cheap to "scrape"
  const name = (k: number) => path.join(dir, pattern === 'one-file' ? 'targets.json' : `shard-${String(k).padStart(2, '0')}.json`);
  const write = (k: number) => {
    const tmp = pattern === 'benchmon' ? path.join(dir, `.${path.basename(name(k))}.tmp-${process.pid}`) : path.join(root, `.tmp-${k}`);
    fs.writeFileSync(tmp, JSON.stringify(groups[k]));
    fs.renameSync(tmp, name(k));
  };
  for (let k = 0; k < groups.length; k++) write(k);
  fs.writeFileSync(path.join(root, 'prometheus.yml'), JSON.stringify({
    global: { scrape_interval: '10s', scrape_timeout: '1s' },
    scrape_configs: [{ job_name: 's', file_sd_configs: [{ files: [`${dir}/*.json`] }] }],
  }));
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const child: ChildProcess = spawn('prometheus', [`--config.file=${root}/prometheus.yml`, `--storage.tsdb.path=${root}/data`, `--web.listen-address=127.0.0.1:${port}`], { stdio: 'ignore' });
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  cleanups.push(async () => {
    if (child.exitCode === null) child.kill('SIGTERM');
    await Promise.race([exited, sleep(15_000).then(() => child.kill('SIGKILL'))]);
  });

  // Wait until Prometheus has discovered `target` targets and its scans have stopped: no scan
  // finished for max(3 s, 3 × the mean scan time seen so far) — a scan of 10,000 targets on a busy
  // machine takes seconds, and the counter only moves when one ends.
  const settle = async (target: number, boundMs: number): Promise<number | null> => {
    const t0 = performance.now();
    const first = await promMetrics(url).catch(() => undefined);
    let last = first?.scans ?? -1;
    let lastChange = performance.now();
    while (performance.now() - t0 < boundMs) {
      try {
        const m = await promMetrics(url);
        const meanMs = m.scans > 0 ? (m.scanSec / m.scans) * 1000 : 0;
        if (m.scans !== last) {
          last = m.scans;
          lastChange = performance.now();
        } else if (m.discovered >= target && performance.now() - lastChange >= Math.max(3000, 3 * meanMs)) {
          return lastChange - t0;
        }
      } catch {
        // not up yet
      }
      await sleep(250);
    }
    return null;
  };
  if ((await settle(N, 120_000)) === null) log(`${pattern}: initial discovery did not settle within 120 s`);
  const before = await promMetrics(url);

  // W additions at RATE per second; the last one is a real exporter.
  const tw = performance.now();
  let tLast = 0;
  for (let w = 0; w < WRITES; w++) {
    const i = N + w;
    const last = w === WRITES - 1;
    const k = fileOf(i);
    groups[k]!.push(group(last ? 'marker' : `w${w}`, last ? exporter : `127.0.0.1:${1 + (i % 8)}`, last ? '1s' : '10s'));
    if (last) tLast = performance.now();
    write(k);
    const due = tw + ((w + 1) * 1000) / RATE;
    const wait = due - performance.now();
    if (wait > 0) await sleep(wait);
  }
  const writeS = (performance.now() - tw) / 1000;
  let lastUp: number | null = null;
  const upDeadline = performance.now() + DRAIN_S * 1000;
  const upWatch = (async () => {
    while (performance.now() < upDeadline) {
      if (await upIs1(url, 'marker')) {
        lastUp = performance.now() - tLast;
        return;
      }
      await sleep(100);
    }
  })();
  const drainedFromStart = await settle(N + WRITES, DRAIN_S * 1000);
  await upWatch;
  const drained = drainedFromStart; // settle() starts right after the last write
  const after = await promMetrics(url);
  const res: Result = {
    pattern, scans: after.scans - before.scans, scan_s: after.scanSec - before.scanSec, cpu_s: after.cpu - before.cpu,
    last_up_ms: lastUp, drained_ms: drained, write_s: writeS,
  };
  log(`${pattern}: ${res.scans} scans (${(res.scans / WRITES).toFixed(1)} per write) taking ${res.scan_s.toFixed(1)} s, Prometheus CPU ${res.cpu_s.toFixed(1)} s; last write up after ${lastUp === null ? 'TIMEOUT' : `${(lastUp / 1000).toFixed(1)} s`}`);
  return res;
}

async function main(): Promise<void> {
  const cleanups: Array<() => Promise<void>> = [];
  let failed = false;
  const results: Result[] = [];
  const server = http.createServer((_q, s) => {
    s.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' });
    s.end('tiny_up 1\n');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  cleanups.push(async () => {
    server.closeAllConnections();
    await new Promise<void>((r) => server.close(() => r()));
  });
  const exporter = `127.0.0.1:${(server.address() as net.AddressInfo).port}`;
  const stop = () => void run(cleanups).then(() => process.exit(130));
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  try {
    log(`${N} targets, ${WRITES} single-target additions at ${RATE}/s, patterns ${PATTERNS.join(', ')}; load average ${os.loadavg().map((x) => x.toFixed(2)).join(' ')}`);
    for (const p of PATTERNS) {
      const own: Array<() => Promise<void>> = [];
      try {
        results.push(await runPattern(p, exporter, own));
      } finally {
        await run(own);
      }
    }
  } catch (err) {
    failed = true;
    process.stderr.write(`bench/file-sd-pattern could not finish: ${(err as Error).stack ?? String(err)}\n`);
  } finally {
    await run(cleanups);
  }
  const rows = [['pattern', 'file_sd scans', 'scans per write', 'scan s', 'Prometheus CPU s', 'last write → up s', 'scans stop after last write s']];
  for (const r of results) {
    rows.push([r.pattern, String(r.scans), (r.scans / WRITES).toFixed(1), r.scan_s.toFixed(1), r.cpu_s.toFixed(1), r.last_up_ms === null ? `timeout (${DRAIN_S} s)` : (r.last_up_ms / 1000).toFixed(1), r.drained_ms === null ? `> ${DRAIN_S}` : (r.drained_ms / 1000).toFixed(1)]);
  }
  const w = rows[0]!.map((_, c) => Math.max(...rows.map((row) => row[c]!.length)));
  process.stdout.write(`\nbench/file-sd-pattern — ${N} targets, ${WRITES} additions at ${RATE}/s, ${os.cpus().length} CPUs, load average at end ${os.loadavg().map((x) => x.toFixed(2)).join(' ')}\n\n`);
  process.stdout.write(`${rows.map((row, i) => `| ${row.map((c, j) => c.padEnd(w[j]!)).join(' | ')} |${i === 0 ? `\n|${w.map((n) => '-'.repeat(n + 2)).join('|')}|` : ''}`).join('\n')}\n`);
  process.exit(failed ? 1 : 0);
}

async function run(cleanups: Array<() => Promise<void>>): Promise<void> {
  for (const c of cleanups.splice(0).reverse()) {
    try {
      await c();
    } catch (err) {
      process.stderr.write(`cleanup: ${(err as Error).message}\n`);
    }
  }
}

await main();
