import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { syntheticCollection } from '../artifacts/testing/synthetic-collection.js';
import { writeCollectionArtifacts, type WrittenCollection } from '../artifacts/write-collection.js';
import { parseCsvLine, parseLabelText, readTimeseriesJson, timeseriesFromCsvLines } from './timeseries-json.js';

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'benchmon-tsjson-'));
after(() => fs.rmSync(root, { recursive: true, force: true }));

describe('timeseries.csv → plot JSON', () => {
  let written: WrittenCollection;
  before(async () => {
    written = await writeCollectionArtifacts(syntheticCollection(), { artifactsRoot: root, sessionLabels: {}, targets: [], prometheusConfigSha256: null });
  });

  it('reads what the collection wrote: one time axis, series aligned to it, slices with their labels', async () => {
    const json = await readTimeseriesJson(written.dir, written.manifest);
    const t0 = Date.parse(written.manifest.window.start) / 1000;
    assert.equal(json.collection_id, written.id);
    assert.deepEqual(json.timestamps, [t0, t0 + 15, t0 + 30]);
    assert.deepEqual(json.series.map((s) => [s.kpi, s.unit, s.slice, s.labels, s.values]), [
      ['throughput', 'req/s', 'overall', {}, [40, null, 43]],
      ['throughput', 'req/s', 'job="api, \\"v2\\"",instance="h:80"', { job: 'api, "v2"', instance: 'h:80' }, [40, 41, null]],
      // +Inf cannot be drawn: null, and counted.
      ['latency_p99', 's', 'overall', {}, [null, 0.5, null]],
    ]);
    assert.equal(json.non_finite_points, 1);
  });

  it('groups the manifest KPIs into panels, each listing the series it draws; a KPI without data keeps its panel', async () => {
    const json = await readTimeseriesJson(written.dir, written.manifest);
    assert.deepEqual(json.panels.map((p) => [p.id, p.kpis, p.series]), [
      ['throughput|req/s', ['throughput'], [0, 1]],
      ['gpu_utilisation|%', ['gpu_utilisation'], []],
      ['latency|s', ['latency_p99'], [2]],
    ]);
  });

  it('names the file and line of a malformed row', async () => {
    const manifest = { collection_id: 'x', kpis: [] };
    await assert.rejects(timeseriesFromCsvLines(['timestamp,kpi,labels,value', '2024-05-01T10:00:00.000Z,a,,1', '2024-05-01T10:00:00.000Z,a,,one'], manifest, 'f.csv'), /f\.csv line 3: value "one" is not a number/);
    await assert.rejects(timeseriesFromCsvLines(['time,value'], manifest, 'f.csv'), /f\.csv: the header is "time,value"/);
    await assert.rejects(timeseriesFromCsvLines(['timestamp,kpi,labels,value', 'yesterday,a,,1'], manifest, 'f.csv'), /line 2: timestamp "yesterday" is not a time/);
  });

  it('fails on a directory without timeseries.csv', async () => {
    await assert.rejects(readTimeseriesJson(path.join(root, 'nothing-here'), { collection_id: 'x', kpis: [] }), /ENOENT/);
  });

  it('splits CSV lines with RFC 4180 quoting, and reads label text back', () => {
    assert.deepEqual(parseCsvLine('a,"b,c","d ""e""",'), ['a', 'b,c', 'd "e"', '']);
    assert.deepEqual(parseCsvLine(''), ['']);
    assert.throws(() => parseCsvLine('"open'), /unterminated/);
    assert.deepEqual(parseLabelText('job="a,b",instance="h:1",x="\\"q\\"\\n"'), { job: 'a,b', instance: 'h:1', x: '"q"\n' });
    assert.deepEqual(parseLabelText(''), {});
    assert.throws(() => parseLabelText('job=a'), /cannot read them/);
  });
});
