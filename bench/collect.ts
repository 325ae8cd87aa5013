/**
 * bench/collect — cost of collecting a long window against a real local Prometheus (issue 3,
 * "Benchmark").
 *
 * One run:
 *  1. backfills BENCH_HOURS (6) h of 1 s samples for a few hundred series of one session
 *     (bench/collect-data.ts: 8 HTTP services with http_requests_total{code} and the
 *     http_server_request_duration_seconds histogram, 4 node_exporters × 8 CPUs × 4 modes of
 *     node_cpu_seconds_total, up; 292 series, 6.5 M samples) with `promtool tsdb
 *     create-blocks-from openmetrics`, one file per 2 h block, two promtools in parallel;
 *  2. starts Debian's Prometheus (2.42) on those blocks: they are in the data directory before it
 *     starts, so no restart and no overlapping blocks are needed; retention 15d keeps them (the
 *     window is the last 6 h); min = max block duration = 2h so that no background compaction
 *     runs in the middle of a measurement;
 *  3. runs `runCollection` for the whole window in a fresh child process (bench/collect-run.ts),
 *     which reports its wall time, CPU time and peak RSS (process.resourceUsage().maxRSS), and
 *     takes every query it sent, verbatim with its evaluation time(s), from its MANIFEST.json;
 *  4. BENCH_REPEATS (2) times, interleaved with further collections of the same window: replays
 *     those queries with plain fetch (a) one by one and (b) shaped like the collector (the `up`
 *     chunks one by one, then 4 KPIs at a time, each KPI's queries in order), timing each to the
 *     last byte of the answer, and Prometheus's CPU time (/proc) during each phase;
 *  5. collects shorter windows (BENCH_MEMORY_HOURS, 1,3 h) ending at the same time, and the whole
 *     window at a coarse step (BENCH_COARSE_STEP, 1m), each in its own child, to show that peak
 *     RSS follows the points kept, not the window length;
 *  6. prints the tables and the verdicts, stops Prometheus and removes every temp file (also on
 *     error, deadline and SIGINT/SIGTERM).
 *
 * Run: npx tsc -p tsconfig.json && node dist/bench/collect.js
 * Knobs (environment): BENCH_HOURS (6), BENCH_APP_TARGETS (8), BENCH_NODE_TARGETS (4),
 * BENCH_CPUS (8), BENCH_RECIPE (default), BENCH_REPEATS (2), BENCH_MEMORY_HOURS (1,3),
 * BENCH_COARSE_STEP (1m), BENCH_DEADLINE_S (900), BENCH_JSON (write all figures here),
 * PROMETHEUS_BIN, PROMTOOL_BIN.
 * It is a benchmark, not a test: it exits 0 whether the goals are met or not (non-zero only when
 * it could not measure).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { cpuMs, progressLog } from './bench-process.js';
import { backfill, seriesPerSecond, type BackfillReport, type DataSpec } from './collect-data.js';
import type { RunArgs, RunReport } from './collect-run.js';
import { median } from './median.js';
import { freePort } from '../src/net/free-port.js';
import type { Manifest } from '../src/artifacts/manifest.js';

// ---------------------------------------------------------------------------------------------
// Settings
// ---------------------------------------------------------------------------------------------

function envNum(name: string, fallback: number, integer = true): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isFinite(n) || n <= 0 || (integer && !Number.isInteger(n))) throw new Error(`${name} must be a positive ${integer ? 'whole ' : ''}number, got ${JSON.stringify(raw)}`);
  return n;
}

const HOURS = envNum('BENCH_HOURS', 6, false);
const APP_TARGETS = envNum('BENCH_APP_TARGETS', 8);
const NODE_TARGETS = envNum('BENCH_NODE_TARGETS', 4);
const CPUS = envNum('BENCH_CPUS', 8);
const RECIPE = process.env.BENCH_RECIPE ?? 'default';
const REPEATS = envNum('BENCH_REPEATS', 2);
const MEMORY_HOURS = (process.env.BENCH_MEMORY_HOURS ?? '1,3').split(',').map((s) => Number(s.trim())).filter((h) => h > 0 && h < HOURS);
const COARSE_STEP = process.env.BENCH_COARSE_STEP ?? '1m';
const DEADLINE_MS = envNum('BENCH_DEADLINE_S', 900) * 1000;
const PROMETHEUS_BIN = process.env.PROMETHEUS_BIN ?? '/usr/bin/prometheus';
const PROMTOOL_BIN = process.env.PROMTOOL_BIN ?? '/usr/bin/promtool';
const SESSION = 'bench';
const GOAL_RATIO = 1.25;
/** runCollection evaluates this many KPIs at once (collectWindow's default; runCollection does not change it). */
const COLLECTOR_CONCURRENCY = 4;
const CHILD_TIMEOUT_MS = 300_000;

