/**
 * Acceptance: benchmark phases, through the real service (real local Prometheus scraping every
 * second) and the CLI as a user runs it.
 *
 * The run: an instrumented HTTP service (prom-client `http_requests_total`) driven by the
 * emulator's open-loop load generator — warmup at 20 req/s for 16 s, then steady state at
 * 50 req/s for 16 s, back to back like one benchmark run. The phases are marked through the API
 * at the moments the rate changes (start and end default to "now" on the server), exactly as a
 * benchmark orchestrator would. One collection with `phases: "all"` (its window spans them) must
 * give each phase's throughput (the `default` recipe's `throughput`, rate(http_requests_total[W])
 * at the phase's end over W = the phase) within 3 % of the rate the generator was set to.
 *
 * Why that holds at the edges, without a loose tolerance: rate() over the phase takes only the
 * samples scraped inside it, the increase between the first and the last of them over their
 * distance, extrapolated to W. The load is constant within the phase, so what happens before
 * the first sample (the other phase, the first requests still in flight) does not enter, and
 * the requests a phase's last scrape does not see are extrapolated at the phase's own rate. What
 * remains is the latency lag at the boundary (a request is counted when it completes: ≤ 170 ms
 * after it was sent), at most a few requests against 320 and 800, and the ±1 request of counting
 * whole requests between scrapes.
 *
 * Also: collect by `phase: NAME` (window = the phase), nested phases marked after the fact with
 * the CLI (`phase start --at`, `phase end --at`, `phase list`), `collect --phase … --phases all`
 * printing the per-phase KPIs side by side, the artifacts (manifest phases[], metrics_summary.csv
 * phase column, time series of the whole window only), and bad inputs: 4xx naming the field, and
 * nothing written.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { runOpenLoopLoad, type EndpointLoad, type LoadReport } from '../../emulator/index.js';
import type { Phase } from '../../src/collect/phases.js';
import type { CollectionSummary, KpiSummary } from '../../src/collect/run-collection.js';
import {
  checkCollectionDir, csvRecords, kpiOf, sha256File, sleep, sleepUntil, snapshotTree, validateAgainstPublishedSchema,
} from '../helpers/collect-checks.js';
import { startTestService, type TestService, registerUp } from '../helpers/harness.js';
import { startInstrumentedServer, type InstrumentedServer } from '../helpers/instrumented-server.js';
import { runBenchmon } from '../helpers/processes.js';

const SESSION = 'phased';
const PHASE_MS = 16_000;
const WARMUP_RATE = 20;
const STEADY_RATE = 50;

interface ErrorBody { error: { code: string; message: string; details?: Record<string, unknown> } }

/** GET the instrumented service's /work: the request the load generator sends at its fixed rate. */
function getLoad(url: string, rate: number): EndpointLoad {
  return {
    name: 'work',
    url,
    rate,
    fire: (agent, signal) =>
      new Promise((resolve) => {
        const t0 = performance.now();
        const req = http.get(url, { agent, signal }, (res) => {
          res.resume();
          res.on('end', () => resolve({ status: res.statusCode ?? 0, latencySeconds: (performance.now() - t0) / 1000 }));
          res.on('error', (err) => resolve({ status: null, error: err.message, latencySeconds: 0 }));
        });
        req.on('error', (err) => resolve({ status: null, error: (err as NodeJS.ErrnoException).code ?? err.message, latencySeconds: 0 }));
      }),
  };
}

function phaseOf(c: CollectionSummary, name: string): NonNullable<CollectionSummary['phases']>[number] {
  const p = c.phases?.find((x) => x.name === name);
  assert.ok(p, `no phase ${name} in the collection: ${JSON.stringify(c.phases?.map((x) => x.name))}`);
  return p;
}

function assertRate(t: { diagnostic(m: string): void }, what: string, k: KpiSummary, rate: number): void {
  assert.ok(k.value !== null, `${what}: no throughput: ${k.note}`);
  const err = Math.abs(k.value - rate) / rate;
  t.diagnostic(`${what}: throughput ${k.value.toFixed(3)} req/s, load generator set to ${rate} req/s (${(err * 100).toFixed(2)} %)`);
  assert.ok(err <= 0.03, `${what}: throughput ${k.value} req/s vs. the set ${rate} req/s: off by ${(err * 100).toFixed(2)} %`);
}

