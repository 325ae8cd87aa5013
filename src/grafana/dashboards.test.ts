/**
 * The Grafana files committed under grafana/ — what users mount into Grafana — against the
 * dashboard JSON model and the provisioning file format Grafana requires, and against the
 * generator (golden files: regenerate with `node bin/benchmon.js grafana --out grafana`).
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import YAML from 'yaml';
import { listBuiltinRecipes, loadRecipe, packageRoot, parseRecipeYaml } from '../collect/recipes/load.js';
import { checkQueryTemplate } from '../collect/recipes/query-template.js';
import { BenchmonError } from '../errors.js';
import { DASHBOARD_SCHEMA_VERSION, grafanaExpr, kpiExpr, recipeDashboard, type GrafanaDashboard, type QueryPanel } from './dashboards.js';
import { DASHBOARDS_DIR, DATASOURCE_FILE, GRAFANA_DEFAULTS, PROVIDER_FILE, renderGrafanaFiles, type GrafanaProvisioningOptions } from './provisioning.js';

const GRAFANA_DIR = path.join(packageRoot(), 'grafana');
const read = (rel: string) => fs.readFileSync(path.join(GRAFANA_DIR, ...rel.split('/')), 'utf8');
const builtins = listBuiltinRecipes();

function committedDashboards(): Array<{ file: string; dashboard: GrafanaDashboard }> {
  const dir = path.join(GRAFANA_DIR, ...DASHBOARDS_DIR.split('/'));
  return fs.readdirSync(dir).filter((f) => f.endsWith('.json')).sort().map((file) => ({ file, dashboard: JSON.parse(fs.readFileSync(path.join(dir, file), 'utf8')) as GrafanaDashboard }));
}

interface DatasourceFile { apiVersion: unknown; datasources: Array<Record<string, unknown>> }
interface ProviderFile { apiVersion: unknown; providers: Array<Record<string, unknown> & { options?: Record<string, unknown> }> }
const datasourceFile = () => YAML.parse(read(DATASOURCE_FILE)) as DatasourceFile;
const providerFile = () => YAML.parse(read(PROVIDER_FILE)) as ProviderFile;

const isQueryPanel = (p: { type: string }): p is QueryPanel => p.type !== 'row';

/** A Grafana expr turned back into a recipe template, so the recipe lexer can check every selector. */
function asTemplate(expr: string): string {
  return expr.replaceAll('session="$session"', '${session}').replace(/\$__rate_interval|\$__range|\$__interval/g, (v) => (v === '$__interval' ? '${step}' : '${window}'));
}

