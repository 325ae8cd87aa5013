/**
 * metrics_summary.csv: one row per KPI value, overall first, then per slice. A KPI without any
 * value still gets its overall row, with an empty value and the reason in `note`.
 *
 * A collection with per-phase results adds a trailing `phase` column: empty on the whole
 * window's rows (which come first, exactly as without phases), then the same rows for each
 * phase with its name. Without phases the file is what it always was, so readers that know
 * only the ten columns keep working; readers by column name see the phase rows as extra rows.
 */
import type { KpiResult, KpiValueRow } from '../collect/kpi.js';
import { labelSetText } from '../collect/kpi.js';
import { csvRow, type CsvCell } from './csv.js';

export const METRICS_SUMMARY_COLUMNS = ['kpi', 'slice', 'value', 'unit', 'method', 'lower_bound', 'upper_bound', 'series', 'coverage', 'note'] as const;
/** The trailing column of a collection with per-phase results. */
export const PHASE_COLUMN = 'phase';

/** A phase's own KPIs, as the summary lists them. */
export interface PhaseKpis {
  name: string;
  kpis: readonly KpiResult[];
}

export function metricsSummaryColumns(phases: readonly PhaseKpis[] = []): string[] {
  return phases.length === 0 ? [...METRICS_SUMMARY_COLUMNS] : [...METRICS_SUMMARY_COLUMNS, PHASE_COLUMN];
}

/** The `slice` cell: "overall" for the overall value of a KPI, else the label set (`job="a",instance="b"`). */
export function sliceName(row: Pick<KpiValueRow, 'scope' | 'labels'>, sliceBy: readonly string[]): string {
  const text = labelSetText(row.labels, sliceBy);
  return row.scope === 'overall' && text === '' ? 'overall' : text;
}

/** Coverage as a fraction with 4 decimals: finer digits would only be noise of the sample counting. */
export function roundCoverage(coverage: number | null): number | null {
  return coverage === null ? null : Math.round(coverage * 10_000) / 10_000;
}

function boundCells(row: Pick<KpiValueRow, 'bounds'>): [CsvCell, CsvCell] {
  if (!row.bounds) return [null, null];
  return [row.bounds.lower, row.bounds.upper];
}

/** The rows (without the header): the whole window's, then each phase's when there are phases. */
export function metricsSummaryRows(kpis: readonly KpiResult[], phases: readonly PhaseKpis[] = []): CsvCell[][] {
  const rows = kpiRows(kpis);
  if (phases.length === 0) return rows;
  return [...rows.map((r) => [...r, null]), ...phases.flatMap((p) => kpiRows(p.kpis).map((r) => [...r, p.name]))];
}

function kpiRows(kpis: readonly KpiResult[]): CsvCell[][] {
  const rows: CsvCell[][] = [];
  for (const kpi of kpis) {
    const valueRows: Array<Pick<KpiValueRow, 'scope' | 'labels' | 'value' | 'note' | 'bounds' | 'quality'>> =
      kpi.rows.some((r) => r.scope === 'overall')
        ? kpi.rows
        : [{ scope: 'overall', labels: {}, value: null, note: kpi.note, bounds: null, quality: kpi.quality }, ...kpi.rows];
    const singleOverall = valueRows.filter((r) => r.scope === 'overall').length === 1;
    for (const row of valueRows) {
      // The KPI's note also carries what went wrong after its value (slices, series): show it on its one overall row.
      const note = singleOverall && row.scope === 'overall' ? kpi.note : row.note;
      rows.push([
        kpi.name, sliceName(row, kpi.slice_by), row.value, kpi.unit, kpi.method, ...boundCells(row),
        row.quality.series, roundCoverage(row.quality.coverage), note,
      ]);
    }
  }
  return rows;
}

export function renderMetricsSummaryCsv(kpis: readonly KpiResult[], phases: readonly PhaseKpis[] = []): string {
  return csvRow(metricsSummaryColumns(phases)) + metricsSummaryRows(kpis, phases).map(csvRow).join('');
}