describe('phases: warmup and steady state at known rates, per-phase results', () => {
  let svc: TestService | undefined;
  let server: InstrumentedServer | undefined;
  let root: string;
  let warmup: Phase;
  let steady: Phase;
  const loads: LoadReport[] = [];
  let perPhase: CollectionSummary;

  const api = async (method: string, p: string, body?: unknown): Promise<{ status: number; body: unknown }> => {
    const res = await fetch(`${svc!.url}${p}`, {
      method,
      ...(body === undefined ? {} : { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }),
    });
    const text = await res.text();
    return { status: res.status, body: text === '' ? undefined : (JSON.parse(text) as unknown) };
  };

  before(async () => {
    svc = await startTestService();
    root = svc.settings.ARTIFACTS_ROOT;
    server = await startInstrumentedServer();
    await svc.client.createSession({ session_id: SESSION });
    await registerUp(svc.client, SESSION, {
      target_type: 'app', role: 'service', job_id: 'ph-1',
      scrape_config: { job_name: 'app', metrics_path: '/metrics', targets: [server.address] },
    }, 'the app target');
    await sleep(3000);

    // One run, two rates back to back: the phases switch when the rate does.
    await svc.client.markPhase(SESSION, { name: 'warmup' });
    const warmStart = Date.now();
    const warmLoad = runOpenLoopLoad([getLoad(server.workUrl, WARMUP_RATE)], { durationMs: PHASE_MS });
    await sleepUntil(warmStart + PHASE_MS);
    warmup = await svc.client.endPhase(SESSION, 'warmup');
    await svc.client.markPhase(SESSION, { name: 'steady' });
    const steadyStart = Date.now();
    const steadyLoad = runOpenLoopLoad([getLoad(server.workUrl, STEADY_RATE)], { durationMs: PHASE_MS });
    await sleepUntil(steadyStart + PHASE_MS);
    steady = await svc.client.endPhase(SESSION, 'steady');
    loads.push(await warmLoad, await steadyLoad);
    // Let the scrapes up to the steady state's end land.
    await sleep(2500);
    perPhase = await svc.client.collect(SESSION, { phases: 'all', recipe: 'default' });
  });

  after(async () => {
    await server?.close();
    await svc?.close();
  });

  it('the load generator ran each phase at its rate, every request answered', (t) => {
    for (const [load, rate] of [[loads[0]!, WARMUP_RATE], [loads[1]!, STEADY_RATE]] as const) {
      const e = load.endpoints[0]!;
      t.diagnostic(`${rate} req/s: ${e.sent} sent, ${e.ok} ok, worst send lag ${e.maxSendLagMs.toFixed(1)} ms`);
      assert.equal(e.planned, (PHASE_MS / 1000) * rate);
      assert.equal(e.sent, e.planned);
      assert.equal(e.ok, e.sent, `errors: ${JSON.stringify(e.networkErrors)} ${JSON.stringify(e.byStatus)}`);
    }
    assert.equal(server!.served(), loads[0]!.endpoints[0]!.ok + loads[1]!.endpoints[0]!.ok);
  });

  it('per-phase throughput is within 3 % of the rate the load generator was set to, in one collection', (t) => {
    assert.deepEqual(perPhase.phases?.map((p) => p.name), ['warmup', 'steady']);
    assertRate(t, 'warmup', kpiOf(phaseOf(perPhase, 'warmup'), 'throughput'), WARMUP_RATE);
    assertRate(t, 'steady', kpiOf(phaseOf(perPhase, 'steady'), 'throughput'), STEADY_RATE);
    // The whole window (spanning both phases) holds the mix of the two.
    const whole = kpiOf(perPhase, 'throughput').value!;
    t.diagnostic(`whole window: ${whole.toFixed(3)} req/s`);
    assert.ok(whole > WARMUP_RATE * 1.1 && whole < STEADY_RATE * 0.9, `whole-window throughput ${whole}`);
    // Every phase carries every KPI of the recipe, in the recipe's order.
    for (const p of perPhase.phases!) assert.deepEqual(p.kpis.map((k) => k.name), perPhase.kpis.map((k) => k.name));
  });

  it('the window of a phases collection spans the phases; each phase keeps the times it was marked with', () => {
    assert.equal(perPhase.window.start, warmup.start_time);
    assert.equal(perPhase.window.end, steady.end_time);
    assert.equal(perPhase.window.phase, undefined, 'the window spans phases, it is not one');
    assert.deepEqual(perPhase.phases!.map((p) => [p.start, p.end]), [[warmup.start_time, warmup.end_time], [steady.start_time, steady.end_time]]);
  });

  it('the artifacts: MANIFEST.json phases[] (valid against the published schema), metrics_summary.csv rows with a phase column, time series of the whole window', () => {
    const dir = perPhase.directory;
    for (const name of ['MANIFEST.json', 'metrics_summary.csv', 'timeseries.csv', 'timeseries.parquet']) assert.ok(fs.existsSync(path.join(dir, name)), name);
    const manifest = JSON.parse(fs.readFileSync(path.join(dir, 'MANIFEST.json'), 'utf8')) as {
      kpis: Array<{ name: string; value: number | null; series_points: number }>;
      phases: Array<{ name: string; start: string; end: string; kpis: Array<{ name: string; value: number | null; series_points: number }> }>;
      queries: Array<{ purpose: string; kpi: string | null; time: string | null; phase?: string }>;
      files: Array<{ name: string; sha256: string; rows: number | null }>;
    };
    assert.deepEqual(validateAgainstPublishedSchema(manifest), []);
    for (const f of manifest.files) assert.equal(sha256File(path.join(dir, f.name)), f.sha256, f.name);
    assert.deepEqual(manifest.phases.map((p) => p.name), ['warmup', 'steady']);
    for (const p of manifest.phases) {
      const mine = phaseOf(perPhase, p.name);
      assert.deepEqual([p.start, p.end], [mine.start, mine.end]);
      assert.deepEqual(p.kpis.map((k) => [k.name, k.value]), mine.kpis.map((k) => [k.name, k.value]));
      // A phase's own KPIs are evaluated at the phase's end, and their queries say which phase sent them.
      const values = manifest.queries.filter((q) => q.phase === p.name && q.purpose === 'value');
      assert.equal(values.length, manifest.kpis.length);
      for (const q of values) assert.equal(q.time, p.end);
      assert.ok(p.kpis.every((k) => k.series_points === 0), 'no per-phase time series');
      assert.ok(!manifest.queries.some((q) => q.phase === p.name && q.purpose === 'series'));
    }
    assert.ok(manifest.kpis.find((k) => k.name === 'throughput')!.series_points > 30, 'the whole window has its time series');

    const summary = csvRecords(fs.readFileSync(path.join(dir, 'metrics_summary.csv'), 'utf8'));
    assert.deepEqual(Object.keys(summary[0]!), ['kpi', 'slice', 'value', 'unit', 'method', 'lower_bound', 'upper_bound', 'series', 'coverage', 'note', 'phase']);
    assert.equal(summary.length, manifest.files.find((f) => f.name === 'metrics_summary.csv')!.rows);
    const throughputRow = (phase: string) => summary.filter((r) => r.kpi === 'throughput' && r.slice === 'overall' && r.phase === phase);
    assert.equal(throughputRow('')[0]!.value, String(kpiOf(perPhase, 'throughput').value));
    for (const p of ['warmup', 'steady']) {
      assert.equal(throughputRow(p).length, 1);
      assert.equal(throughputRow(p)[0]!.value, String(kpiOf(phaseOf(perPhase, p), 'throughput').value));
    }
    // The whole window's rows come first, as in a collection without phases.
    const firstPhaseRow = summary.findIndex((r) => r.phase !== '');
    assert.ok(summary.slice(0, firstPhaseRow).every((r) => r.phase === '') && summary.slice(firstPhaseRow).every((r) => r.phase !== ''));
  });

  it('collect {phase: NAME}: the window is the phase', async (t) => {
    const c = await svc!.client.collect(SESSION, { phase: 'steady', recipe: 'default' });
    assert.deepEqual([c.window.start, c.window.end, c.window.phase], [steady.start_time, steady.end_time, 'steady']);
    assert.equal(c.phases, undefined);
    assertRate(t, 'collect {phase: steady}', kpiOf(c, 'throughput'), STEADY_RATE);
    // A plain collection: the artifacts are exactly what they are without phases.
    checkCollectionDir(c.directory);
    // GET /collections lists both collections; the per-phase one keeps its phases.
    const { collections } = await svc!.client.listCollections(SESSION);
    assert.deepEqual(collections.map((x) => x.collection_id), [perPhase.collection_id, c.collection_id]);
    assert.deepEqual(collections[0]!.phases?.map((p) => p.name), ['warmup', 'steady']);
  });

  it('the CLI: phase start/end with --at marks a phase after the fact, phase list shows them, collect --phase --phases all prints them side by side', async () => {
    const env = { BENCHMON_URL: svc!.url };
    const steadyStartMs = Date.parse(steady.start_time);
    const at = (ms: number) => new Date(ms).toISOString();
    let r = await runBenchmon(['phase', 'start', 'spike', '--session', SESSION, '--at', at(steadyStartMs + 4000)], env);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^phase spike of session phased started at /);
    r = await runBenchmon(['phase', 'list', '--session', SESSION], env);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^PHASE\s+START\s+END\s+DURATION\s+STATE/);
    assert.match(r.stdout, /\nspike\s+\S+\s+-\s+-\s+open\n/);
    r = await runBenchmon(['phase', 'end', 'spike', '--session', SESSION, '--at', String((steadyStartMs + 12_000) / 1000)], env);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /ended at .* \(8\.0 s\)/);

    r = await runBenchmon(['phase', 'list', '--session', SESSION, '--json'], env);
    assert.equal(r.code, 0, r.stderr);
    const listed = JSON.parse(r.stdout) as Phase[];
    assert.deepEqual(listed.map((p) => p.name), ['warmup', 'steady', 'spike']);
    assert.deepEqual([listed[2]!.start_time, listed[2]!.end_time], [at(steadyStartMs + 4000), at(steadyStartMs + 12_000)]);

    // Ending it again is a conflict: one line on stderr, exit 4.
    r = await runBenchmon(['phase', 'end', 'spike', '--session', SESSION], env);
    assert.equal(r.code, 4, r.stderr);
    assert.equal(r.stdout, '');
    assert.match(r.stderr, /^benchmon: name: phase "spike" already ended at .*PHASE_ALREADY_ENDED, HTTP 409\)\n$/);

    // Per-phase results inside the steady state: steady itself and the spike nested in it.
    r = await runBenchmon(['collect', '--session', SESSION, '--phase', 'steady', '--phases', 'all', '--recipe', 'default'], env, 120_000);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^per phase: steady .*; spike /m);
    const header = r.stdout.split('\n').find((l) => /^KPI\s+UNIT\s+WINDOW/.test(l));
    assert.ok(header, `no side-by-side table:\n${r.stdout}`);
    assert.match(header, /WINDOW\s+STEADY\s+SPIKE$/);
    const throughputLine = r.stdout.split('\n').filter((l) => l.startsWith('throughput ')).at(-1)!;
    const [, , window, steadyValue, spikeValue] = throughputLine.split(/\s+/);
    assert.equal(window, steadyValue, 'window = steady: the same value');
    for (const v of [steadyValue, spikeValue]) assert.ok(Math.abs(Number(v) - STEADY_RATE) / STEADY_RATE <= 0.03, `${throughputLine}`);
  });

  it('bad phase requests: 4xx naming the field', async () => {
    const phases = `/api/v1/sessions/${SESSION}/phases`;
    const now = Date.now();
    const cases: Array<[string, string, string, unknown, number, string, string]> = [
      ['a duplicate name', 'POST', phases, { name: 'warmup' }, 409, 'PHASE_EXISTS', 'name'],
      ['a name with a space', 'POST', phases, { name: 'warm up' }, 400, 'VALIDATION_FAILED', 'name'],
      ['the reserved name "all"', 'POST', phases, { name: 'all' }, 400, 'VALIDATION_FAILED', 'name'],
      ['no name', 'POST', phases, {}, 400, 'VALIDATION_FAILED', 'name'],
      ['an unknown field', 'POST', phases, { name: 'x', stop_time: 1 }, 400, 'VALIDATION_FAILED', 'stop_time'],
      ['a bad time', 'POST', phases, { name: 'x', start_time: 'noon' }, 400, 'VALIDATION_FAILED', 'start_time'],
      ['end before start', 'POST', phases, { name: 'x', start_time: new Date(now - 5000).toISOString(), end_time: new Date(now - 9000).toISOString() }, 422, 'UNPROCESSABLE', 'end_time'],
      ['a start in the future', 'POST', phases, { name: 'x', start_time: (now + 3_600_000) / 1000 }, 422, 'UNPROCESSABLE', 'start_time'],
      ['an unknown session', 'POST', '/api/v1/sessions/no-such/phases', { name: 'x' }, 404, 'SESSION_NOT_FOUND', 'session_id'],
      ['ending an ended phase', 'POST', `${phases}/warmup/end`, {}, 409, 'PHASE_ALREADY_ENDED', 'name'],
      ['ending an unknown phase', 'POST', `${phases}/nope/end`, {}, 404, 'PHASE_NOT_FOUND', 'name'],
      ['deleting an unknown phase', 'DELETE', `${phases}/nope`, undefined, 404, 'PHASE_NOT_FOUND', 'name'],
    ];
    for (const [what, method, p, body, status, code, field] of cases) {
      const r = await api(method, p, body);
      const e = (r.body as ErrorBody).error;
      assert.equal(r.status, status, `${what}: HTTP ${r.status} ${JSON.stringify(r.body)}`);
      assert.equal(e.code, code, what);
      assert.equal(e.details?.field, field, `${what}: ${e.message}`);
      assert.ok(e.message.startsWith(`${field}: `) || e.message.includes(field), `${what}: the message names ${field}: ${e.message}`);
    }
    // None of them changed the phases.
    assert.deepEqual((await svc!.client.listPhases(SESSION)).phases.map((p) => p.name), ['warmup', 'steady', 'spike']);
  });

  it('bad collect requests with phases: 4xx naming the field, nothing written', async () => {
    await svc!.client.markPhase(SESSION, { name: 'open-one' });
    const before = snapshotTree(root);
    const collect = `/api/v1/sessions/${SESSION}/collect`;
    const cases: Array<[string, unknown, number, string, string]> = [
      ['phase and times', { phase: 'steady', start_time: warmup.start_time, end_time: warmup.end_time }, 400, 'VALIDATION_FAILED', 'phase'],
      ['no window at all', { recipe: 'default' }, 400, 'VALIDATION_FAILED', 'start_time'],
      ['start without end', { start_time: warmup.start_time }, 400, 'VALIDATION_FAILED', 'end_time'],
      ['an unknown phase', { phase: 'nope' }, 404, 'PHASE_NOT_FOUND', 'phase'],
      ['an open phase', { phase: 'open-one' }, 422, 'UNPROCESSABLE', 'phase'],
      ['"all" with an open phase in the window', { start_time: warmup.start_time, end_time: new Date().toISOString(), phases: 'all' }, 422, 'UNPROCESSABLE', 'phases'],
      ['a listed phase outside the window', { phase: 'warmup', phases: ['steady'] }, 422, 'UNPROCESSABLE', 'phases[0]'],
      ['an unknown listed phase', { phase: 'steady', phases: ['spike', 'nope'] }, 404, 'PHASE_NOT_FOUND', 'phases[1]'],
      ['an empty list', { phase: 'steady', phases: [] }, 400, 'VALIDATION_FAILED', 'phases'],
      ['a bad phase name', { phase: 'no way' }, 400, 'VALIDATION_FAILED', 'phase'],
    ];
    for (const [what, body, status, code, field] of cases) {
      const r = await api('POST', collect, body);
      const e = (r.body as ErrorBody).error;
      assert.equal(r.status, status, `${what}: HTTP ${r.status} ${JSON.stringify(r.body)}`);
      assert.equal(e.code, code, `${what}: ${e.message}`);
      assert.equal(e.details?.field, field, `${what}: ${e.message}`);
    }
    assert.deepEqual(snapshotTree(root), before, 'a refused collection wrote something');
    // `curl -XPOST …/end` with no body ends the phase now; then it can be deleted.
    const ended = await api('POST', `/api/v1/sessions/${SESSION}/phases/open-one/end`);
    assert.equal(ended.status, 200, JSON.stringify(ended.body));
    assert.ok((ended.body as Phase).end_time !== null);
    assert.equal((await svc!.client.deletePhase(SESSION, 'open-one')).deleted.name, 'open-one');
    assert.deepEqual((await svc!.client.listPhases(SESSION)).phases.map((p) => p.name), ['warmup', 'steady', 'spike']);
  });
});
