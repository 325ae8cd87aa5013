/**
 * Recipe → Grafana dashboard (the classic dashboard JSON model that Grafana 11 and 12 load from
 * provisioned files). Pure: no I/O, the same recipe always gives the same JSON, so the committed
 * files under grafana/ can be checked against this generator.
 *
 * Each KPI of the recipe becomes two panels, because a window KPI has two readings:
 *  - a **stat** panel in the first row, "what `benchmon collect` would report if the window were
 *    the dashboard's time range": `${window}` → `$__range`, an instant query at the range's end,
 *    the overall value (`${by}` empty). Set the time picker to the benchmark window and these
 *    are the collection's KPIs.
 *  - a **time series** panel, the KPI over time: `${window}` → `$__rate_interval`, a sliding
 *    window. Grafana defines it as max(4 × scrape interval, $__interval + scrape interval) — the
 *    same rule benchmon uses for timeseries.csv (src/collect/window.ts) — so every point sees at
 *    least four samples and no scrape falls between two points. `$__range` would be wrong here:
 *    each point would aggregate a trailing window as long as the whole dashboard, reaching back
 *    before the benchmark and flattening every change. For `delta` KPIs (energy) a point is the
 *    increase within its sliding window; the stat panel has the total over the range.
 *    One line for the overall value and, when the KPI has slices, one per slice
 *    (`${by}` → its slice labels, e.g. job, instance).
 * In both, `${session}` → `session="$session"` (the dashboard's `session` variable) and
 * `${step}` → `$__interval`. A KPI with a `fallback_query` (older metric names) is drawn from
 * `(query) or (fallback_query)`: per series, the current name wins where both exist.
 *
 * Time series panels are grouped in rows by unit (throughput, latency, utilisation, …), in recipe
 * order.
 */
import { createHash } from 'node:crypto';
import { expandQueryTemplate } from '../collect/recipes/query-template.js';
import { KPI_METHODS, type Recipe, type ResolvedKpi } from '../collect/recipes/schema.js';

/** The provisioned Prometheus data source: every panel and the variable point at this uid. */
export const DATASOURCE_UID = 'benchmon-prometheus';
export const DATASOURCE_NAME = 'benchmon Prometheus';
export const DATASOURCE_REF = { type: 'prometheus', uid: DATASOURCE_UID } as const;
export type DatasourceRef = typeof DATASOURCE_REF;

/**
 * Grafana 11.0's dashboard schema version. Grafana migrates older versions on load, never
 * refuses them, so the oldest version of the range we support is the one that loads everywhere.
 */
export const DASHBOARD_SCHEMA_VERSION = 39;

/** Name of the dashboard variable that selects the session. */
export const SESSION_VARIABLE = 'session';
/** The variable's query: the session label of every scraped target (benchmon puts it on each). */
export const SESSION_VARIABLE_QUERY = 'label_values(up, session)';

/** What the placeholders become in each kind of panel. */
export const SERIES_WINDOW = '$__rate_interval';
export const RANGE_WINDOW = '$__range';
export const STEP = '$__interval';

const GRID_COLUMNS = 24;
const STAT = { w: 4, h: 4 } as const;
const SERIES_MIN_WIDTH = 8;
const SERIES_HEIGHT = 8;

export interface GridPos {
  x: number;
  y: number;
  w: number;
  h: number;
}

export interface PrometheusTarget {
  datasource: DatasourceRef;
  refId: string;
  expr: string;
  legendFormat: string;
  editorMode: 'code';
  range: boolean;
  instant: boolean;
}

export interface RowPanel {
  type: 'row';
  id: number;
  title: string;
  gridPos: GridPos;
  collapsed: false;
  panels: [];
}

export interface QueryPanel {
  type: 'stat' | 'timeseries';
  id: number;
  title: string;
  description: string;
  gridPos: GridPos;
  datasource: DatasourceRef;
  targets: PrometheusTarget[];
  fieldConfig: { defaults: Record<string, unknown>; overrides: [] };
  options: Record<string, unknown>;
}

export type Panel = RowPanel | QueryPanel;

export interface QueryVariable {
  type: 'query';
  name: string;
  label: string;
  description: string;
  datasource: DatasourceRef;
  /** The Prometheus variable editor's form (Grafana ≥ 10); `query` is what it runs. */
  query: { qryType: 1; label: string; metric: string; query: string; refId: string };
  definition: string;
  refresh: 2;
  sort: 1;
  regex: '';
  multi: false;
  includeAll: false;
  hide: 0;
  current: Record<string, never>;
  options: [];
  skipUrlSync: false;
}

export interface GrafanaDashboard {
  id: null;
  uid: string;
  title: string;
  description: string;
  tags: string[];
  timezone: 'utc';
  editable: true;
  graphTooltip: 1;
  fiscalYearStartMonth: 0;
  liveNow: false;
  schemaVersion: number;
  version: 1;
  refresh: string;
  time: { from: string; to: string };
  timepicker: Record<string, never>;
  templating: { list: QueryVariable[] };
  annotations: { list: [] };
  links: Array<Record<string, unknown>>;
  panels: Panel[];
}

