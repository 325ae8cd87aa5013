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
import { CSV_LINE_END, csvField, csvRow } from './csv.js';

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
    // Every series of a window shares one time grid, and a series' kpi and labels are the same on
    // each of its rows: format those once, not per row (a 6 h window at 1 s has ~10^6 rows).
    const isoOf = new Map<number, string>();
    for (const s of series) {
      const middle = `,${csvField(s.kpi)},${csvField(seriesLabelText(s, sliceByOf(s.kpi)))},`;
      for (let i = 0; i < s.timestampsMs.length; i++) {
        const ms = s.timestampsMs[i]!;
        let iso = isoOf.get(ms);
        if (iso === undefined) isoOf.set(ms, (iso = new Date(ms).toISOString()));
        buffer += iso + middle + csvField(s.values[i] ?? null) + CSV_LINE_END;
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
  const bytes = new Uint8Array(buffer);
  if (rows === 0) fixEmptyRowGroupList(bytes);
  await fs.promises.writeFile(file, bytes, { flag: 'wx' });
  return rows;
}

/**
 * hyparquet-writer (0.17) writes an empty Thrift list with element type 0 (src/thrift.js,
 * getCompactTypeForList: `elemType ?? BYTE` never applies to 0). A window without data has no
 * rows, so FileMetaData.row_groups is such an empty list, and strict readers (arrow-rs, i.e.
 * parquet-wasm, DataFusion, Polars) refuse the file: "Expected list element type of Struct but
 * got Byte". Rewrites that one list header to "0 elements of type struct" in place.
 *
 * The footer's fields are in id order: … 3 num_rows (i64) = 0, 4 row_groups (list), so the
 * compact-protocol bytes are 0x16 0x00 (field 3, i64, zigzag 0) 0x19 (field 4, list) and the
 * list header 0x00 (size 0, type 0), which becomes 0x0C (size 0, struct).
 */
export function fixEmptyRowGroupList(file: Uint8Array): void {
  const n = file.length;
  const footerLength = new DataView(file.buffer, file.byteOffset, n).getUint32(n - 8, true);
  const start = n - 8 - footerLength;
  const at: number[] = [];
  for (let i = start; i + 3 < n - 8; i++) {
    if (file[i] === 0x16 && file[i + 1] === 0x00 && file[i + 2] === 0x19 && (file[i + 3] === 0x00 || file[i + 3] === 0x0c)) at.push(i + 3);
  }
  if (at.length !== 1) throw new Error(`timeseries.parquet: cannot locate the empty row_groups list in the footer (${at.length} candidates)`);
  file[at[0]!] = 0x0c;
}
