/**
 * Crash recovery of a `benchmon serve` process and of its local Prometheus, as an operator sees it:
 * kill -9 of either must lose nothing that was acknowledged, and nothing may be left running.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { BenchmonClient } from '../../src/client/api-client.js';
import { isolatedEnv, selfMetric, spawnService, startNodeExporter, waitFor, type ChildService, type NodeExporter } from '../helpers/harness.js';
import { killPids, pidAlive, prometheusPidsFor } from '../helpers/processes.js';
import { startTinyExporter } from '../helpers/tiny-exporter.js';

function configPathOf(env: Record<string, string>): string {
  return path.join(env.BENCHMON_STATE_DIR!, 'prometheus', 'prometheus.yml');
}

/** job label of every target group in a session's file_sd files, read from disk. */
function fileSdJobs(env: Record<string, string>, session: string): string[] {
  const dir = path.join(env.BENCHMON_STATE_DIR!, 'prometheus', 'file_sd', session);
  const jobs: string[] = [];
  for (const name of fs.readdirSync(dir).filter((n) => n.endsWith('.json'))) {
    const groups = JSON.parse(fs.readFileSync(path.join(dir, name), 'utf8')) as Array<{ targets: string[]; labels: Record<string, string> }>;
    for (const g of groups) {
      assert.equal(g.labels.session, session, `${name} holds a group of another session`);
      jobs.push(g.labels.job!);
    }
  }
  return jobs.sort();
}

const sorted = (xs: string[]) => [...xs].sort();

describe('kill -9 of benchmon right after acknowledged registrations', () => {
  let env: Record<string, string>;
  let first: ChildService | undefined;
  let second: ChildService | undefined;
  let exporter: Awaited<ReturnType<typeof startTinyExporter>> | undefined;

  before(async () => {
    env = await isolatedEnv();
    exporter = await startTinyExporter();
  });
  after(async () => {
    await first?.stop('SIGKILL');
    await second?.stop('SIGTERM');
    await killPids(prometheusPidsFor(configPathOf(env)));
    await exporter?.close();
  });

  it('restarts with every acknowledged target registered, in the file_sd files and active in Prometheus', async () => {
    first = await spawnService(env);
    const client = new BenchmonClient(first.url);
    await client.createSession({ session_id: 'crash-a' });
    await client.createSession({ session_id: 'crash-b' });
    const oldPromPid = (await client.prometheusHealth()).runtime.pid;
    assert.ok(oldPromPid, 'the local runtime reports no Prometheus pid');

    const register = (session: string, job: string) =>
      client.registerTarget(session, { target_type: 'client', job_id: job, scrape_config: { job_name: job, targets: [exporter!.address] } });
    const plan = [
      ...Array.from({ length: 14 }, (_, i) => ({ session: 'crash-a', job: `a-${i}` })),
      ...Array.from({ length: 6 }, (_, i) => ({ session: 'crash-b', job: `b-${i}` })),
    ];
    const acked = await Promise.all(plan.map(async (p) => {
      const r = await register(p.session, p.job);
      return { session: r.target.session_id, job: r.target.target_id };
    }));
    assert.equal(acked.length, 20);
    // More registrations in flight when the service dies: each may or may not have made it, but
    // whatever the restarted service lists must be in Prometheus's config too.
    const inFlight = Array.from({ length: 6 }, (_, i) => register(i % 2 ? 'crash-a' : 'crash-b', `late-${i}`).catch(() => undefined));
    await first.stop('SIGKILL');
    await Promise.all(inFlight);
    // A crash between the store commit and the file_sd write looks like this on disk: the store is
    // the one source of truth, so the restart must write the files again.
    fs.rmSync(path.join(env.BENCHMON_STATE_DIR!, 'prometheus', 'file_sd', 'crash-b'), { recursive: true, force: true });

    second = await spawnService(env);
    const client2 = new BenchmonClient(second.url);
    for (const session of ['crash-a', 'crash-b']) {
      const want = acked.filter((a) => a.session === session).map((a) => a.job);
      const listed = (await client2.listTargets(session)).targets.map((t) => t.target_id);
      for (const job of want) assert.ok(listed.includes(job), `acknowledged target ${session}/${job} lost after the crash`);
      assert.deepEqual(fileSdJobs(env, session), sorted(listed), `file_sd files of ${session} differ from the registered targets`);
    }
    const yml = fs.readFileSync(configPathOf(env), 'utf8');
    assert.match(yml, /job_name: benchmon-session-crash-a\n/);
    assert.match(yml, /job_name: benchmon-session-crash-b\n/);

    const listedAll = new Set<string>();
    for (const session of ['crash-a', 'crash-b']) for (const t of (await client2.listTargets(session)).targets) listedAll.add(`${session}/${t.target_id}`);
    await waitFor('every registered target to be active and up in the restarted Prometheus', async () => {
      const active = (await client2.prometheusTargets('active')).activeTargets;
      const up = new Set(active.filter((t) => t.health === 'up' && t.labels.session?.startsWith('crash-')).map((t) => `${t.labels.session}/${t.labels.job}`));
      return [...listedAll].every((k) => up.has(k)) && up.size === listedAll.size;
    }, 30_000, 500);

    const health = await client2.prometheusHealth();
    assert.equal(health.ready, true);
    assert.ok(!pidAlive(oldPromPid), 'the Prometheus of the killed benchmon still runs');
    assert.deepEqual(prometheusPidsFor(configPathOf(env)), [health.runtime.pid], 'exactly one Prometheus, the supervised one, runs our config');
  });

  it('the restarted service stops cleanly and leaves no Prometheus behind', async () => {
    assert.ok(second, 'the restarted service is not running');
    const code = await second.stop('SIGTERM');
    assert.equal(code, 0, second.output());
    assert.deepEqual(prometheusPidsFor(configPathOf(env)), []);
  });
});