/** Grafana unit ids (packages/grafana-data/src/valueFormats/categories.ts) for the units recipes use. */
const GRAFANA_UNITS: Record<string, string> = {
  '%': 'percent',
  s: 's',
  ms: 'ms',
  'req/s': 'reqps',
  'bytes/s': 'Bps',
  bytes: 'decbytes',
  MiB: 'mbytes',
  W: 'watt',
  J: 'joule',
};

/** A recipe unit as a Grafana unit: a known id, otherwise the unit as a suffix. */
export function grafanaUnit(unit: string): string {
  return GRAFANA_UNITS[unit] ?? `suffix: ${unit}`;
}

const ROW_TITLES: Record<string, string> = {
  'req/s': 'Request throughput',
  'tokens/s': 'Token throughput',
  s: 'Latency',
  ms: 'Latency',
  '%': 'Utilisation and shares',
  'bytes/s': 'Data rates',
  W: 'Power',
  J: 'Energy',
  MiB: 'Memory',
  processes: 'Load',
  points: 'Stored points',
};

function rowTitle(unit: string): string {
  return `Over time · ${ROW_TITLES[unit] ?? 'Unit'} (${unit})`;
}

/**
 * A session id that stands for `$session` while the recipe's own expander fills the template
 * (it accepts only valid session ids and writes the matcher itself); swapped for the variable after.
 */
const SESSION_STAND_IN = 'benchmon-grafana-session-stand-in';

/**
 * A query template as Grafana PromQL: `${session}` → `session="$session"`, `${window}` → window,
 * `${step}` → `$__interval`, `${by}` → the labels (empty: the overall value).
 */
export function grafanaExpr(template: string, window: string, by: readonly string[]): string {
  if (template.includes(SESSION_STAND_IN)) throw new Error(`query template contains ${SESSION_STAND_IN}`);
  const expanded = expandQueryTemplate(template, { sessionId: SESSION_STAND_IN, window, step: STEP, by });
  return expanded.split(`session="${SESSION_STAND_IN}"`).join(`session="$${SESSION_VARIABLE}"`);
}

/** The KPI's expression, with its fallback query (if any) as the right side of `or`. */
export function kpiExpr(kpi: ResolvedKpi, window: string, by: readonly string[]): string {
  const primary = grafanaExpr(kpi.query, window, by);
  if (kpi.fallback_query === undefined) return primary;
  return `(${primary}) or (${grafanaExpr(kpi.fallback_query, window, by)})`;
}

function target(refId: string, expr: string, legendFormat: string, kind: 'range' | 'instant'): PrometheusTarget {
  return { datasource: DATASOURCE_REF, refId, expr, legendFormat, editorMode: 'code', range: kind === 'range', instant: kind === 'instant' };
}

function sentence(text: string | undefined): string {
  if (!text) return '';
  const t = text.trim();
  return /[.!?]$/.test(t) ? `${t} ` : `${t}. `;
}

function statPanel(kpi: ResolvedKpi, id: number, gridPos: GridPos): QueryPanel {
  return {
    type: 'stat',
    id,
    title: kpi.name,
    description:
      `${sentence(kpi.description)}Over the whole dashboard time range, evaluated at its end: what benchmon collect reports ` +
      `for a window equal to the time range (method ${kpi.method}: ${KPI_METHODS[kpi.method]}). ` +
      `${kpi.higher_is_better ? 'Higher' : 'Lower'} is better.`,
    gridPos,
    datasource: DATASOURCE_REF,
    targets: [target('A', kpiExpr(kpi, RANGE_WINDOW, []), kpi.name, 'instant')],
    fieldConfig: {
      defaults: {
        unit: grafanaUnit(kpi.unit),
        // A KPI without data is empty with a reason, never 0 (DESIGN.md §5).
        noValue: 'no data',
        color: { mode: 'thresholds' },
        thresholds: { mode: 'absolute', steps: [{ color: 'text', value: null }] },
      },
      overrides: [],
    },
    options: {
      reduceOptions: { calcs: ['lastNotNull'], fields: '', values: false },
      colorMode: 'none',
      graphMode: 'none',
      justifyMode: 'auto',
      orientation: 'auto',
      textMode: 'value',
      wideLayout: true,
      showPercentChange: false,
    },
  };
}

