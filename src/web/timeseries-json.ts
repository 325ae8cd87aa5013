/**
 * A collection's timeseries.csv as the JSON the plots draw (GET /api/v1/collections/{id}/timeseries
 * and the data island of report.html): one shared time axis in Unix seconds, one value array per
 * series aligned to it (null where the series has no point), and the KPI panels of kpi-panels.ts
 * with the series each one draws.
 *
 * The CSV is read line by line: a field never holds a raw line break, because kpi names are
 * snake_case and label values are JSON-quoted in the labels column (a newline becomes "\n").
 */
import fs from 'node:fs';
import path from 'node:path';
import readline from 'node:readline';
import { TIMESERIES_COLUMNS } from '../artifacts/timeseries.js';
import { ARTIFACT_FILES } from '../artifacts/write-collection.js';
import { groupKpiPanels, type KpiPanel } from './kpi-panels.js';

export interface TimeseriesSeries {
  kpi: string;
  unit: string;
  /** "overall", or the slice's label text as in metrics_summary.csv (`job="a",instance="h:1"`). */
  slice: string;
  labels: Record<string, string>;
  values: Array<number | null>;
}

export interface TimeseriesPanel extends KpiPanel {
  /** Indices into `series` of what this panel draws (overall series first, then slices). */
  series: number[];
}

export interface TimeseriesJson {
  collection_id: string;
  /** Every point's time, Unix seconds, ascending: the union of the series' time grids. */
  timestamps: number[];
  series: TimeseriesSeries[];
  panels: TimeseriesPanel[];
  /** Points written as +Inf or -Inf: a plot cannot draw them, so they are null here and counted. */
  non_finite_points: number;
}

/** What this module needs of a manifest (the full Manifest fits). */
export interface TimeseriesManifest {
  collection_id: string;
  kpis: ReadonlyArray<{ name: string; unit: string }>;
}

/** One CSV line (RFC 4180 quoting, no line breaks inside fields) as its fields. */
export function parseCsvLine(line: string): string[] {
  const fields: string[] = [];
  let i = 0;
  for (;;) {
    if (line[i] === '"') {
      let value = '';
      i++;
      for (;;) {
        const q = line.indexOf('"', i);
        if (q < 0) throw new Error('unterminated quoted field');
        value += line.slice(i, q);
        if (line[q + 1] === '"') {
          value += '"';
          i = q + 2;
        } else {
          i = q + 1;
          break;
        }
      }
      fields.push(value);
      if (i === line.length) return fields;
      if (line[i] !== ',') throw new Error(`expected a comma after a quoted field at column ${i + 1}`);
      i++;
    } else {
      const comma = line.indexOf(',', i);
      if (comma < 0) {
        fields.push(line.slice(i));
        return fields;
      }
      fields.push(line.slice(i, comma));
      i = comma + 1;
    }
  }
}

const LABEL_PAIR = /([A-Za-z_][A-Za-z0-9_]*)=("(?:[^"\\]|\\.)*")(?:,|$)/y;

/** The labels column (`job="a",instance="h:1"`, values JSON-quoted) back as an object; "" is {}. */
export function parseLabelText(text: string): Record<string, string> {
  const labels: Record<string, string> = {};
  LABEL_PAIR.lastIndex = 0;
  while (LABEL_PAIR.lastIndex < text.length) {
    const at = LABEL_PAIR.lastIndex;
    const m = LABEL_PAIR.exec(text);
    if (!m) throw new Error(`labels ${JSON.stringify(text)}: cannot read them from character ${at + 1}`);
    labels[m[1]!] = JSON.parse(m[2]!) as string;
  }
  return labels;
}

/** A value cell: "" is no value; ±Inf are kept apart so the caller can count them. */
function parseValueCell(cell: string): number | null | 'inf' {
  if (cell === '') return null;
  if (cell === '+Inf' || cell === '-Inf' || cell === 'Inf') return 'inf';
  const v = Number(cell);
  if (!Number.isFinite(v) || cell.trim() !== cell) throw new Error(`value ${JSON.stringify(cell)} is not a number`);
  return v;
}

interface RawSeries { kpi: string; slice: string; points: Map<number, number | null> }

