import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { selfMetric, startTestService, waitFor, type TestService } from '../helpers/harness.js';
import { startTinyExporter } from '../helpers/tiny-exporter.js';

describe('200 concurrent registrations into one session', () => {
  let svc: TestService;
  let exporter: Awaited<ReturnType<typeof startTinyExporter>>;

  before(async () => {
    exporter = await startTinyExporter();
    svc = await startTestService();
    await svc.client.createSession({ session_id: 'burst', scrape_interval: '2s' });
  });
  after(async () => {
    await svc?.close();
    await exporter?.close();
  });

  it('answers all 200 with 2xx, stores all 200, Prometheus scrapes all 200, with at most one reload', async () => {
    const reloadsBefore = await selfMetric(svc.url, 'benchmon_prometheus_reloads_total');
    const results = await Promise.all(
      Array.from({ length: 200 }, (_, i) =>
        fetch(`${svc.url}/api/v1/sessions/burst/targets`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ target_type: 'client', job_id: `job-${i}`, scrape_config: { job_name: `client-${i}`, targets: [exporter.address] } }),
        }).then((r) => r.status),
      ),
    );
    assert.deepEqual(results.filter((s) => s < 200 || s >= 300), [], 'some registrations were not answered 2xx');
    assert.equal(svc.running.service.store.listTargets('burst').length, 200);

    const active = await waitFor('all 200 targets active and up in Prometheus', async () => {
      const t = await svc.client.prometheusTargets('active');
      const mine = t.activeTargets.filter((a) => a.labels.session === 'burst' && a.health === 'up');
      return mine.length === 200 ? mine : undefined;
    }, 60_000, 1000);
    assert.deepEqual(new Set(active.map((a) => a.labels.job)).size, 200);
    const reloadsAfter = await selfMetric(svc.url, 'benchmon_prometheus_reloads_total');
    assert.ok(reloadsAfter - reloadsBefore <= 1, `reloads rose by ${reloadsAfter - reloadsBefore}`);
  });

  it('concurrent registrations of the same job_name: exactly one wins, the others get 409', async () => {
    const statuses = await Promise.all(
      Array.from({ length: 20 }, () =>
        fetch(`${svc.url}/api/v1/sessions/burst/targets`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ target_type: 'client', scrape_config: { job_name: 'same', targets: [exporter.address] } }),
        }).then((r) => r.status),
      ),
    );
    assert.equal(statuses.filter((s) => s === 201).length, 1);
    assert.equal(statuses.filter((s) => s === 409).length, 19);
  });

  it('concurrent session creations share reloads and each answer comes after its job is applied', async () => {
    const reloadsBefore = await selfMetric(svc.url, 'benchmon_prometheus_reloads_total');
    await Promise.all(Array.from({ length: 10 }, (_, i) => svc.client.createSession({ session_id: `s-${i}` })));
    const reloadsAfter = await selfMetric(svc.url, 'benchmon_prometheus_reloads_total');
    assert.ok(reloadsAfter - reloadsBefore <= 2, `10 concurrent session creations took ${reloadsAfter - reloadsBefore} reloads`);
    const t = await svc.client.prometheusTargets('any');
    assert.ok(t, 'targets readable');
    const cfg = await (await fetch(`${svc.settings.PROMETHEUS_URL}/api/v1/status/config`)).json() as { data: { yaml: string } };
    for (let i = 0; i < 10; i++) assert.match(cfg.data.yaml, new RegExp(`benchmon-session-s-${i}\\b`), `session s-${i} not in Prometheus's running config`);
  });
});
