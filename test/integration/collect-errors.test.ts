/**
 * Acceptance: collections when things are not ideal, through the real service (local
 * Prometheus with PROMETHEUS_RETENTION=2h, 1 s scrapes) and the CLI as a user runs it:
 *  - a window with no data: every KPI empty with a reason (null in JSON, an empty cell in
 *    metrics_summary.csv), never 0 and never NaN; an idle target is a measured 0 req/s but an
 *    empty percentile;
 *  - a target down for the second half of the window: coverage ≈ 50 %, the target listed as
 *    down, with the gap;
 *  - end before start, a window in the future, a window older than the retention → 422;
 *    output_dir `../../etc` → 400 naming output_dir; none of them writes anything;
 *  - two collections of the same window → two directories, nothing overwritten;
 *  - every MANIFEST.json validates against src/artifacts/manifest.schema.json (a fresh Ajv) and
 *    every listed sha256 matches its file; GET /collections lists them with their manifests;
 *  - the CLI: `benchmon collect … --recipe default` prints a KPI table, `--json` parses, an error
 *    is one line and a non-zero exit;
 *  - Prometheus down → 503 and the artifacts root unchanged.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { CollectionSummary } from '../../src/collect/run-collection.js';
import {
  checkCollectionDir, findCollectionDirs, kpiOf, sha256File, sleep, sleepUntil, snapshotTree,
} from '../helpers/collect-checks.js';
import { startTestService, type TestService, registerUp } from '../helpers/harness.js';
import { startInstrumentedServer, type InstrumentedServer } from '../helpers/instrumented-server.js';
import { runBenchmon, type Finished } from '../helpers/processes.js';

const iso = (ms: number) => new Date(ms).toISOString();

interface ErrorBody { error: { code: string; message: string; details?: Record<string, unknown> } }

describe('collect: no data, targets down, bad requests, artifacts, CLI, Prometheus down', () => {
  let svc: TestService | undefined;
  let appA: InstrumentedServer | undefined;
  let appB: InstrumentedServer | undefined;
  let root: string;
  let t0 = 0;
  let trafficStop = false;
  let traffic: Promise<number> | undefined;
  const collected: CollectionSummary[] = [];
  let cliCollections = 0;

  const post = async (session: string, body: unknown, query = ''): Promise<{ status: number; body: unknown }> => {
    const res = await fetch(`${svc!.url}/api/v1/sessions/${session}/collect${query}`, {
      method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body),
    });
    const text = await res.text();
    return { status: res.status, body: text === '' ? undefined : (JSON.parse(text.trim().split('\n')[0]!) as unknown) };
  };
  const collect = async (session: string, body: Parameters<TestService['client']['collect']>[1]) => {
    const c = await svc!.client.collect(session, body);
    collected.push(c);
    return c;
  };
  const register = async (session: string, job: string, address: string) => {
    await registerUp(svc!.client, session, {
      target_type: 'app', role: 'service', job_id: 'e-1',
      scrape_config: { job_name: job, metrics_path: '/metrics', targets: [address] },
    }, job);
  };

  before(async () => {
    svc = await startTestService({ PROMETHEUS_RETENTION: '2h' });
    root = svc.settings.ARTIFACTS_ROOT;
    [appA, appB] = await Promise.all([startInstrumentedServer(), startInstrumentedServer()]);
    for (const s of ['empty', 'errs', 'half']) await svc.client.createSession({ session_id: s });
    await Promise.all([register('errs', 'app-a', appA.address), register('half', 'app-b', appB.address)]);
    await sleep(2000);

    // t0 … t0+7 s: nothing happens (idle window). t0+7 … t0+18 s: traffic to app-a.
    // t0+10 s: app-b goes away for good (the "half" window is t0 … t0+20 s).
    t0 = Date.now();
    await sleepUntil(t0 + 7000);
    traffic = (async () => {
      let n = 0;
      while (!trafficStop) {
        const r = await fetch(appA!.workUrl);
        await r.text();
        n++;
        await sleep(20);
      }
      return n;
    })();
    await sleepUntil(t0 + 10_000);
    await appB.close();
    await sleepUntil(t0 + 18_000);
    trafficStop = true;
    await traffic;
    await sleepUntil(t0 + 20_000);
    await sleep(2500);
  });

  after(async () => {
    trafficStop = true;
    await traffic?.catch(() => undefined);
    await appA?.close();
    await appB?.close();
    await svc?.close();
  });

  it('a window with no data: every KPI is empty with a reason (null in JSON, empty CSV cell), never 0 or NaN', async () => {
    const c = await collect('empty', { start_time: iso(t0), end_time: iso(t0 + 7000), recipe: 'default' });
    assert.ok(c.kpis.length >= 5);
    for (const k of c.kpis) {
      assert.equal(k.value, null, `${k.name} has a value in a session without data`);
      assert.match(k.note ?? '', /no data/, `${k.name}: note ${k.note}`);
      assert.equal(k.coverage, null);
    }
    const { manifest, summary, summaryText } = checkCollectionDir(c.directory);
    assert.deepEqual(manifest.data_quality.kpis_without_value, c.kpis.map((k) => k.name));
    for (const k of manifest.kpis) assert.equal(k.value, null);
    assert.equal(summary.length, c.kpis.length, 'one overall row per KPI');
    for (const r of summary) {
      assert.equal(r.slice, 'overall');
      assert.equal(r.value, '', `${r.kpi}: the value cell must be empty`);
      assert.notEqual(r.note, '', `${r.kpi}: the reason is in the note`);
    }
    assert.doesNotMatch(summaryText, /NaN/);
  });

  it('an idle target: throughput is a measured 0, the percentiles and the mean are empty with a reason', async () => {
    const c = await collect('errs', { start_time: iso(t0), end_time: iso(t0 + 7000), recipe: 'default' });
    const tp = kpiOf(c, 'throughput');
    assert.equal(tp.value, 0);
    assert.ok(tp.coverage !== null && tp.coverage >= 0.9, `coverage ${tp.coverage}`);
    for (const name of ['latency_p50', 'latency_p95', 'latency_p99']) {
      const k = kpiOf(c, name);
      assert.equal(k.value, null, `${name} = ${k.value} without a single request`);
      assert.match(k.note ?? '', /no observations/);
    }
    assert.equal(kpiOf(c, 'latency_mean').value, null);
    assert.match(kpiOf(c, 'latency_mean').note ?? '', /0\/0|denominator/);
    const { summary } = checkCollectionDir(c.directory);
    const overall = (kpi: string) => summary.find((r) => r.kpi === kpi && r.slice === 'overall')!;
    assert.equal(overall('throughput').value, '0');
    for (const kpi of ['latency_p50', 'latency_p95', 'latency_p99', 'latency_mean']) {
      assert.equal(overall(kpi).value, '', `${kpi}: value cell`);
      assert.notEqual(overall(kpi).note, '', `${kpi}: note`);
    }
  });

  it('a target down for the second half of the window: coverage ≈ 50 %, the target listed as down with its gap', async (t) => {
    const c = await collect('half', { start_time: iso(t0), end_time: iso(t0 + 20_000), recipe: 'default' });
    assert.equal(c.targets_down, 1);
    for (const name of ['throughput', 'latency_p50']) {
      const k = kpiOf(c, name);
      t.diagnostic(`${name}: coverage ${k.coverage}`);
      assert.ok(k.coverage !== null && Math.abs(k.coverage - 0.5) <= 0.1, `${name}: coverage ${k.coverage}, expected ≈ 0.5`);
    }
    const { manifest, summary } = checkCollectionDir(c.directory);
    const downs = manifest.data_quality.targets_down;
    assert.equal(downs.length, 1, JSON.stringify(downs));
    const gap = downs[0]!;
    assert.deepEqual([gap.job, gap.instance, gap.kind], ['app-b', appB!.address, 'down']);
    assert.ok(Math.abs(gap.seconds - 10) <= 2, `gap of ${gap.seconds} s, expected ≈ 10 s`);
    assert.ok(Math.abs(Date.parse(gap.from) - (t0 + 10_000)) <= 2000, `gap from ${gap.from}`);
    assert.equal(gap.to, iso(t0 + 20_000));
    const tp = manifest.kpis.find((k) => k.name === 'throughput')!;
    assert.deepEqual(tp.quality.targets_down, [`app-b/${appB!.address}`]);
    const row = summary.find((r) => r.kpi === 'throughput' && r.slice === 'overall')!;
    assert.ok(Math.abs(Number(row.coverage) - 0.5) <= 0.1, `CSV coverage ${row.coverage}`);
  });

  it('end before start, an empty window, a window in the future, a window older than the retention → 422, nothing written', async () => {
    const before = snapshotTree(root);
    const now = Date.now();
    const cases: Array<[string, unknown, RegExp, string]> = [
      ['end before start', { start_time: iso(t0 + 5000), end_time: iso(t0 + 2000) }, /end_time .* must be after start_time/, 'end_time'],
      ['end = start', { start_time: iso(t0 + 5000), end_time: iso(t0 + 5000) }, /must be after start_time/, 'end_time'],
      ['in the future', { start_time: iso(now + 3_600_000), end_time: iso(now + 7_200_000) }, /future/, 'end_time'],
      ['ends in the future', { start_time: iso(now - 60_000), end_time: iso(now + 600_000) }, /future/, 'end_time'],
      ['older than retention', { start_time: iso(now - 86_400_000), end_time: iso(now - 86_400_000 + 600_000) }, /retention of 2h/, 'start_time'],
    ];
    for (const [what, body, message, field] of cases) {
      const r = await post('errs', body);
      assert.equal(r.status, 422, `${what}: HTTP ${r.status} ${JSON.stringify(r.body)}`);
      const e = (r.body as ErrorBody).error;
      assert.equal(e.code, 'UNPROCESSABLE', what);
      assert.match(e.message, message, what);
      assert.equal(e.details?.field, field, what);
    }
    assert.deepEqual(snapshotTree(root), before, 'a refused collection wrote something');
  });

  it('output_dir outside ARTIFACTS_ROOT (../../etc, /etc) → 400 naming output_dir, nothing written', async () => {
    const before = snapshotTree(root);
    for (const outputDir of ['../../etc', '/etc', 'errs/../../..']) {
      for (const query of ['', '?progress=ndjson']) {
        const r = await post('errs', { start_time: iso(t0 + 8000), end_time: iso(t0 + 17_000), output_dir: outputDir }, query);
        assert.equal(r.status, 400, `${outputDir}${query}: HTTP ${r.status} ${JSON.stringify(r.body)}`);
        const e = (r.body as ErrorBody).error;
        assert.equal(e.code, 'VALIDATION_FAILED');
        assert.equal(e.details?.field, 'output_dir');
        assert.match(e.message, /^output_dir/);
      }
    }
    assert.deepEqual(snapshotTree(root), before, 'a refused collection wrote something');
  });

  it('two collections of the same window: two directories, the first one untouched, the same values', async () => {
    const body = { start_time: iso(t0 + 8000), end_time: iso(t0 + 17_000), recipe: 'default' };
    const first = await collect('errs', body);
    const firstFiles = snapshotTree(first.directory);
    const second = await collect('errs', body);
    assert.notEqual(second.collection_id, first.collection_id);
    assert.notEqual(second.directory, first.directory);
    assert.equal(path.dirname(first.directory), path.join(root, 'errs'));
    assert.equal(path.dirname(second.directory), path.join(root, 'errs'));
    assert.deepEqual(snapshotTree(first.directory), firstFiles, 'the second collection changed the first one\'s files');
    const a = checkCollectionDir(first.directory);
    const b = checkCollectionDir(second.directory);
    assert.ok((kpiOf(first, 'throughput').value ?? 0) > 5, `throughput ${kpiOf(first, 'throughput').value}`);
    assert.deepEqual(a.manifest.kpis.map((k) => [k.name, k.value]), b.manifest.kpis.map((k) => [k.name, k.value]));
    // output_dir inside the root: the collection lands under it.
    const third = await collect('errs', { ...body, output_dir: 'campaign-7' });
    assert.equal(path.dirname(third.directory), path.join(root, 'campaign-7'));
    checkCollectionDir(third.directory);
  });

  it('GET /collections lists every collection of the session with its manifest as written', async () => {
    for (const session of ['empty', 'errs', 'half']) {
      const { collections } = await svc!.client.listCollections(session);
      const mine = collected.filter((c) => c.session_id === session);
      assert.deepEqual(collections.map((c) => c.collection_id).sort(), mine.map((c) => c.collection_id).sort(), session);
      for (const c of collections) {
        assert.equal(c.manifest_error, null);
        assert.deepEqual(c.manifest_content, JSON.parse(fs.readFileSync(c.manifest, 'utf8')), `${c.collection_id}: manifest_content`);
        const own = mine.find((m) => m.collection_id === c.collection_id)!;
        assert.deepEqual(c.kpis, own.kpis);
      }
    }
  });

  describe('the CLI', () => {
    const cli = (args: string[]) => runBenchmon(args, { BENCHMON_URL: svc!.url });
    const window = () => ['--from-iso', iso(t0 + 8000), '--to-iso', iso(t0 + 17_000)];
    const ok = (r: Finished) => {
      assert.equal(r.code, 0, `exit ${r.code}: ${r.stderr}${r.stdout}`);
      return r.stdout;
    };

    it('benchmon collect --recipe default prints a KPI table and the artifact paths, exit 0', async () => {
      const out = ok(await cli(['collect', '--session', 'errs', ...window(), '--recipe', 'default']));
      const lines = out.split('\n');
      const header = lines.findIndex((l) => /^KPI\s+VALUE\s+UNIT\s+BOUNDS\s+COVERAGE\s+NOTE/.test(l));
      assert.ok(header >= 0, `no KPI table:\n${out}`);
      for (const kpi of ['throughput', 'cpu_utilisation', 'gpu_utilisation', 'latency_p50', 'latency_p95', 'latency_p99', 'latency_mean']) {
        assert.ok(lines.slice(header).some((l) => l.startsWith(`${kpi} `)), `no ${kpi} row:\n${out}`);
      }
      const tp = lines.find((l) => l.startsWith('throughput '))!;
      assert.ok(Number(tp.split(/\s+/)[1]) > 5, tp);
      assert.match(lines.find((l) => l.startsWith('gpu_utilisation '))!, /\(empty\)/);
      const dir = /^artifacts: (.+)$/m.exec(out)?.[1];
      assert.ok(dir, `no artifacts line:\n${out}`);
      checkCollectionDir(dir);
      cliCollections++;
    });

    it('--json gives the collection as JSON', async () => {
      const c = JSON.parse(ok(await cli(['collect', '--session', 'errs', ...window(), '--recipe', 'default', '--json']))) as CollectionSummary;
      cliCollections++;
      assert.equal(c.session_id, 'errs');
      assert.equal(c.recipe, 'default');
      assert.equal(c.window.start, iso(t0 + 8000));
      assert.ok((kpiOf(c, 'throughput').value ?? 0) > 5);
      assert.equal(kpiOf(c, 'gpu_utilisation').value, null);
      checkCollectionDir(c.directory);
    });

    it('an error is one line on stderr and a non-zero exit', async () => {
      const before = snapshotTree(root);
      const cases: Array<[string[], number, RegExp]> = [
        [['collect', '--session', 'errs', '--from-iso', iso(t0 + 9000), '--to-iso', iso(t0 + 8000), '--recipe', 'default'], 2, /end_time .* must be after start_time .*UNPROCESSABLE, HTTP 422/],
        [['collect', '--session', 'errs', ...window(), '--out', '../../etc'], 2, /^benchmon: output_dir: .*outside the artifacts root.*VALIDATION_FAILED, HTTP 400/],
        [['collect', '--session', 'no-such-session', ...window()], 3, /no-such-session/],
      ];
      for (const [args, code, message] of cases) {
        const r = await cli(args);
        assert.equal(r.code, code, `exit ${r.code} for ${args.join(' ')}: ${r.stderr}`);
        assert.equal(r.stdout, '');
        const lines = r.stderr.trim().split('\n');
        assert.equal(lines.length, 1, `expected one line, got:\n${r.stderr}`);
        assert.match(lines[0]!, /^benchmon: /);
        assert.match(lines[0]!, message);
      }
      assert.deepEqual(snapshotTree(root), before);
    });
  });

  it('every MANIFEST.json under ARTIFACTS_ROOT validates against the published schema and every sha256 matches', () => {
    const dirs = findCollectionDirs(root);
    assert.equal(dirs.length, collected.length + cliCollections, `collections on disk: ${dirs.join(', ')}`);
    for (const dir of dirs) {
      const { manifest } = checkCollectionDir(dir);
      for (const f of manifest.files) assert.equal(sha256File(path.join(dir, f.name)), f.sha256);
      // Every KPI's every row: a number or null, never a string such as "NaN".
      for (const k of manifest.kpis) for (const r of k.rows) assert.ok(r.value === null || Number.isFinite(r.value), `${dir} ${k.name}: ${r.value}`);
    }
    // No staging directory is left behind.
    const leftovers = fs.readdirSync(path.join(root, 'errs')).filter((n) => n.startsWith('.'));
    assert.deepEqual(leftovers, []);
  });

  it('Prometheus down → 503 PROM_UNAVAILABLE, nothing written (also streamed, also from the CLI)', async () => {
    await svc!.running.service.runtime.stop();
    const before = snapshotTree(root);
    const body = { start_time: iso(t0 + 8000), end_time: iso(t0 + 17_000), recipe: 'default' };
    for (const query of ['', '?progress=ndjson']) {
      const r = await post('errs', body, query);
      assert.equal(r.status, 503, `${query}: HTTP ${r.status} ${JSON.stringify(r.body)}`);
      assert.equal((r.body as ErrorBody).error.code, 'PROM_UNAVAILABLE');
    }
    const r = await runBenchmon(['collect', '--session', 'errs', '--from-iso', body.start_time, '--to-iso', body.end_time], { BENCHMON_URL: svc!.url });
    assert.equal(r.code, 6, `exit ${r.code}: ${r.stderr}`);
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
    assert.deepEqual(snapshotTree(root), before, 'artifacts were written although Prometheus is down');
  });
});