function seriesPanel(kpi: ResolvedKpi, id: number, gridPos: GridPos): QueryPanel {
  const targets = [target('A', kpiExpr(kpi, SERIES_WINDOW, []), 'all', 'range')];
  if (kpi.slice_by.length > 0) {
    targets.push(target('B', kpiExpr(kpi, SERIES_WINDOW, kpi.slice_by), kpi.slice_by.map((l) => `{{${l}}}`).join(' '), 'range'));
  }
  return {
    type: 'timeseries',
    id,
    title: `${kpi.name} (${kpi.unit})`,
    description:
      `${sentence(kpi.description)}Over time: each point is method ${kpi.method} over a sliding window of Grafana's rate interval ` +
      `(max(4 × scrape interval, interval + scrape interval), as in benchmon's timeseries.csv). ` +
      `"all" is the overall value${kpi.slice_by.length > 0 ? `; the other lines are per ${kpi.slice_by.join(', ')}` : ''}.`,
    gridPos,
    datasource: DATASOURCE_REF,
    targets,
    fieldConfig: {
      defaults: {
        unit: grafanaUnit(kpi.unit),
        color: { mode: 'palette-classic' },
        custom: { drawStyle: 'line', lineWidth: 1, fillOpacity: 0, showPoints: 'never', spanNulls: false, axisSoftMin: 0 },
      },
      overrides: [],
    },
    options: {
      legend: { showLegend: true, displayMode: 'list', placement: 'bottom', calcs: [] },
      tooltip: { mode: 'multi', sort: 'desc' },
    },
  };
}

/** A uid Grafana accepts (at most 40 characters of [A-Za-z0-9_-]) for a recipe's dashboard. */
export function dashboardUid(recipeName: string): string {
  const uid = `benchmon-${recipeName}`;
  if (uid.length <= 40) return uid;
  return `${uid.slice(0, 31)}-${createHash('sha256').update(recipeName).digest('hex').slice(0, 8)}`;
}

function sessionVariable(): QueryVariable {
  return {
    type: 'query',
    name: SESSION_VARIABLE,
    label: 'Session',
    description: 'The benchmon session: every query selects only the series of this session.',
    datasource: DATASOURCE_REF,
    query: { qryType: 1, label: SESSION_VARIABLE, metric: 'up', query: SESSION_VARIABLE_QUERY, refId: 'PrometheusVariableQueryEditor-VariableQuery' },
    definition: SESSION_VARIABLE_QUERY,
    // 2 = on time range change: a session created after the dashboard was opened shows up.
    refresh: 2,
    sort: 1,
    regex: '',
    multi: false,
    includeAll: false,
    hide: 0,
    current: {},
    options: [],
    skipUrlSync: false,
  };
}

/** Lays panels out left to right in rows of 24 columns, starting at y; returns the next free y. */
function flow<T>(items: readonly T[], size: { w: number; h: number }, y: number, make: (item: T, pos: GridPos) => Panel, out: Panel[]): number {
  const perLine = Math.floor(GRID_COLUMNS / size.w);
  items.forEach((item, i) => {
    out.push(make(item, { x: (i % perLine) * size.w, y: y + Math.floor(i / perLine) * size.h, w: size.w, h: size.h }));
  });
  return y + Math.ceil(items.length / perLine) * size.h;
}

/** The dashboard of one recipe. */
export function recipeDashboard(recipe: Recipe): GrafanaDashboard {
  const panels: Panel[] = [];
  let id = 1;
  const row = (title: string, y: number): RowPanel => ({ type: 'row', id: id++, title, gridPos: { x: 0, y, w: GRID_COLUMNS, h: 1 }, collapsed: false, panels: [] });

  let y = 0;
  panels.push(row('Window values over the dashboard time range (what benchmon collect reports for it)', y));
  y = flow(recipe.kpis, STAT, y + 1, (kpi, pos) => statPanel(kpi, id++, pos), panels);

  const units: string[] = [];
  for (const k of recipe.kpis) if (!units.includes(k.unit)) units.push(k.unit);
  for (const unit of units) {
    const kpis = recipe.kpis.filter((k) => k.unit === unit);
    // Up to three panels a line; one or two take the whole width between them.
    const size = { w: GRID_COLUMNS / Math.min(kpis.length, GRID_COLUMNS / SERIES_MIN_WIDTH), h: SERIES_HEIGHT };
    panels.push(row(rowTitle(unit), y));
    y = flow(kpis, size, y + 1, (kpi, pos) => seriesPanel(kpi, id++, pos), panels);
  }

  return {
    id: null,
    uid: dashboardUid(recipe.name),
    title: `benchmon · ${recipe.name}`,
    description: `${sentence(recipe.description)}Generated from benchmon's ${recipe.name} recipe by \`benchmon grafana\`; pick the session above.`.trim(),
    tags: ['benchmon', recipe.name],
    timezone: 'utc',
    editable: true,
    graphTooltip: 1,
    fiscalYearStartMonth: 0,
    liveNow: false,
    schemaVersion: DASHBOARD_SCHEMA_VERSION,
    version: 1,
    refresh: '30s',
    time: { from: 'now-1h', to: 'now' },
    timepicker: {},
    templating: { list: [sessionVariable()] },
    annotations: { list: [] },
    // The other benchmon dashboards, keeping the session and the time range.
    links: [{ type: 'dashboards', title: 'benchmon', tags: ['benchmon'], asDropdown: true, includeVars: true, keepTime: true, icon: 'external link', targetBlank: false, tooltip: '', url: '' }],
    panels,
  };
}

/** The dashboard as file content: 2-space JSON with a final newline. */
export function renderDashboardJson(dashboard: GrafanaDashboard): string {
  return `${JSON.stringify(dashboard, null, 2)}\n`;
}
