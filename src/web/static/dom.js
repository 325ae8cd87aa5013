/*
 * DOM helpers and number formats shared by the web UI and report.html (a classic script: the
 * report inlines it, so it cannot be an ES module with imports). Every text goes into the page
 * through text nodes and attributes, never innerHTML: session ids, labels and notes come from users.
 */
(function (global) {
  'use strict';

  function append(el, children) {
    for (const c of children.flat(Infinity)) {
      if (c === null || c === undefined || c === false) continue;
      el.append(c instanceof Node ? c : document.createTextNode(String(c)));
    }
    return el;
  }

  /** h('a', {href: '#/x', class: 'y', onclick: fn, dataset: {k: 'v'}}, 'text', child, …) */
  function h(tag, attrs, ...children) {
    const el = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === undefined || v === null || v === false) continue;
      if (k === 'class') el.className = v;
      else if (k === 'dataset') Object.assign(el.dataset, v);
      else if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v);
      else el.setAttribute(k, v === true ? '' : String(v));
    }
    return append(el, children);
  }

  /** Five significant digits, exponent form for very large or small magnitudes; '' for no value. */
  function formatValue(v) {
    if (v === null || v === undefined || Number.isNaN(v)) return '';
    if (v === Infinity) return '+Inf';
    if (v === -Infinity) return '-Inf';
    if (v !== 0 && (Math.abs(v) >= 1e6 || Math.abs(v) < 1e-3)) return v.toExponential(3);
    return String(Number(v.toPrecision(5)));
  }

  /** The bucket a percentile fell into: "0.1 .. 0.25", "10 .. +Inf" (the value is then only a floor). */
  function formatBounds(row) {
    if (!row || (row.lower_bound === null && row.upper_bound === null && !row.in_inf_bucket)) return '';
    const lower = row.lower_bound === null ? '-Inf' : formatValue(row.lower_bound);
    const upper = row.in_inf_bucket || row.upper_bound === null ? '+Inf' : formatValue(row.upper_bound);
    return `${lower} .. ${upper}`;
  }

  function formatCoverage(c) {
    return c === null || c === undefined ? '' : `${(c * 100).toFixed(0)} %`;
  }

  /** RFC 3339 → "2026-11-29 07:02:13Z" (UTC, like every artifact). */
  function formatTime(iso) {
    if (!iso) return '';
    const d = new Date(iso);
    if (Number.isNaN(d.getTime())) return String(iso);
    return d.toISOString().replace('T', ' ').replace(/\.\d+Z$/, 'Z');
  }

  function formatAge(iso, nowMs) {
    if (!iso) return '';
    const s = Math.round((nowMs - Date.parse(iso)) / 1000);
    if (!Number.isFinite(s)) return '';
    if (s < 1) return 'just now';
    if (s < 120) return `${s} s ago`;
    if (s < 7200) return `${Math.round(s / 60)} min ago`;
    return `${Math.round(s / 3600)} h ago`;
  }

  /** `job="node",instance="h:9100"` → "node h:9100": the slice's label values, for legends. */
  function sliceLabel(labels, slice) {
    const values = Object.values(labels || {});
    return values.length === 0 ? slice || 'overall' : values.join(' ');
  }

  global.BenchmonDom = { h, append, formatValue, formatBounds, formatCoverage, formatTime, formatAge, sliceLabel };
})(globalThis);
