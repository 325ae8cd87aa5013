/**
 * metrics_summary.csv: one row per KPI value, overall first, then per slice. A KPI without any
 * value still gets its overall row, with an empty value and the reason in `note`.
 */
import type { KpiResult, KpiValueRow } from '../collect/kpi.js';
import { labelSetText } from '../collect/kpi.js';
import { csvRow, type CsvCell } from './csv.js';

export const METRICS_SUMMARY_COLUMNS = ['kpi', 'slice', 'value', 'unit', 'method', 'lower_bound', 'upper_bound', 'series', 'coverage', 'note'] as const;

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

export function metricsSummaryRows(kpis: readonly KpiResult[]): CsvCell[][] {
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

export function renderMetricsSummaryCsv(kpis: readonly KpiResult[]): string {
  return csvRow(METRICS_SUMMARY_COLUMNS) + metricsSummaryRows(kpis).map(csvRow).join('');
}
