import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { renderMetricsSummaryCsv } from './metrics-summary.js';
import { syntheticCollection } from './testing/synthetic-collection.js';

describe('metrics_summary.csv', () => {
  it('has one row per KPI value, an empty cell for a missing value, and the bounds of percentiles', () => {
    const expected = [
      'kpi,slice,value,unit,method,lower_bound,upper_bound,series,coverage,note',
      'throughput,overall,41.5,req/s,rate,,,2,0.9,',
      'throughput,"job=""api, \\""v2\\"""",instance=""h:80""",41.5,req/s,rate,,,2,0.9,',
      'gpu_utilisation,overall,,%,avg_over_time,,,0,,no data: no series of DCGM_FI_DEV_GPU_UTIL for session bench-1 in the window',
      'latency_p99,overall,10,s,histogram_quantile,10,+Inf,15,1,estimate fell into the +Inf bucket',
      '',
    ].join('\r\n');
    assert.equal(renderMetricsSummaryCsv(syntheticCollection().kpis), expected);
  });

  it('with per-phase results: the whole window\'s rows first as before, then each phase\'s, told apart by a trailing phase column', () => {
    const kpis = syntheticCollection().kpis;
    const warmup = kpis.map((k) => ({ ...k, value: k.value === null ? null : k.value / 2, rows: k.rows.map((r) => ({ ...r, value: r.value === null ? null : r.value / 2 })) }));
    const lines = renderMetricsSummaryCsv(kpis, [{ name: 'warmup', kpis: warmup }, { name: 'steady', kpis }]).split('\r\n');
    assert.equal(lines[0], 'kpi,slice,value,unit,method,lower_bound,upper_bound,series,coverage,note,phase');
    assert.equal(lines[1], 'throughput,overall,41.5,req/s,rate,,,2,0.9,,');
    assert.equal(lines[5], 'throughput,overall,20.75,req/s,rate,,,2,0.9,,warmup');
    assert.equal(lines[8], 'latency_p99,overall,5,s,histogram_quantile,10,+Inf,15,1,estimate fell into the +Inf bucket,warmup');
    assert.equal(lines[9], 'throughput,overall,41.5,req/s,rate,,,2,0.9,,steady');
    assert.equal(lines.length, 1 + 3 * 4 + 1);
    // Without phases, the file is exactly what it was.
    assert.equal(renderMetricsSummaryCsv(kpis, []), renderMetricsSummaryCsv(kpis));
  });
});
