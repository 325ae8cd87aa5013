import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { BenchmonError } from '../../errors.js';
import { adHocRecipe, combineRecipes, listBuiltinRecipes, loadRecipe, packageRoot, parseRecipeYaml } from './load.js';
import { findSelectors } from './query-template.js';

const TESTDATA = path.join(packageRoot(), 'src', 'collect', 'recipes', 'testdata');
// CI has ../shared beside the clone; product code never reads it, only this test.
const FIXTURES = path.join(packageRoot(), '..', 'shared', 'fixtures');

function recipeProblem(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof BenchmonError, String(err));
    assert.equal(err.code, 'VALIDATION_FAILED');
    assert.equal(err.status, 400);
    return err.message;
  }
  assert.fail('expected the recipe to be refused');
}

describe('recipe files in testdata', () => {
  for (const file of fs.readdirSync(TESTDATA).filter((f) => f.endsWith('.bad.yaml')).sort()) {
    it(`refuses ${file} naming the entry`, () => {
      const text = fs.readFileSync(path.join(TESTDATA, file), 'utf8');
      const expected = /^# expect: (.*)$/m.exec(text)?.[1];
      assert.ok(expected, `${file} needs an "# expect: <regex>" line`);
      const message = recipeProblem(() => parseRecipeYaml(text, file));
      assert.match(message, new RegExp(`^recipe: .*${expected}`));
    });
  }

  it('loads a good user recipe: recipe-wide slice_by applies where the query can be sliced', () => {
    const recipe = parseRecipeYaml(fs.readFileSync(path.join(TESTDATA, 'good-minimal.good.yaml'), 'utf8'), 'good-minimal.good.yaml');
    assert.equal(recipe.name, 'my-service');
    assert.match(recipe.sha256, /^[0-9a-f]{64}$/);
    assert.deepEqual(recipe.kpis.map((k) => [k.name, k.slice_by]), [['rps', ['job', 'instance']], ['up_now', []]]);
  });
});

