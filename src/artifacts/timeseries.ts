/**
 * The window's time series in long format, one row per (timestamp, kpi, labels): timeseries.csv
 * (streamed, so a long window is never one giant string) and timeseries.parquet (hyparquet-writer;
 * timestamp as a UTC millisecond TIMESTAMP, value a nullable DOUBLE).
 */
import fs from 'node:fs';
import { finished } from 'node:stream/promises';
import { parquetWriteBuffer } from 'hyparquet-writer';
import type { KpiSeries } from '../collect/collector.js';
import { labelSetText } from '../collect/kpi.js';
import { csvRow } from './csv.js';

export const TIMESERIES_COLUMNS = ['timestamp', 'kpi', 'labels', 'value'] as const;

/** Label text of a series: its slice labels first, as in metrics_summary.csv; "" for an overall series without labels. */
export function seriesLabelText(series: KpiSeries, sliceBy: readonly string[] = []): string {
  return labelSetText(series.labels, sliceBy);
}

export function countTimeseriesRows(series: readonly KpiSeries[]): number {
  return series.reduce((n, s) => n + s.timestampsMs.length, 0);
}

export async function writeTimeseriesCsv(file: string, series: readonly KpiSeries[], sliceByOf: (kpi: string) => readonly string[] = () => []): Promise<number> {
  const out = fs.createWriteStream(file, { flags: 'wx' });
  let rows = 0;
  let buffer = csvRow(TIMESERIES_COLUMNS);
  const flush = async () => {
    if (!out.write(buffer)) await new Promise<void>((resolve) => out.once('drain', resolve));
    buffer = '';
  };
  try {
    for (const s of series) {
      const labels = seriesLabelText(s, sliceByOf(s.kpi));
      for (let i = 0; i < s.timestampsMs.length; i++) {
        buffer += csvRow([new Date(s.timestampsMs[i]!).toISOString(), s.kpi, labels, s.values[i] ?? null]);
        rows++;
        if (buffer.length > 1 << 16) await flush();
      }
    }
    out.end(buffer);
    await finished(out);
  } catch (err) {
    out.destroy();
    throw err;
  }
  return rows;
}

export async function writeTimeseriesParquet(file: string, series: readonly KpiSeries[], sliceByOf: (kpi: string) => readonly string[] = () => [], createdBy = 'benchmon'): Promise<number> {
  const rows = countTimeseriesRows(series);
  const timestamps = new Array<number>(rows);
  const kpis = new Array<string>(rows);
  const labels = new Array<string>(rows);
  const values = new Array<number | null>(rows);
  let r = 0;
  for (const s of series) {
    const labelText = seriesLabelText(s, sliceByOf(s.kpi));
    for (let i = 0; i < s.timestampsMs.length; i++, r++) {
      timestamps[r] = s.timestampsMs[i]!;
      kpis[r] = s.kpi;
      labels[r] = labelText;
      values[r] = s.values[i] ?? null;
    }
  }
  const buffer = parquetWriteBuffer({
    columnData: [
      { name: 'timestamp', data: timestamps, type: 'TIMESTAMP', nullable: false },
      { name: 'kpi', data: kpis, type: 'STRING', nullable: false },
      { name: 'labels', data: labels, type: 'STRING', nullable: false },
      { name: 'value', data: values, type: 'DOUBLE', nullable: true },
    ],
    createdBy,
  });
  await fs.promises.writeFile(file, new Uint8Array(buffer), { flag: 'wx' });
  return rows;
}
