import assert from 'node:assert/strict';
import fs from 'node:fs';
import { describe, it } from 'node:test';
import { createManifestAjv, manifestJsonSchemaText, manifestProblems, manifestSchemaPath } from './manifest.js';
import { buildManifest } from './write-collection.js';
import { syntheticCollection } from './testing/synthetic-collection.js';
import { planWindow } from '../collect/window.js';

const inputs = { artifactsRoot: '/unused', sessionLabels: { team: 'perf' }, targets: [{ target_id: 't1' }], prometheusConfigSha256: null };
const file = { name: 'metrics_summary.csv', bytes: 10, sha256: 'b'.repeat(64), media_type: 'text/csv', rows: 4 };

describe('MANIFEST.json schema', () => {
  it('the published manifest.schema.json is the one the code validates with', () => {
    assert.equal(
      fs.readFileSync(manifestSchemaPath(), 'utf8'),
      manifestJsonSchemaText(),
      'src/artifacts/manifest.schema.json is stale: after a build run\n  node --input-type=module -e "(await import(\'./dist/src/artifacts/manifest.js\')).writeManifestSchemaFile()"',
    );
    const schema = JSON.parse(fs.readFileSync(manifestSchemaPath(), 'utf8')) as { $schema: string };
    assert.equal(schema.$schema, 'https://json-schema.org/draft/2020-12/schema');
  });

  it('a manifest built from a collection validates against the published file', () => {
    const manifest = buildManifest(syntheticCollection(), inputs, '20240501T110000Z-0123abcd', [file], new Date('2024-05-01T11:00:02Z'));
    const validate = createManifestAjv().compile(JSON.parse(fs.readFileSync(manifestSchemaPath(), 'utf8')) as object);
    assert.ok(validate(manifest), JSON.stringify(validate.errors));
    assert.deepEqual(manifestProblems(manifest), []);
    // What JSON cannot hold is said explicitly.
    const p99 = manifest.kpis.find((k) => k.name === 'latency_p99')!;
    assert.deepEqual([p99.lower_bound, p99.upper_bound, p99.in_inf_bucket, p99.observations], [10, null, true, 400]);
    assert.deepEqual(manifest.data_quality.kpis_without_value, ['gpu_utilisation']);
    assert.equal(manifest.data_quality.null_values, 1);
    assert.equal(manifest.data_quality.series_null_points, 1);
    assert.deepEqual(manifest.data_quality.targets_down, [{ job: 'api, "v2"', instance: 'h:80', from: '2024-05-01T10:01:00.000Z', to: '2024-05-01T10:01:30.000Z', seconds: 30, kind: 'down' }]);
    assert.equal(manifest.window.duration, '5m');
    assert.equal(manifest.window.scrape_interval, '15s');
    assert.equal(manifest.recipe.source, 'builtin:default');
  });

  it('a collection with per-phase results has phases[] with the same KPI entries, and its phase queries are tagged', () => {
    const result = syntheticCollection();
    const plan = (start: string, end: string) => planWindow({ start_time: start, end_time: end }, { now: new Date('2024-05-01T11:00:00Z'), scrapeIntervalMs: 15_000 });
    result.phases = [
      { name: 'warmup', plan: plan('2024-05-01T10:00:00Z', '2024-05-01T10:01:00Z'), kpis: result.kpis.map((k) => ({ ...k, series_points: 0, series_null_points: 0 })), targetGaps: [] },
      { name: 'steady', plan: plan('2024-05-01T10:01:00Z', '2024-05-01T10:05:00Z'), kpis: result.kpis.map((k) => ({ ...k, series_points: 0, series_null_points: 0 })), targetGaps: [] },
    ];
    result.queries.push({ ...result.queries[0]!, id: result.queries.length + 1, phase: 'warmup' });
    const manifest = buildManifest(result, inputs, '20240501T110000Z-0123abcd', [file], new Date('2024-05-01T11:00:02Z'));
    const validate = createManifestAjv().compile(JSON.parse(fs.readFileSync(manifestSchemaPath(), 'utf8')) as object);
    assert.ok(validate(manifest), JSON.stringify(validate.errors));
    assert.deepEqual(manifest.phases!.map((p) => [p.name, p.start, p.end]), [
      ['warmup', '2024-05-01T10:00:00.000Z', '2024-05-01T10:01:00.000Z'],
      ['steady', '2024-05-01T10:01:00.000Z', '2024-05-01T10:05:00.000Z'],
    ]);
    assert.deepEqual(Object.keys(manifest.phases![0]!.kpis[0]!), Object.keys(manifest.kpis[0]!));
    assert.equal(manifest.queries.at(-1)!.phase, 'warmup');
    // A manifest without phases has no phases key (and manifests written before phases existed stay valid).
    assert.equal('phases' in buildManifest(syntheticCollection(), inputs, '20240501T110000Z-0123abcd', [file], new Date()), false);
    const broken = JSON.parse(JSON.stringify(manifest)) as Record<string, any>;
    broken.phases[1].start = 'soon';
    delete broken.phases[0].kpis;
    const problems = manifestProblems(broken).join('\n');
    assert.match(problems, /\/phases\/1\/start must match format "date-time"/);
    assert.match(problems, /\/phases\/0 must have required property 'kpis'/);
  });

  it('catches manifests that are wrong', () => {
    const manifest = buildManifest(syntheticCollection(), inputs, '20240501T110000Z-0123abcd', [file], new Date('2024-05-01T11:00:02Z'));
    const broken = JSON.parse(JSON.stringify(manifest)) as Record<string, any>;
    broken.kpis[0].value = 'NaN';
    broken.files[0].sha256 = 'xyz';
    broken.window.start = 'yesterday';
    broken.surprise = 1;
    const problems = manifestProblems(broken).join('\n');
    assert.match(problems, /\/kpis\/0\/value/);
    assert.match(problems, /\/files\/0\/sha256/);
    assert.match(problems, /\/window\/start must match format "date-time"/);
    assert.match(problems, /must NOT have additional properties/);
  });
});
