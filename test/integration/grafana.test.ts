/**
 * The Grafana files under grafana/ against a real Prometheus. Grafana itself cannot run here, so
 * the test does what Grafana would do with them: fill the dashboard variables the way Grafana
 * fills them ($session → a session id, $__interval / $__rate_interval from the data source's
 * scrape interval, $__range from the time range) and send every panel's query the way its
 * target says (instant → POST /api/v1/query at the range's end, range → POST /api/v1/query_range),
 * plus the `session` variable's query (label values of `session` on `up`).
 *
 * The session has data: Debian's node_exporter and the emulated vLLM and Qdrant servers
 * (emulator/), under 8 s of load, scraped every second by benchmon's own Prometheus.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import YAML from 'yaml';
import { startEmulatedWorkload, type EmulatedWorkload } from '../../emulator/index.js';
import type { GrafanaDashboard, QueryPanel } from '../../src/grafana/dashboards.js';
import { sleep } from '../helpers/collect-checks.js';
import { nodeExporterBody, REPO_ROOT, startNodeExporter, startTestService, tempDir, type NodeExporter, type TestService, registerUp } from '../helpers/harness.js';
import { runBenchmon } from '../helpers/processes.js';

const SESSION = 'grafana-check';
const SCRAPE_S = 1; // the harness's DEFAULT_SCRAPE_INTERVAL
const LOAD_MS = 8000;
const DASHBOARD_DIR = path.join(REPO_ROOT, 'grafana', 'provisioning', 'dashboards', 'benchmon');
const RECIPES = fs.readdirSync(DASHBOARD_DIR).filter((f) => f.endsWith('.json')).map((f) => f.slice(0, -5)).sort();
const dashboardOf = (recipe: string) => JSON.parse(fs.readFileSync(path.join(DASHBOARD_DIR, `${recipe}.json`), 'utf8')) as GrafanaDashboard;
const queryPanels = (d: GrafanaDashboard) => d.panels.filter((p): p is QueryPanel => p.type !== 'row');

interface PromAnswer { status: string; error?: string; data?: { resultType: string; result: Array<{ metric: Record<string, string>; value?: [number, string]; values?: Array<[number, string]> }> | string[] } }

async function prom(base: string, api: string, params: Record<string, string>, method: 'GET' | 'POST' = 'POST'): Promise<PromAnswer> {
  const body = new URLSearchParams(params);
  const res = method === 'POST'
    ? await fetch(`${base}${api}`, { method, body, headers: { 'content-type': 'application/x-www-form-urlencoded' }, signal: AbortSignal.timeout(10_000) })
    : await fetch(`${base}${api}?${body}`, { signal: AbortSignal.timeout(10_000) });
  return (await res.json()) as PromAnswer;
}

/** Grafana's variables for a time range (packages/grafana-prometheus: getRangeScopedVars, $__rate_interval). */
function grafanaVariables(session: string, fromMs: number, toMs: number, intervalS: number): Record<string, string> {
  const rangeMs = toMs - fromMs;
  const rangeS = Math.round(rangeMs / 1000);
  return {
    session,
    __interval: `${intervalS}s`,
    __interval_ms: String(intervalS * 1000),
    __rate_interval: `${Math.max(intervalS + SCRAPE_S, 4 * SCRAPE_S)}s`,
    __range: `${rangeS}s`,
    __range_s: String(rangeS),
    __range_ms: String(rangeMs),
  };
}

/** Interpolates $name and ${name}; a variable Grafana would not know fails the test. */
function fill(expr: string, vars: Record<string, string>): string {
  return expr.replace(/\$(?:\{(\w+)\}|(\w+))/g, (_m, braced: string | undefined, bare: string | undefined) => {
    const name = braced ?? bare!;
    const v = vars[name];
    if (v === undefined) throw new Error(`unknown variable $${name} in ${expr}`);
    return v;
  });
}

