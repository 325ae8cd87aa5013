/**
 * bench/register — registration cost against a real local Prometheus (issue 2, "Benchmark").
 *
 * One run starts:
 *  - a pool of tiny exporters in a child process (a raw TCP server per port answering every HTTP
 *    request with a fixed Prometheus text exposition; cheap enough to be scraped thousands of
 *    times a second);
 *  - benchmon as its own process (`node bin/benchmon.js serve`), free ports, temp state dir,
 *    1 s scrape interval, with an extra scrape job `bench-filesd` (PROMETHEUS_EXTRA_SCRAPE_CONFIGS)
 *    whose file_sd directory this script writes by hand, for comparison.
 * Then, with 1, 100, 1,000 and 10,000 targets registered in one session (built up incrementally by
 * concurrent POSTs to the real API; the hand-written file_sd job holds as many), it measures
 *  (a) the time of a registration POST to its answer (beside a GET /health just before each, which
 *      shows what the loaded machine adds to any request at that level),
 *  (b) the time from a registration POST with ?wait=up to its answer (target up), and when a
 *      PromQL poll of `up` first saw the target (Prometheus's pickup of benchmon's write),
 *  (c) Prometheus's own pickup time for a hand-written file_sd change of the same size (rewrite the
 *      file holding N targets with one more, temp + rename, poll `up` until 1), started together
 *      with a (b) sample so that each pair sees the same phase of Prometheus's 5 s discovery
 *      batching (the pair's difference is benchmon's own share),
 * and benchmon's and Prometheus's RSS; finally (d) bursts of 1,000 concurrent registrations (into a
 * fresh session, and on top of the 10,000), counting reloads, and the time of a forced reload.
 * Every sample leaves the level as it found it (the sample target is deregistered / rewritten away).
 *
 * Run: npx tsc -p tsconfig.json && node dist/bench/register.js
 * Knobs (environment): BENCH_LEVELS (1,100,1000,10000), BENCH_A_SAMPLES (30), BENCH_B_SAMPLES (6),
 * BENCH_C_SAMPLES (6), BENCH_BURST (1000), BENCH_PORTS (8), BENCH_CONCURRENCY (64),
 * BENCH_FILLER_INTERVAL (10s: scrape interval of the targets that make up a level;
 * the measured targets always use the 1 s default — with 2 × 10,000 fillers at 1 s, a 2-core machine
 * is saturated by scraping alone),
 * BENCH_SETTLE_S (300: longest wait for
 * Prometheus to scrape a level and finish its file_sd scans), BENCH_DEADLINE_S (2400: the whole run
 * is abandoned after this), BENCH_JSON (write results here).
 * It is a benchmark, not a test: it exits 0 whether goals are met or not (non-zero only when it
 * could not measure).
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { cpuMs, progressLog } from './bench-process.js';
import { median } from './median.js';

// ---------------------------------------------------------------------------------------------
// Exporter child mode: `node register.js --exporter N` listens on N free ports and prints them.
// ---------------------------------------------------------------------------------------------

const EXPOSITION = '# HELP tiny_up A constant.\n# TYPE tiny_up gauge\ntiny_up 1\n';
const RESPONSE = Buffer.from(
  `HTTP/1.1 200 OK\r\nContent-Type: text/plain; version=0.0.4; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(EXPOSITION)}\r\nConnection: keep-alive\r\n\r\n${EXPOSITION}`,
);

async function exporterMain(count: number): Promise<void> {
  const ports: number[] = [];
  for (let i = 0; i < count; i++) {
    const srv = net.createServer((sock) => {
      let tail = '';
      sock.setNoDelay(true);
      sock.on('data', (chunk: Buffer) => {
        // Requests are small GETs without a body: one response per end of headers.
        const text = tail + chunk.toString('latin1');
        let from = 0;
        for (;;) {
          const end = text.indexOf('\r\n\r\n', from);
          if (end < 0) break;
          sock.write(RESPONSE);
          from = end + 4;
        }
        tail = text.slice(from).slice(-8192);
      });
      sock.on('error', () => sock.destroy());
    });
    srv.maxConnections = 20_000;
    await new Promise<void>((resolve, reject) => {
      srv.once('error', reject);
      srv.listen(0, '127.0.0.1', () => resolve());
    });
    ports.push((srv.address() as net.AddressInfo).port);
  }
  process.stdout.write(`${JSON.stringify({ ports })}\n`);
  // Our parent holds our stdin: when it goes away (even killed), so do we.
  process.stdin.on('end', () => process.exit(0));
  process.stdin.on('error', () => process.exit(0));
  process.stdin.resume();
}

// ---------------------------------------------------------------------------------------------
// Driver
// ---------------------------------------------------------------------------------------------

function envInt(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 0) throw new Error(`${name} must be a whole number, got ${JSON.stringify(raw)}`);
  return n;
}

const LEVELS = (process.env.BENCH_LEVELS ?? '1,100,1000,10000').split(',').map((s) => Number(s.trim()));
if (LEVELS.some((n) => !Number.isInteger(n) || n < 1) || LEVELS.some((n, i) => i > 0 && n <= LEVELS[i - 1]!)) {
  throw new Error('BENCH_LEVELS must be increasing whole numbers ≥ 1, e.g. 1,100,1000,10000');
}
const A_SAMPLES = envInt('BENCH_A_SAMPLES', 30);
const B_SAMPLES = envInt('BENCH_B_SAMPLES', 6);
const C_SAMPLES = envInt('BENCH_C_SAMPLES', 6);
const BURST = envInt('BENCH_BURST', 1000);
const PORTS = Math.max(1, envInt('BENCH_PORTS', 8));
const CONCURRENCY = Math.max(1, envInt('BENCH_CONCURRENCY', 64));
const FILLER_INTERVAL = process.env.BENCH_FILLER_INTERVAL ?? '10s';
const DEADLINE_MS = envInt('BENCH_DEADLINE_S', 2400) * 1000;
const SCRAPE_INTERVAL_S = 1;
const SESSION = 'bench';
const BURST_SESSION = 'burst';
const UP_TIMEOUT_S = 60;
const SETTLE_S = envInt('BENCH_SETTLE_S', 300);

const started = performance.now();
const LOAD_AT_START = os.loadavg().map((x) => x.toFixed(2)).join(' ');
function remainingMs(): number {
  return DEADLINE_MS - (performance.now() - started);
}
function checkDeadline(what: string): void {
  if (remainingMs() <= 0) throw new Error(`deadline of ${DEADLINE_MS / 1000} s passed during ${what}`);
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

const log = progressLog(started);

function percentile(xs: number[], p: number): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)]!;
}

function readProcStatus(pid: number | null | undefined): { rssMb: number; hwmMb: number } | null {
  if (!pid) return null;
  try {
    const text = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (key: string) => Number(/^\s*(\d+)/.exec(text.split('\n').find((l) => l.startsWith(`${key}:`))?.slice(key.length + 1) ?? '')?.[1] ?? NaN);
    return { rssMb: kb('VmRSS') / 1024, hwmMb: kb('VmHWM') / 1024 };
  } catch {
    return null;
  }
}

const cpuSeconds = (pid: number | null | undefined): number => cpuMs(pid) / 1000;

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

// -- HTTP helpers --------------------------------------------------------------------------------

async function http(method: string, url: string, body?: unknown, timeoutMs = 120_000): Promise<{ status: number; json: any; ms: number }> {
  const t0 = performance.now();
  const res = await fetch(url, {
    method,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? null : JSON.stringify(body),
    signal: AbortSignal.timeout(timeoutMs),
  });
  const text = await res.text();
  const ms = performance.now() - t0;
  let json: any;
  try {
    json = JSON.parse(text);
  } catch {
    json = text;
  }
  return { status: res.status, json, ms };
}

async function promQuery(promUrl: string, query: string): Promise<Array<{ metric: Record<string, string>; value: [number, string] }>> {
  const res = await fetch(`${promUrl}/api/v1/query?${new URLSearchParams({ query })}`, { signal: AbortSignal.timeout(10_000) });
  const body = (await res.json()) as { status: string; data?: { result: Array<{ metric: Record<string, string>; value: [number, string] }> }; error?: string };
  if (body.status !== 'success' || !body.data) throw new Error(`query ${query} failed: ${body.error ?? res.status}`);
  return body.data.result;
}

async function promScalar(promUrl: string, query: string): Promise<number> {
  const r = await promQuery(promUrl, query);
  return r.length === 0 ? 0 : Number(r[0]!.value[1]);
}

/** Polls `up{selector}` every 50 ms until it is 1; returns ms since t0, or null after timeoutMs. */
async function pollUp(promUrl: string, selector: string, t0: number, timeoutMs: number, stop?: () => boolean): Promise<number | null> {
  const deadline = performance.now() + timeoutMs;
  while (performance.now() < deadline) {
    if (stop?.()) return null;
    try {
      const r = await promQuery(promUrl, `up{${selector}}`);
      if (r.some((s) => s.value[1] === '1')) return performance.now() - t0;
    } catch {
      // a slow Prometheus: try again
    }
    await sleep(50);
  }
  return null;
}