describe('Grafana provisioning files (grafana/)', () => {
  it('are exactly what `benchmon grafana` generates from the built-in recipes with the defaults (no stale file either)', () => {
    const files = renderGrafanaFiles({ ...GRAFANA_DEFAULTS, recipes: builtins.map((r) => loadRecipe(r)) });
    for (const f of files) assert.equal(read(f.path), f.content, `${f.path} is out of step with the generator: run node bin/benchmon.js grafana --out grafana`);
    const onDisk: string[] = [];
    const walk = (rel: string) => {
      for (const e of fs.readdirSync(path.join(GRAFANA_DIR, rel), { withFileTypes: true })) {
        const r = rel ? `${rel}/${e.name}` : e.name;
        if (e.isDirectory()) walk(r);
        else onDisk.push(r);
      }
    };
    walk('provisioning');
    assert.deepEqual(onDisk.sort(), files.map((f) => f.path).sort());
  });

  it('the datasource file has what Grafana requires: apiVersion, name, type prometheus, uid, url, access', () => {
    const doc = datasourceFile();
    assert.equal(doc.apiVersion, 1);
    assert.equal(doc.datasources.length, 1);
    const ds = doc.datasources[0]!;
    assert.equal(typeof ds.name, 'string');
    assert.equal(ds.type, 'prometheus');
    assert.match(String(ds.uid), /^[A-Za-z0-9_-]{1,40}$/);
    assert.equal(ds.url, 'http://127.0.0.1:9090');
    assert.equal(ds.access, 'proxy');
    assert.match(String((ds.jsonData as Record<string, unknown>).timeInterval), /^[0-9]+(ms|s|m|h)$/);
  });

  it('the dashboards provider is a file provider whose path is the committed JSON folder once provisioning/ is mounted as /etc/grafana/provisioning', () => {
    const doc = providerFile();
    assert.equal(doc.apiVersion, 1);
    assert.equal(doc.providers.length, 1);
    const p = doc.providers[0]!;
    assert.equal(typeof p.name, 'string');
    assert.equal(p.type, 'file');
    assert.equal(p.options?.path, `/etc/grafana/${DASHBOARDS_DIR}`);
    assert.ok(fs.statSync(path.join(GRAFANA_DIR, ...DASHBOARDS_DIR.split('/'))).isDirectory());
  });

  it('there is one dashboard per built-in recipe, with unique uids and titles', () => {
    const ds = committedDashboards();
    assert.deepEqual(ds.map((d) => d.file), builtins.map((r) => `${r}.json`));
    const uids = ds.map((d) => d.dashboard.uid);
    const titles = ds.map((d) => d.dashboard.title);
    assert.equal(new Set(uids).size, uids.length);
    assert.equal(new Set(titles).size, titles.length);
  });

  for (const recipeName of builtins) {
    describe(`dashboard ${recipeName}`, () => {
      const dashboard = () => JSON.parse(read(`${DASHBOARDS_DIR}/${recipeName}.json`)) as GrafanaDashboard;
      const datasourceUid = () => datasourceFile().datasources[0]!.uid;

      it('has the dashboard model fields, typed', () => {
        const d = dashboard() as unknown as Record<string, unknown>;
        assert.match(String(d.uid), /^[A-Za-z0-9_-]{1,40}$/);
        assert.equal(typeof d.title, 'string');
        assert.ok((d.title as string).length > 0);
        assert.equal(d.schemaVersion, DASHBOARD_SCHEMA_VERSION);
        assert.ok(Number.isInteger(d.schemaVersion));
        assert.ok(Array.isArray(d.tags) && (d.tags as unknown[]).every((t) => typeof t === 'string'));
        const time = d.time as Record<string, unknown>;
        assert.equal(typeof time.from, 'string');
        assert.equal(typeof time.to, 'string');
        assert.ok(Array.isArray((d.templating as Record<string, unknown>).list));
        assert.ok(Array.isArray((d.annotations as Record<string, unknown>).list));
        assert.ok(Array.isArray(d.panels) && (d.panels as unknown[]).length > 0);
        assert.equal(d.id, null, 'a provisioned dashboard must not carry a database id');
      });

      it('panel ids are unique; every gridPos lies within 24 columns and no two panels overlap', () => {
        const panels = dashboard().panels;
        const ids = panels.map((p) => p.id);
        assert.ok(ids.every((id) => Number.isInteger(id) && id > 0));
        assert.equal(new Set(ids).size, ids.length);
        for (const p of panels) {
          const g = p.gridPos;
          for (const k of ['x', 'y', 'w', 'h'] as const) assert.ok(Number.isInteger(g[k]) && g[k] >= 0, `${p.title}: gridPos.${k}`);
          assert.ok(g.w > 0 && g.h > 0 && g.x + g.w <= 24, `${p.title}: gridPos ${JSON.stringify(g)}`);
        }
        for (let i = 0; i < panels.length; i++) {
          for (let j = i + 1; j < panels.length; j++) {
            const a = panels[i]!.gridPos;
            const b = panels[j]!.gridPos;
            const overlap = a.x < b.x + b.w && b.x < a.x + a.w && a.y < b.y + b.h && b.y < a.y + a.h;
            assert.ok(!overlap, `${panels[i]!.title} ${JSON.stringify(a)} overlaps ${panels[j]!.title} ${JSON.stringify(b)}`);
          }
        }
      });

      it('every panel, target and the variable use the provisioned datasource uid', () => {
        const uid = datasourceUid();
        const d = dashboard();
        const queryPanels = d.panels.filter(isQueryPanel);
        assert.ok(queryPanels.length > 0);
        for (const p of queryPanels) {
          assert.deepEqual(p.datasource, { type: 'prometheus', uid }, p.title);
          for (const t of p.targets) assert.deepEqual(t.datasource, { type: 'prometheus', uid }, `${p.title} ${t.refId}`);
        }
        for (const v of d.templating.list) assert.deepEqual(v.datasource, { type: 'prometheus', uid });
      });

      it('has a single-valued query variable `session` listing the session labels of scraped targets', () => {
        const vars = dashboard().templating.list;
        const session = vars.find((v) => v.name === 'session');
        assert.ok(session, 'no session variable');
        assert.equal(session.type, 'query');
        assert.equal(session.query.query, 'label_values(up, session)');
        assert.equal(session.definition, session.query.query);
        assert.equal(session.multi, false);
        assert.equal(session.includeAll, false);
      });

      it('every target has a refId (unique in its panel) and an expr in which every selector carries session="$session"', () => {
        for (const p of dashboard().panels.filter(isQueryPanel)) {
          assert.ok(p.targets.length > 0, p.title);
          const refIds = p.targets.map((t) => t.refId);
          assert.ok(refIds.every((r) => typeof r === 'string' && r.length > 0));
          assert.equal(new Set(refIds).size, refIds.length, p.title);
          for (const t of p.targets) {
            assert.equal(typeof t.expr, 'string');
            assert.ok(t.expr.includes('session="$session"'), `${p.title} ${t.refId}: ${t.expr}`);
            assert.ok(!/\$\{/.test(t.expr), `${p.title} ${t.refId}: a recipe placeholder is left: ${t.expr}`);
            assert.deepEqual(checkQueryTemplate(asTemplate(t.expr)), [], `${p.title} ${t.refId}: ${t.expr}`);
          }
        }
      });

      it('has, for every KPI of the recipe, a stat panel over $__range (instant) and a time series over $__rate_interval (range)', () => {
        const recipe = loadRecipe(recipeName);
        const panels = dashboard().panels.filter(isQueryPanel);
        const stats = panels.filter((p) => p.type === 'stat');
        const series = panels.filter((p) => p.type === 'timeseries');
        assert.deepEqual(stats.map((p) => p.title), recipe.kpis.map((k) => k.name));
        assert.deepEqual(new Set(series.map((p) => p.title)), new Set(recipe.kpis.map((k) => `${k.name} (${k.unit})`)));
        for (const kpi of recipe.kpis) {
          const stat = stats.find((p) => p.title === kpi.name)!;
          assert.deepEqual(stat.targets.map((t) => [t.instant, t.range]), [[true, false]]);
          const ts = series.find((p) => p.title === `${kpi.name} (${kpi.unit})`)!;
          assert.ok(ts.targets.every((t) => t.range && !t.instant));
          if (kpi.method === 'last') continue;
          assert.ok(stat.targets[0]!.expr.includes('[$__range'), `${kpi.name}: ${stat.targets[0]!.expr}`);
          assert.ok(!stat.targets[0]!.expr.includes('$__rate_interval'));
          for (const t of ts.targets) {
            assert.ok(t.expr.includes('[$__rate_interval'), `${kpi.name}: ${t.expr}`);
            assert.ok(!t.expr.includes('$__range'));
          }
        }
      });

      it('rows group the time series and every query panel sits below a row', () => {
        const panels = dashboard().panels;
        assert.equal(panels[0]!.type, 'row');
        const rows = panels.filter((p) => p.type === 'row');
        assert.ok(rows.length >= 2);
        for (const r of rows) assert.deepEqual([r.gridPos.x, r.gridPos.w, r.gridPos.h], [0, 24, 1]);
      });
    });
  }
});

describe('recipe → dashboard translation', () => {
  it('fills the placeholders as Grafana variables and drops ${by} with its comma', () => {
    const t = 'histogram_quantile(0.9, sum by (le, ${by}) (increase(x_bucket{job="a", ${session}}[${window}])))';
    assert.equal(grafanaExpr(t, '$__rate_interval', []), 'histogram_quantile(0.9, sum by (le) (increase(x_bucket{job="a", session="$session"}[$__rate_interval])))');
    assert.equal(grafanaExpr(t, '$__range', ['job', 'instance']), 'histogram_quantile(0.9, sum by (le, job, instance) (increase(x_bucket{job="a", session="$session"}[$__range])))');
    assert.equal(grafanaExpr('max_over_time(y{${session}}[${window}:${step}])', '$__range', []), 'max_over_time(y{session="$session"}[$__range:$__interval])');
  });

  it('a KPI with a fallback query is drawn from `(query) or (fallback)`', () => {
    const recipe = parseRecipeYaml(
      'name: mine\nkpis:\n  - {name: rps, unit: req/s, method: rate, higher_is_better: true, query: "sum(rate(new_total{${session}}[${window}]))", fallback_query: "sum(rate(old_total{${session}}[${window}]))"}\n',
      'test',
    );
    assert.equal(kpiExpr(recipe.kpis[0]!, '$__range', []), '(sum(rate(new_total{session="$session"}[$__range]))) or (sum(rate(old_total{session="$session"}[$__range])))');
    const d = recipeDashboard(recipe);
    assert.equal(d.uid, 'benchmon-mine');
    assert.equal(d.panels.filter((p) => p.type !== 'row').length, 2);
  });

  it('a user recipe and other settings go into the files; bad settings are refused naming the field', () => {
    const recipe = parseRecipeYaml('name: mine\nkpis:\n  - {name: up_share, unit: "%", method: last, higher_is_better: true, query: "100 * avg(up{${session}})"}\n', 'test');
    const files = renderGrafanaFiles({ prometheusUrl: 'http://prom.example:9191', scrapeInterval: '5s', dashboardsPath: '/var/lib/grafana/dashboards/benchmon', recipes: [recipe] });
    assert.deepEqual(files.map((f) => f.path), [DATASOURCE_FILE, PROVIDER_FILE, `${DASHBOARDS_DIR}/mine.json`]);
    const ds = (YAML.parse(files[0]!.content) as DatasourceFile).datasources[0]!;
    assert.equal(ds.url, 'http://prom.example:9191');
    assert.equal((ds.jsonData as Record<string, unknown>).timeInterval, '5s');
    assert.equal((YAML.parse(files[1]!.content) as ProviderFile).providers[0]!.options?.path, '/var/lib/grafana/dashboards/benchmon');

    const good: GrafanaProvisioningOptions = { ...GRAFANA_DEFAULTS, recipes: [recipe] };
    const cases: Array<[Partial<typeof good>, string]> = [
      [{ prometheusUrl: 'prom:9090' }, 'prometheus_url'],
      [{ scrapeInterval: '15 seconds' }, 'scrape_interval'],
      [{ dashboardsPath: 'dashboards' }, 'dashboards_path'],
      [{ recipes: [] }, 'recipes'],
      [{ recipes: [recipe, recipe] }, 'recipes'],
    ];
    for (const [change, field] of cases) {
      assert.throws(() => renderGrafanaFiles({ ...good, ...change }), (err: unknown) => err instanceof BenchmonError && err.code === 'VALIDATION_FAILED' && err.details?.field === field, field);
    }
  });
});
