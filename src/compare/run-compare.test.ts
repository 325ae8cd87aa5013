import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { syntheticCollection } from '../artifacts/testing/synthetic-collection.js';
import { writeCollectionArtifacts } from '../artifacts/write-collection.js';
import { BenchmonError } from '../errors.js';
import { readComparableManifest } from './comparable.js';
import { compareById, compareLoaded, type LoadedCollection } from './run-compare.js';
import { loaded } from './testing/crafted-manifest.js';

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'benchmon-compare-'));
after(() => fs.rmSync(root, { recursive: true, force: true }));

function rejectsWith(code: string, check: (err: BenchmonError) => void) {
  return (err: unknown) => {
    assert.ok(err instanceof BenchmonError, String(err));
    assert.equal(err.code, code, err.message);
    check(err);
    return true;
  };
}

describe('compareById', () => {
  const a = loaded([['throughput', 100, true]]);
  const b = loaded([['throughput', 80, true]]);
  const store = new Map<string, LoadedCollection>([[a.manifest.collection_id, a], [b.manifest.collection_id, b]]);
  const idA = a.manifest.collection_id;
  const idB = b.manifest.collection_id;
  let loads = 0;
  const load = async (id: string) => {
    loads++;
    const c = store.get(id);
    if (!c) throw new BenchmonError('COLLECTION_NOT_FOUND', `no collection ${id}`, { details: { collection_id: id } });
    return c;
  };

  it('compares by id and applies an inline gate', async () => {
    const r = await compareById({ candidate: idB, baseline: idA, gate: { kpis: { throughput: { max_regression: '5%' } } } }, load);
    assert.equal(r.candidate.collection_id, idB);
    assert.deepEqual(r.baseline.map((x) => x.collection_id), [idA]);
    assert.equal(r.kpis[0]?.ratio, 0.8);
    assert.equal(r.gate?.passed, false);
  });

  it('an unknown collection is a 404 naming it and where it was given', async () => {
    const unknown = '20990101T000000Z-deadbeef';
    await assert.rejects(compareById({ candidate: idB, baseline: [idA, unknown] }, load), rejectsWith('COLLECTION_NOT_FOUND', (err) => {
      assert.equal(err.status, 404);
      assert.equal(err.message, `baseline[1]: no collection ${unknown}`);
      assert.deepEqual(err.details, { field: 'baseline[1]', collection_id: unknown });
    }));
    await assert.rejects(compareById({ candidate: unknown, baseline: idA }, load), /^BenchmonError: candidate: no collection/);
  });

  it('checks the gate before reading any collection', async () => {
    loads = 0;
    await assert.rejects(compareById({ candidate: idB, baseline: idA, gate: { kpis: { throughput: { max_regresion: '5%' } } } }, load), rejectsWith('GATE_INVALID', (err) => {
      assert.equal(err.details?.field, 'gate.kpis.throughput.max_regresion');
    }));
    assert.equal(loads, 0);
  });

  it('refuses a baseline that repeats a collection or contains the candidate', async () => {
    await assert.rejects(compareById({ candidate: idB, baseline: [idA, idA] }, load), rejectsWith('VALIDATION_FAILED', (err) => assert.equal(err.details?.field, 'baseline[1]')));
    await assert.rejects(compareById({ candidate: idB, baseline: [idB] }, load), rejectsWith('VALIDATION_FAILED', (err) => assert.equal(err.details?.field, 'baseline')));
    await assert.rejects(compareById({ candidate: idB, baseline: [] }, load), rejectsWith('VALIDATION_FAILED', (err) => assert.equal(err.details?.field, 'baseline')));
  });

  it('a collection whose manifest cannot be read is a 422 naming it', async () => {
    const broken = async () => {
      throw new Error('/artifacts/x/MANIFEST.json does not match the manifest schema');
    };
    await assert.rejects(compareById({ candidate: idB, baseline: idA }, broken), rejectsWith('COLLECTION_UNREADABLE', (err) => {
      assert.equal(err.status, 422);
      assert.match(err.message, new RegExp(`^candidate: collection ${idB}: /artifacts/x/MANIFEST.json does not match`));
    }));
  });
});

describe('collection directories read for a comparison (no server)', () => {
  const inputs = { artifactsRoot: root, sessionLabels: {}, targets: [], prometheusConfigSha256: null };

  it('reads real manifests as written by a collection, by directory or by MANIFEST.json', async () => {
    const first = await writeCollectionArtifacts(syntheticCollection(), inputs);
    const second = await writeCollectionArtifacts(syntheticCollection(), inputs);
    const a = await readComparableManifest(first.dir);
    const b = await readComparableManifest(second.manifestPath);
    assert.equal(a.manifest.collection_id, first.id);
    const r = compareLoaded({ manifest: b.manifest, source: second.dir }, [{ manifest: a.manifest, source: first.dir }]);
    assert.deepEqual(r.kpis.map((k) => [k.name, k.verdict]), [['throughput', 'no_noise_estimate'], ['gpu_utilisation', 'no_value'], ['latency_p99', 'no_noise_estimate']]);
    assert.equal(r.kpis[0]?.ratio, 1);
    assert.match(r.kpis[2]?.note ?? '', /\+Inf bucket: that value is only a floor/);
  });

  it('tolerates fields it does not know (a manifest of another benchmon version, with phases)', async () => {
    const dir = path.join(root, 'newer');
    fs.mkdirSync(dir);
    const m = { ...loaded([['throughput', 10, true]]).manifest, schema_version: 2, something_new: { x: 1 }, phases: [{ name: 'steady', start: 'a', end: 'b', kpis: [{ name: 'throughput', value: 12, extra: true }] }] };
    fs.writeFileSync(path.join(dir, 'MANIFEST.json'), JSON.stringify(m));
    const { manifest } = await readComparableManifest(dir);
    const r = compareLoaded({ manifest, source: dir }, [loaded([['throughput', 10, true]], { phases: [{ name: 'steady', kpis: [{ name: 'throughput', value: 10 }] }] })], { phase: 'steady' });
    assert.equal(r.phase, 'steady');
    assert.equal(r.kpis[0]?.candidate, 12);
    assert.equal(r.kpis[0]?.verdict, 'no_noise_estimate');
    assert.equal(r.kpis[0]?.change, 'better');
  });

  it('a missing directory, a directory without MANIFEST.json, bad JSON or a foreign JSON name the file and what is wrong', async () => {
    await assert.rejects(readComparableManifest(path.join(root, 'nope')), rejectsWith('COLLECTION_UNREADABLE', (err) => assert.match(err.message, /nope: no such file or directory/)));
    const empty = path.join(root, 'empty');
    fs.mkdirSync(empty);
    await assert.rejects(readComparableManifest(empty), /empty\/MANIFEST\.json: not found \(is this a collection directory\?\)/);
    const bad = path.join(root, 'bad');
    fs.mkdirSync(bad);
    fs.writeFileSync(path.join(bad, 'MANIFEST.json'), '{"collection_id": ');
    await assert.rejects(readComparableManifest(bad), /bad\/MANIFEST\.json: not JSON/);
    fs.writeFileSync(path.join(bad, 'MANIFEST.json'), JSON.stringify({ collection_id: 'x', session: { session_id: 's' }, window: { start: 'a', end: 'b' }, kpis: [{ name: 'throughput', value: 'fast' }] }));
    await assert.rejects(readComparableManifest(bad), /bad\/MANIFEST\.json: not a benchmon collection manifest: kpis\.0\.value: /);
  });
});
