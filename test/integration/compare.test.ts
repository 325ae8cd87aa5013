/**
 * Acceptance: run-to-run comparison and gates on real collections. One benchmon (real service,
 * real local Prometheus scraping every second), three sessions (one per run, as a benchmark
 * engineer would have them), each with an instrumented HTTP service (prom-client
 * `http_requests_total` and `http_server_request_duration_seconds`, the `default` recipe's
 * throughput and latency KPIs) answering with its own known latency distribution. The emulator's
 * open-loop load generator drives the three at the same time (a collection only sees its own
 * session, so the runs need not take turns), each at a known rate:
 *
 *   base  R = 40 req/s, latency mean 48.75 ms, 32 s → two baseline windows A1, A2 (15 s each)
 *   slow  0.8 R,        latency ×1.6,          17 s → window W (20 % less throughput, slower)
 *   fast  1.2 R,        latency ×0.6,          17 s → window F (20 % more throughput, faster)
 *
 * Windows lie 1 s inside each steady period, so a window sees one rate only. Then:
 *  - POST /api/v1/compare: throughput ratio W/A1 and F/A1 within 3 % of 0.8 and 1.2; latency
 *    (lower is better) up is "worse", down is "better";
 *  - `benchmon compare A1 W --gate` (−5 % throughput, +10 % latency) exits 1 and its table
 *    names the failing KPIs; `… A1 F --gate` exits 0; the same from local directories with no
 *    server, with --json and --html;
 *  - a baseline of two runs (A1, A2): a noise estimate from their spread, W and F beyond it;
 *  - bad input: unknown collection 404 naming it, bad gate 400 naming the field, bad gate file
 *    exit 2, a phase the collections lack.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { runOpenLoopLoad, type EndpointLoad, type LoadReport } from '../../emulator/index.js';
import type { CollectionSummary } from '../../src/collect/run-collection.js';
import type { CompareResult } from '../../src/compare/run-compare.js';
import { BenchmonApiError } from '../../src/client/api-client.js';
import { sleep } from '../helpers/collect-checks.js';
import { startTestService, tempDir, type TestService, registerUp } from '../helpers/harness.js';
import { GROUND_TRUTH_LATENCY, startInstrumentedServer, type InstrumentedServer, type PiecewiseLatency } from '../helpers/instrumented-server.js';
import { runBenchmon, type Finished } from '../helpers/processes.js';

const SESSION = 'compare';
const R = 40;
const WINDOW_MS = 15_000;

const scaled = (d: PiecewiseLatency, f: number): PiecewiseLatency => ({ knots: d.knots.map(([q, s]) => [q, s * f] as const) });

/** GET /work at a fixed rate, through the emulator's open-loop driver. */
function workLoad(url: string, rate: number): EndpointLoad {
  return {
    name: 'work',
    url,
    rate,
    fire: (agent, signal) => new Promise((resolve) => {
      const t0 = performance.now();
      const req = http.get(url, { agent, signal }, (res) => {
        res.resume();
        res.on('end', () => resolve({ status: res.statusCode ?? 0, latencySeconds: (performance.now() - t0) / 1000 }));
      });
      req.on('error', (err) => resolve({ status: null, error: (err as NodeJS.ErrnoException).code ?? 'error', latencySeconds: 0 }));
    }),
  };
}

