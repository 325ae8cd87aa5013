/**
 * Tests of the EMULATED workload (vLLM + Qdrant emulators and the load generator): the exposition parses with
 * Debian's promtool, carries every family/label/bucket layout of the real upstream scrapes in ../shared/fixtures,
 * and its counters agree with what the load generator itself counted.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { familyOf, parseExposition, select, sum, type Exposition } from './exposition.js';
import type { TargetsLoadReport } from './load-generator.js';
import { startQdrantEmulator } from './qdrant-emulator.js';
import { startVllmEmulator, type VllmEmulator } from './vllm-emulator.js';
import { startEmulatedWorkload, type EmulatedWorkload } from './workload.js';

// dist/emulator/emulator.test.js -> repository root -> ../shared/fixtures (CI keeps ../shared beside the clone)
const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const FIXTURES = path.join(REPO_ROOT, '..', 'shared', 'fixtures');
const VLLM_FIXTURE = path.join(FIXTURES, 'vllm-v1-metrics-kops-conformance.prom');
const QDRANT_FIXTURE = path.join(FIXTURES, 'qdrant-1.16.0-metrics-datadog-fixture.prom');

async function scrape(url: string): Promise<string> {
  const res = await fetch(`${url}/metrics`);
  assert.equal(res.status, 200);
  assert.match(res.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
  return res.text();
}

/** `promtool check metrics` exits 0 (clean), 3 (lint problems only) or 1 (parse error). */
function assertPromtoolParses(text: string, what: string): void {
  const r = spawnSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8' });
  if (r.error) throw new Error(`cannot run promtool (Debian package prometheus): ${r.error.message}`);
  const output = `${r.stdout}${r.stderr}`;
  assert.ok(r.status === 0 || r.status === 3, `${what}: promtool exit ${r.status}\n${output}`);
  assert.doesNotMatch(output, /parsing error|error while linting/, `${what}: ${output}`);
}

interface Layout {
  /** family -> TYPE */
  types: Map<string, string>;
  /** family -> label-name sets seen (sorted, without le/quantile) */
  labelSets: Map<string, Set<string>>;
  /** histogram family -> sorted bucket bounds (without +Inf) */
  buckets: Map<string, number[]>;
}

function layout(exp: Exposition): Layout {
  const types = new Map<string, string>();
  for (const f of exp.families.values()) if (f.type) types.set(f.name, f.type);
  const labelSets = new Map<string, Set<string>>();
  const buckets = new Map<string, Set<number>>();
  for (const s of exp.samples) {
    const family = familyOf(s.name, exp.families);
    const names = Object.keys(s.labels)
      .filter((n) => n !== 'le' && n !== 'quantile')
      .sort()
      .join(',');
    if (!labelSets.has(family)) labelSets.set(family, new Set());
    labelSets.get(family)!.add(names);
    if (s.name.endsWith('_bucket') && s.labels.le !== undefined && s.labels.le !== '+Inf') {
      if (!buckets.has(family)) buckets.set(family, new Set());
      buckets.get(family)!.add(Number(s.labels.le));
    }
  }
  return {
    types,
    labelSets,
    buckets: new Map([...buckets].map(([k, v]) => [k, [...v].sort((a, b) => a - b)])),
  };
}

function readFixture(file: string): Exposition {
  assert.ok(fs.existsSync(file), `fixture ${file} not found (expected ../shared/fixtures beside the repository)`);
  // the Qdrant capture has no final newline; the parser tolerates that
  return parseExposition(fs.readFileSync(file, 'utf8'));
}

/** Every family of the fixture (filtered) exists in the emulator output with the same type, HELP, label names and buckets. */
function assertSameLayout(fixture: Exposition, emulated: Exposition, include: (family: string) => boolean): string[] {
  const want = layout(fixture);
  const got = layout(emulated);
  const checked: string[] = [];
  for (const [family, type] of want.types) {
    if (!include(family)) continue;
    checked.push(family);
    assert.equal(got.types.get(family), type, `family ${family}: type ${type} expected, got ${got.types.get(family)}`);
    assert.equal(emulated.families.get(family)?.help, fixture.families.get(family)?.help, `family ${family}: HELP text differs`);
    for (const names of want.labelSets.get(family) ?? []) {
      assert.ok(got.labelSets.get(family)?.has(names), `family ${family}: no series with labels {${names}} (got ${[...(got.labelSets.get(family) ?? [])].join(' | ')})`);
    }
    const wantBuckets = want.buckets.get(family);
    if (wantBuckets) assert.deepEqual(got.buckets.get(family), wantBuckets, `family ${family}: bucket bounds differ`);
  }
  return checked;
}

