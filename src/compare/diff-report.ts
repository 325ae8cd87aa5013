/**
 * The HTML diff report of a comparison: one self-contained file (inline styles, no scripts, no
 * network), readable from disk and pasteable into a CI job's artifacts. Every piece of text
 * from a collection or a gate is escaped; the comparison itself rides along as JSON in a
 * non-executed <script type="application/json"> block for tools that want the numbers.
 */
import { VERDICTS, type Verdict } from './compare.js';
import { deltaText, directionText, formatNumber, noiseText, ratioText, verdictText, withUnit } from './format.js';
import { gateSummaryLine, type GatedKpiComparison } from './gate.js';
import type { CompareResult } from './run-compare.js';

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

/** JSON safe inside a <script> element: no `<` (so no `</script>` or `<!--`). */
function scriptJson(value: unknown): string {
  return JSON.stringify(value).replace(/</g, '\\u003c').replace(/\u2028/g, '\\u2028').replace(/\u2029/g, '\\u2029');
}

const VERDICT_CLASS: Record<Verdict, string> = {
  better: 'good', worse: 'bad', unchanged: 'same', no_noise_estimate: 'plain',
  missing_in_baseline: 'warn', missing_in_candidate: 'warn', missing_in_both: 'warn',
  no_value: 'warn', unit_mismatch: 'warn', no_direction: 'warn',
};

const STYLE = `
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:24px;color:#1d2430;background:#fff}
h1{font-size:20px;margin:0 0 4px}h2{font-size:16px;margin:24px 0 8px}
table{border-collapse:collapse;margin:8px 0}th,td{border:1px solid #d5dae1;padding:4px 8px;text-align:left;vertical-align:top}
th{background:#f2f4f7}td.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
.banner{padding:10px 14px;border-radius:6px;margin:12px 0;font-weight:600}
.banner.pass{background:#e5f5e8;color:#1d6b2e}.banner.fail{background:#fde8e8;color:#9b1c1c}.banner.none{background:#f2f4f7}
tr.good td.verdict{color:#1d6b2e;font-weight:600}tr.bad td.verdict{color:#9b1c1c;font-weight:600}
tr.warn td.verdict{color:#8a5a00}td.gate-fail{background:#fde8e8;color:#9b1c1c;font-weight:600}td.gate-pass{color:#1d6b2e}
.muted{color:#5b6472}code{font-size:12px}
`;

function gateCell(k: GatedKpiComparison): string {
  if (!k.gate) return '<td class="muted">—</td>';
  const detail = k.gate.status === 'pass' ? k.gate.checks.map((c) => c.message).join('; ') : (k.gate.reason ?? '');
  const cls = k.gate.status === 'fail' ? 'gate-fail' : k.gate.status === 'pass' ? 'gate-pass' : 'muted';
  return `<td class="${cls}">${escapeHtml(k.gate.status.toUpperCase())}${k.gate.rule === 'default' ? ' <span class="muted">(default rule)</span>' : ''}<br><span class="muted">${escapeHtml(detail)}</span></td>`;
}

function kpiRow(k: GatedKpiComparison): string {
  const baseline = k.baseline_values.length > 1
    ? `${escapeHtml(withUnit(k.baseline, k.unit))}<br><span class="muted">mean of ${escapeHtml(k.baseline_values.map((v) => (v === null ? '–' : formatNumber(v))).join(', '))}</span>`
    : escapeHtml(withUnit(k.baseline, k.unit));
  const cells = [
    `<td><code>${escapeHtml(k.name)}</code></td>`,
    `<td>${escapeHtml(k.unit)}</td>`,
    `<td class="num">${baseline}</td>`,
    `<td class="num">${escapeHtml(withUnit(k.candidate, k.unit))}</td>`,
    `<td class="num">${escapeHtml(deltaText(k))}</td>`,
    `<td class="num">${escapeHtml(ratioText(k))}</td>`,
    `<td>${escapeHtml(directionText(k))}</td>`,
    `<td>${escapeHtml(noiseText(k))}</td>`,
    `<td class="verdict" title="${escapeHtml(VERDICTS[k.verdict])}">${escapeHtml(verdictText(k))}</td>`,
    gateCell(k),
    `<td class="muted">${escapeHtml(k.note ?? '')}</td>`,
  ];
  return `<tr class="${VERDICT_CLASS[k.verdict]}">${cells.join('')}</tr>`;
}

/** The report as one HTML document. */
export function renderCompareHtml(result: CompareResult, options: { generatedAt?: Date } = {}): string {
  const generated = (options.generatedAt ?? new Date()).toISOString();
  const title = `benchmon compare: ${result.candidate.collection_id} vs ${result.baseline.map((b) => b.collection_id).join(', ')}`;
  const banner = result.gate === null
    ? '<div class="banner none">No gate: comparison only.</div>'
    : `<div class="banner ${result.gate.passed ? 'pass' : 'fail'}">${escapeHtml(gateSummaryLine(result.gate))}</div>`;
  const failures = result.gate && result.gate.failures.length > 0
    ? `<ul>${result.gate.failures.map((f) => `<li><code>${escapeHtml(f.kpi)}</code>: ${escapeHtml(f.reason)}</li>`).join('')}</ul>`
    : '';
  const side = (label: string, r: CompareResult['candidate']) =>
    `<tr><th>${escapeHtml(label)}</th><td><code>${escapeHtml(r.collection_id)}</code></td><td>${escapeHtml(r.session_id)}</td><td>${escapeHtml(r.window.start)} .. ${escapeHtml(r.window.end)}</td><td>${escapeHtml(r.recipe ?? '')}</td><td class="muted">${escapeHtml(r.source)}</td></tr>`;
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)}</title>
<style>${STYLE}</style>
</head>
<body>
<h1>${escapeHtml(title)}</h1>
<div class="muted">${result.phase === null ? 'whole window' : `phase <code>${escapeHtml(result.phase)}</code>`} · generated ${escapeHtml(generated)}${result.gate?.description ? ` · gate: ${escapeHtml(result.gate.description)}` : ''}</div>
${banner}
${failures}
<h2>KPIs</h2>
<table id="kpis">
<thead><tr><th>KPI</th><th>unit</th><th>A (baseline)</th><th>B (candidate)</th><th>Δ</th><th>ratio B/A</th><th>direction</th><th>noise</th><th>verdict</th><th>gate</th><th>note</th></tr></thead>
<tbody>
${result.kpis.map(kpiRow).join('\n')}
</tbody>
</table>
<p class="muted">Noise: ${escapeHtml(result.noise.rule)}; k = ${escapeHtml(String(result.noise.k))}, ${escapeHtml(String(result.noise.baseline_runs))} baseline run(s).</p>
<h2>Collections</h2>
<table id="collections">
<thead><tr><th></th><th>collection</th><th>session</th><th>window</th><th>recipe</th><th>source</th></tr></thead>
<tbody>
${side('B (candidate)', result.candidate)}
${result.baseline.map((b, i) => side(result.baseline.length > 1 ? `A${i + 1} (baseline)` : 'A (baseline)', b)).join('\n')}
</tbody>
</table>
<script type="application/json" id="comparison">${scriptJson(result)}</script>
</body>
</html>
`;
}
