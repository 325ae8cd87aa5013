/*
 * Time-series plots of a collection with uPlot, shared by the web UI and report.html (inlined
 * there, so a classic script defining one global). Input: the JSON of
 * GET /api/v1/collections/{id}/timeseries: one time axis, series aligned to it, and panels (KPIs
 * grouped by quantity and unit, see src/web/kpi-panels.ts). Each panel draws its KPIs' overall
 * series and per-target slices as separate series; phases are shaded bands behind the lines.
 */
(function (global) {
  'use strict';
  const { h, formatValue, sliceLabel } = global.BenchmonDom;

  const PALETTE = ['#1f77b4', '#d62728', '#2ca02c', '#ff7f0e', '#9467bd', '#8c564b', '#e377c2', '#17becf', '#bcbd22', '#7f7f7f'];
  const PHASE_FILLS = ['rgba(255, 193, 7, 0.18)', 'rgba(33, 150, 243, 0.15)', 'rgba(76, 175, 80, 0.16)', 'rgba(156, 39, 176, 0.13)'];
  const HEIGHT = 240;

  /** Phases as [{name, startS, endS}] (Unix seconds); an open phase ends at the window's end. */
  function phaseRanges(phases, windowEndS) {
    return (phases || []).flatMap((p) => {
      const start = Date.parse(p.start ?? p.start_time);
      const endText = p.end ?? p.end_time;
      const end = endText ? Date.parse(endText) : windowEndS * 1000;
      if (!Number.isFinite(start) || !Number.isFinite(end) || end <= start) return [];
      return [{ name: String(p.name ?? ''), startS: start / 1000, endS: end / 1000 }];
    });
  }

  /** A uPlot plugin: shaded bands for the phases, drawn right after the canvas is cleared (behind grid and lines). */
  function phaseBands(ranges) {
    return {
      hooks: {
        drawClear: [
          (u) => {
            const { ctx, bbox } = u;
            const dpr = global.devicePixelRatio || 1;
            ctx.save();
            ranges.forEach((r, i) => {
              const x0 = Math.max(bbox.left, u.valToPos(r.startS, 'x', true));
              const x1 = Math.min(bbox.left + bbox.width, u.valToPos(r.endS, 'x', true));
              if (!(x1 > x0)) return;
              ctx.fillStyle = PHASE_FILLS[i % PHASE_FILLS.length];
              ctx.fillRect(x0, bbox.top, x1 - x0, bbox.height);
              ctx.fillStyle = '#555';
              ctx.font = `${11 * dpr}px system-ui, sans-serif`;
              ctx.textBaseline = 'top';
              ctx.fillText(r.name, x0 + 4 * dpr, bbox.top + 3 * dpr, Math.max(0, x1 - x0 - 8 * dpr));
            });
            ctx.restore();
          },
        ],
      },
    };
  }

  function seriesName(s, panel) {
    const slice = sliceLabel(s.labels, s.slice);
    return panel.kpis.length > 1 ? `${s.kpi} · ${slice}` : slice;
  }

  function sameValues(a, b) {
    return a.length === b.length && a.every((v, i) => v === b[i]);
  }

  /**
   * A KPI measured on one target has an overall series equal to its only slice: draw the slice
   * (its label names the target) and not the same line twice.
   */
  function withoutDuplicateOverall(list) {
    return list.filter((s) => {
      if (s.slice !== 'overall') return true;
      const slices = list.filter((x) => x.kpi === s.kpi && x.slice !== 'overall');
      return !(slices.length === 1 && sameValues(slices[0].values, s.values));
    });
  }

  /** The plot as a PNG for slides and papers: white background, title, plot, legend. */
  function savePng(u, title, labels, colors, fileName) {
    const dpr = global.devicePixelRatio || 1;
    const plot = u.ctx.canvas;
    const pad = 10 * dpr;
    const line = 16 * dpr;
    const canvas = document.createElement('canvas');
    canvas.width = plot.width + 2 * pad;
    canvas.height = plot.height + 2 * pad + line * (1 + labels.length);
    const ctx = canvas.getContext('2d');
    ctx.fillStyle = '#fff';
    ctx.fillRect(0, 0, canvas.width, canvas.height);
    ctx.fillStyle = '#222';
    ctx.font = `bold ${13 * dpr}px system-ui, sans-serif`;
    ctx.textBaseline = 'top';
    ctx.fillText(title, pad, pad);
    ctx.drawImage(plot, pad, pad + line);
    ctx.font = `${12 * dpr}px system-ui, sans-serif`;
    labels.forEach((label, i) => {
      const y = pad + line + plot.height + i * line + 4 * dpr;
      ctx.fillStyle = colors[i];
      ctx.fillRect(pad, y + 3 * dpr, 18 * dpr, 4 * dpr);
      ctx.fillStyle = '#222';
      ctx.fillText(label, pad + 24 * dpr, y);
    });
    const a = h('a', { href: canvas.toDataURL('image/png'), download: `${fileName}.png` });
    document.body.append(a);
    a.click();
    a.remove();
  }

  /**
   * Draws one panel per entry of timeseries.panels into container. Each panel element carries its
   * uPlot instance (el.uplot) and data-points (values drawn). Returns {destroy}.
   */
  function drawPanels(container, timeseries, options) {
    const opts = options || {};
    const ts = timeseries.timestamps;
    const ranges = phaseRanges(opts.phases, ts.length > 0 ? ts[ts.length - 1] : 0);
    const plots = [];
    for (const panel of timeseries.panels) {
      const series = withoutDuplicateOverall(panel.series.map((i) => timeseries.series[i]));
      const points = series.reduce((n, s) => n + s.values.filter((v) => v !== null).length, 0);
      const title = panel.unit ? `${panel.title} (${panel.unit})` : panel.title;
      const body = h('div', { class: 'plot' });
      const head = h('div', { class: 'panel-head' }, h('h3', null, title), h('span', { class: 'muted' }, panel.kpis.join(', ')));
      const el = h('section', { class: 'panel', dataset: { panel: panel.id, points: String(points) } }, head, body);
      container.append(el);
      if (points === 0) {
        body.append(h('p', { class: 'empty' }, 'no data in the window'));
        continue;
      }
      const colors = series.map((_, i) => PALETTE[i % PALETTE.length]);
      const labels = series.map((s) => seriesName(s, panel));
      el.dataset.colors = colors.join(',');
      const u = new global.uPlot(
        {
          width: Math.max(320, body.clientWidth || container.clientWidth || 800),
          height: HEIGHT,
          tzDate: (t) => global.uPlot.tzDate(new Date(t * 1e3), 'Etc/UTC'),
          scales: { x: { time: true } },
          series: [{ label: 'time (UTC)' }, ...series.map((s, i) => ({ label: labels[i], stroke: colors[i], width: 2, spanGaps: false }))],
          axes: [{}, { size: 64, values: (_u, splits) => splits.map((v) => formatValue(v)) }],
          plugins: ranges.length > 0 ? [phaseBands(ranges)] : [],
        },
        [ts, ...series.map((s) => s.values)],
        body,
      );
      el.uplot = u;
      const fileName = `${opts.fileStem || timeseries.collection_id}-${panel.title}`.replace(/[^A-Za-z0-9._-]+/g, '_');
      head.append(h('button', { type: 'button', class: 'small', title: 'Save this plot as a PNG image', onclick: () => savePng(u, title, labels, colors, fileName) }, 'PNG'));
      plots.push({ u, body });
    }
    const onResize = () => {
      for (const p of plots) p.u.setSize({ width: Math.max(320, p.body.clientWidth), height: HEIGHT });
    };
    global.addEventListener('resize', onResize);
    return {
      destroy() {
        global.removeEventListener('resize', onResize);
        for (const p of plots) p.u.destroy();
      },
    };
  }

  global.BenchmonPlots = { drawPanels, phaseBands, phaseRanges, PALETTE };
})(globalThis);