describe('emulated workload under load', () => {
  let workload: EmulatedWorkload;
  let report: TargetsLoadReport;
  let vllmText: string;
  let qdrantText: string;
  let vllm: Exposition;
  let qdrant: Exposition;

  before(async () => {
    workload = await startEmulatedWorkload({ seed: 20260301 });
    report = await workload.runLoad({ durationMs: 3000, vllmRate: 10, qdrantRate: 30 });
    vllmText = await scrape(workload.vllm.url);
    qdrantText = await scrape(workload.qdrant.url);
    vllm = parseExposition(vllmText);
    qdrant = parseExposition(qdrantText);
  });
  after(async () => {
    await workload?.stop();
  });

  it('reports host:port addresses on the loopback interface', () => {
    assert.match(workload.vllm.address, /^127\.0\.0\.1:\d+$/);
    assert.match(workload.qdrant.address, /^127\.0\.0\.1:\d+$/);
    assert.notEqual(workload.vllm.address, workload.qdrant.address);
  });

  it('the load generator sent the planned open-loop schedule and got every answer', () => {
    const v = report.vllm!;
    const q = report.qdrant!;
    assert.equal(v.planned, 30);
    assert.equal(q.planned, 90);
    assert.equal(v.sent, 30);
    assert.equal(q.sent, 90);
    assert.equal(v.responses, v.sent);
    assert.equal(q.responses, q.sent);
    assert.deepEqual(v.networkErrors, {});
    assert.deepEqual(q.networkErrors, {});
    assert.equal(v.ok, 30);
    assert.equal(v.latencySeconds.count, 30);
    assert.equal(v.firstByteSeconds?.count, 30);
    assert.ok(v.latencySeconds.p50! <= v.latencySeconds.p95! && v.latencySeconds.p95! <= v.latencySeconds.p99!);
  });

  it('vLLM /metrics parses with promtool', () => {
    assertPromtoolParses(vllmText, 'vLLM emulator');
  });

  it('Qdrant /metrics parses with promtool', () => {
    assertPromtoolParses(qdrantText, 'Qdrant emulator');
  });

  it('vLLM exposes every vllm: and http_ family of the real V1 scrape, with its type, HELP, labels and buckets', () => {
    const checked = assertSameLayout(readFixture(VLLM_FIXTURE), vllm, (f) => f.startsWith('vllm:') || f.startsWith('http_'));
    // 36 vllm: families, 32 *_created gauges, 5 instrumentator families and 1 more _created gauge
    assert.equal(checked.length, 73);
    for (const name of [
      'vllm:num_requests_running',
      'vllm:num_requests_waiting',
      'vllm:kv_cache_usage_perc',
      'vllm:prompt_tokens_total',
      'vllm:generation_tokens_total',
      'vllm:request_success_total',
      'vllm:num_preemptions_total',
      'vllm:time_to_first_token_seconds',
      'vllm:e2e_request_latency_seconds',
      'vllm:inter_token_latency_seconds',
      'vllm:request_prompt_tokens',
      'vllm:request_generation_tokens',
      'http_requests_total',
      'http_request_duration_seconds',
    ]) {
      assert.ok(checked.includes(name), `${name} not in the fixture check`);
    }
    assert.ok(!vllm.families.has('vllm:gpu_cache_usage_perc'), 'deprecated gauge exposed by default');
    assert.ok(!vllm.families.has('vllm:time_per_output_token_seconds'), 'V0 TPOT name exposed');
  });

  it('Qdrant exposes every family of the real 1.16.0 scrape, with its type, HELP, labels and buckets', () => {
    const checked = assertSameLayout(readFixture(QDRANT_FIXTURE), qdrant, () => true);
    assert.equal(checked.length, 44);
    assert.equal(select(qdrant, 'app_info')[0]?.labels.version, '1.16.0');
    assert.equal(sum(qdrant, 'collection_points', { id: workload.qdrant.collection }), 100_000);
    assert.equal(sum(qdrant, 'collections_vector_total'), 100_000);
    assert.equal(sum(qdrant, 'collections_total'), 1);
  });

  it('vLLM counters equal the load generator counts', () => {
    const v = report.vllm!;
    const served = workload.counts().vllm;
    assert.equal(served.queued, 0, 'requests waited; the known distributions would not hold');
    assert.equal(sum(vllm, 'vllm:request_success_total'), v.ok);
    assert.equal(sum(vllm, 'vllm:request_success_total', { finished_reason: 'abort' }), 0);
    assert.equal(
      sum(vllm, 'vllm:request_success_total', { finished_reason: 'stop' }) + sum(vllm, 'vllm:request_success_total', { finished_reason: 'length' }),
      v.ok,
    );
    assert.equal(sum(vllm, 'vllm:prompt_tokens_total'), v.tokens!.prompt);
    assert.equal(sum(vllm, 'vllm:generation_tokens_total'), v.tokens!.completion);
    assert.equal(sum(vllm, 'vllm:prompt_tokens_by_source_total'), v.tokens!.prompt);
    assert.equal(sum(vllm, 'vllm:prefix_cache_queries_total'), v.tokens!.prompt);
    assert.equal(sum(vllm, 'vllm:num_preemptions_total'), served.preemptions);
    assert.equal(sum(vllm, 'http_requests_total', { handler: '/v1/completions', method: 'POST', status: '2xx' }), v.ok);
    assert.equal(sum(vllm, 'http_requests_total'), v.sent, 'no other instrumented request was made');
    assert.equal(sum(vllm, 'http_request_duration_highr_seconds_count'), v.ok);
    assert.equal(sum(vllm, 'http_request_duration_seconds_count', { handler: '/v1/completions' }), v.ok);
    assert.equal(served.completed, v.ok);
    assert.equal(served.promptTokens, v.tokens!.prompt);
    assert.equal(served.generationTokens, v.tokens!.completion);
  });

  it('vLLM histogram counts equal the requests (and tokens) served', () => {
    const v = report.vllm!;
    for (const family of [
      'vllm:time_to_first_token_seconds',
      'vllm:e2e_request_latency_seconds',
      'vllm:request_queue_time_seconds',
      'vllm:request_prefill_time_seconds',
      'vllm:request_decode_time_seconds',
      'vllm:request_inference_time_seconds',
      'vllm:request_time_per_output_token_seconds',
      'vllm:request_prompt_tokens',
      'vllm:request_generation_tokens',
      'vllm:request_params_max_tokens',
      'vllm:request_params_n',
    ]) {
      assert.equal(sum(vllm, `${family}_count`), v.ok, family);
      assert.equal(sum(vllm, `${family}_bucket`, { le: '+Inf' }), v.ok, `${family} +Inf bucket`);
    }
    assert.equal(sum(vllm, 'vllm:inter_token_latency_seconds_count'), v.tokens!.completion - v.ok);
    assert.equal(sum(vllm, 'vllm:request_prompt_tokens_sum'), v.tokens!.prompt);
    assert.equal(sum(vllm, 'vllm:request_generation_tokens_sum'), v.tokens!.completion);
    assert.equal(sum(vllm, 'vllm:iteration_tokens_total_count'), v.tokens!.completion);
  });

  it('vLLM histograms observe the real sleeps: never shorter than the distribution allows', () => {
    const d = workload.distributions;
    // nothing below each distribution's minimum (sleeps are re-armed until their deadline has passed)
    assert.equal(sum(vllm, 'vllm:time_to_first_token_seconds_bucket', { le: '0.1' }), 0);
    assert.ok(d.ttft.min > 0.1);
    assert.equal(sum(vllm, 'vllm:e2e_request_latency_seconds_bucket', { le: '1' }), 0);
    assert.ok(d.e2eLatency.min > 1);
    // the ITL histogram has ~30 observations per request: its quantiles already land in the stated buckets
    const itl = select(vllm, 'vllm:inter_token_latency_seconds_bucket')
      .map((s) => [Number(s.labels.le), s.value] as const)
      .sort((a, b) => a[0] - b[0]);
    const total = itl[itl.length - 1]![1];
    for (const k of [d.interTokenLatency.quantiles.p50, d.interTokenLatency.quantiles.p95, d.interTokenLatency.quantiles.p99]) {
      const idx = itl.findIndex(([, c]) => c >= k.q * total);
      const upper = itl[idx]![0];
      const lower = idx > 0 ? itl[idx - 1]![0] : 0;
      assert.deepEqual({ lower, upper }, k.bucket, `ITL q=${k.q}`);
    }
    // the client-side latency includes the server's: e2e sum <= client latency sum
    const clientSum = report.vllm!.okLatencies.reduce((a, b) => a + b, 0);
    assert.ok(sum(vllm, 'vllm:e2e_request_latency_seconds_sum') <= clientSum);
  });

  it('vLLM gauges are consistent after the load', () => {
    assert.equal(sum(vllm, 'vllm:num_requests_running'), 0);
    assert.equal(sum(vllm, 'vllm:num_requests_waiting'), 0);
    assert.equal(sum(vllm, 'vllm:kv_cache_usage_perc'), 0);
    assert.equal(sum(vllm, 'vllm:engine_sleep_state', { sleep_state: 'awake' }), 1);
    assert.equal(select(vllm, 'vllm:cache_config_info')[0]?.labels.num_gpu_blocks, '1024');
    for (const s of select(vllm, 'vllm:num_requests_running')) {
      assert.equal(s.labels.model_name, workload.vllm.modelName);
      assert.equal(s.labels.engine, '0');
    }
  });

  it('Qdrant counters equal the load generator counts, per status', () => {
    const q = report.qdrant!;
    const endpoint = '/collections/{name}/points/search';
    for (const [status, n] of Object.entries(q.byStatus)) {
      assert.equal(sum(qdrant, 'rest_responses_total', { method: 'POST', endpoint, status }), n, `status ${status}`);
    }
    assert.equal(sum(qdrant, 'rest_responses_total'), q.sent);
    assert.equal(sum(qdrant, 'rest_responses_duration_seconds_count', { status: '200' }), q.byStatus['200']);
    assert.equal(sum(qdrant, 'rest_responses_duration_seconds_bucket', { le: '+Inf' }), q.byStatus['200']);
    // timings only for status 200, as Qdrant does
    assert.deepEqual(
      [...new Set(select(qdrant, 'rest_responses_duration_seconds_count').map((s) => s.labels.status))],
      ['200'],
    );
    // 1.16 never counts REST failures in fail_total (qdrant/qdrant#7927)
    assert.equal(sum(qdrant, 'rest_responses_fail_total'), 0);
    const served = workload.counts().qdrant;
    assert.equal(served.ok, q.byStatus['200']);
    assert.equal(served.errors, q.sent - q.byStatus['200']!);
    const min = sum(qdrant, 'rest_responses_min_duration_seconds');
    const max = sum(qdrant, 'rest_responses_max_duration_seconds');
    assert.ok(min >= workload.distributions.qdrantLatency.min && min <= max);
  });
});

