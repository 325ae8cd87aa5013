import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { tableFromIPC } from 'apache-arrow';
import { readParquet } from 'parquet-wasm/node';
import { syntheticCollection } from './testing/synthetic-collection.js';
import { writeTimeseriesCsv, writeTimeseriesParquet } from './timeseries.js';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'benchmon-timeseries-'));
after(() => fs.rmSync(dir, { recursive: true, force: true }));
const sliceByOf = () => ['job', 'instance'];

describe('timeseries.csv and timeseries.parquet', () => {
  const { series } = syntheticCollection();
  const t0 = series[0]!.timestampsMs[0]!;

  it('writes the long format, slice labels first, null as an empty cell', async () => {
    const file = path.join(dir, 'timeseries.csv');
    assert.equal(await writeTimeseriesCsv(file, series, sliceByOf), 7);
    const lines = fs.readFileSync(file, 'utf8').split('\r\n');
    assert.deepEqual(lines, [
      'timestamp,kpi,labels,value',
      `${new Date(t0).toISOString()},throughput,,40`,
      `${new Date(t0 + 15_000).toISOString()},throughput,,`,
      `${new Date(t0 + 30_000).toISOString()},throughput,,43`,
      `${new Date(t0).toISOString()},throughput,"job=""api, \\""v2\\"""",instance=""h:80""",40`,
      `${new Date(t0 + 15_000).toISOString()},throughput,"job=""api, \\""v2\\"""",instance=""h:80""",41`,
      `${new Date(t0).toISOString()},latency_p99,,+Inf`,
      `${new Date(t0 + 15_000).toISOString()},latency_p99,,0.5`,
      '',
    ]);
    await assert.rejects(writeTimeseriesCsv(file, series), /EEXIST/, 'never overwrites');
  });

  it('writes Parquet that an independent reader (parquet-wasm + Arrow) reads back row for row', async () => {
    const file = path.join(dir, 'timeseries.parquet');
    assert.equal(await writeTimeseriesParquet(file, series, sliceByOf), 7);
    const table = tableFromIPC(readParquet(new Uint8Array(fs.readFileSync(file))).intoIPCStream());
    assert.deepEqual(table.schema.fields.map((f) => `${f.name}:${String(f.type)}:${f.nullable}`), [
      'timestamp:Timestamp<MILLISECOND, UTC>:false',
      'kpi:Utf8:false',
      'labels:Utf8:false',
      'value:Float64:true',
    ]);
    const rows = table.toArray().map((r) => r.toJSON() as { timestamp: number; kpi: string; labels: string; value: number | null });
    assert.deepEqual(rows.map((r) => [r.timestamp - t0, r.kpi, r.labels, r.value]), [
      [0, 'throughput', '', 40],
      [15_000, 'throughput', '', null],
      [30_000, 'throughput', '', 43],
      [0, 'throughput', 'job="api, \\"v2\\"",instance="h:80"', 40],
      [15_000, 'throughput', 'job="api, \\"v2\\"",instance="h:80"', 41],
      [0, 'latency_p99', '', Number.POSITIVE_INFINITY],
      [15_000, 'latency_p99', '', 0.5],
    ]);
  });

  it('writes a window without any series (0 rows) as a Parquet file the independent reader accepts', async () => {
    const file = path.join(dir, 'empty.parquet');
    assert.equal(await writeTimeseriesParquet(file, [], sliceByOf), 0);
    const table = tableFromIPC(readParquet(new Uint8Array(fs.readFileSync(file))).intoIPCStream());
    assert.equal(table.numRows, 0);
    assert.deepEqual(table.schema.fields.map((f) => `${f.name}:${String(f.type)}`), [
      'timestamp:Timestamp<MILLISECOND, UTC>', 'kpi:Utf8', 'labels:Utf8', 'value:Float64',
    ]);
  });
});
