/**
 * Which KPIs share a plot panel. A recipe has no "group" field, but its names already say it:
 * ttft_p50, ttft_p95, ttft_p99 and ttft_mean are statistics of one quantity (time to first
 * token), so they belong on one pair of axes. A panel therefore holds the KPIs whose names differ
 * only by a trailing statistic (_p50, _p99_9, _mean, _avg, _max, _min, _median) and that share a
 * unit (two KPIs with one stem but different units would make a meaningless y axis).
 * Everything else is a panel of its own. Panels keep the recipe's order.
 */

/** A trailing statistic of a KPI name: _p50, _p999, _p99_9, _mean, _avg, _max, _min, _median. */
const STATISTIC_SUFFIX = /_(?:p\d{1,3}(?:_\d{1,3})?|mean|avg|max|min|median)$/;

export interface PanelKpi { name: string; unit: string }

export interface KpiPanel {
  /** Stable within a collection: "<stem>|<unit>". */
  id: string;
  /** The shared stem, e.g. "ttft", or the KPI's own name. */
  title: string;
  unit: string;
  /** KPI names, in recipe order. */
  kpis: string[];
}

/** The quantity a KPI measures: its name without a trailing statistic (never empty). */
export function kpiStem(name: string): string {
  const stem = name.replace(STATISTIC_SUFFIX, '');
  return stem === '' ? name : stem;
}

export function groupKpiPanels(kpis: readonly PanelKpi[]): KpiPanel[] {
  const panels = new Map<string, KpiPanel>();
  for (const k of kpis) {
    const title = kpiStem(k.name);
    const id = `${title}|${k.unit}`;
    const panel = panels.get(id);
    if (panel) panel.kpis.push(k.name);
    else panels.set(id, { id, title, unit: k.unit, kpis: [k.name] });
  }
  return [...panels.values()];
}
