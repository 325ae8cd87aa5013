import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { BenchmonError } from '../errors.js';
import { syntheticCollection } from './testing/synthetic-collection.js';
import { writeCollectionArtifacts } from './write-collection.js';
import { listCollectionDirs, readCollectionManifest } from './read-collection.js';

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'benchmon-write-'));
after(() => fs.rmSync(root, { recursive: true, force: true }));
const inputs = { artifactsRoot: root, sessionLabels: {}, targets: [], prometheusConfigSha256: null };

describe('writeCollectionArtifacts', () => {
  it('writes the four files, lists each with its size and sha256, and leaves no staging directory', async () => {
    const written = await writeCollectionArtifacts(syntheticCollection(), { ...inputs, outputDir: 'exp/7' });
    assert.equal(path.dirname(written.dir), path.join(root, 'exp', '7'));
    assert.deepEqual(fs.readdirSync(written.dir).sort(), ['MANIFEST.json', 'metrics_summary.csv', 'timeseries.csv', 'timeseries.parquet']);
    assert.deepEqual(fs.readdirSync(path.join(root, 'exp', '7')), [written.id]);
    const manifest = JSON.parse(fs.readFileSync(written.manifestPath, 'utf8')) as typeof written.manifest;
    assert.deepEqual(manifest, JSON.parse(JSON.stringify(written.manifest)));
    for (const f of manifest.files) {
      const bytes = fs.readFileSync(path.join(written.dir, f.name));
      assert.equal(bytes.length, f.bytes);
      assert.equal(createHash('sha256').update(bytes).digest('hex'), f.sha256);
    }
    assert.deepEqual(manifest.files.map((f) => [f.name, f.rows]), [['metrics_summary.csv', 4], ['timeseries.csv', 7], ['timeseries.parquet', 7]]);
  });

  it('with per-phase results: the phases go into MANIFEST.json and metrics_summary.csv (rows counted), the time series stay the window\'s', async () => {
    const result = syntheticCollection('phased');
    result.phases = [{ name: 'steady', plan: result.plan, kpis: result.kpis, targetGaps: [] }];
    const written = await writeCollectionArtifacts(result, inputs);
    const csv = fs.readFileSync(path.join(written.dir, 'metrics_summary.csv'), 'utf8').split('\r\n').filter((l) => l !== '');
    assert.ok(csv[0]!.endsWith(',phase'));
    assert.equal(csv.filter((l) => l.endsWith(',steady')).length, 4);
    assert.deepEqual(written.manifest.files.map((f) => [f.name, f.rows]), [['metrics_summary.csv', 8], ['timeseries.csv', 7], ['timeseries.parquet', 7]]);
    assert.deepEqual(written.manifest.phases?.map((p) => p.name), ['steady']);
  });

  it('refuses output_dir outside the root before writing anything', async () => {
    await assert.rejects(
      writeCollectionArtifacts(syntheticCollection(), { ...inputs, outputDir: '../../etc' }),
      (err: unknown) => err instanceof BenchmonError && err.status === 400 && err.details?.field === 'output_dir',
    );
    assert.equal(fs.existsSync(path.join(root, 'bench-1')), false);
  });

  it('leaves nothing behind when a file cannot be written', async () => {
    const result = syntheticCollection('bench-2');
    // A series whose value is not a number makes the Parquet writer fail half-way.
    result.series.push({ kpi: 'throughput', scope: 'overall', labels: {}, timestampsMs: [1], values: ['oops' as unknown as number] });
    await assert.rejects(writeCollectionArtifacts(result, inputs));
    assert.deepEqual(fs.readdirSync(path.join(root, 'bench-2')), [], 'no staging or partial collection directory');
  });

  it('lists finished collections oldest first and reads their manifests back; staging directories are not listed', async () => {
    const parent = path.join(root, 'listing');
    const first = await writeCollectionArtifacts(syntheticCollection(), { ...inputs, outputDir: 'listing', now: new Date('2024-05-01T11:00:00Z') });
    const second = await writeCollectionArtifacts(syntheticCollection(), { ...inputs, outputDir: 'listing', now: new Date('2024-05-01T12:00:00Z') });
    fs.mkdirSync(path.join(parent, '.incomplete-20240501T130000Z-00000000-x'));
    assert.deepEqual(await listCollectionDirs(parent), [first.dir, second.dir]);
    assert.equal((await readCollectionManifest(second.dir)).collection_id, second.id);
    assert.deepEqual(await listCollectionDirs(path.join(root, 'nothing-here')), []);
    fs.writeFileSync(path.join(first.dir, 'MANIFEST.json'), '{"schema_version": 1}');
    await assert.rejects(readCollectionManifest(first.dir), /does not match the manifest schema/);
  });
});