interface Checked { recipe: string; panel: QueryPanel; refId: string; expr: string; status: string; error?: string; series: number; points: number }

describe('Grafana dashboards against a real Prometheus', () => {
  let svc: TestService | undefined;
  let ne: NodeExporter | undefined;
  let workload: EmulatedWorkload | undefined;
  let promUrl = '';
  let fromMs = 0;
  let toMs = 0;
  let checked: Checked[] = [];

  /** Every target of every dashboard, sent as Grafana would send it for `session`. */
  async function runDashboards(session: string, recipes: readonly string[]): Promise<Checked[]> {
    const intervalS = SCRAPE_S;
    const vars = grafanaVariables(session, fromMs, toMs, intervalS);
    const out: Checked[] = [];
    for (const recipe of recipes) {
      for (const panel of queryPanels(dashboardOf(recipe))) {
        for (const t of panel.targets) {
          const expr = fill(t.expr, vars);
          const answer = t.instant
            ? await prom(promUrl, '/api/v1/query', { query: expr, time: String(toMs / 1000) })
            : await prom(promUrl, '/api/v1/query_range', { query: expr, start: String(Math.floor(fromMs / 1000)), end: String(Math.ceil(toMs / 1000)), step: String(intervalS) });
          const result = Array.isArray(answer.data?.result) ? (answer.data.result as Array<{ value?: [number, string]; values?: Array<[number, string]> }>) : [];
          const points = result.reduce((n, s) => n + (s.values ? s.values.filter(([, v]) => Number.isFinite(Number(v))).length : Number.isFinite(Number(s.value?.[1])) ? 1 : 0), 0);
          out.push({ recipe, panel, refId: t.refId, expr, status: answer.status, ...(answer.error ? { error: answer.error } : {}), series: result.length, points });
        }
      }
    }
    return out;
  }

  before(async () => {
    svc = await startTestService();
    promUrl = svc.settings.PROMETHEUS_URL;
    ne = await startNodeExporter();
    workload = await startEmulatedWorkload({ seed: 23 });
    await svc.client.createSession({ session_id: SESSION });
    fromMs = Date.now();
    await registerUp(svc.client, SESSION, nodeExporterBody(SESSION, ne.address), 'node_exporter');
    for (const [type, address] of [['vllm', workload.vllm.address], ['qdrant', workload.qdrant.address]] as const) {
      await registerUp(svc.client, SESSION, {
        target_type: type, role: 'service', job_id: 'grafana-1',
        scrape_config: { job_name: `${type}-emulator`, metrics_path: '/metrics', targets: [address] },
      }, `${type} emulator`);
    }
    await workload.runLoad({ durationMs: LOAD_MS });
    // The last requests' metrics are scraped within a second or two.
    await sleep(2500);
    toMs = Date.now();
    checked = await runDashboards(SESSION, RECIPES);
  });

  after(async () => {
    await workload?.stop();
    await ne?.stop();
    await svc?.close();
  });

  it('`benchmon grafana --out DIR` regenerates the committed dashboards, with the datasource settings given', async (t) => {
    const out = tempDir('benchmon-grafana-');
    t.after(() => fs.rmSync(out, { recursive: true, force: true }));
    const r = await runBenchmon(['grafana', '--out', out, '--prometheus-url', 'http://prom.example:9191', '--scrape-interval', '1s'], {});
    assert.equal(r.code, 0, r.stderr);
    for (const recipe of RECIPES) {
      const rel = path.join('provisioning', 'dashboards', 'benchmon', `${recipe}.json`);
      assert.equal(fs.readFileSync(path.join(out, rel), 'utf8'), fs.readFileSync(path.join(REPO_ROOT, 'grafana', rel), 'utf8'), rel);
    }
    const ds = (YAML.parse(fs.readFileSync(path.join(out, 'provisioning', 'datasources', 'benchmon.yaml'), 'utf8')) as { datasources: Array<{ url: string; jsonData: { timeInterval: string } }> }).datasources[0]!;
    assert.deepEqual([ds.url, ds.jsonData.timeInterval], ['http://prom.example:9191', '1s']);

    const bad = await runBenchmon(['grafana', '--out', out, '--prometheus-url', 'prom.example:9191'], {});
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /^benchmon: --prometheus-url: expected an http\(s\) URL/);
  });

  it('the session variable query, as Grafana sends it (label values of session on up), lists the session', async () => {
    const vars = dashboardOf('node').templating.list;
    assert.equal(vars[0]!.query.query, 'label_values(up, session)');
    const range = { start: String(Math.floor(fromMs / 1000)), end: String(Math.ceil(toMs / 1000)) };
    const values = await prom(promUrl, '/api/v1/label/session/values', { 'match[]': 'up', ...range }, 'GET');
    assert.equal(values.status, 'success', values.error);
    assert.ok((values.data as unknown as string[]).includes(SESSION), JSON.stringify(values.data));
    // Grafana's fallback for a Prometheus without the match[] parameter on label values.
    const series = await prom(promUrl, '/api/v1/series', { 'match[]': 'up', ...range }, 'GET');
    assert.equal(series.status, 'success', series.error);
    assert.ok((series.data as unknown as Array<Record<string, string>>).some((s) => s.session === SESSION));
  });

  it('every panel query of every dashboard, variables filled in, is accepted by Prometheus', (t) => {
    const panels = new Set(checked.map((c) => `${c.recipe}/${c.panel.id}`));
    t.diagnostic(`${checked.length} queries of ${panels.size} panels in ${RECIPES.length} dashboards (${RECIPES.join(', ')})`);
    assert.ok(RECIPES.length >= 5 && checked.length > 100);
    const refused = checked.filter((c) => c.status !== 'success').map((c) => `${c.recipe} ${c.panel.title} ${c.refId}: ${c.error}\n  ${c.expr}`);
    assert.deepEqual(refused, []);
  });

  it('the dashboards that should have data show it: node, default (node CPU), vllm and qdrant', (t) => {
    const withData = (recipe: string) => checked.filter((c) => c.recipe === recipe && c.points > 0);
    for (const recipe of RECIPES) t.diagnostic(`${recipe}: ${withData(recipe).length} of ${checked.filter((c) => c.recipe === recipe).length} queries with data`);
    for (const recipe of ['node', 'default', 'vllm', 'qdrant']) {
      assert.ok(withData(recipe).some((c) => c.panel.type === 'stat'), `${recipe}: no stat panel with a value`);
      assert.ok(withData(recipe).some((c) => c.panel.type === 'timeseries'), `${recipe}: no time series with points`);
    }
    const statValue = (recipe: string, kpi: string) => checked.find((c) => c.recipe === recipe && c.panel.type === 'stat' && c.panel.title === kpi)!;
    for (const kpi of ['cpu_utilisation', 'load1_avg', 'memory_used_avg', 'memory_used_max']) assert.ok(statValue('node', kpi).points === 1, `node ${kpi}: no value`);
  });

  it('over the load, every vllm and qdrant stat panel has a value and every time series has points', () => {
    for (const recipe of ['vllm', 'qdrant']) {
      const empty = checked.filter((c) => c.recipe === recipe && c.points === 0).map((c) => `${c.panel.type} ${c.panel.title} ${c.refId}`);
      assert.deepEqual(empty, [], `${recipe}: queries without data`);
    }
  });

  it('the session variable is what selects the data: another session id shows nothing', async () => {
    const other = await runDashboards('another-session', ['node']);
    assert.ok(other.every((c) => c.status === 'success'));
    assert.deepEqual(other.filter((c) => c.series > 0).map((c) => `${c.panel.title} ${c.refId}`), []);
    assert.ok(checked.some((c) => c.recipe === 'node' && c.series > 0));
  });
});