/** Builds the JSON from the lines of a timeseries.csv (header first); `where` names the file in errors. */
export async function timeseriesFromCsvLines(lines: AsyncIterable<string> | Iterable<string>, manifest: TimeseriesManifest, where: string = ARTIFACT_FILES.timeseriesCsv): Promise<TimeseriesJson> {
  const raw = new Map<string, RawSeries>();
  const times = new Set<number>();
  let nonFinite = 0;
  let lineNo = 0;
  for await (const line of lines) {
    lineNo++;
    if (lineNo === 1) {
      if (line.replace(/^\uFEFF/, '') !== TIMESERIES_COLUMNS.join(',')) throw new Error(`${where}: the header is ${JSON.stringify(line)}, expected ${TIMESERIES_COLUMNS.join(',')}`);
      continue;
    }
    if (line === '') continue;
    try {
      const cells = parseCsvLine(line);
      if (cells.length !== TIMESERIES_COLUMNS.length) throw new Error(`${cells.length} fields, expected ${TIMESERIES_COLUMNS.length}`);
      const [timestamp, kpi, labels, value] = cells as [string, string, string, string];
      const ms = Date.parse(timestamp);
      if (Number.isNaN(ms)) throw new Error(`timestamp ${JSON.stringify(timestamp)} is not a time`);
      const key = `${kpi}\u0000${labels}`;
      let series = raw.get(key);
      if (!series) raw.set(key, (series = { kpi, slice: labels, points: new Map() }));
      const parsed = parseValueCell(value);
      if (parsed === 'inf') nonFinite++;
      series.points.set(ms, parsed === 'inf' ? null : parsed);
      times.add(ms);
    } catch (err) {
      throw new Error(`${where} line ${lineNo}: ${(err as Error).message}`, { cause: err });
    }
  }

  const sortedMs = [...times].sort((a, b) => a - b);
  const unitOf = new Map(manifest.kpis.map((k) => [k.name, k.unit]));
  const kpiOrder = new Map(manifest.kpis.map((k, i) => [k.name, i]));
  // Recipe order, and within a KPI the overall series first, then the slices by label text.
  const ordered = [...raw.values()].sort((a, b) =>
    (kpiOrder.get(a.kpi) ?? Number.MAX_SAFE_INTEGER) - (kpiOrder.get(b.kpi) ?? Number.MAX_SAFE_INTEGER)
    || a.kpi.localeCompare(b.kpi)
    || (a.slice === '' ? -1 : b.slice === '' ? 1 : a.slice.localeCompare(b.slice)));
  const series: TimeseriesSeries[] = ordered.map((s) => ({
    kpi: s.kpi,
    unit: unitOf.get(s.kpi) ?? '',
    slice: s.slice === '' ? 'overall' : s.slice,
    labels: parseLabelText(s.slice),
    values: sortedMs.map((ms) => s.points.get(ms) ?? null),
  }));

  // KPIs of the manifest without any series still get their panel (it says "no data"); series of
  // KPIs the manifest does not know (a hand-edited file) get one too, rather than vanish.
  const known = manifest.kpis.map((k) => ({ name: k.name, unit: k.unit }));
  const unknown = [...new Set(series.filter((s) => !kpiOrder.has(s.kpi)).map((s) => s.kpi))].map((name) => ({ name, unit: '' }));
  const panels = groupKpiPanels([...known, ...unknown]).map((p) => ({
    ...p,
    series: series.flatMap((s, i) => (p.kpis.includes(s.kpi) ? [i] : [])),
  }));
  return { collection_id: manifest.collection_id, timestamps: sortedMs.map((ms) => ms / 1000), series, panels, non_finite_points: nonFinite };
}

/** Reads `<dir>/timeseries.csv` (that file only) into the plots' JSON. */
export async function readTimeseriesJson(dir: string, manifest: TimeseriesManifest): Promise<TimeseriesJson> {
  const file = path.join(dir, ARTIFACT_FILES.timeseriesCsv);
  const input = fs.createReadStream(file, { encoding: 'utf8' });
  const lines = readline.createInterface({ input, crlfDelay: Number.POSITIVE_INFINITY });
  try {
    return await timeseriesFromCsvLines(lines, manifest, file);
  } finally {
    lines.close();
    input.destroy();
  }
}
