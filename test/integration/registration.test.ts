import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { nodeExporterBody, startNodeExporter, startTestService, waitFor, type NodeExporter, type TestService } from '../helpers/harness.js';

describe('register node_exporter into a session (real Prometheus + node_exporter)', () => {
  let svc: TestService;
  let ne: NodeExporter;

  before(async () => {
    ne = await startNodeExporter();
    svc = await startTestService();
  });
  after(async () => {
    await svc?.close();
    await ne?.stop();
  });

  it('answers ?wait=up once the target is up, and Prometheus shows it with session, target_type and role labels', async () => {
    await svc.client.createSession({ session_id: 'bench-1', labels: { benchmark: 'smoke' } });
    const res = await svc.client.registerTarget('bench-1', nodeExporterBody('bench-1', ne.address), { up: true, timeoutSeconds: 30 });
    assert.equal(res.wait?.satisfied, true, `still pending: ${res.wait?.pending.join(',')}`);
    assert.equal(res.target.health, 'up');
    assert.equal(res.target.endpoints_health[0]?.endpoint, ne.address);

    const targets = await svc.client.prometheusTargets('active');
    const mine = targets.activeTargets.find((t) => t.labels.session === 'bench-1' && t.labels.instance === ne.address);
    assert.ok(mine, 'target missing from /api/v1/prometheus/targets');
    assert.equal(mine.health, 'up');
    assert.equal(mine.labels.target_type, 'node_exporter');
    assert.equal(mine.labels.role, 'exporter');
    assert.equal(mine.labels.job, 'node');
    assert.equal(mine.labels.job_id, 'job-1');
    assert.equal(mine.labels.benchmark, 'smoke');

    const up = await waitFor('up{session="bench-1"} to have a sample', async () => {
      const r = await svc.client.query('up{session="bench-1"}');
      return r.resultType === 'vector' && r.result.length > 0 ? r.result : undefined;
    });
    assert.equal(up.length, 1);
    assert.equal(up[0]!.value[1], '1');
    assert.equal(up[0]!.metric.session, 'bench-1');
    assert.equal(up[0]!.metric.target_type, 'node_exporter');
    assert.equal(up[0]!.metric.role, 'exporter');
  });

  it('lists targets with live health and shows them in the session status', async () => {
    const list = await svc.client.listTargets('bench-1');
    assert.equal(list.health_error, null);
    assert.deepEqual(list.targets.map((t) => [t.target_id, t.health]), [['node', 'up']]);
    const st = await svc.client.sessionStatus('bench-1');
    assert.equal(st.session.session_id, 'bench-1');
    assert.equal(st.targets[0]?.endpoints_health[0]?.health, 'up');
    assert.ok(st.targets[0]?.endpoints_health[0]?.last_scrape);
  });

  it('runs a range query and reports Prometheus health with version and last reload', async () => {
    const end = Date.now() / 1000;
    const r = await svc.client.queryRange('up{session="bench-1"}', end - 30, end, '1s');
    assert.equal(r.resultType, 'matrix');
    const h = await svc.client.prometheusHealth();
    assert.equal(h.healthy, true);
    assert.equal(h.ready, true);
    assert.match(h.version ?? '', /^2\.\d+\.\d+/);
    assert.equal(h.last_reload_ok, true);
    assert.equal(h.runtime.mode, 'local');
    const reload = await svc.client.reload();
    assert.equal(reload.reloaded, true);
  });

  it('deregisters a target: it leaves the file_sd and Prometheus', async () => {
    const again = await svc.client.registerTarget('bench-1', nodeExporterBody('bench-1', ne.address, 'node-again'), { up: true, timeoutSeconds: 30 });
    assert.equal(again.wait?.satisfied, true, 'node-again never came up, so its removal would prove nothing');
    const removed = await svc.client.deregisterTarget('bench-1', 'node-again');
    assert.equal(removed.deleted.target_id, 'node-again');
    const list = await svc.client.listTargets('bench-1');
    assert.deepEqual(list.targets.map((t) => t.target_id), ['node']);
    await waitFor('node-again to leave Prometheus', async () => {
      const t = await svc.client.prometheusTargets('active');
      return !t.activeTargets.some((a) => a.labels.job === 'node-again');
    }, 20_000);
  });

  it('deleting a session removes its targets from Prometheus; deleting it again is 404', async () => {
    const del = await svc.client.deleteSession('bench-1');
    assert.equal(del.targets_removed, 1);
    const t = await svc.client.prometheusTargets('active');
    assert.equal(t.activeTargets.filter((a) => a.labels.session === 'bench-1').length, 0);
    await assert.rejects(svc.client.deleteSession('bench-1'), (err: { status: number; code: string }) => err.status === 404 && err.code === 'SESSION_NOT_FOUND');
    await assert.rejects(svc.client.sessionStatus('nope'), (err: { status: number }) => err.status === 404);
  });

  it('serves the API docs, the OpenAPI spec and its own metrics', async () => {
    const spec = (await (await fetch(`${svc.url}/openapi.json`)).json()) as { paths: Record<string, unknown> };
    for (const p of ['/api/v1/sessions', '/api/v1/sessions/{session_id}/targets', '/api/v1/prometheus/query', '/api/v1/prometheus/health']) assert.ok(spec.paths[p], `${p} missing from spec`);
    assert.match(await (await fetch(`${svc.url}/docs/`)).text(), /swagger/i);
    const redoc = await (await fetch(`${svc.url}/redoc`)).text();
    assert.match(redoc, /redoc\.standalone\.js/);
    const bundle = await fetch(`${svc.url}/redoc/redoc.standalone.js`);
    assert.equal(bundle.status, 200);
    assert.ok((await bundle.text()).length > 100_000, 'ReDoc bundle is served from node_modules');
    const metrics = await (await fetch(`${svc.url}/metrics`)).text();
    for (const name of ['benchmon_http_requests_total', 'benchmon_target_registrations_total', 'benchmon_prometheus_reloads_total', 'benchmon_prometheus_reload_failures_total', 'benchmon_config_rollbacks_total', 'benchmon_prometheus_restarts_total']) {
      assert.match(metrics, new RegExp(`^${name}`, 'm'), `${name} missing`);
    }
    assert.equal((await fetch(`${svc.url}/ready`)).status, 200);
  });
});