describe('compare: collections of runs at known rates, gates, CLI and API', () => {
  let svc: TestService | undefined;
  const servers: InstrumentedServer[] = [];
  const loads: LoadReport[] = [];
  const c: Record<'a1' | 'a2' | 'worse' | 'better', CollectionSummary> = {} as never;
  const work = tempDir('benchmon-compare-');
  const gateFile = path.join(work, 'gate.yaml');
  const cli = (args: string[], url = svc!.url): Promise<Finished> => runBenchmon(args, { BENCHMON_URL: url });

  before(async () => {
    svc = await startTestService();
    const latencies = { base: GROUND_TRUTH_LATENCY, slow: scaled(GROUND_TRUTH_LATENCY, 1.6), fast: scaled(GROUND_TRUTH_LATENCY, 0.6) };
    for (const [name, latency] of Object.entries(latencies)) {
      await svc.client.createSession({ session_id: `${SESSION}-${name}` });
      const server = await startInstrumentedServer({ latency });
      servers.push(server);
      await registerUp(svc.client, `${SESSION}-${name}`, {
        target_type: 'app', role: 'service', job_id: `cmp-${name}`,
        scrape_config: { job_name: `app-${name}`, metrics_path: '/metrics', targets: [server.address] },
      }, `the ${name} target`);
    }
    await sleep(2000);
    const [base, slow, fast] = servers as [InstrumentedServer, InstrumentedServer, InstrumentedServer];
    const run = async (server: InstrumentedServer, rate: number, ms: number) => {
      const report = await runOpenLoopLoad([workLoad(server.workUrl, rate)], { durationMs: ms });
      loads.push(report);
      return report.startedAtMs;
    };
    const [t0, tSlow, tFast] = await Promise.all([run(base, R, 2 * WINDOW_MS + 2000), run(slow, 0.8 * R, WINDOW_MS + 2000), run(fast, 1.2 * R, WINDOW_MS + 2000)]);
    const windows: Array<[keyof typeof c, string, number]> = [
      ['a1', 'base', t0 + 1000], ['a2', 'base', t0 + 1000 + WINDOW_MS], ['worse', 'slow', tSlow + 1000], ['better', 'fast', tFast + 1000],
    ];
    await sleep(2500); // the scrapes up to the last window's end land
    for (const [key, run, start] of windows) {
      c[key] = await svc.client.collect(`${SESSION}-${run}`, { start_time: new Date(start).toISOString(), end_time: new Date(start + WINDOW_MS).toISOString(), recipe: 'default' });
    }
    fs.writeFileSync(gateFile, [
      'description: throughput may drop 5 %, mean latency may rise 10 %',
      'kpis:',
      '  throughput:',
      '    max_regression: 5%',
      '  latency_mean:',
      '    max_regression: 10%',
      '',
    ].join('\n'));
  });

  after(async () => {
    for (const s of servers) await s.close();
    await svc?.close();
    fs.rmSync(work, { recursive: true, force: true });
  });

  const kpi = (r: CompareResult, name: string) => {
    const k = r.kpis.find((x) => x.name === name);
    assert.ok(k, `no ${name} in ${r.kpis.map((x) => x.name).join(', ')}`);
    return k;
  };

  it('the load ran at the rates asked for, every request answered', () => {
    for (const l of loads) {
      const e = l.endpoints[0]!;
      assert.equal(e.ok, e.planned, `${e.rate} req/s: ${e.ok} of ${e.planned} answered ${JSON.stringify(e.networkErrors)}`);
    }
    for (const key of ['a1', 'a2', 'worse', 'better'] as const) {
      const t = c[key].kpis.find((k) => k.name === 'throughput');
      assert.ok(t?.value, `${key}: throughput has no value: ${t?.note}`);
    }
  });

  it('POST /api/v1/compare: the throughput ratio matches the rate ratio within 3 %, latency direction respected', async (t) => {
    for (const [key, rateRatio, latencyChange] of [['worse', 0.8, 'worse'], ['better', 1.2, 'better']] as const) {
      const r = await svc!.client.compare({ candidate: c[key].collection_id, baseline: c.a1.collection_id });
      assert.equal(r.candidate.collection_id, c[key].collection_id);
      assert.equal(r.gate, null);
      const tp = kpi(r, 'throughput');
      assert.ok(tp.ratio !== null, `no ratio: ${tp.note}`);
      const off = Math.abs(tp.ratio / rateRatio - 1);
      t.diagnostic(`${key}: throughput ${tp.baseline?.toFixed(3)} → ${tp.candidate?.toFixed(3)} req/s, ratio ${tp.ratio.toFixed(4)} vs rate ratio ${rateRatio} (${(off * 100).toFixed(2)} % off)`);
      assert.ok(off <= 0.03, `throughput ratio ${tp.ratio} vs rate ratio ${rateRatio}: ${(off * 100).toFixed(2)} % off`);
      assert.equal(tp.higher_is_better, true);
      assert.equal(tp.change, latencyChange);
      assert.equal(tp.verdict, 'no_noise_estimate', 'one baseline run: no noise estimate');
      const lat = kpi(r, 'latency_mean');
      assert.equal(lat.higher_is_better, false);
      assert.equal(lat.change, latencyChange, `latency_mean ${lat.baseline} → ${lat.candidate} s`);
      t.diagnostic(`${key}: latency_mean ${lat.baseline?.toFixed(4)} → ${lat.candidate?.toFixed(4)} s (${lat.change})`);
      // KPIs without data on either side are reported, not dropped.
      assert.equal(kpi(r, 'gpu_utilisation').verdict, 'no_value');
    }
  });

  it('benchmon compare --gate: exit 1 naming the KPIs on the slower run with 20 % less throughput, exit 0 on the faster one', async () => {
    const worse = await cli(['compare', c.a1.collection_id, c.worse.collection_id, '--gate', gateFile]);
    assert.equal(worse.code, 1, `exit ${worse.code}: ${worse.stderr}${worse.stdout}`);
    const rowOf = (out: string, name: string) => out.split('\n').find((l) => l.startsWith(`${name} `)) ?? '';
    assert.match(rowOf(worse.stdout, 'throughput'), /\bFAIL$/, worse.stdout);
    assert.match(rowOf(worse.stdout, 'latency_mean'), /\bFAIL$/, worse.stdout);
    assert.match(rowOf(worse.stdout, 'latency_mean'), /lower=better/);
    assert.match(worse.stdout, /^gate FAILED: 2 of 2 gated KPIs failed: throughput \(\d+(\.\d+)?% worse than the baseline .*limit of 5% worse\); latency_mean \(/m);
    assert.match(worse.stdout, /^KPI +UNIT +A +B +Δ +RATIO +DIRECTION +NOISE +VERDICT +GATE$/m);

    const better = await cli(['compare', c.a1.collection_id, c.better.collection_id, '--gate', gateFile]);
    assert.equal(better.code, 0, `exit ${better.code}: ${better.stderr}${better.stdout}`);
    assert.match(rowOf(better.stdout, 'throughput'), /\bpass$/);
    assert.match(rowOf(better.stdout, 'latency_mean'), /better, no noise estimate +pass$/);
    assert.match(better.stdout, /^gate passed: 2 KPIs checked$/m);
  });

  it('compares local collection directories with no server (CI artifacts), with --json and a self-contained --html report', async () => {
    const html = path.join(work, 'diff.html');
    const r = await cli(['compare', c.a1.directory, c.worse.directory, '--gate', gateFile, '--json', '--html', html], 'http://127.0.0.1:9');
    assert.equal(r.code, 1, `exit ${r.code}: ${r.stderr}`);
    const result = JSON.parse(r.stdout) as CompareResult;
    assert.equal(result.gate?.passed, false);
    assert.deepEqual(result.gate?.failures.map((f) => f.kpi), ['throughput', 'latency_mean']);
    assert.equal(result.candidate.source, c.worse.directory);
    assert.ok(Math.abs(kpi(result, 'throughput').ratio! / 0.8 - 1) <= 0.03);
    assert.match(r.stderr, /^HTML report: /m);
    const page = fs.readFileSync(html, 'utf8');
    assert.match(page, /class="banner fail">gate FAILED/);
    assert.match(page, /<code>throughput<\/code>/);
    assert.deepEqual(fs.readdirSync(work).sort(), ['diff.html', 'gate.yaml'], 'no temp file left behind');

    const ok = await cli(['compare', c.better.directory, '--baseline', c.a1.directory, '--gate', gateFile], 'http://127.0.0.1:9');
    assert.equal(ok.code, 0, `exit ${ok.code}: ${ok.stderr}${ok.stdout}`);
  });

  it('a baseline of two runs gives a noise estimate from their spread; 20 % changes lie beyond it', async (t) => {
    const base = [c.a1.collection_id, c.a2.collection_id];
    const worse = await svc!.client.compare({ candidate: c.worse.collection_id, baseline: base });
    const tp = kpi(worse, 'throughput');
    assert.ok(tp.noise, 'two baseline runs give a noise estimate');
    t.diagnostic(`baseline throughput ${tp.baseline_values.map((v) => v?.toFixed(3)).join(', ')} req/s: band ${tp.noise.lower.toFixed(3)}..${tp.noise.upper.toFixed(3)}`);
    assert.equal(tp.noise.runs, 2);
    assert.ok(tp.noise.stddev < 0.02 * tp.noise.mean, 'two windows at the same rate differ by little');
    assert.deepEqual([tp.beyond_noise, tp.verdict], [true, 'worse']);
    assert.equal(kpi(worse, 'latency_mean').verdict, 'worse');
    const better = await svc!.client.compare({ candidate: c.better.collection_id, baseline: base });
    assert.equal(kpi(better, 'throughput').verdict, 'better');
    assert.equal(kpi(better, 'latency_mean').verdict, 'better');
    // The CLI: positional baselines before the candidate.
    const r = await cli(['compare', ...base, c.worse.collection_id, '--json']);
    assert.equal(r.code, 0, 'no gate: exit 0 whatever the verdicts');
    assert.equal(kpi(JSON.parse(r.stdout) as CompareResult, 'throughput').verdict, 'worse');
  });

  it('bad input: unknown collection 404 naming it, bad gate 400 naming the field, bad gate file exit 2, missing phase', async () => {
    const unknown = '20990101T000000Z-deadbeef';
    await assert.rejects(svc!.client.compare({ candidate: c.worse.collection_id, baseline: [c.a1.collection_id, unknown] }), (err: unknown) => {
      assert.ok(err instanceof BenchmonApiError);
      assert.deepEqual([err.status, err.code], [404, 'COLLECTION_NOT_FOUND']);
      assert.equal(err.message, `baseline[1]: no collection ${unknown}`);
      assert.equal(err.details?.collection_id, unknown);
      return true;
    });
    await assert.rejects(svc!.client.compare({ candidate: c.worse.collection_id, baseline: c.a1.collection_id, gate: { kpis: { throughput: { max_regression: 5 } } } }), (err: unknown) => {
      assert.ok(err instanceof BenchmonApiError);
      assert.deepEqual([err.status, err.code], [400, 'GATE_INVALID']);
      assert.equal(err.details?.field, 'gate.kpis.throughput.max_regression');
      assert.match(err.message, /^gate\.kpis\.throughput\.max_regression: expected a percentage such as "5%"/);
      return true;
    });
    const res = await fetch(`${svc!.url}/api/v1/compare`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ candidate: 'nope', baseline: c.a1.collection_id }) });
    assert.equal(res.status, 400);
    assert.deepEqual(((await res.json()) as { error: { details: unknown } }).error.details, { field: 'candidate' });
    await assert.rejects(svc!.client.compare({ candidate: c.worse.collection_id, baseline: c.a1.collection_id, phase: 'steady' }), (err: unknown) => {
      assert.ok(err instanceof BenchmonApiError);
      assert.deepEqual([err.status, err.code], [422, 'UNPROCESSABLE']);
      assert.match(err.message, new RegExp(`^phase: collection ${c.worse.collection_id} has no phase "steady" \\(it has no phases\\)`));
      return true;
    });

    const badGate = path.join(work, 'bad-gate.yaml');
    fs.writeFileSync(badGate, 'kpis:\n  throughput:\n    max_regresion: 5%\n');
    try {
      const r = await cli(['compare', c.a1.collection_id, c.worse.collection_id, '--gate', badGate]);
      assert.equal(r.code, 2, `exit ${r.code}: ${r.stderr}`);
      assert.equal(r.stdout, '');
      assert.equal(r.stderr, `benchmon: --gate ${badGate}: kpis.throughput.max_regresion: unknown key (allowed: max_regression, max_regression_abs, min, max)\n`);
    } finally {
      fs.rmSync(badGate);
    }
    const notFound = await cli(['compare', c.a1.collection_id, unknown]);
    assert.equal(notFound.code, 3, notFound.stderr);
    assert.match(notFound.stderr, new RegExp(`candidate: no collection ${unknown}`));
    const noDir = await cli(['compare', c.a1.directory, path.join(work, 'missing-dir')]);
    assert.equal(noDir.code, 2, noDir.stderr);
    assert.match(noDir.stderr, /missing-dir: neither a collection directory .* nor a collection id/);
  });
});