describe('kill -9 of the local Prometheus', () => {
  let env: Record<string, string>;
  let svc: ChildService | undefined;
  let ne: NodeExporter | undefined;
  let client: BenchmonClient;

  before(async () => {
    env = await isolatedEnv();
    ne = await startNodeExporter();
    svc = await spawnService(env);
    client = new BenchmonClient(svc.url);
    await client.createSession({ session_id: 'prom-crash' });
    const r = await client.registerTarget('prom-crash', { target_type: 'node_exporter', role: 'exporter', scrape_config: { job_name: 'node', targets: [ne.address] } }, { up: true, timeoutSeconds: 30 });
    assert.equal(r.wait?.satisfied, true, 'node_exporter never came up before the crash');
  });
  after(async () => {
    await svc?.stop('SIGTERM');
    await killPids(prometheusPidsFor(configPathOf(env)));
    await ne?.stop();
  });

  it('is restarted within 10 s, scrapes the session again, and /metrics counts the restart', async () => {
    const before = await client.prometheusHealth();
    const oldPid = before.runtime.pid;
    assert.ok(oldPid, 'no Prometheus pid reported');
    const restartsBefore = await selfMetric(svc!.url, 'benchmon_prometheus_restarts_total');

    const killedAt = Date.now();
    process.kill(oldPid, 'SIGKILL');
    const after = await waitFor('Prometheus to be ready again under a new pid', async () => {
      const h = await client.prometheusHealth();
      return h.ready && h.runtime.running && h.runtime.pid !== oldPid ? h : undefined;
    }, 20_000, 100);
    const restartMs = Date.now() - killedAt;
    assert.ok(restartMs <= 10_000, `Prometheus ready again only after ${restartMs} ms`);
    assert.ok(!pidAlive(oldPid), 'the killed Prometheus is still alive');
    assert.equal(after.runtime.restarts, before.runtime.restarts + 1);
    assert.match(after.runtime.last_exit ?? '', /SIGKILL/);

    const target = await waitFor('node_exporter scraped by the new Prometheus', async () => {
      const t = (await client.prometheusTargets('active')).activeTargets.find((a) => a.labels.session === 'prom-crash' && a.labels.job === 'node');
      return t && t.health === 'up' && Date.parse(t.lastScrape) > killedAt ? t : undefined;
    }, 20_000, 250);
    assert.equal(target.scrapeUrl, `http://${ne!.address}/metrics`);
    const up = await client.query('up{session="prom-crash",job="node"}');
    assert.equal(up.resultType, 'vector');
    assert.deepEqual(up.result.map((s) => s.value[1]), ['1']);

    assert.equal(await selfMetric(svc!.url, 'benchmon_prometheus_restarts_total'), restartsBefore + 1);
    assert.deepEqual(prometheusPidsFor(configPathOf(env)), [after.runtime.pid]);
  });

  it('SIGTERM to benchmon serve exits 0 and stops its Prometheus', async () => {
    const pid = (await client.prometheusHealth()).runtime.pid;
    assert.ok(pid && pidAlive(pid), 'no running Prometheus to stop');
    const code = await svc!.stop('SIGTERM');
    assert.equal(code, 0, svc!.output());
    assert.ok(!pidAlive(pid), 'Prometheus survived the clean stop');
    assert.deepEqual(prometheusPidsFor(configPathOf(env)), []);
    assert.equal(fs.existsSync(path.join(env.BENCHMON_STATE_DIR!, 'prometheus', 'prometheus.pid')), false, 'pid file left behind');
  });
});
