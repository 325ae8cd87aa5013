import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { renderCompareHtml } from './diff-report.js';
import { parseGateYaml } from './gate.js';
import { compareLoaded } from './run-compare.js';
import { loaded } from './testing/crafted-manifest.js';

describe('HTML diff report', () => {
  const hostile = '<script>alert("x")</script>&';
  const a = loaded([['throughput', 100, true], ['latency_mean', 0.05, false]]);
  const b = loaded([['throughput', 80, true], ['latency_mean', null, false, 's', hostile]]);
  b.manifest.session.session_id = `s"><img src=x onerror=alert(1)>`;
  const result = compareLoaded(b, [a], { gate: parseGateYaml('description: "<b>nightly</b>"\nkpis:\n  throughput: { max_regression: 5% }\n') });
  const html = renderCompareHtml(result, { generatedAt: new Date('2026-01-02T03:04:05Z') });

  it('is one self-contained document: no external resource, no executable script', () => {
    assert.match(html, /^<!DOCTYPE html>/);
    assert.doesNotMatch(html, /<[^>]*\s(src|href)=/i, 'no tag loads an external resource');
    assert.equal(html.match(/<script/g)?.length, 1, 'only the JSON data block');
    assert.match(html, /<script type="application\/json" id="comparison">/);
  });

  it('escapes every text from collections and gates', () => {
    assert.ok(!html.includes('<script>alert'), 'a note cannot inject markup');
    assert.ok(!html.includes('<img'), 'a session id cannot inject markup');
    assert.ok(!html.includes('<b>nightly'), 'a gate description cannot inject markup');
    assert.ok(html.includes('&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&amp;'));
  });

  it('shows the gate outcome, the failing KPI and the figures, and carries the comparison as JSON', () => {
    assert.match(html, /class="banner fail">gate FAILED: 1 of 1 gated KPIs failed: throughput \(20% worse than the baseline/);
    assert.match(html, /<td class="gate-fail">FAIL/);
    assert.match(html, /<td class="num">-20 \(-20%\)<\/td><td class="num">0\.800<\/td><td>higher=better<\/td>/);
    const json = /<script type="application\/json" id="comparison">(.*)<\/script>/s.exec(html)?.[1];
    assert.ok(json);
    assert.deepEqual(JSON.parse(json), JSON.parse(JSON.stringify(result)));
  });
});