describe('loadRecipe', () => {
  it('finds the built-in recipes from the package root', () => {
    assert.deepEqual(listBuiltinRecipes(), ['dcgm', 'default', 'node', 'qdrant', 'vllm']);
    const recipe = loadRecipe('default');
    assert.equal(recipe.source, 'builtin:default');
  });

  it('refuses an unknown name, listing the built-in ones', () => {
    assert.match(recipeProblem(() => loadRecipe('nope')), /no built-in recipe "nope" \(built-in: dcgm, default, node, qdrant, vllm\)/);
  });

  it('reads a file path only when allowed (never for API requests)', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'benchmon-recipe-'));
    try {
      const file = path.join(dir, 'mine.yaml');
      fs.copyFileSync(path.join(TESTDATA, 'good-minimal.good.yaml'), file);
      assert.match(recipeProblem(() => loadRecipe(file)), /recipe files are read by the CLI/);
      assert.equal(loadRecipe(file, { allowFiles: true }).source, file);
      assert.match(recipeProblem(() => loadRecipe(path.join(dir, 'missing.yaml'), { allowFiles: true })), /cannot read recipe file .*ENOENT/);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('ad-hoc queries', () => {
  it('are checked like a recipe and name the field `queries`', () => {
    const recipe = adHocRecipe([{ name: 'qps', unit: 'req/s', method: 'rate', higher_is_better: true, query: 'sum(rate(x_total{${session}}[${window}]))' }]);
    assert.equal(recipe.source, 'request');
    assert.match(
      recipeProblem(() => adHocRecipe([{ name: 'qps', unit: 'req/s', method: 'rate', higher_is_better: true, query: 'sum(rate(x_total[${window}]))' }])),
      /^queries: request: kpi 1 \(qps\): query: selector x_total lacks the session matcher/,
    );
    assert.match(recipeProblem(() => adHocRecipe([{ name: 'qps', unit: 'req/s', method: 'rate', query: 'x' }])), /^queries: request: kpi 1 \(qps\): higher_is_better: Expected required property/);
    assert.match(recipeProblem(() => adHocRecipe('rate(x[5m])')), /^queries: request: document: Expected array/);
  });

  it('combine with a recipe, and KPI names must stay unique', () => {
    const extra = adHocRecipe([{ name: 'throughput', unit: 'req/s', method: 'rate', higher_is_better: true, query: 'sum(rate(x_total{${session}}[${window}]))' }]);
    assert.match(recipeProblem(() => combineRecipes(loadRecipe('default'), extra)), /already in recipe default: throughput/);
    const other = adHocRecipe([{ name: 'other', unit: 'req/s', method: 'rate', higher_is_better: true, query: 'sum(rate(x_total{${session}}[${window}]))' }]);
    assert.equal(combineRecipes(loadRecipe('default'), other).kpis.at(-1)!.name, 'other');
  });
});

describe('built-in recipes', () => {
  const expectedKpis: Record<string, string[]> = {
    default: ['throughput', 'cpu_utilisation', 'gpu_utilisation', 'latency_p50', 'latency_p95', 'latency_p99', 'latency_mean'],
    node: ['cpu_utilisation', 'memory_used_avg', 'network_receive_rate', 'network_transmit_rate', 'disk_read_rate', 'disk_write_rate'],
    dcgm: ['gpu_utilisation_avg', 'gpu_utilisation_max', 'framebuffer_used_max', 'power_avg', 'energy'],
    vllm: [
      'request_throughput', 'prompt_tokens_per_second', 'generation_tokens_per_second',
      'ttft_p50', 'ttft_p95', 'ttft_p99', 'e2e_latency_p50', 'e2e_latency_p95', 'e2e_latency_p99',
      'inter_token_latency_p50', 'inter_token_latency_p95', 'inter_token_latency_p99',
      'running_requests_avg', 'waiting_requests_avg', 'kv_cache_usage_avg', 'kv_cache_usage_max', 'preemptions',
    ],
    qdrant: ['request_rate', 'error_share', 'latency_p50', 'latency_p95', 'latency_p99', 'points_count'],
  };

  for (const [name, kpis] of Object.entries(expectedKpis)) {
    it(`${name} has the KPIs the issue lists, each sliced per target`, () => {
      const recipe = loadRecipe(name);
      const names = recipe.kpis.map((k) => k.name);
      for (const kpi of kpis) assert.ok(names.includes(kpi), `${name} lacks ${kpi}`);
      for (const kpi of recipe.kpis) assert.ok(kpi.slice_by.includes('instance'), `${name}.${kpi.name} is not sliced per instance`);
    });
  }

  it('merge histograms over the window for every percentile', () => {
    for (const name of listBuiltinRecipes()) {
      for (const kpi of loadRecipe(name).kpis.filter((k) => k.method === 'histogram_quantile')) {
        assert.match(kpi.histogram!.buckets, /^sum by \(le, \$\{by\}\) \(increase\([a-z0-9_:]+_bucket\{\$\{session\}\}\[\$\{window\}\]\)\)$/, `${name}.${kpi.name}`);
        assert.ok([0.5, 0.95, 0.99].includes(kpi.histogram!.quantile));
      }
    }
  });

  it('vllm falls back to the deprecated KV-cache gauge', () => {
    const kv = loadRecipe('vllm').kpis.find((k) => k.name === 'kv_cache_usage_avg')!;
    assert.match(kv.query, /vllm:kv_cache_usage_perc\{/);
    assert.match(kv.fallback_query!, /vllm:gpu_cache_usage_perc\{/);
  });

  it('use metric names that exist upstream (fixtures and catalogs in ../shared/fixtures)', () => {
    const corpus = fs.readdirSync(FIXTURES).filter((f) => !f.endsWith('.source.txt')).map((f) => fs.readFileSync(path.join(FIXTURES, f), 'utf8')).join('\n');
    const exists = (metric: string) => new RegExp(`(^|[^A-Za-z0-9_:])${metric.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}($|[^A-Za-z0-9_:])`, 'm').test(corpus);
    const missing: string[] = [];
    for (const name of listBuiltinRecipes()) {
      for (const kpi of loadRecipe(name).kpis) {
        for (const template of [kpi.query, kpi.fallback_query].filter((q): q is string => q !== undefined)) {
          for (const s of findSelectors(template)) {
            const metric = s.metric!;
            const base = metric.replace(/_(bucket|sum|count)$/, '');
            if (!exists(metric) && !exists(base)) missing.push(`${name}.${kpi.name}: ${metric}`);
          }
        }
      }
    }
    assert.deepEqual(missing, []);
  });
});
