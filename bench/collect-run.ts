/**
 * bench/collect helper: ONE collection in a fresh process, so that its peak RSS
 * (process.resourceUsage().maxRSS) belongs to that collection alone.
 *
 *   node dist/bench/collect-run.js '{"url":"http://127.0.0.1:9090","session":"bench","start":…,"end":…,"step":"1s","recipe":"default","artifactsRoot":"/tmp/…"}'
 *
 * Prints one JSON line (RunReport) on stdout. The wall time is runCollection's alone (module
 * loading is reported apart). fetch is wrapped to time every Prometheus answer up to its last
 * byte, so the report splits the collector's query time into HTTP and client-side work.
 */
import fs from 'node:fs';
import { performance } from 'node:perf_hooks';

export interface RunArgs {
  url: string;
  session: string;
  /** Unix seconds. */
  start: number;
  end: number;
  step?: string;
  recipe: string;
  artifactsRoot: string;
}

export interface RunReport {
  ok: true;
  /** runCollection, call to return. */
  wallMs: number;
  /** collectWindow (result.startedAt → finishedAt; ms resolution). */
  collectWindowMs: number;
  /** Everything else in runCollection: checks before, artifacts after. */
  otherMs: number;
  /** From the last progress event (the last KPI done) to the return of runCollection: sorting, writing and hashing the artifacts. */
  artifactsMs: number;
  /** CPU time (user + system) of this process in runCollection, and the part after the last progress event. */
  cpuMs: number;
  artifactsCpuMs: number;
  importMs: number;
  queries: number;
  failedQueries: number;
  /** Σ of QueryRecord.duration_ms (client call: request, answer, JSON.parse), and the slowest. */
  querySumMs: number;
  querySlowestMs: number;
  /** Every fetch to Prometheus (queries and status calls), request to last byte of the body. */
  http: { calls: number; sumMs: number; bytes: number };
  seriesKept: number;
  pointsKept: number;
  rssBeforeKb: number;
  maxRssKb: number;
  files: Record<string, number>;
  manifestPath: string;
  kpis: Array<{ name: string; value: number | null; note: string | null }>;
}

async function main(): Promise<void> {
  const args = JSON.parse(process.argv[2] ?? '') as RunArgs;
  const httpStats = { calls: 0, sumMs: 0, bytes: 0 };
  const realFetch = globalThis.fetch;
  globalThis.fetch = async (input: Parameters<typeof fetch>[0], init?: Parameters<typeof fetch>[1]) => {
    const t0 = performance.now();
    const res = await realFetch(input, init);
    const text = res.text.bind(res);
    Object.defineProperty(res, 'text', {
      value: async () => {
        const body = await text();
        httpStats.calls++;
        httpStats.sumMs += performance.now() - t0;
        httpStats.bytes += Buffer.byteLength(body);
        return body;
      },
    });
    return res;
  };

  const i0 = performance.now();
  const { runCollection } = await import('../src/collect/run-collection.js');
  const { PrometheusClient } = await import('../src/prometheus/client.js');
  const importMs = performance.now() - i0;
  const rssBeforeKb = Math.round(process.memoryUsage().rss / 1024);

  const client = new PrometheusClient(args.url, 300_000);
  const cpuMs = (u: NodeJS.CpuUsage) => (u.user + u.system) / 1000;
  let lastProgress = { at: 0, cpu: process.cpuUsage() };
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  const { result, written } = await runCollection(client, {
    sessionId: args.session,
    body: { start_time: args.start, end_time: args.end, step: args.step, recipe: args.recipe },
    scrapeIntervalMs: 1000,
    artifactsRoot: args.artifactsRoot,
    sessionLabels: { purpose: 'bench/collect' },
    targets: [],
    prometheusConfigSha256: null,
    onProgress: (p) => {
      if (p.done === p.total) lastProgress = { at: performance.now(), cpu: process.cpuUsage() };
    },
  });
  const wallMs = performance.now() - t0;
  const cpuTotal = cpuMs(process.cpuUsage(c0));
  const artifactsCpuMs = cpuMs(process.cpuUsage(lastProgress.cpu));
  const artifactsMs = performance.now() - lastProgress.at;
  const collectWindowMs = Date.parse(result.finishedAt) - Date.parse(result.startedAt);
  const durations = result.queries.map((q) => q.duration_ms);
  const report: RunReport = {
    ok: true,
    wallMs,
    collectWindowMs,
    otherMs: wallMs - collectWindowMs,
    artifactsMs,
    cpuMs: cpuTotal,
    artifactsCpuMs,
    importMs,
    queries: result.queries.length,
    failedQueries: result.queries.filter((q) => q.error !== null).length,
    querySumMs: durations.reduce((a, b) => a + b, 0),
    querySlowestMs: Math.max(0, ...durations),
    http: httpStats,
    seriesKept: result.series.length,
    pointsKept: result.series.reduce((n, s) => n + s.timestampsMs.length, 0),
    rssBeforeKb,
    maxRssKb: process.resourceUsage().maxRSS,
    files: Object.fromEntries(written.manifest.files.map((f) => [f.name, f.bytes])),
    manifestPath: written.manifestPath,
    kpis: result.kpis.map((k) => ({ name: k.name, value: k.value, note: k.note })),
  };
  // Sanity: the manifest on disk is the one reported.
  if (!fs.existsSync(written.manifestPath)) throw new Error(`no manifest at ${written.manifestPath}`);
  process.stdout.write(`${JSON.stringify(report)}\n`);
}

main().catch((err: unknown) => {
  process.stdout.write(`${JSON.stringify({ ok: false, error: err instanceof Error ? `${err.message}\n${err.stack ?? ''}` : String(err) })}\n`);
  process.exitCode = 1;
});
