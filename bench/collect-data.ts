/**
 * bench/collect helper: synthetic benchmark data written as OpenMetrics text and backfilled into
 * TSDB blocks with `promtool tsdb create-blocks-from openmetrics`.
 *
 * One session ("bench" by default) with
 *  - `appTargets` HTTP services (job="app"): `http_requests_total{code="200"|"500"}` and the
 *    OpenTelemetry histogram `http_server_request_duration_seconds` (14 finite buckets + +Inf,
 *    _sum, _count), request rate oscillating ±20 % around 50 + 10·i req/s;
 *  - `nodeTargets` node_exporters (job="node") with `node_cpu_seconds_total` for `cpus` CPUs ×
 *    4 modes (idle, user, system, iowait);
 *  - `up` = 1 for every target;
 * one sample per series every second. Every value is a closed-form function of t, so the data
 * can be written in independent time spans (one file per 2 h TSDB block, backfilled in
 * parallel) and counters stay monotonic across spans.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { performance } from 'node:perf_hooks';

export const BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10];
const CPU_MODES = ['idle', 'user', 'system', 'iowait'] as const;
/** Counters start as if the services had been running this long already. */
const HEAD_START_S = 100_000;
/** promtool's (and Prometheus's) default block range: files are cut on these boundaries. */
export const BLOCK_S = 7200;

export interface DataSpec {
  session: string;
  appTargets: number;
  nodeTargets: number;
  cpus: number;
  /** First sample (Unix s, inclusive). */
  fromS: number;
  /** Last sample (Unix s, inclusive). */
  toS: number;
}

export function seriesPerSecond(spec: DataSpec): { up: number; requests: number; histogram: number; cpu: number; total: number } {
  const up = spec.appTargets + spec.nodeTargets;
  const requests = spec.appTargets * 2;
  const histogram = spec.appTargets * (BUCKETS.length + 1 + 2);
  const cpu = spec.nodeTargets * spec.cpus * CPU_MODES.length;
  return { up, requests, histogram, cpu, total: up + requests + histogram + cpu };
}

/** Standard normal CDF (Abramowitz–Stegun 7.1.26), for the latency distribution's bucket shares. */
function normalCdf(x: number): number {
  const t = 1 / (1 + 0.3275911 * Math.abs(x) / Math.SQRT2);
  const y = 1 - (((((1.061405429 * t - 1.453152027) * t) + 1.421413741) * t - 0.284496736) * t + 0.254829592) * t * Math.exp(-(x * x) / 2);
  return x >= 0 ? (1 + y) / 2 : (1 - y) / 2;
}

interface AppTarget {
  labels: string;
  rps: number;
  /** Cumulative share of requests at or below each finite bucket bound, then 1 for +Inf. */
  cumShare: number[];
  meanS: number;
}

function appTargets(spec: DataSpec): AppTarget[] {
  return Array.from({ length: spec.appTargets }, (_, i) => {
    // Log-normal latencies, median 40 ms growing with the target index, σ = 1.
    const median = 0.04 * (1 + i / 10);
    const sigma = 1;
    const cumShare = [...BUCKETS.map((le) => normalCdf((Math.log(le) - Math.log(median)) / sigma)), 1];
    return {
      labels: `session="${spec.session}",job="app",instance="app-${String(i).padStart(2, '0')}:8080"`,
      rps: 50 + 10 * i,
      cumShare,
      meanS: median * Math.exp((sigma * sigma) / 2),
    };
  });
}

/** Requests served since the (virtual) start of the service, at Unix second t: monotonic, rate 1 ± 0.2 × rps. */
function requestsAt(rps: number, t: number): number {
  const s = HEAD_START_S + t;
  return Math.floor(rps * (s + 60 * Math.sin(s / 300)));
}

