/*
 * One collection on a page: window, recipe, targets, KPI table (value, unit, bounds, coverage,
 * note, per-target slices), per-phase values, and the plots. The web UI's collection page and
 * report.html both call renderCollection, so they always show the same thing.
 */
(function (global) {
  'use strict';
  const { h, append, formatValue, formatBounds, formatCoverage, formatTime } = global.BenchmonDom;
  const { drawPanels } = global.BenchmonPlots;

  function definitionList(pairs) {
    return h('dl', { class: 'facts' }, pairs.filter(([, v]) => v !== null && v !== undefined && v !== '').map(([k, v]) => [h('dt', null, k), h('dd', null, v)]));
  }

  function labelText(labels) {
    const entries = Object.entries(labels || {});
    return entries.length === 0 ? '' : entries.map(([k, v]) => `${k}=${v}`).join(', ');
  }

  function table(id, headers, rows) {
    return h('table', { id, class: 'grid' }, h('thead', null, h('tr', null, headers.map((x) => h('th', null, x)))), h('tbody', null, rows));
  }

  function kpiRows(m) {
    return m.kpis.flatMap((k) => {
      const title = [k.description, `method: ${k.method}`, k.higher_is_better ? 'higher is better' : 'lower is better'].filter(Boolean).join(' · ');
      const main = h('tr', { class: `kpi${k.value === null ? ' no-value' : ''}`, dataset: { kpi: k.name } },
        h('td', { title }, h('code', null, k.name)),
        h('td', { class: 'num' }, k.value === null ? h('span', { class: 'muted' }, 'no value') : formatValue(k.value)),
        h('td', null, k.unit),
        h('td', { class: 'num' }, formatBounds(k), k.in_inf_bucket ? h('span', { class: 'badge warn', title: 'The percentile fell into the +Inf bucket: the value is only a floor' }, '+Inf bucket') : null),
        h('td', { class: 'num' }, formatCoverage(k.quality && k.quality.coverage)),
        h('td', { class: 'note' }, k.note || ''));
      const slices = (k.rows || []).filter((r) => r.scope === 'slice').map((r) =>
        h('tr', { class: 'slice', dataset: { kpi: k.name, slice: r.slice } },
          h('td', null, h('span', { class: 'slice-name' }, labelText(r.labels) || r.slice)),
          h('td', { class: 'num' }, formatValue(r.value)),
          h('td', null, k.unit),
          h('td', { class: 'num' }, formatBounds(r), r.in_inf_bucket ? h('span', { class: 'badge warn' }, '+Inf bucket') : null),
          h('td', { class: 'num' }, formatCoverage(r.quality && r.quality.coverage)),
          h('td', { class: 'note' }, r.note || '')));
      return [main, ...slices];
    });
  }

  /** Per-phase KPI values side by side; a phase's KPIs are matched by name, else by position. */
  function phaseSection(m) {
    const phases = Array.isArray(m.phases) ? m.phases : [];
    if (phases.length === 0) return null;
    const valueOf = (phase, kpi, index) => {
      const list = Array.isArray(phase.kpis) ? phase.kpis : [];
      const named = list.find((x) => x && (x.name ?? x.kpi) === kpi.name);
      const row = named || (list.every((x) => x && x.name === undefined && x.kpi === undefined) ? list[index] : undefined);
      return row ? row.value : undefined;
    };
    return h('section', { id: 'phases' },
      h('h2', null, 'Phases'),
      table('phase-table', ['phase', 'start (UTC)', 'end (UTC)'], phases.map((p) =>
        h('tr', { dataset: { phase: String(p.name) } }, h('td', null, String(p.name)), h('td', null, formatTime(p.start ?? p.start_time)), h('td', null, formatTime(p.end ?? p.end_time) || 'open')))),
      table('phase-kpi-table', ['KPI', 'unit', ...phases.map((p) => String(p.name))], m.kpis.map((k, i) =>
        h('tr', { dataset: { kpi: k.name } }, h('td', null, h('code', null, k.name)), h('td', null, k.unit), phases.map((p) => {
          const v = valueOf(p, k, i);
          return h('td', { class: 'num' }, v === undefined ? '' : v === null ? h('span', { class: 'muted' }, 'no value') : formatValue(v));
        })))));
  }

  function targetSection(m) {
    const prom = m.session.prometheus_targets || [];
    const registered = m.session.targets || [];
    return h('section', { id: 'targets' },
      h('h2', null, 'Targets'),
      prom.length === 0
        ? h('p', { class: 'muted' }, 'Prometheus had no target of this session at collection time.')
        : table('collection-targets', ['job', 'instance', 'health at collection', 'scrape URL', 'last error'], prom.map((t) =>
          h('tr', null, h('td', null, t.job), h('td', null, t.instance), h('td', null, h('span', { class: `badge health-${t.health}` }, t.health)), h('td', null, h('code', null, t.scrape_url)), h('td', { class: 'note' }, t.last_error || '')))),
      registered.length === 0 ? null : h('details', null, h('summary', null, `${registered.length} registered target(s)`),
        table('registered-targets', ['target', 'type', 'role', 'job', 'endpoints', 'labels'], registered.map((t) =>
          h('tr', null, h('td', null, String(t.target_id ?? '')), h('td', null, String(t.target_type ?? '')), h('td', null, String(t.role ?? '')),
            h('td', null, String(t.job_name ?? '')), h('td', null, Array.isArray(t.endpoints) ? t.endpoints.join(', ') : ''), h('td', null, labelText(t.labels)))))));
  }

  function qualityNotices(m) {
    const dq = m.data_quality || {};
    const notes = [];
    const down = new Set((dq.targets_down || []).map((g) => `${g.job}/${g.instance}`));
    if (down.size > 0) notes.push(`${down.size} target(s) were down or not scraped during part of the window: ${[...down].join(', ')}`);
    if ((dq.kpis_without_value || []).length > 0) notes.push(`KPIs without a value: ${dq.kpis_without_value.join(', ')} (see their notes)`);
    if (dq.failed_queries > 0) notes.push(`${dq.failed_queries} quer${dq.failed_queries === 1 ? 'y' : 'ies'} failed (see MANIFEST.json)`);
    return notes.length === 0 ? null : h('ul', { class: 'notices' }, notes.map((n) => h('li', null, n)));
  }

  function recipeDetails(m) {
    const r = m.recipe;
    return h('details', { class: 'recipe' }, h('summary', null, `recipe ${r.name}: ${r.kpis.length} KPI definitions`),
      r.description ? h('p', null, r.description) : null,
      table('recipe-kpis', ['KPI', 'method', 'unit', 'better', 'query'], r.kpis.map((k) =>
        h('tr', null, h('td', null, h('code', null, k.name)), h('td', null, k.method), h('td', null, k.unit), h('td', null, k.higher_is_better ? 'higher' : 'lower'), h('td', null, h('code', { class: 'query' }, k.query))))));
  }

  /**
   * Renders into root. data: {manifest, timeseries?, timeseriesError?, directory?, footer?, actions?}.
   * Returns {destroy} (ends the plots' resize handling).
   */
  function renderCollection(root, data) {
    const m = data.manifest;
    const w = m.window;
    const plots = h('div', { class: 'plots' });
    // append() of dom.js skips the sections that are null (no phases, no notices, no footer).
    append(root, [
      h('h1', null, 'Collection ', h('code', null, m.collection_id)),
      data.actions || null,
      definitionList([
        ['session', m.session.session_id],
        ['session labels', labelText(m.session.labels)],
        ['recipe', `${m.recipe.name}${m.recipe.description ? ` (${m.recipe.description})` : ''}`],
        ['window (UTC)', `${formatTime(w.start)} .. ${formatTime(w.end)}`],
        ['duration', `${w.duration} (${w.duration_seconds} s), step ${w.step}, scrape interval ${w.scrape_interval}`],
        ['Prometheus', `${m.prometheus.url} (version ${m.prometheus.version})`],
        ['collected', `${formatTime(m.created_at)} by benchmon ${m.benchmon_version}`],
        ['directory', data.directory],
      ]),
      qualityNotices(m),
      h('section', { id: 'kpis' }, h('h2', null, 'KPIs'), table('kpi-table', ['KPI', 'value', 'unit', 'bounds', 'coverage', 'note'], kpiRows(m))),
      phaseSection(m),
      h('section', { id: 'plots' },
        h('h2', null, 'Time series'),
        h('p', { class: 'muted' }, 'One panel per KPI group: the statistics of one quantity (…_p50, …_p95, …_mean, …_max) with the same unit share a panel. Each per-target slice is its own series, beside the overall one (which is left out when it equals a single target’s); click a legend entry to hide it. Shaded bands are phases. Times in UTC.'),
        plots),
      targetSection(m),
      recipeDetails(m),
      data.footer ? h('footer', { class: 'muted' }, data.footer) : null,
    ]);
    if (data.timeseries) {
      const phases = Array.isArray(m.phases) ? m.phases : [];
      return drawPanels(plots, data.timeseries, { phases, fileStem: `${m.session.session_id}-${m.collection_id}` });
    }
    plots.append(h('p', { class: 'error' }, `No plots: ${data.timeseriesError || 'the time series could not be read'}`));
    return { destroy() {} };
  }

  global.BenchmonCollectionView = { renderCollection };
})(globalThis);
