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
});