describe('emulated vLLM server', () => {
  let emu: VllmEmulator;
  before(async () => {
    emu = await startVllmEmulator({ seed: 1 });
  });
  after(async () => {
    await emu?.close();
  });

  async function post(body: unknown, raw?: string): Promise<{ status: number; json: Record<string, unknown> }> {
    const res = await fetch(`${emu.url}/v1/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: raw ?? JSON.stringify(body),
    });
    return { status: res.status, json: (await res.json()) as Record<string, unknown> };
  }

  it('answers a non-streamed completion with OpenAI-shaped usage', async () => {
    const { status, json } = await post({ model: emu.config.modelName, prompt: 'one two three four', max_tokens: 5 });
    assert.equal(status, 200);
    assert.equal(json.object, 'text_completion');
    const usage = json.usage as { prompt_tokens: number; completion_tokens: number; total_tokens: number };
    assert.equal(usage.prompt_tokens, 4);
    assert.equal(usage.completion_tokens, 5, 'natural length >= 22 > max_tokens');
    assert.equal(usage.total_tokens, 9);
    const choice = (json.choices as Array<{ finish_reason: string; text: string }>)[0]!;
    assert.equal(choice.finish_reason, 'length');
    assert.equal(choice.text.trim().split(/\s+/).length, 5);
  });

  it('refuses bad requests with 4xx and counts them like the instrumentator', async () => {
    assert.equal((await post(undefined, '{not json')).status, 400);
    assert.equal((await post({ prompt: '' })).status, 400);
    assert.equal((await post({ prompt: 'x', max_tokens: 0 })).status, 400);
    assert.equal((await post({ prompt: 'x', max_tokens: 9000 })).status, 400);
    assert.equal((await post({ model: 'other/model', prompt: 'x' })).status, 404);
    const res = await fetch(`${emu.url}/nowhere`);
    assert.equal(res.status, 404);
    await res.text();
    const exp = parseExposition(await scrape(emu.url));
    assert.equal(sum(exp, 'http_requests_total', { handler: '/v1/completions', status: '4xx' }), 5);
    assert.equal(sum(exp, 'http_requests_total', { handler: 'none', status: '4xx' }), 1);
    assert.equal(emu.stats().rejected, 5);
  });

  it('counts a client that disconnects mid-stream as finished_reason="abort"', async () => {
    const before = emu.stats().finishedByReason.abort;
    await new Promise<void>((resolve, reject) => {
      const req = http.request(`${emu.url}/v1/completions`, { method: 'POST', headers: { 'content-type': 'application/json' } }, (res) => {
        res.once('data', () => {
          req.destroy();
          resolve();
        });
      });
      req.on('error', (err) => ((err as NodeJS.ErrnoException).code === 'ECONNRESET' ? undefined : reject(err)));
      req.end(JSON.stringify({ prompt: 'a b c', max_tokens: 30, stream: true }));
    });
    const deadline = Date.now() + 3000;
    while (emu.stats().finishedByReason.abort === before && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    assert.equal(emu.stats().finishedByReason.abort, before + 1);
    assert.equal(emu.stats().running, 0);
    const exp = parseExposition(await scrape(emu.url));
    assert.equal(sum(exp, 'vllm:request_success_total', { finished_reason: 'abort' }), before + 1);
  });

  it('keeps a private registry per instance (several emulators in one process)', async () => {
    const other = await startVllmEmulator({ seed: 2, modelName: 'emulated/other', kvCacheMetric: 'both' });
    try {
      const res = await fetch(`${other.url}/v1/completions`, {
        method: 'POST',
        body: JSON.stringify({ prompt: 'hi there', max_tokens: 1 }),
      });
      assert.equal(res.status, 200);
      await res.text();
      const mine = parseExposition(await scrape(emu.url));
      const theirs = parseExposition(await scrape(other.url));
      assert.equal(sum(theirs, 'vllm:request_success_total'), 1);
      assert.equal(select(theirs, 'vllm:request_success_total')[0]?.labels.model_name, 'emulated/other');
      assert.ok(select(mine, 'vllm:request_success_total').every((s) => s.labels.model_name === emu.config.modelName));
      assert.ok(theirs.families.has('vllm:kv_cache_usage_perc') && theirs.families.has('vllm:gpu_cache_usage_perc'));
    } finally {
      await other.close();
    }
  });

  it('can expose only the deprecated vllm:gpu_cache_usage_perc, to exercise a fallback', async () => {
    const old = await startVllmEmulator({ kvCacheMetric: 'gpu_cache_usage_perc' });
    try {
      const text = await scrape(old.url);
      assertPromtoolParses(text, 'vLLM emulator (deprecated KV gauge)');
      const exp = parseExposition(text);
      assert.equal(exp.families.get('vllm:gpu_cache_usage_perc')?.type, 'gauge');
      assert.ok(!exp.families.has('vllm:kv_cache_usage_perc'));
    } finally {
      await old.close();
    }
  });
});

describe('emulated Qdrant server', () => {
  it('answers searches, refuses bad ones with Qdrant statuses, and meters them', async () => {
    const emu = await startQdrantEmulator({ errorShare: 0, seed: 3, collections: [{ name: 'docs', points: 50, dim: 4 }] });
    try {
      const search = async (collection: string, body: unknown): Promise<Response> =>
        fetch(`${emu.url}/collections/${collection}/points/search`, { method: 'POST', body: JSON.stringify(body) });
      const ok = await search('docs', { vector: [0.1, 0.2, 0.3, 0.4], limit: 3 });
      assert.equal(ok.status, 200);
      const body = (await ok.json()) as { result: unknown[]; status: string };
      assert.equal(body.status, 'ok');
      assert.equal(body.result.length, 3);
      const badDim = await search('docs', { vector: [1, 2], limit: 3 });
      assert.equal(badDim.status, 400);
      assert.match(((await badDim.json()) as { status: { error: string } }).status.error, /Vector dimension error/);
      const missing = await search('nope', { vector: [1, 2, 3, 4] });
      assert.equal(missing.status, 404);
      await missing.text();
      const exp = parseExposition(await scrape(emu.url));
      const endpoint = '/collections/{name}/points/search';
      assert.equal(sum(exp, 'rest_responses_total', { endpoint, status: '200' }), 1);
      assert.equal(sum(exp, 'rest_responses_total', { endpoint, status: '400' }), 1);
      assert.equal(sum(exp, 'rest_responses_total', { endpoint, status: '404' }), 1);
      assert.equal(sum(exp, 'rest_responses_duration_seconds_count'), 1);
      assert.equal(sum(exp, 'collection_points', { id: 'docs' }), 50);
      assert.ok(sum(exp, 'collection_hardware_metric_cpu', { id: 'docs' }) > 0);
    } finally {
      await emu.close();
    }
  });

  it('stops listening on close()', async () => {
    const emu = await startQdrantEmulator();
    const url = emu.url;
    await emu.close();
    await assert.rejects(fetch(`${url}/metrics`));
  });
});