/** Writes samples at fromS ≤ t < toS as one OpenMetrics document; returns the number of samples. */
export function writeOpenMetricsSpan(file: string, spec: DataSpec, fromS: number, toS: number): number {
  const fd = fs.openSync(file, 'w');
  let buf = '';
  let samples = 0;
  const emit = (text: string) => {
    buf += text;
    if (buf.length > 4 << 20) {
      fs.writeSync(fd, buf);
      buf = '';
    }
  };
  try {
    const apps = appTargets(spec);
    const nodeLabels = Array.from({ length: spec.nodeTargets }, (_, n) => `session="${spec.session}",job="node",instance="node-${n}:9100"`);

    emit('# TYPE up gauge\n');
    for (const labels of [...apps.map((a) => a.labels), ...nodeLabels]) {
      const prefix = `up{${labels}} 1 `;
      for (let t = fromS; t < toS; t++) emit(`${prefix}${t}\n`);
      samples += toS - fromS;
    }

    emit('# TYPE http_requests counter\n');
    for (const app of apps) {
      const ok = `http_requests_total{${app.labels},code="200"} `;
      const err = `http_requests_total{${app.labels},code="500"} `;
      for (let t = fromS; t < toS; t++) {
        const n = requestsAt(app.rps, t);
        emit(`${ok}${n - Math.floor(n / 100)} ${t}\n`);
      }
      for (let t = fromS; t < toS; t++) emit(`${err}${Math.floor(requestsAt(app.rps, t) / 100)} ${t}\n`);
      samples += 2 * (toS - fromS);
    }

    emit('# TYPE http_server_request_duration_seconds histogram\n');
    for (const app of apps) {
      const bucketPrefixes = [...BUCKETS.map(String), '+Inf'].map((le) => `http_server_request_duration_seconds_bucket{${app.labels},le="${le}"} `);
      const sumPrefix = `http_server_request_duration_seconds_sum{${app.labels}} `;
      const countPrefix = `http_server_request_duration_seconds_count{${app.labels}} `;
      for (let t = fromS; t < toS; t++) {
        const n = requestsAt(app.rps, t);
        let lines = '';
        for (let b = 0; b < bucketPrefixes.length; b++) lines += `${bucketPrefixes[b]}${Math.floor(n * app.cumShare[b]!)} ${t}\n`;
        lines += `${sumPrefix}${Math.round(n * app.meanS * 1000) / 1000} ${t}\n${countPrefix}${n} ${t}\n`;
        emit(lines);
      }
      samples += (bucketPrefixes.length + 2) * (toS - fromS);
    }

    emit('# TYPE node_cpu_seconds counter\n');
    for (let n = 0; n < spec.nodeTargets; n++) {
      for (let c = 0; c < spec.cpus; c++) {
        const busy = 0.3 + 0.1 * ((n + c) % 5);
        const share: Record<(typeof CPU_MODES)[number], number> = { idle: 1 - busy, user: 0.7 * busy, system: 0.25 * busy, iowait: 0.05 * busy };
        for (const mode of CPU_MODES) {
          const prefix = `node_cpu_seconds_total{${nodeLabels[n]},cpu="${c}",mode="${mode}"} `;
          for (let t = fromS; t < toS; t++) emit(`${prefix}${Math.round(share[mode] * (HEAD_START_S + t) * 100) / 100} ${t}\n`);
          samples += toS - fromS;
        }
      }
    }
    emit('# EOF\n');
    fs.writeSync(fd, buf);
  } finally {
    fs.closeSync(fd);
  }
  return samples;
}

export interface BackfillReport {
  samples: number;
  series: number;
  spans: number;
  openMetricsBytes: number;
  blocksBytes: number;
  seconds: number;
}

function run(cmd: string, args: string[], timeoutMs: number, register: (kill: () => void) => () => void): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => {
      stderr = (stderr + d.toString()).slice(-4000);
    });
    const unregister = register(() => child.kill('SIGKILL'));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.once('error', (err) => {
      clearTimeout(timer);
      unregister();
      reject(err);
    });
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      unregister();
      if (code === 0) resolve();
      else reject(new Error(`${path.basename(cmd)} ${args.slice(0, 3).join(' ')} exited with ${code ?? signal}: ${stderr.trim().slice(-2000)}`));
    });
  });
}

function dirBytes(dir: string): number {
  let total = 0;
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, entry.name);
    total += entry.isDirectory() ? dirBytes(p) : fs.statSync(p).size;
  }
  return total;
}

/**
 * Backfills [spec.fromS, spec.toS] into dataDir: one OpenMetrics file per 2 h block span (so the
 * blocks promtool writes never overlap), generated here while earlier spans are converted by up to
 * `parallel` promtool processes; each file is deleted once converted. `track` registers a kill
 * function for each child so the caller can stop them on error or signal.
 */
export async function backfill(
  spec: DataSpec,
  opts: { dataDir: string; workDir: string; promtool: string; parallel: number; timeoutMs: number; track: (kill: () => void) => () => void; log: (msg: string) => void },
): Promise<BackfillReport> {
  const t0 = performance.now();
  fs.mkdirSync(opts.dataDir, { recursive: true });
  const spans: Array<[number, number]> = [];
  for (let from = spec.fromS; from <= spec.toS; ) {
    const to = Math.min(spec.toS + 1, (Math.floor(from / BLOCK_S) + 1) * BLOCK_S);
    spans.push([from, to]);
    from = to;
  }
  const running = new Set<Promise<void>>();
  let samples = 0;
  let omBytes = 0;
  let failure: unknown;
  for (const [i, [from, to]] of spans.entries()) {
    if (failure) break;
    while (running.size >= opts.parallel) await Promise.race(running);
    const file = path.join(opts.workDir, `span-${i}.om`);
    const g0 = performance.now();
    samples += writeOpenMetricsSpan(file, spec, from, to);
    const bytes = fs.statSync(file).size;
    omBytes += bytes;
    opts.log(`  span ${i + 1}/${spans.length}: ${((to - from) / 3600).toFixed(2)} h, ${(bytes / 1e6).toFixed(0)} MB OpenMetrics written in ${((performance.now() - g0) / 1000).toFixed(1)} s; promtool converting`);
    const job: Promise<void> = run(opts.promtool, ['tsdb', 'create-blocks-from', 'openmetrics', '--quiet', file, opts.dataDir], opts.timeoutMs, opts.track)
      .catch((err) => {
        failure ??= err;
      })
      .finally(() => {
        fs.rmSync(file, { force: true });
        running.delete(job);
      });
    running.add(job);
  }
  await Promise.all(running);
  if (failure) throw failure;
  return {
    samples,
    series: seriesPerSecond(spec).total,
    spans: spans.length,
    openMetricsBytes: omBytes,
    blocksBytes: dirBytes(opts.dataDir),
    seconds: (performance.now() - t0) / 1000,
  };
}
