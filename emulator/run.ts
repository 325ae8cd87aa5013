/**
 * EMULATOR — stand-alone runner for the emulated AI-factory workload (manual demos and debugging; not product code).
 *
 *   node dist/emulator/run.js [--duration 60s] [--vllm-rate 10] [--qdrant-rate 30] [--seed N] [--serve] [--json]
 *
 * Starts the emulated vLLM and Qdrant servers on free local ports, prints their scrape targets and the known
 * latency distributions, drives them for --duration (0 = no load), prints the load generator's report, and
 * stops. With --serve it keeps the servers up after the load until SIGINT/SIGTERM.
 */
import { parseArgs } from 'node:util';
import { startEmulatedWorkload } from './workload.js';

function parseDuration(text: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m)?$/.exec(text.trim());
  if (!m) throw new Error(`bad duration ${JSON.stringify(text)} (use e.g. 500ms, 30s, 2m)`);
  const n = Number(m[1]);
  return m[2] === 'ms' ? n : m[2] === 'm' ? n * 60_000 : n * 1000;
}

function fmt(seconds: number | null): string {
  return seconds === null ? '-' : `${(seconds * 1000).toFixed(1)} ms`;
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      duration: { type: 'string', default: '60s' },
      'vllm-rate': { type: 'string' },
      'qdrant-rate': { type: 'string' },
      seed: { type: 'string' },
      serve: { type: 'boolean', default: false },
      json: { type: 'boolean', default: false },
    },
  });
  const durationMs = parseDuration(values.duration);
  const workload = await startEmulatedWorkload({
    ...(values.seed !== undefined ? { seed: Number(values.seed) } : {}),
    load: {
      ...(values['vllm-rate'] !== undefined ? { vllmRate: Number(values['vllm-rate']) } : {}),
      ...(values['qdrant-rate'] !== undefined ? { qdrantRate: Number(values['qdrant-rate']) } : {}),
    },
  });
  const stop = new AbortController();
  const onSignal = (): void => stop.abort();
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  const log = (line: string): void => {
    if (!values.json) process.stderr.write(`${line}\n`);
  };
  try {
    log(`EMULATED vLLM   http://${workload.vllm.address}/metrics   (model ${workload.vllm.modelName})`);
    log(`EMULATED Qdrant http://${workload.qdrant.address}/metrics   (version ${workload.qdrant.version}, collection ${workload.qdrant.collection})`);
    const d = workload.distributions;
    for (const k of [d.ttft, d.interTokenLatency, d.e2eLatency, d.qdrantLatency]) {
      const q = k.quantiles;
      log(`  known ${k.metric}: p50 ${fmt(q.p50.value)}  p95 ${fmt(q.p95.value)}  p99 ${fmt(q.p99.value)}`);
    }
    let report;
    if (durationMs > 0) {
      report = await workload.runLoad({
        durationMs,
        signal: stop.signal,
        onProgress: (p) => log(`  ${(p.elapsedMs / 1000).toFixed(0)}/${(p.durationMs / 1000).toFixed(0)} s  ${p.endpoints.map((e) => `${e.name} ${e.ok}/${e.sent}`).join('  ')}`),
      });
      for (const e of report.endpoints) {
        const l = e.latencySeconds;
        log(`  ${e.name}: sent ${e.sent}, statuses ${JSON.stringify(e.byStatus)}, p50 ${fmt(l.p50)} p95 ${fmt(l.p95)} p99 ${fmt(l.p99)}`);
      }
    }
    if (values.json) {
      const { vllm, qdrant, ...rest } = report ?? {};
      void vllm;
      void qdrant;
      process.stdout.write(
        `${JSON.stringify({ vllm: workload.vllm.address, qdrant: workload.qdrant.address, distributions: d, load: rest, counts: workload.counts() }, null, 2)}\n`,
      );
    }
    if (values.serve && !stop.signal.aborted) {
      log('serving; Ctrl-C to stop');
      await new Promise<void>((resolve) => stop.signal.addEventListener('abort', () => resolve(), { once: true }));
    }
  } finally {
    await workload.stop();
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
  return 0;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`emulator: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = 1;
  },
);