/** A few of Prometheus's own metrics: file_sd scans (each re-reads every file of a job), CPU, heap. */
interface PromStats { scans: number; scanSec: number; cpuSec: number; heapMb: number }

async function promStats(promUrl: string): Promise<PromStats> {
  const text = await (await fetch(`${promUrl}/metrics`, { signal: AbortSignal.timeout(30_000) })).text();
  const get = (name: string) => {
    const line = text.split('\n').find((l) => l.startsWith(`${name} `));
    return line ? Number(line.slice(line.lastIndexOf(' ') + 1)) : NaN;
  };
  return {
    scans: get('prometheus_sd_file_scan_duration_seconds_count'),
    scanSec: get('prometheus_sd_file_scan_duration_seconds_sum'),
    cpuSec: get('process_cpu_seconds_total'),
    heapMb: get('go_memstats_heap_inuse_bytes') / 1e6,
  };
}

function statsDelta(a: PromStats, b: PromStats): { scans: number; scan_s: number; cpu_s: number } {
  return { scans: b.scans - a.scans, scan_s: b.scanSec - a.scanSec, cpu_s: b.cpuSec - a.cpuSec };
}

async function selfMetricValue(url: string, name: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`, { signal: AbortSignal.timeout(10_000) })).text();
  const line = text.split('\n').find((l) => l.startsWith(`${name} `) || l.startsWith(`${name}{`));
  if (!line) throw new Error(`metric ${name} not found on ${url}/metrics`);
  return Number(line.slice(line.lastIndexOf(' ') + 1));
}

/** Runs jobs with at most `limit` in flight; throws the first error after all settle. */
async function pool<T>(items: T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  let firstErr: unknown;
  const worker = async () => {
    while (next < items.length && firstErr === undefined) {
      const item = items[next++]!;
      try {
        await fn(item);
      } catch (err) {
        firstErr ??= err;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  if (firstErr !== undefined) throw firstErr;
}

// -- the things we start -------------------------------------------------------------------------

interface Exporters { ports: number[]; child: ChildProcess }

async function startExporters(count: number): Promise<Exporters> {
  const self = fileURLToPath(import.meta.url);
  const child = spawn(process.execPath, [self, '--exporter', String(count)], { stdio: ['pipe', 'pipe', 'inherit'] });
  const ports = await new Promise<number[]>((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error('exporter pool did not start within 10 s')), 10_000);
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const nl = out.indexOf('\n');
      if (nl >= 0) {
        clearTimeout(timer);
        resolve((JSON.parse(out.slice(0, nl)) as { ports: number[] }).ports);
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`exporter pool exited with ${code}`));
    });
  });
  return { ports, child };
}

interface Body { job_id: string; target_type: string; role: 'client'; scrape_config: { job_name: string; targets: string[]; scrape_interval?: string } }

function targetBody(jobName: string, address: string, interval?: string): Body {
  const sc: Body['scrape_config'] = { job_name: jobName, targets: [address] };
  if (interval) sc.scrape_interval = interval;
  return { job_id: 'bench', target_type: 'client', role: 'client', scrape_config: sc };
}

// -- main ----------------------------------------------------------------------------------------

interface LevelResult {
  level: number;
  fill_ms: number;
  fill_reloads: number;
  /** Prometheus during fill + settle: file_sd scans, seconds spent scanning, CPU seconds. */
  fill_prom: { scans: number; scan_s: number; cpu_s: number };
  /** Prometheus file_sd scans per benchmon file write, measured over the (a) samples (register + deregister = 2 writes each). */
  scans_per_write: number;
  /** Mean duration of one file_sd scan during the (a) samples. */
  scan_ms: number;
  prometheus_heap_mb: number;
  settled_ms: number;
  settled: boolean;
  a_ms: number[];
  /** GET /health just before each (a) sample: the same HTTP round trip without a registration (the machine's state). */
  a0_ms: number[];
  b_ms: number[];
  b_prom_ms: number[];
  b_unsatisfied: number;
  c_ms: number[];
  c_timeouts: number;
  /** (b) − (c) of each pair. */
  bc_diff_ms: number[];
  benchmon_rss_mb: number | null;
  prometheus_rss_mb: number | null;
  /** GET /api/v1/targets?state=active&scrapePool=<session pool> (what ?wait=up polls): time and size. */
  targets_api_ms: number;
  targets_api_mb: number;
  /** `promtool check config` of benchmon's prometheus.yml (what every apply runs). */
  promtool_ms: number;
  /** POST /api/v1/prometheus/reload (benchmon's whole apply protocol) and Prometheus's POST /-/reload alone. */
  api_reload_ms: number;
  raw_reload_ms: number;
}

interface BurstResult {
  name: string;
  on_top_of: number;
  total_ms: number;
  non_2xx: number;
  reloads: number;
  latency_p50_ms: number;
  latency_max_ms: number;
  all_up_ms: number | null;
  /** Prometheus from the start of the burst until all up (or the timeout). */
  prom: { scans: number; scan_s: number; cpu_s: number };
}

async function run(cleanups: Array<() => Promise<void>>): Promise<void> {
  // Imported here so that the exporter child never loads the service code.
  const { isolatedEnv, spawnService, tempDir } = await import('../test/helpers/harness.js');

  log(`levels ${LEVELS.join(', ')}; a×${A_SAMPLES}, b×${B_SAMPLES}, c×${C_SAMPLES}, burst ${BURST}; ${PORTS} exporter ports; filler interval ${FILLER_INTERVAL}; ${os.cpus().length} CPUs`);
  const exporters = await startExporters(PORTS);
  cleanups.push(async () => {
    exporters.child.stdin?.end();
    if (exporters.child.exitCode === null) exporters.child.kill('SIGTERM');
  });
  const addr = (i: number) => `127.0.0.1:${exporters.ports[i % exporters.ports.length]}`;

  const benchDir = tempDir('benchmon-bench-');
  cleanups.push(async () => fs.rmSync(benchDir, { recursive: true, force: true }));
  const cDir = path.join(benchDir, 'file_sd_c');
  fs.mkdirSync(cDir);
  const cFile = path.join(cDir, 'targets.json');
  const extra = path.join(benchDir, 'extra-scrape-configs.yml');
  // Same discovery settings as benchmon's session jobs (file_sd, default refresh 5m, inotify).
  fs.writeFileSync(extra, JSON.stringify([{ job_name: 'bench-filesd', scrape_interval: `${SCRAPE_INTERVAL_S}s`, scrape_timeout: `${SCRAPE_INTERVAL_S}s`, file_sd_configs: [{ files: [`${cDir}/*.json`] }] }]));

  const env = await isolatedEnv({ PROMETHEUS_EXTRA_SCRAPE_CONFIGS: extra, LOG_LEVEL: 'warn' });
  const svcRoot = path.dirname(env.BENCHMON_STATE_DIR!);
  cleanups.push(async () => fs.rmSync(svcRoot, { recursive: true, force: true }));
  const promUrl = env.PROMETHEUS_URL!;
  log(`starting benchmon (node bin/benchmon.js serve) on port ${env.BENCHMON_PORT}, Prometheus ${promUrl}`);
  const svc = await spawnService(env);
  let promPid: number | null = null;
  cleanups.push(async () => {
    const exited = svc.stop('SIGTERM');
    const timer = setTimeout(() => svc.child.kill('SIGKILL'), 20_000);
    await exited;
    clearTimeout(timer);
    if (promPid && pidAlive(promPid)) {
      log(`Prometheus ${promPid} outlived benchmon; stopping it`);
      process.kill(promPid, 'SIGTERM');
      for (let i = 0; i < 100 && pidAlive(promPid); i++) await sleep(100);
      if (pidAlive(promPid)) process.kill(promPid, 'SIGKILL');
    }
  });
  const url = svc.url;
  const benchmonPid = svc.child.pid!;
  const health = await http('GET', `${url}/api/v1/prometheus/health`);
  promPid = (health.json?.runtime?.pid as number | null) ?? null;
  const version = (health.json?.version as string | null) ?? '?';
  log(`benchmon pid ${benchmonPid}, Prometheus pid ${promPid} (version ${version}); RSS at start ${readProcStatus(benchmonPid)?.rssMb.toFixed(0)} MB`);

  const created = await http('POST', `${url}/api/v1/sessions`, { session_id: SESSION });
  if (created.status !== 201) throw new Error(`create session: HTTP ${created.status} ${JSON.stringify(created.json)}`);

  const reloads = () => selfMetricValue(url, 'benchmon_prometheus_reloads_total');
  const register = async (session: string, body: Body, query = '') => {
    const r = await http('POST', `${url}/api/v1/sessions/${session}/targets${query}`, body);
    if (r.status !== 201) throw new Error(`register ${body.scrape_config.job_name}: HTTP ${r.status} ${JSON.stringify(r.json).slice(0, 300)}`);
    return r;
  };
  const deregister = async (session: string, job: string) => {
    const r = await http('DELETE', `${url}/api/v1/sessions/${session}/targets/${job}`);
    if (r.status !== 200) throw new Error(`deregister ${job}: HTTP ${r.status} ${JSON.stringify(r.json).slice(0, 300)}`);
  };

  const configPath = path.join(env.BENCHMON_STATE_DIR!, 'prometheus', 'prometheus.yml');
  const promtoolMs = () => new Promise<number>((resolve) => {
    const t0 = performance.now();
    execFile('promtool', ['check', 'config', '--lint=none', configPath], { timeout: 120_000 }, (err) => resolve(err ? NaN : performance.now() - t0));
  });
  const targetsApi = async (session: string) => {
    const t0 = performance.now();
    const res = await fetch(`${promUrl}/api/v1/targets?state=active&scrapePool=benchmon-session-${session}`, { signal: AbortSignal.timeout(120_000) });
    const bytes = (await res.arrayBuffer()).byteLength;
    return { ms: performance.now() - t0, mb: bytes / 1e6 };
  };
  const reloadErrors: string[] = [];
  const forcedReload = async () => {
    const r = await http('POST', `${url}/api/v1/prometheus/reload`);
    if (r.status !== 200) {
      const why = `HTTP ${r.status} ${JSON.stringify(r.json).slice(0, 400)}`;
      reloadErrors.push(why);
      log(`forced reload failed after ${r.ms.toFixed(0)} ms: ${why}`);
    }
    const t0 = performance.now();
    const raw = await fetch(`${promUrl}/-/reload`, { method: 'POST', signal: AbortSignal.timeout(120_000) });
    await raw.text();
    return { api: r.ms, raw: performance.now() - t0 };
  };

  const fillerIntervalLabel = FILLER_INTERVAL === `${SCRAPE_INTERVAL_S}s` ? undefined : FILLER_INTERVAL;
  const fillerName = (i: number) => `f${String(i).padStart(6, '0')}`;
  const cFillers: Array<{ targets: string[]; labels: Record<string, string> }> = [];
  const writeCFile = (groups: unknown[]) => {
    const tmp = path.join(benchDir, 'c-targets.json.tmp'); // outside the watched directory: one event per change
    fs.writeFileSync(tmp, JSON.stringify(groups));
    fs.renameSync(tmp, cFile);
  };

  /**
   * Waits until `ready()` holds and Prometheus's file_sd scans have stopped: no scan finished for
   * max(3 s, 3 × the mean scan time so far) (the counter moves only when a scan ends, and a scan of
   * 10,000 targets on a busy machine takes seconds). Returns the time until the last scan ended.
   */
  const waitQuiet = async (boundMs: number, ready: () => Promise<boolean>): Promise<{ ms: number; ok: boolean }> => {
    const t0 = performance.now();
    const deadline = t0 + Math.min(boundMs, Math.max(0, remainingMs()));
    let last = -1;
    let lastChange = performance.now();
    while (performance.now() < deadline) {
      try {
        const m = await promStats(promUrl);
        const meanMs = m.scans > 0 ? (m.scanSec / m.scans) * 1000 : 0;
        if (m.scans !== last) {
          last = m.scans;
          lastChange = performance.now();
        } else if (performance.now() - lastChange >= Math.max(3000, 3 * meanMs) && (await ready())) {
          return { ms: lastChange - t0, ok: true };
        }
      } catch {
        // a busy Prometheus: try again
      }
      await sleep(500);
    }
    return { ms: performance.now() - t0, ok: false };
  };

  const levels: LevelResult[] = [];
  let registered = 0;
  for (const level of LEVELS) {
    checkDeadline(`level ${level}`);
    // Bring the session and the hand-written file_sd job up to `level` targets.
    const r0 = await reloads();
    const p0 = await promStats(promUrl);
    const tFill = performance.now();
    const todo = Array.from({ length: level - registered }, (_, k) => registered + k + 1);
    await pool(todo, CONCURRENCY, async (i) => {
      checkDeadline(`filling level ${level}`);
      await register(SESSION, targetBody(fillerName(i), addr(i), fillerIntervalLabel));
    });
    const fillMs = performance.now() - tFill;
    const fillReloads = (await reloads()) - r0;
    registered = level;
    while (cFillers.length < level) {
      const i = cFillers.length + 1;
      const labels: Record<string, string> = { job: `cf${String(i).padStart(6, '0')}`, bench: 'c-fill' };
      if (fillerIntervalLabel) labels.__scrape_interval__ = fillerIntervalLabel;
      cFillers.push({ targets: [addr(i)], labels });
    }
    writeCFile(cFillers);
    log(`level ${level}: registered ${todo.length} targets in ${(fillMs / 1000).toFixed(1)} s (${fillReloads} reloads); waiting for Prometheus to scrape all`);

    // Settle: every filler of both jobs up in Prometheus, and its file_sd scans over.
    const quiet = await waitQuiet(SETTLE_S * 1000, async () => {
      const [s1, c1] = await Promise.all([
        promScalar(promUrl, `count(up{session="${SESSION}",job=~"f.*"} == 1)`),
        promScalar(promUrl, 'count(up{bench="c-fill"} == 1)'),
      ]);
      return s1 === level && c1 === level;
    });
    const settled = quiet.ok;
    const settledMs = quiet.ms;
    log(`level ${level}: ${settled ? 'all up, scans over' : `NOT settled within ${SETTLE_S} s`} after ${(settledMs / 1000).toFixed(1)} s`);
    const fillProm = statsDelta(p0, await promStats(promUrl));
    log(`level ${level}: Prometheus during fill + settle: ${fillProm.scans} file_sd scans taking ${fillProm.scan_s.toFixed(1)} s, ${fillProm.cpu_s.toFixed(1)} CPU s`);
    await sleep(2000); // let the discovery churn of the fill pass

    const res: LevelResult = {
      level, fill_ms: fillMs, fill_reloads: fillReloads, fill_prom: fillProm, scans_per_write: NaN, scan_ms: NaN, prometheus_heap_mb: NaN, settled_ms: settledMs, settled,
      a_ms: [], a0_ms: [], b_ms: [], b_prom_ms: [], b_unsatisfied: 0, c_ms: [], c_timeouts: 0, bc_diff_ms: [],
      benchmon_rss_mb: readProcStatus(benchmonPid)?.rssMb ?? null,
      prometheus_rss_mb: readProcStatus(promPid)?.rssMb ?? null,
      targets_api_ms: NaN, targets_api_mb: NaN, promtool_ms: NaN, api_reload_ms: NaN, raw_reload_ms: NaN,
    };

    // (a) registration request → answer; each sample target removed again so the level stays N.
    const pa0 = await promStats(promUrl);
    res.prometheus_heap_mb = pa0.heapMb;
    for (let k = 0; k < A_SAMPLES; k++) {
      checkDeadline(`(a) at level ${level}`);
      const job = `a${level}_${k}`;
      res.a0_ms.push((await http('GET', `${url}/health`)).ms);
      const r = await register(SESSION, targetBody(job, addr(k)));
      res.a_ms.push(r.ms);
      await deregister(SESSION, job);
    }
    await sleep(1000); // let Prometheus's watcher catch up with the last writes
    const aProm = statsDelta(pa0, await promStats(promUrl));
    res.scans_per_write = aProm.scans / (2 * A_SAMPLES);
    res.scan_ms = (aProm.scan_s / aProm.scans) * 1000;
    log(`level ${level}: (a) median ${median(res.a_ms).toFixed(1)} ms (GET /health just before: ${median(res.a0_ms).toFixed(1)} ms); Prometheus did ${aProm.scans} file_sd scans for ${2 * A_SAMPLES} file writes (${res.scans_per_write.toFixed(1)} per write), ${res.scan_ms.toFixed(1)} ms each`);

    // (b) and (c) as pairs: the hand-written file_sd change and the registration are started
    // together, so both fall on the same phase of Prometheus's 5 s discovery batching (which
    // otherwise spreads single samples over 0–10 s); a random pause before each pair picks a
    // random phase. The (c) target is taken out again by the next pair's rewrite.
    const rounds = Math.max(B_SAMPLES, C_SAMPLES);
    for (let k = 0; k < rounds; k++) {
      checkDeadline(`(b)/(c) at level ${level}`);
      await sleep(Math.random() * 1000);
      const cJob = `c${level}_${k}`;
      const bJob = `b${level}_${k}`;
      const content = JSON.stringify([...cFillers, { targets: [addr(k)], labels: { job: cJob, bench: 'c-new' } }]);
      const tmp = path.join(benchDir, 'c-targets.json.tmp');
      const cTimed = k < C_SAMPLES
        ? (async () => {
          const t0 = performance.now();
          await fs.promises.writeFile(tmp, content);
          await fs.promises.rename(tmp, cFile);
          return pollUp(promUrl, `job="${cJob}"`, t0, UP_TIMEOUT_S * 1000);
        })()
        : Promise.resolve(undefined);
      let bTimed: Promise<{ ms: number | null; promMs: number | null }> = Promise.resolve({ ms: null, promMs: null });
      if (k < B_SAMPLES) {
        bTimed = (async () => {
          const t0 = performance.now();
          let answered = false;
          const seen = pollUp(promUrl, `session="${SESSION}",job="${bJob}"`, t0, UP_TIMEOUT_S * 1000 + 5000, () => answered && performance.now() - t0 > UP_TIMEOUT_S * 1000);
          const r = await register(SESSION, targetBody(bJob, addr(k)), `?wait=up&timeout=${UP_TIMEOUT_S}`);
          answered = true;
          const promMs = await seen;
          return { ms: r.json?.wait?.satisfied === true ? r.ms : null, promMs };
        })();
      }
      const [cMs, b] = await Promise.all([cTimed, bTimed]);
      if (k < C_SAMPLES) {
        if (cMs === null || cMs === undefined) res.c_timeouts++;
        else res.c_ms.push(cMs);
      }
      if (k < B_SAMPLES) {
        if (b.ms === null) res.b_unsatisfied++;
        else res.b_ms.push(b.ms);
        if (b.promMs !== null) res.b_prom_ms.push(b.promMs);
        if (b.ms !== null && typeof cMs === 'number') res.bc_diff_ms.push(b.ms - cMs);
        await deregister(SESSION, bJob);
      }
    }
    writeCFile(cFillers); // take the last (c) sample target out again
    const ta = await targetsApi(SESSION);
    res.targets_api_ms = ta.ms;
    res.targets_api_mb = ta.mb;
    res.promtool_ms = await promtoolMs();
    const rl = await forcedReload();
    res.api_reload_ms = rl.api;
    res.raw_reload_ms = rl.raw;
    log(`level ${level}: Prometheus targets API for the session ${ta.ms.toFixed(0)} ms / ${ta.mb.toFixed(1)} MB; promtool check config ${res.promtool_ms.toFixed(0)} ms; forced reload via benchmon ${rl.api.toFixed(0)} ms, /-/reload alone ${rl.raw.toFixed(0)} ms`);
    log(`level ${level}: (b) median ${median(res.b_ms).toFixed(0)} ms (Prometheus saw it at ${median(res.b_prom_ms).toFixed(0)} ms), (c) median ${median(res.c_ms).toFixed(0)} ms; benchmon RSS ${res.benchmon_rss_mb?.toFixed(0)} MB, Prometheus RSS ${res.prometheus_rss_mb?.toFixed(0)} MB`);
    levels.push(res);
  }

  // (d) bursts of BURST concurrent registrations.
  const bursts: BurstResult[] = [];
  const burst = async (name: string, session: string, onTopOf: number, prefix: string) => {
    checkDeadline(`burst ${name}`);
    const q = await waitQuiet(120_000, async () => true);
    log(`burst ${name}: Prometheus ${q.ok ? 'quiet' : 'still scanning'} after ${(q.ms / 1000).toFixed(1)} s`);
    const before = await reloads();
    const ps0 = await promStats(promUrl);
    const lat: number[] = [];
    let non2xx = 0;
    const t0 = performance.now();
    await Promise.all(
      Array.from({ length: BURST }, async (_, i) => {
        try {
          const r = await http('POST', `${url}/api/v1/sessions/${session}/targets`, targetBody(`${prefix}${i}`, addr(i)));
          lat.push(r.ms);
          if (r.status < 200 || r.status >= 300) non2xx++;
        } catch {
          non2xx++;
        }
      }),
    );
    const total = performance.now() - t0;
    const after = await reloads();
    const allUp = await (async () => {
      const deadline = performance.now() + Math.min(120_000, Math.max(0, remainingMs()));
      while (performance.now() < deadline) {
        try {
          if ((await promScalar(promUrl, `count(up{session="${session}",job=~"${prefix}.*"} == 1)`)) === BURST) return performance.now() - t0;
        } catch {
          // again
        }
        await sleep(250);
      }
      return null;
    })();
    const prom = statsDelta(ps0, await promStats(promUrl));
    const b: BurstResult = { name, on_top_of: onTopOf, total_ms: total, non_2xx: non2xx, reloads: after - before, latency_p50_ms: median(lat), latency_max_ms: Math.max(...lat), all_up_ms: allUp, prom };
    log(`burst ${name}: ${BURST} in ${total.toFixed(0)} ms, ${non2xx} non-2xx, ${b.reloads} reloads, all up after ${allUp === null ? 'TIMEOUT' : `${(allUp / 1000).toFixed(1)} s`}; Prometheus meanwhile ${prom.scans} file_sd scans taking ${prom.scan_s.toFixed(1)} s, ${prom.cpu_s.toFixed(1)} CPU s`);
    bursts.push(b);
  };

  const r0 = await reloads();
  const tCreate = performance.now();
  const c2 = await http('POST', `${url}/api/v1/sessions`, { session_id: BURST_SESSION });
  if (c2.status !== 201) throw new Error(`create session ${BURST_SESSION}: HTTP ${c2.status}`);
  const createMs = performance.now() - tCreate;
  const createReloads = (await reloads()) - r0;
  log(`session ${BURST_SESSION} created in ${createMs.toFixed(0)} ms (${createReloads} reload)`);
  if (BURST > 0) {
    await burst('a fresh session', BURST_SESSION, 0, 'x');
    await burst(`the session holding ${registered.toLocaleString('en-US')}`, SESSION, registered, 'y');
  }
  const rssAfterBurst = readProcStatus(benchmonPid);
  const promAfterBurst = readProcStatus(promPid);

  // Reload time with everything loaded: through benchmon (apply protocol) and Prometheus alone.
  const qr = await waitQuiet(120_000, async () => true);
  log(`before the final reloads: Prometheus ${qr.ok ? 'quiet' : 'still scanning'} after ${(qr.ms / 1000).toFixed(1)} s`);
  const apiReload: number[] = [];
  const rawReload: number[] = [];
  for (let k = 0; k < 3; k++) {
    checkDeadline('reload timing');
    const rl = await forcedReload();
    apiReload.push(rl.api);
    rawReload.push(rl.raw);
  }
  const finalPromtool = await promtoolMs();
  log(`forced reload: via benchmon ${median(apiReload).toFixed(0)} ms, Prometheus /-/reload ${median(rawReload).toFixed(0)} ms; promtool check config ${finalPromtool.toFixed(0)} ms`);
  const cpu = { benchmon: cpuSeconds(benchmonPid), prometheus: cpuSeconds(promPid), exporters: cpuSeconds(exporters.child.pid), driver: (process.cpuUsage().user + process.cpuUsage().system) / 1e6 };

  report({ levels, bursts, createMs, createReloads, apiReload, rawReload, reloadErrors, finalPromtool, rssAfterBurst, promAfterBurst, version, cpu });
}

interface Report {
  levels: LevelResult[];
  bursts: BurstResult[];
  createMs: number;
  createReloads: number;
  apiReload: number[];
  rawReload: number[];
  rssAfterBurst: { rssMb: number; hwmMb: number } | null;
  promAfterBurst: { rssMb: number; hwmMb: number } | null;
  version: string;
  finalPromtool: number;
  reloadErrors: string[];
  cpu: { benchmon: number; prometheus: number; exporters: number; driver: number };
}

function report(r: Report): void {
  const f = (x: number | null | undefined, d = 0) => (x === null || x === undefined || Number.isNaN(x) ? '—' : x.toFixed(d));
  const rows: string[][] = [[
    'targets', 'fill s', 'fill reloads', '(a) p50 ms', '(a) p90 ms', 'GET /health p50 ms', '(b) p50 ms', '(b) Prom saw p50', '(c) p50 ms', 'pair (b)−(c) p50 ms', 'benchmon RSS MB', 'Prometheus RSS MB',
  ]];
  for (const l of r.levels) {
    rows.push([
      l.level.toLocaleString('en-US'), f(l.fill_ms / 1000, 1), String(l.fill_reloads), f(median(l.a_ms), 1), f(percentile(l.a_ms, 90), 1), f(median(l.a0_ms), 1),
      `${f(median(l.b_ms))}${l.b_unsatisfied ? ` (${l.b_unsatisfied} not up)` : ''}`, f(median(l.b_prom_ms)),
      `${f(median(l.c_ms))}${l.c_timeouts ? ` (${l.c_timeouts} timeouts)` : ''}`, f(median(l.bc_diff_ms)),
      f(l.benchmon_rss_mb), f(l.prometheus_rss_mb),
    ]);
  }
  const table = (t: string[][]) => {
    const w = t[0]!.map((_, c) => Math.max(...t.map((row) => row[c]!.length)));
    return t.map((row, i) => `| ${row.map((cell, c) => cell.padEnd(w[c]!)).join(' | ')} |${i === 0 ? `\n|${w.map((n) => '-'.repeat(n + 2)).join('|')}|` : ''}`).join('\n');
  };
  const out: string[] = [];
  out.push('', `bench/register — ${os.cpus().length} CPUs, Node ${process.version}, Prometheus ${r.version}, scrape interval ${SCRAPE_INTERVAL_S}s (fillers ${FILLER_INTERVAL}); load average at start ${LOAD_AT_START}, at end ${os.loadavg().map((x) => x.toFixed(2)).join(' ')}`, '');
  out.push(table(rows));
  out.push('');
  const rows2: string[][] = [['targets', 'settled s', 'Prom file_sd scans (fill+settle)', 'scan s', 'Prom CPU s', 'scans per file write', 'ms per scan', 'Prom heap MB', 'targets API (wait=up poll) ms', 'MB', 'promtool check ms', 'reload via benchmon ms', '/-/reload alone ms']];
  for (const l of r.levels) {
    rows2.push([
      l.level.toLocaleString('en-US'), `${f(l.settled_ms / 1000, 1)}${l.settled ? '' : ' (not settled)'}`, String(l.fill_prom.scans), f(l.fill_prom.scan_s, 1), f(l.fill_prom.cpu_s, 1),
      f(l.scans_per_write, 1), f(l.scan_ms, 1), f(l.prometheus_heap_mb), f(l.targets_api_ms), f(l.targets_api_mb, 1), f(l.promtool_ms), f(l.api_reload_ms), f(l.raw_reload_ms),
    ]);
  }
  out.push(table(rows2));
  out.push('', '(a) registration POST → answer, per sample; (b) POST ?wait=up → answer with the target up; "Prom saw" = first PromQL `up`==1 for it;');
  out.push('(c) hand-written file_sd file of N targets rewritten with one more (temp file outside the watched directory + rename) → `up`==1, started together with a (b) sample. Samples: ' +
    r.levels.map((l) => `${l.level}: a ${l.a_ms.length}, b ${l.b_ms.length}, c ${l.c_ms.length}`).join('; '));
  out.push('');
  const bRows: string[][] = [['burst', 'total ms', 'non-2xx', 'reloads', 'answer p50 ms', 'answer max ms', 'all up after s', 'Prom file_sd scans', 'scan s', 'Prom CPU s']];
  for (const b of r.bursts) {
    bRows.push([`${BURST} into ${b.name}`, f(b.total_ms), String(b.non_2xx), String(b.reloads), f(b.latency_p50_ms), f(b.latency_max_ms), b.all_up_ms === null ? 'timeout (120 s)' : f(b.all_up_ms / 1000, 1), String(b.prom.scans), f(b.prom.scan_s, 1), f(b.prom.cpu_s, 1)]);
  }
  out.push(table(bRows));
  out.push('', `session create (one reload): ${f(r.createMs)} ms, ${r.createReloads} reload(s)`);
  out.push(`forced reload at the end: POST /api/v1/prometheus/reload median ${f(median(r.apiReload))} ms (${r.apiReload.map((x) => f(x)).join(', ')}); Prometheus POST /-/reload alone median ${f(median(r.rawReload))} ms (${r.rawReload.map((x) => f(x)).join(', ')}); promtool check config ${f(r.finalPromtool)} ms`);
  for (const e of r.reloadErrors) out.push(`forced reload FAILED: ${e}`);
  out.push(`after the bursts: benchmon RSS ${f(r.rssAfterBurst?.rssMb)} MB (peak VmHWM ${f(r.rssAfterBurst?.hwmMb)} MB), Prometheus RSS ${f(r.promAfterBurst?.rssMb)} MB (peak ${f(r.promAfterBurst?.hwmMb)} MB)`);
  out.push(`CPU used over the run: benchmon ${f(r.cpu.benchmon, 1)} s, Prometheus ${f(r.cpu.prometheus, 1)} s, exporters ${f(r.cpu.exporters, 1)} s, this driver ${f(r.cpu.driver, 1)} s; wall ${f((performance.now() - started) / 1000, 1)} s`);

  // Goals.
  const first = r.levels[0];
  const last = r.levels[r.levels.length - 1];
  const verdict = (ok: boolean | null) => (ok === null ? 'N/A ' : ok ? 'PASS' : 'MISS');
  out.push('', 'Goals:');
  if (first && last) {
    const ratio = median(last.a_ms) / median(first.a_ms);
    out.push(`  ${verdict(ratio <= 2)}  (a) at ${last.level.toLocaleString('en-US')} ≤ 2 × (a) at ${first.level}: ${f(median(last.a_ms), 1)} ms / ${f(median(first.a_ms), 1)} ms = ${f(ratio, 2)}×`);
    // Context, not the goal: how much of (a) the machine itself added (GET /health at the same moments).
    const own = (l: LevelResult) => median(l.a_ms) - median(l.a0_ms);
    out.push(`        (context) a GET /health took ${f(median(first.a0_ms), 1)} ms at ${first.level} and ${f(median(last.a0_ms), 1)} ms at ${last.level.toLocaleString('en-US')}; (a) minus that: ${f(own(first), 1)} → ${f(own(last), 1)} ms`);
  }
  const perLevel = r.levels.map((l) => ({ l, slack: median(l.c_ms) + SCRAPE_INTERVAL_S * 1000 - median(l.b_ms), pair: median(l.bc_diff_ms) }));
  const bOk = perLevel.every((p) => p.slack >= 0 && p.l.b_unsatisfied === 0);
  out.push(`  ${verdict(perLevel.length ? bOk : null)}  (b) ≤ (c) + ${SCRAPE_INTERVAL_S} s at every level (medians): ` +
    perLevel.map((p) => `${p.l.level}: ${f(median(p.l.b_ms))} vs ${f(median(p.l.c_ms) + SCRAPE_INTERVAL_S * 1000)} ms (ratio ${f(median(p.l.b_ms) / (median(p.l.c_ms) + SCRAPE_INTERVAL_S * 1000), 2)})`).join('; '));
  // The same goal judged on the pairs: (b) and (c) of a pair share Prometheus's discovery phase, so
  // their difference is benchmon's own share, with much less noise than two medians of 6 samples.
  const pairOk = perLevel.every((p) => p.pair <= SCRAPE_INTERVAL_S * 1000 && p.l.b_unsatisfied === 0);
  out.push(`  ${verdict(perLevel.length ? pairOk : null)}  (b) − (c) ≤ ${SCRAPE_INTERVAL_S} s at every level (median of paired differences, the stricter reading): ` +
    perLevel.map((p) => `${p.l.level}: ${f(p.pair)} ms`).join('; '));
  if (r.bursts.length) {
    const worst = Math.max(...r.bursts.map((b) => b.reloads));
    out.push(`  ${verdict(worst <= 2 && r.bursts.every((b) => b.non_2xx === 0))}  burst of ${BURST} needs ≤ 2 reloads: ${r.bursts.map((b) => `${b.name}: ${b.reloads}`).join(', ')}${r.bursts.some((b) => b.non_2xx) ? ' (some answers not 2xx)' : ''}`);
  }
  if (last) {
    const rss = last.benchmon_rss_mb;
    out.push(`  ${verdict(rss === null ? null : rss <= 150)}  benchmon RSS with ${last.level.toLocaleString('en-US')} targets ≤ 150 MB: ${f(rss)} MB (${f(rss === null ? null : rss / 150, 2)}× the budget; after the bursts ${f(r.rssAfterBurst?.rssMb)} MB, peak ${f(r.rssAfterBurst?.hwmMb)} MB)`);
  }
  process.stdout.write(`${out.join('\n')}\n`);

  const json = {
    machine: { cpus: os.cpus().length, model: os.cpus()[0]?.model, node: process.version, prometheus: r.version },
    settings: { levels: LEVELS, a: A_SAMPLES, b: B_SAMPLES, c: C_SAMPLES, burst: BURST, ports: PORTS, filler_interval: FILLER_INTERVAL, scrape_interval_s: SCRAPE_INTERVAL_S },
    ...r,
  };
  if (process.env.BENCH_JSON) fs.writeFileSync(process.env.BENCH_JSON, JSON.stringify(json, null, 2));
}

async function main(): Promise<void> {
  const cleanups: Array<() => Promise<void>> = [];
  let failed = false;
  let stopping = false;
  const onSignal = (sig: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    log(`${sig}: stopping`);
    void runCleanups(cleanups).then(() => process.exit(130));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    await run(cleanups);
  } catch (err) {
    failed = true;
    process.stderr.write(`bench/register could not finish: ${(err as Error).stack ?? String(err)}\n`);
  } finally {
    if (!stopping) {
      stopping = true;
      await runCleanups(cleanups);
    }
  }
  process.exit(failed ? 1 : 0);
}

async function runCleanups(cleanups: Array<() => Promise<void>>): Promise<void> {
  for (const c of cleanups.reverse()) {
    try {
      await c();
    } catch (err) {
      process.stderr.write(`cleanup: ${(err as Error).message}\n`);
    }
  }
}

if (process.argv[2] === '--exporter') {
  await exporterMain(Number(process.argv[3] ?? '1'));
} else {
  await main();
}
