import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { groupKpiPanels, kpiStem } from './kpi-panels.js';

describe('KPI plot panels', () => {
  it('puts the statistics of one quantity on one panel, in recipe order', () => {
    const panels = groupKpiPanels([
      { name: 'request_throughput', unit: 'req/s' },
      { name: 'ttft_p50', unit: 's' },
      { name: 'ttft_p95', unit: 's' },
      { name: 'memory_used_avg', unit: 'bytes' },
      { name: 'ttft_mean', unit: 's' },
      { name: 'memory_used_max', unit: 'bytes' },
      { name: 'latency_p99_9', unit: 's' },
      { name: 'latency_p50', unit: 's' },
    ]);
    assert.deepEqual(panels.map((p) => [p.title, p.unit, p.kpis]), [
      ['request_throughput', 'req/s', ['request_throughput']],
      ['ttft', 's', ['ttft_p50', 'ttft_p95', 'ttft_mean']],
      ['memory_used', 'bytes', ['memory_used_avg', 'memory_used_max']],
      ['latency', 's', ['latency_p99_9', 'latency_p50']],
    ]);
  });

  it('keeps KPIs with one stem but different units apart (one y axis has one unit)', () => {
    const panels = groupKpiPanels([{ name: 'power_avg', unit: 'W' }, { name: 'power_max', unit: 'kW' }]);
    assert.deepEqual(panels.map((p) => p.id), ['power|W', 'power|kW']);
  });

  it('only strips a whole trailing statistic', () => {
    assert.equal(kpiStem('cpu_utilisation'), 'cpu_utilisation');
    assert.equal(kpiStem('disk_max_rate'), 'disk_max_rate');
    assert.equal(kpiStem('preemptions'), 'preemptions');
    assert.equal(kpiStem('e2e_latency_p95'), 'e2e_latency');
  });
});