const HERE = path.dirname(fileURLToPath(import.meta.url));
const started = performance.now();
const LOAD_AT_START = os.loadavg().map((x) => x.toFixed(2)).join(' ');

const log = progressLog(started);

const sec = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
const mb = (bytes: number) => `${(bytes / 1e6).toFixed(1)} MB`;
const mibKb = (kb: number) => `${(kb / 1024).toFixed(0)} MiB`;

function table(headers: string[], rows: string[][]): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join(' | ')} |`;
  return [line(headers), `|${widths.map((w, i) => (i === 0 ? `:${'-'.repeat(w + 1)}` : `${'-'.repeat(w + 1)}:`)).join('|')}|`, ...rows.map(line)].join('\n');
}

// ---------------------------------------------------------------------------------------------
// Processes and temp files: everything started is registered here and stopped by cleanup().
// ---------------------------------------------------------------------------------------------

const killers = new Set<() => void>();
function track(kill: () => void): () => void {
  killers.add(kill);
  return () => killers.delete(kill);
}

let tmpDir: string | undefined;
let prometheus: ChildProcess | undefined;
let cleanedUp = false;

async function cleanup(): Promise<void> {
  if (cleanedUp) return;
  cleanedUp = true;
  for (const kill of [...killers]) kill();
  killers.clear();
  const prom = prometheus;
  if (prom && prom.exitCode === null && prom.signalCode === null) {
    const exited = new Promise<void>((resolve) => prom.once('exit', () => resolve()));
    prom.kill('SIGTERM');
    const timer = setTimeout(() => prom.kill('SIGKILL'), 5000);
    await Promise.race([exited, new Promise((r) => setTimeout(r, 8000))]);
    clearTimeout(timer);
  }
  if (tmpDir) fs.rmSync(tmpDir, { recursive: true, force: true });
}

// Last resort if the process dies without running cleanup (synchronous only).
process.once('exit', () => {
  for (const kill of killers) kill();
  if (prometheus && prometheus.exitCode === null) prometheus.kill('SIGKILL');
  if (tmpDir && !cleanedUp) fs.rmSync(tmpDir, { recursive: true, force: true });
});

/** CPU time (user + system) Prometheus has used so far, in ms (from /proc). */
const promCpuMs = (): number => cpuMs(prometheus?.pid);


async function startPrometheus(dataDir: string, dir: string): Promise<{ url: string; version: string; startMs: number }> {
  const configFile = path.join(dir, 'prometheus.yml');
  fs.writeFileSync(configFile, 'global:\n  scrape_interval: 1s\nscrape_configs: []\n');
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const logFile = path.join(dir, 'prometheus.log');
  const fd = fs.openSync(logFile, 'a');
  const t0 = performance.now();
  const child = spawn(
    PROMETHEUS_BIN,
    [
      `--config.file=${configFile}`,
      `--storage.tsdb.path=${dataDir}`,
      `--web.listen-address=127.0.0.1:${port}`,
      '--storage.tsdb.retention.time=15d',
      // No compaction of the backfilled 2 h blocks while we measure.
      '--storage.tsdb.min-block-duration=2h',
      '--storage.tsdb.max-block-duration=2h',
    ],
    { stdio: ['ignore', fd, fd] },
  );
  fs.closeSync(fd);
  prometheus = child;
  const deadline = Date.now() + 120_000;
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null || Date.now() > deadline) {
      throw new Error(`prometheus did not become ready:\n${fs.readFileSync(logFile, 'utf8').slice(-3000)}`);
    }
    try {
      if ((await fetch(`${url}/-/ready`, { signal: AbortSignal.timeout(2000) })).ok) break;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  const startMs = performance.now() - t0;
  const info = (await (await fetch(`${url}/api/v1/status/buildinfo`)).json()) as { data: { version: string } };
  return { url, version: info.data.version, startMs };
}

// ---------------------------------------------------------------------------------------------
// Raw queries: the collector's queries, verbatim, sent with fetch
// ---------------------------------------------------------------------------------------------

/** A query as MANIFEST.json records it (what the collector sent, with its time). */
type LoggedQuery = Manifest['queries'][number];

interface Timed { id: number; ms: number; parseMs: number; bytes: number }

/** Unix seconds as the collector's client writes them (ms / 1000, as a JS number). */
const unix = (iso: string) => String(Date.parse(iso) / 1000);

async function sendRaw(url: string, q: LoggedQuery): Promise<Timed> {
  const params = q.type === 'instant'
    ? new URLSearchParams({ query: q.query, time: unix(q.time!) })
    : new URLSearchParams({ query: q.query, start: unix(q.start!), end: unix(q.end!), step: q.step! });
  const t0 = performance.now();
  const res = await fetch(`${url}${q.type === 'instant' ? '/api/v1/query' : '/api/v1/query_range'}`, { method: 'POST', body: params, signal: AbortSignal.timeout(CHILD_TIMEOUT_MS) });
  const text = await res.text();
  const ms = performance.now() - t0;
  const p0 = performance.now();
  const body = JSON.parse(text) as { status: string; error?: string; data?: { result: unknown[] } };
  const parseMs = performance.now() - p0;
  if (body.status !== 'success') throw new Error(`raw query ${q.id} failed: ${body.error ?? res.status}`);
  const series = Array.isArray(body.data?.result) ? body.data.result.length : null;
  if (q.result_series !== null && series !== null && series !== q.result_series) {
    throw new Error(`raw query ${q.id} answered ${series} series, the collector saw ${q.result_series}: ${q.query}`);
  }
  return { id: q.id, ms, parseMs, bytes: Buffer.byteLength(text) };
}

interface Replay { mode: 'sequential' | 'collector-shaped'; wallMs: number; promCpuMs: number; timings: Timed[] }

async function replaySequential(url: string, queries: LoggedQuery[]): Promise<Replay> {
  const timings: Timed[] = [];
  const c0 = promCpuMs();
  const t0 = performance.now();
  for (const q of queries) timings.push(await sendRaw(url, q));
  return { mode: 'sequential', wallMs: performance.now() - t0, promCpuMs: promCpuMs() - c0, timings };
}

/** The collector's shape: the `up` range chunks one by one, then COLLECTOR_CONCURRENCY KPIs at a time, each KPI's queries in order. */
async function replayCollectorShaped(url: string, queries: LoggedQuery[]): Promise<Replay> {
  const timings: Timed[] = [];
  const c0 = promCpuMs();
  const t0 = performance.now();
  for (const q of queries.filter((x) => x.kpi === null)) timings.push(await sendRaw(url, q));
  const groups = new Map<string, LoggedQuery[]>();
  for (const q of queries) if (q.kpi !== null) groups.set(q.kpi, [...(groups.get(q.kpi) ?? []), q]);
  const list = [...groups.values()];
  let next = 0;
  await Promise.all(Array.from({ length: Math.min(COLLECTOR_CONCURRENCY, list.length) }, async () => {
    while (next < list.length) {
      const group = list[next++]!;
      for (const q of group) timings.push(await sendRaw(url, q));
    }
  }));
  return { mode: 'collector-shaped', wallMs: performance.now() - t0, promCpuMs: promCpuMs() - c0, timings };
}

// ---------------------------------------------------------------------------------------------
// One collection in a child process
// ---------------------------------------------------------------------------------------------

interface CollectRun extends RunReport { label: string; hours: number; step: string; promCpuMs: number; queryLog: LoggedQuery[] }

async function collectInChild(label: string, args: RunArgs, hours: number): Promise<CollectRun> {
  const child = spawn(process.execPath, [path.join(HERE, 'collect-run.js'), JSON.stringify(args)], { stdio: ['ignore', 'pipe', 'pipe'] });
  const untrack = track(() => child.kill('SIGKILL'));
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => {
    stdout += d.toString();
  });
  child.stderr.on('data', (d: Buffer) => {
    stderr = (stderr + d.toString()).slice(-4000);
  });
  const timer = setTimeout(() => child.kill('SIGKILL'), CHILD_TIMEOUT_MS);
  const c0 = promCpuMs();
  const code = await new Promise<number | null>((resolve) => child.once('exit', (c) => resolve(c)));
  const promCpu = promCpuMs() - c0;
  clearTimeout(timer);
  untrack();
  const last = stdout.trim().split('\n').at(-1) ?? '';
  let report: (RunReport | { ok: false; error: string }) | undefined;
  try {
    report = JSON.parse(last) as RunReport | { ok: false; error: string };
  } catch {
    report = undefined;
  }
  if (!report || !report.ok) {
    throw new Error(`collection ${label} failed (exit ${code}): ${report && !report.ok ? report.error : stdout.slice(-2000)}\n${stderr}`);
  }
  const manifest = JSON.parse(fs.readFileSync(report.manifestPath, 'utf8')) as { queries: LoggedQuery[] };
  // The artifacts of a 6 h window are a few hundred MB: drop them once read.
  fs.rmSync(path.dirname(report.manifestPath), { recursive: true, force: true });
  return { ...report, label, hours, step: args.step ?? '1s', promCpuMs: promCpu, queryLog: manifest.queries };
}

// ---------------------------------------------------------------------------------------------
// Main
// ---------------------------------------------------------------------------------------------

interface Results {
  machine: Record<string, string | number>;
  data: BackfillReport & { seriesBreakdown: ReturnType<typeof seriesPerSecond>; fromS: number; toS: number };
  window: { start: string; end: string; hours: number; step: string; queries: number; rangeQueries: number; instantQueries: number };
  prometheus: { version: string; startMs: number };
  queries: Array<Omit<LoggedQuery, 'duration_ms' | 'error' | 'phase'>>;
  replays: Replay[];
  collections: Array<Omit<CollectRun, 'queryLog'>>;
  memory: Array<Omit<CollectRun, 'queryLog'>>;
  verdicts: Record<string, unknown>;
}

async function main(): Promise<void> {
  for (const bin of [PROMETHEUS_BIN, PROMTOOL_BIN]) if (!fs.existsSync(bin)) throw new Error(`${bin} not found (set PROMETHEUS_BIN / PROMTOOL_BIN)`);
  const distRun = path.join(HERE, 'collect-run.js');
  if (!fs.existsSync(distRun)) throw new Error(`${distRun} missing: build with npx tsc -p tsconfig.json`);
  tmpDir = fs.mkdtempSync(path.join(os.tmpdir(), 'benchmon-bench-collect-'));
  const dataDir = path.join(tmpDir, 'data');
  const artifactsRoot = path.join(tmpDir, 'artifacts');
  fs.mkdirSync(artifactsRoot);

  // Window: the last HOURS hours, ending 90 s ago; data from 10 min before the window to 60 s after it.
  const nowS = Math.floor(Date.now() / 1000);
  const windowEndS = nowS - 90;
  const windowStartS = windowEndS - Math.round(HOURS * 3600);
  const spec: DataSpec = { session: SESSION, appTargets: APP_TARGETS, nodeTargets: NODE_TARGETS, cpus: CPUS, fromS: windowStartS - 600, toS: windowEndS + 60 };
  const breakdown = seriesPerSecond(spec);
  log(`backfilling ${breakdown.total} series (${breakdown.histogram} histogram, ${breakdown.requests} http_requests_total, ${breakdown.cpu} node_cpu_seconds_total, ${breakdown.up} up) × 1 s over ${((spec.toS - spec.fromS) / 3600).toFixed(2)} h`);
  const data = await backfill(spec, { dataDir, workDir: tmpDir, promtool: PROMTOOL_BIN, parallel: 2, timeoutMs: 600_000, track, log });
  log(`backfill: ${(data.samples / 1e6).toFixed(1)} M samples, ${mb(data.openMetricsBytes)} OpenMetrics → ${mb(data.blocksBytes)} of blocks in ${data.seconds.toFixed(1)} s`);

  const prom = await startPrometheus(dataDir, tmpDir);
  log(`prometheus ${prom.version} ready at ${prom.url} in ${sec(prom.startMs)}`);
  const check = (await (await fetch(`${prom.url}/api/v1/query?${new URLSearchParams({ query: `count({session="${SESSION}"})`, time: String(windowEndS) })}`)).json()) as { data: { result: Array<{ value: [number, string] }> } };
  const visible = Number(check.data.result[0]?.value[1] ?? 0);
  if (visible !== breakdown.total) throw new Error(`Prometheus sees ${visible} series of the session at the window's end, expected ${breakdown.total}`);

  const args = (hours: number, step?: string): RunArgs => ({
    url: prom.url, session: SESSION, start: windowEndS - Math.round(hours * 3600), end: windowEndS, recipe: RECIPE, artifactsRoot, ...(step ? { step } : {}),
  });

  // The first collection also records the queries to replay. Then, interleaved so that drifting
  // machine load hits both sides alike: raw sequential, raw collector-shaped, collection, …
  const collections: CollectRun[] = [];
  const replays: Replay[] = [];
  const logRun = (c: CollectRun) => log(`${c.label}: runCollection ${sec(c.wallMs)} (queries ${sec(c.wallMs - c.artifactsMs)}, artifacts ${sec(c.artifactsMs)}), benchmon CPU ${sec(c.cpuMs)}, Prometheus CPU ${sec(c.promCpuMs)}, ${c.pointsKept} points kept, peak RSS ${mibKb(c.maxRssKb)}`);
  log(`collection 1/${REPEATS} of the ${HOURS} h window (recipe ${RECIPE}); its MANIFEST.json gives the queries to replay`);
  collections.push(await collectInChild(`${HOURS} h #1`, args(HOURS), HOURS));
  logRun(collections[0]!);
  const queries = [...collections[0]!.queryLog].sort((a, b) => a.id - b.id);
  if (collections[0]!.failedQueries > 0) throw new Error(`the collection had ${collections[0]!.failedQueries} failed queries`);
  log(`${queries.length} queries to replay (${queries.filter((q) => q.type === 'range').length} range)`);
  for (let r = 1; r <= REPEATS; r++) {
    const seq = await replaySequential(prom.url, queries);
    replays.push(seq);
    log(`raw sequential ${r}/${REPEATS}: ${sec(seq.wallMs)}, Prometheus CPU ${sec(seq.promCpuMs)}`);
    const shaped = await replayCollectorShaped(prom.url, queries);
    replays.push(shaped);
    log(`raw collector-shaped ${r}/${REPEATS}: ${sec(shaped.wallMs)}, Prometheus CPU ${sec(shaped.promCpuMs)}`);
    if (r < REPEATS) {
      collections.push(await collectInChild(`${HOURS} h #${r + 1}`, args(HOURS), HOURS));
      logRun(collections.at(-1)!);
    }
  }

  const memory: CollectRun[] = [];
  for (const h of MEMORY_HOURS) {
    memory.push(await collectInChild(`${h} h`, args(h), h));
    logRun(memory.at(-1)!);
  }
  const coarse = await collectInChild(`${HOURS} h @${COARSE_STEP}`, args(HOURS, COARSE_STEP), HOURS);
  logRun(coarse);

  // ------------------------------------------------------------------ figures
  const seqs = replays.filter((r) => r.mode === 'sequential');
  const shapeds = replays.filter((r) => r.mode === 'collector-shaped');
  const sumOf = (r: Replay) => r.timings.reduce((n, t) => n + t.ms, 0);
  const slowestOf = (r: Replay) => r.timings.reduce((a, b) => (b.ms > a.ms ? b : a));
  const parseOf = (r: Replay) => r.timings.reduce((n, t) => n + t.parseMs, 0);
  const rawSeqSum = median(seqs.map(sumOf));
  const rawShapedWall = median(shapeds.map((r) => r.wallMs));
  const collectWall = median(collections.map((c) => c.wallMs));
  const ratioShaped = collectWall / rawShapedWall;
  const ratioSeq = collectWall / rawSeqSum;
  const byId = new Map(queries.map((q) => [q.id, q]));

  const cpu = os.cpus()[0]?.model ?? 'unknown CPU';
  const machine = {
    cpu, cores: os.cpus().length, memory_gib: Math.round(os.totalmem() / 2 ** 30), node: process.version, os: `${os.type()} ${os.release()}`,
    load_at_start: LOAD_AT_START, load_at_end: os.loadavg().map((x) => x.toFixed(2)).join(' '),
  };
  const out: string[] = [];
  out.push('');
  out.push(`bench/collect — ${new Date().toISOString()}, ${((performance.now() - started) / 1000).toFixed(0)} s`);
  out.push(`machine: ${cpu}, ${machine.cores} cores, ${machine.memory_gib} GiB, Node ${process.version}, Prometheus ${prom.version}; load average at start ${LOAD_AT_START}, at end ${machine.load_at_end}`);
  out.push(`data: ${breakdown.total} series × 1 s (${APP_TARGETS} app targets: ${breakdown.histogram} histogram + ${breakdown.requests} counter series; ${NODE_TARGETS} nodes × ${CPUS} CPUs × 4 modes: ${breakdown.cpu}; ${breakdown.up} up) over ${((spec.toS - spec.fromS) / 3600).toFixed(2)} h = ${(data.samples / 1e6).toFixed(1)} M samples; ${mb(data.openMetricsBytes)} OpenMetrics → ${mb(data.blocksBytes)} blocks (${data.spans} files, promtool ×2 in parallel) in ${data.seconds.toFixed(1)} s`);
  out.push(`window: ${new Date(windowStartS * 1000).toISOString()} → ${new Date(windowEndS * 1000).toISOString()} (${HOURS} h, step 1s = ${Math.round(HOURS * 3600) + 1} points per series), recipe ${RECIPE}: ${queries.length} queries (${queries.filter((q) => q.type === 'range').length} range, ${queries.filter((q) => q.type === 'instant').length} instant); medians of ${REPEATS} interleaved repeats`);
  out.push('');
  out.push('Raw Prometheus query time (the collector\'s queries verbatim from its MANIFEST.json, POSTed with fetch, timed to the last byte; JSON.parse not included):');
  out.push(table(
    ['replay', 'wall', 'Σ query time', 'slowest query', 'JSON.parse Σ', 'Prometheus CPU', 'answer bytes'],
    [
      ['sequential', sec(median(seqs.map((r) => r.wallMs))), sec(rawSeqSum), sec(median(seqs.map((r) => slowestOf(r).ms))), sec(median(seqs.map(parseOf))), sec(median(seqs.map((r) => r.promCpuMs))), mb(seqs[0]!.timings.reduce((n, t) => n + t.bytes, 0))],
      [`collector-shaped (${COLLECTOR_CONCURRENCY} KPIs at a time)`, sec(rawShapedWall), sec(median(shapeds.map(sumOf))), sec(median(shapeds.map((r) => slowestOf(r).ms))), sec(median(shapeds.map(parseOf))), sec(median(shapeds.map((r) => r.promCpuMs))), ''],
    ],
  ));
  const slowQ = byId.get(slowestOf(seqs[0]!).id)!;
  out.push(`slowest (sequential): #${slowQ.id} ${slowQ.purpose}/${slowQ.kpi ?? '-'} ${slowQ.type}: ${slowQ.query.length > 140 ? `${slowQ.query.slice(0, 140)}…` : slowQ.query}`);
  out.push('');
  out.push('runCollection (fresh child process per run; wall = the runCollection call; queries = up to the last KPI\'s last progress event; artifacts = the rest):');
  out.push(table(
    ['run', 'wall', 'queries', 'artifacts', 'Σ collector query time', 'benchmon CPU', '… in artifacts', 'Prometheus CPU', 'points kept', 'peak RSS'],
    collections.map((c) => [c.label, sec(c.wallMs), sec(c.wallMs - c.artifactsMs), sec(c.artifactsMs), sec(c.querySumMs), sec(c.cpuMs), sec(c.artifactsCpuMs), sec(c.promCpuMs), String(c.pointsKept), mibKb(c.maxRssKb)]),
  ));
  out.push('');

  // Per purpose: where the collector's time goes compared with the raw answers.
  const purposes = [...new Set(queries.map((q) => q.purpose))];
  const purposeRows = purposes.map((p) => {
    const ids = new Set(queries.filter((q) => q.purpose === p).map((q) => q.id));
    const raw = median(seqs.map((r) => r.timings.filter((t) => ids.has(t.id)).reduce((n, t) => n + t.ms, 0)));
    const rawShaped = median(shapeds.map((r) => r.timings.filter((t) => ids.has(t.id)).reduce((n, t) => n + t.ms, 0)));
    const coll = median(collections.map((c) => c.queryLog.filter((q) => ids.has(q.id)).reduce((n, q) => n + q.duration_ms, 0)));
    return [p, String(ids.size), sec(raw), sec(rawShaped), sec(coll)];
  });
  out.push('Query time by purpose (medians): raw sequential, raw collector-shaped, and as the collector recorded it (request → parsed answer, under its own concurrency):');
  out.push(table(['purpose', 'queries', 'raw sequential Σ', 'raw shaped Σ', 'collector Σ'], purposeRows));
  out.push('');

  out.push('Per repeat (collection r ran just before raw replays r; other processes on the machine make single runs noisy):');
  out.push(table(
    ['repeat', 'collect wall', 'raw shaped wall', 'raw sequential Σ', 'collect / shaped', 'collect / sequential'],
    collections.map((c, i) => [String(i + 1), sec(c.wallMs), sec(shapeds[i]!.wallMs), sec(sumOf(seqs[i]!)), `${(c.wallMs / shapeds[i]!.wallMs).toFixed(2)}×`, `${(c.wallMs / sumOf(seqs[i]!)).toFixed(2)}×`]),
  ));
  out.push('');
  const verdict = (ratio: number) => (ratio <= GOAL_RATIO ? 'PASS' : 'MISS');
  const collectQueriesWall = median(collections.map((c) => c.wallMs - c.artifactsMs));
  const artifactsWall = median(collections.map((c) => c.artifactsMs));
  out.push(`collect / raw (same concurrency as the collector): ${sec(collectWall)} / ${sec(rawShapedWall)} = ${ratioShaped.toFixed(2)}×   goal ≤ ${GOAL_RATIO}×   ${verdict(ratioShaped)}`);
  out.push(`collect / raw (Σ of the queries one by one):       ${sec(collectWall)} / ${sec(rawSeqSum)} = ${ratioSeq.toFixed(2)}×   goal ≤ ${GOAL_RATIO}×   ${verdict(ratioSeq)}`);
  out.push(`  of which: query phase ${sec(collectQueriesWall)} (${(collectQueriesWall / rawShapedWall).toFixed(2)}× raw shaped), artifacts ${sec(artifactsWall)} (${((100 * artifactsWall) / rawShapedWall).toFixed(0)} % of raw shaped)`);
  out.push(`  CPU cross-check (insensitive to other load): Prometheus ${sec(median(collections.map((c) => c.promCpuMs)))} during a collection vs ${sec(median(shapeds.map((r) => r.promCpuMs)))} (shaped) / ${sec(median(seqs.map((r) => r.promCpuMs)))} (sequential) during a raw replay; benchmon ${sec(median(collections.map((c) => c.cpuMs)))} (${sec(median(collections.map((c) => c.artifactsCpuMs)))} of it writing artifacts)`);
  out.push('');

  // Memory vs window length.
  const full = [...collections].sort((a, b) => a.maxRssKb - b.maxRssKb)[Math.floor((collections.length - 1) / 2)]!;
  const memRows = [...memory, full, coarse].sort((a, b) => a.hours - b.hours || b.pointsKept - a.pointsKept);
  const growth = (c: CollectRun) => (c.maxRssKb - c.rssBeforeKb) * 1024;
  out.push('Memory vs window length (one child per row; growth = peak RSS − RSS after loading the modules):');
  out.push(table(
    ['window', 'step', 'series kept', 'points kept', 'RSS before', 'peak RSS', 'growth', 'growth / point', 'timeseries.csv', 'timeseries.parquet', 'wall'],
    memRows.map((c) => [
      `${c.hours} h`, c.step, String(c.seriesKept), String(c.pointsKept), mibKb(c.rssBeforeKb), mibKb(c.maxRssKb), mb(growth(c)),
      `${(growth(c) / c.pointsKept).toFixed(0)} B`, mb(c.files['timeseries.csv'] ?? 0), mb(c.files['timeseries.parquet'] ?? 0), sec(c.wallMs),
    ]),
  ));
  // growth ≈ fixed + perPoint × points: the coarse run (the whole window, few points) gives the fixed part.
  const fixed = growth(coarse);
  const fine = memRows.filter((c) => c !== coarse && c.pointsKept > coarse.pointsKept);
  const perPoint = fine.map((c) => (growth(c) - fixed) / (c.pointsKept - coarse.pointsKept));
  const shortest = fine[0]!;
  const longest = fine.at(-1)!;
  const perPointRatio = perPoint.at(-1)! / perPoint[0]!;
  // Memory follows the points kept, not the window: the whole window at a coarse step costs no more
  // than the shortest window at 1 s, and the cost per kept point does not rise with the window.
  const memoryOk = coarse.maxRssKb <= shortest.maxRssKb && perPointRatio <= 1.25;
  out.push(`memory: fixed growth ${mb(fixed)} (the ${HOURS} h window at ${COARSE_STEP}: ${coarse.pointsKept} points); growth per kept point above that ${perPoint.map((x) => `${x.toFixed(0)} B`).join(' / ')} for ${fine.map((c) => `${c.hours} h`).join(' / ')} at 1s (${longest.hours} h / ${shortest.hours} h = ${perPointRatio.toFixed(2)}, goal ≤ 1.25: no faster than the points kept); ${HOURS} h at ${COARSE_STEP} peaks at ${mibKb(coarse.maxRssKb)} vs ${mibKb(shortest.maxRssKb)} for ${shortest.hours} h at 1s (goal: not above)   ${memoryOk ? 'PASS' : 'MISS'}`);
  process.stdout.write(`${out.join('\n')}\n`);

  if (process.env.BENCH_JSON) {
    const strip = ({ queryLog: _q, ...rest }: CollectRun) => rest;
    const results: Results = {
      machine,
      data: { ...data, seriesBreakdown: breakdown, fromS: spec.fromS, toS: spec.toS },
      window: {
        start: new Date(windowStartS * 1000).toISOString(), end: new Date(windowEndS * 1000).toISOString(), hours: HOURS, step: '1s',
        queries: queries.length, rangeQueries: queries.filter((q) => q.type === 'range').length, instantQueries: queries.filter((q) => q.type === 'instant').length,
      },
      prometheus: { version: prom.version, startMs: prom.startMs },
      queries: queries.map(({ id, purpose, kpi, type, query, time, start, end, step, result_series }) => ({ id, purpose, kpi, type, query, time, start, end, step, result_series })),
      replays,
      collections: collections.map(strip),
      memory: [...memory, coarse].map(strip),
      verdicts: { collectMs: collectWall, rawShapedWallMs: rawShapedWall, rawSequentialSumMs: rawSeqSum, ratioShaped, ratioSequential: ratioSeq, goal: GOAL_RATIO, memoryFixedBytes: fixed, memoryPerPointBytes: perPoint, memoryPerPointRatio: perPointRatio, memoryOk },
    };
    fs.writeFileSync(process.env.BENCH_JSON, `${JSON.stringify(results, null, 2)}\n`);
  }
}

let deadlineHit = false;
const deadlineTimer = setTimeout(() => {
  deadlineHit = true;
  log(`deadline of ${DEADLINE_MS / 1000} s passed: stopping`);
  void cleanup().finally(() => process.exit(2));
}, DEADLINE_MS);

const onSignal = (signal: NodeJS.Signals) => {
  log(`${signal}: stopping`);
  void cleanup().finally(() => process.exit(130));
};
process.once('SIGINT', onSignal);
process.once('SIGTERM', onSignal);

main()
  .then(async () => {
    clearTimeout(deadlineTimer);
    await cleanup();
    log('done; Prometheus stopped, temp files removed');
  })
  .catch(async (err: unknown) => {
    clearTimeout(deadlineTimer);
    if (!deadlineHit) process.stderr.write(`bench/collect failed: ${err instanceof Error ? err.stack ?? err.message : String(err)}\n`);
    await cleanup();
    process.exitCode = 1;
  });
