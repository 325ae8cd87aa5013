/**
 * The `benchmon` CLI run as a user runs it (`node bin/benchmon.js …`, a child process) against a
 * running `benchmon serve`: the seed's flow, every client command, exit codes and error lines.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { BenchmonClient } from '../../src/client/api-client.js';
import { freePort, isolatedEnv, spawnService, startNodeExporter, type ChildService, type NodeExporter } from '../helpers/harness.js';
import { runBenchmon, type Finished } from '../helpers/processes.js';
import { startTinyExporter } from '../helpers/tiny-exporter.js';

/** The cell of `column` in the table row that contains `rowKey` (columns are aligned under the header). */
function cell(table: string, rowKey: string, column: string): string {
  const lines = table.split('\n');
  const header = lines.find((l) => new RegExp(`(^|\\s)${column}(\\s|$)`).test(l));
  assert.ok(header, `no ${column} column in:\n${table}`);
  const row = lines.find((l) => l.includes(rowKey) && l !== header);
  assert.ok(row, `no row with ${rowKey} in:\n${table}`);
  return row.slice(header.search(new RegExp(`(?<=^|\\s)${column}(\\s|$)`))).split(/\s+/)[0]!;
}

function oneLineError(r: Finished): string {
  assert.equal(r.stdout, '', `a failure printed to stdout: ${r.stdout}`);
  const lines = r.stderr.trim().split('\n');
  assert.equal(lines.length, 1, `expected one line on stderr, got:\n${r.stderr}`);
  assert.match(lines[0]!, /^benchmon: /);
  return lines[0]!;
}

function ok(r: Finished): string {
  assert.equal(r.code, 0, `exit ${r.code}: ${r.stderr}${r.stdout}`);
  return r.stdout;
}

function json<T>(r: Finished): T {
  return JSON.parse(ok(r)) as T;
}

describe('benchmon CLI against a running service', () => {
  let svc: ChildService | undefined;
  let ne: NodeExporter | undefined;
  let tiny: Awaited<ReturnType<typeof startTinyExporter>> | undefined;
  let api: BenchmonClient;
  const cli = (args: string[], extra: Record<string, string> = {}) => runBenchmon(args, { BENCHMON_URL: svc!.url, ...extra });

  before(async () => {
    [ne, tiny] = await Promise.all([startNodeExporter(), startTinyExporter()]);
    svc = await spawnService(await isolatedEnv());
    api = new BenchmonClient(svc.url);
  });
  after(async () => {
    await svc?.stop('SIGTERM');
    await ne?.stop();
    await tiny?.close();
  });

  it("does the seed's flow: session-create, service-register --wait, status, status --json, delete", async () => {
    assert.match(ok(await cli(['session-create', '--session', 'seed-1'])), /^session seed-1 created$/m);

    const reg = ok(await cli(['service-register', '--session', 'seed-1', '--job-id', '3607637', '--name', 'node_exporter', '--endpoint', `http://${ne!.address}/metrics`, '--wait']));
    assert.match(reg, /target node_exporter-3607637 registered in session seed-1/);
    assert.match(reg, /^up after \d+\.\d s$/m);
    const prom = (await api.prometheusTargets('active')).activeTargets.find((t) => t.labels.session === 'seed-1');
    assert.ok(prom, 'Prometheus does not have the target the CLI registered');
    assert.equal(prom.scrapeUrl, `http://${ne!.address}/metrics`);
    assert.equal(prom.labels.job, 'node_exporter-3607637');
    assert.equal(prom.labels.job_id, '3607637');
    assert.equal(prom.labels.target_type, 'node_exporter');

    const table = ok(await cli(['status', '--session', 'seed-1']));
    assert.match(table, /^session seed-1 \(created /m);
    assert.equal(cell(table, 'node_exporter-3607637', 'HEALTH'), 'up');
    assert.equal(cell(table, 'node_exporter-3607637', 'ENDPOINT'), ne!.address);
    assert.equal(cell(table, 'node_exporter-3607637', 'JOB_ID'), '3607637');

    const st = json<{ session: { session_id: string }; targets: Array<{ target_id: string; job_id: string; target_type: string; metrics_path: string; endpoints: string[]; health: string }> }>(
      await cli(['status', '--session', 'seed-1', '--json']),
    );
    assert.equal(st.session.session_id, 'seed-1');
    assert.equal(st.targets.length, 1);
    assert.deepEqual(
      { id: st.targets[0]!.target_id, job: st.targets[0]!.job_id, type: st.targets[0]!.target_type, path: st.targets[0]!.metrics_path, endpoints: st.targets[0]!.endpoints, health: st.targets[0]!.health },
      { id: 'node_exporter-3607637', job: '3607637', type: 'node_exporter', path: '/metrics', endpoints: [ne!.address], health: 'up' },
    );

    assert.match(ok(await cli(['delete', '--session', 'seed-1'])), /^session seed-1 deleted \(1 targets removed\)$/m);
    await assert.rejects(api.sessionStatus('seed-1'), (err: { status: number }) => err.status === 404);
    const gone = await cli(['status', '--session', 'seed-1']);
    assert.equal(gone.code, 3);
    assert.match(oneLineError(gone), /seed-1/);
  });

  it('full form commands with --json: session-create, target-register, target-list, prom-targets, query, session-list, target-remove', async () => {
    const s = json<{ session_id: string; labels: Record<string, string>; scrape_interval: string }>(
      await cli(['session-create', '--session', 'full', '--label', 'team=perf', '--scrape-interval', '2s', '--json']),
    );
    assert.deepEqual([s.session_id, s.labels, s.scrape_interval], ['full', { team: 'perf' }, '2s']);

    const reg = json<{ target: { target_id: string; role: string; job_id: string; scrape_interval: string; labels: Record<string, string>; health: string }; wait: { satisfied: boolean } }>(await cli([
      'target-register', '--session', 'full', '--job-name', 'qd', '--target-type', 'qdrant', '--targets', tiny!.address, '--metrics-path', '/metrics',
      '--scrape-interval', '1s', '--scrape-timeout', '1s', '--job-id', '42', '--role', 'service', '--label', 'rack=r1', '--wait', '--timeout', '30', '--json',
    ]));
    assert.equal(reg.wait.satisfied, true);
    assert.deepEqual([reg.target.target_id, reg.target.role, reg.target.job_id, reg.target.scrape_interval, reg.target.labels, reg.target.health], ['qd', 'service', '42', '1s', { rack: 'r1' }, 'up']);

    const list = json<{ targets: Array<{ target_id: string; target_type: string; health: string }> }>(await cli(['target-list', '--session', 'full', '--json']));
    assert.deepEqual(list.targets.map((t) => [t.target_id, t.target_type, t.health]), [['qd', 'qdrant', 'up']]);
    assert.equal(cell(ok(await cli(['target-list', '--session', 'full'])), 'qd', 'HEALTH'), 'up');

    const prom = json<Array<{ labels: Record<string, string>; health: string; scrapeUrl: string }>>(await cli(['prom-targets', '--session', 'full', '--json']));
    assert.deepEqual(prom.map((t) => [t.labels.job, t.labels.session, t.labels.team, t.labels.rack, t.labels.role, t.health, t.scrapeUrl]), [['qd', 'full', 'perf', 'r1', 'service', 'up', `http://${tiny!.address}/metrics`]]);
    assert.equal(cell(ok(await cli(['prom-targets', '--session', 'full'])), tiny!.address, 'HEALTH'), 'up');

    const q = json<{ resultType: string; result: Array<{ metric: Record<string, string>; value: [number, string] }> }>(await cli(['query', 'up{session="full"}', '--json']));
    assert.equal(q.resultType, 'vector');
    assert.deepEqual(q.result.map((r) => [r.metric.job, r.metric.target_type, r.value[1]]), [['qd', 'qdrant', '1']]);
    assert.match(ok(await cli(['query', 'up{session="full"}'])), /^up\{.*session="full".*\}\s+1$/m);
    const now = Math.floor(Date.now() / 1000);
    const range = json<{ resultType: string; result: Array<{ values: Array<[number, string]> }> }>(
      await cli(['query', 'up{session="full"}', '--start', String(now - 20), '--end', String(now), '--step', '1s', '--json']),
    );
    assert.equal(range.resultType, 'matrix');
    assert.equal(range.result.length, 1);
    assert.ok(range.result[0]!.values.every(([, v]) => v === '1'));

    const sessions = json<Array<{ session_id: string; target_count: number }>>(await cli(['session-list', '--json']));
    assert.deepEqual(sessions.find((x) => x.session_id === 'full')?.target_count, 1);
    assert.equal(cell(ok(await cli(['session-list'])), 'full', 'TARGETS'), '1');

    const removed = json<{ deleted: { target_id: string; session_id: string } }>(await cli(['target-remove', '--session', 'full', '--target', 'qd', '--json']));
    assert.deepEqual([removed.deleted.target_id, removed.deleted.session_id], ['qd', 'full']);
    assert.deepEqual((await api.listTargets('full')).targets, []);
    const again = await cli(['target-remove', '--session', 'full', '--target', 'qd']);
    assert.equal(again.code, 3);
    assert.match(oneLineError(again), /qd/);
  });

  it('--url reaches the service and wins over BENCHMON_URL', async () => {
    const dead = `http://127.0.0.1:${await freePort()}`;
    const viaFlag = json<unknown[]>(await runBenchmon(['--url', svc!.url, 'session-list', '--json'], { BENCHMON_URL: dead }));
    assert.ok(Array.isArray(viaFlag));
    const viaEnv = await runBenchmon(['session-list', '--json'], { BENCHMON_URL: dead });
    assert.equal(viaEnv.code, 5, 'BENCHMON_URL was not used');
  });

  it('unknown session → exit 3 with one line on stderr', async () => {
    for (const args of [['status', '--session', 'no-such-session'], ['service-register', '--session', 'no-such-session', '--name', 'x', '--endpoint', `http://${ne!.address}/metrics`]]) {
      const r = await cli(args);
      assert.equal(r.code, 3, `${args[0]}: exit ${r.code}: ${r.stderr}`);
      assert.match(oneLineError(r), /no-such-session/);
    }
  });

  it('bad input → exit 2 with one line naming what is wrong', async () => {
    await cli(['session-create', '--session', 'inputs']).then(ok);
    const cases: Array<[string[], RegExp]> = [
      [['service-register', '--session', 'inputs', '--name', 'x', '--endpoint', 'ftp://node01/metrics'], /--endpoint/],
      [['service-register', '--session', 'inputs', '--name', 'x', '--endpoint', 'http://node 01:8000/metrics'], /--endpoint/],
      [['target-register', '--session', 'inputs', '--job-name', 'j', '--target-type', 'x', '--targets', 'no-port-here'], /targets/],
      [['target-register', '--session', 'inputs', '--job-name', 'bad name', '--target-type', 'x', '--targets', '127.0.0.1:1'], /job_name/],
      [['session-create', '--session', '../escape'], /session_id/],
    ];
    for (const [args, names] of cases) {
      const r = await cli(args);
      assert.equal(r.code, 2, `${args.join(' ')}: exit ${r.code}: ${r.stderr}`);
      assert.match(oneLineError(r), names, args.join(' '));
    }
    assert.deepEqual((await api.listTargets('inputs')).targets, [], 'a rejected registration was stored');
    const missing = await cli(['service-register', '--session', 'inputs', '--name', 'x']);
    assert.equal(missing.code, 2, 'a missing required option is a usage error');
    assert.match(missing.stderr, /--endpoint/);
  });

  it('an existing session → exit 4; a target that never comes up with --wait → exit 1 saying it is not up', async () => {
    const dup = await cli(['session-create', '--session', 'inputs']);
    assert.equal(dup.code, 4);
    assert.match(oneLineError(dup), /inputs/);
    const closed = await freePort();
    const r = await cli(['target-register', '--session', 'inputs', '--job-name', 'never', '--target-type', 'x', '--targets', `127.0.0.1:${closed}`, '--wait', '--timeout', '3']);
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stdout, new RegExp(`^not up after \\d+\\.\\d s: 127\\.0\\.0\\.1:${closed}$`, 'm'));
  });

  it('service unreachable → exit 5 with one line naming the URL', async () => {
    const dead = `http://127.0.0.1:${await freePort()}`;
    for (const args of [['--url', dead, 'session-list'], ['--url', dead, 'status', '--session', 'x', '--json']]) {
      const r = await runBenchmon(args, {});
      assert.equal(r.code, 5, `exit ${r.code}: ${r.stderr}`);
      assert.ok(oneLineError(r).includes(dead), r.stderr);
    }
  });
});

describe('benchmon CLI against a service with BENCHMON_API_TOKEN', () => {
  const token = 'cli-test-token-123';
  let svc: ChildService | undefined;

  before(async () => {
    svc = await spawnService(await isolatedEnv({ BENCHMON_API_TOKEN: token }));
  });
  after(async () => {
    await svc?.stop('SIGTERM');
  });

  it('without a token → exit 7 with one line; a wrong token → exit 7', async () => {
    const none = await runBenchmon(['session-list'], { BENCHMON_URL: svc!.url });
    assert.equal(none.code, 7);
    assert.match(oneLineError(none), /token/i);
    const wrong = await runBenchmon(['--token', 'not-the-token', 'session-list'], { BENCHMON_URL: svc!.url });
    assert.equal(wrong.code, 7);
    oneLineError(wrong);
  });

  it('--token works, and so does BENCHMON_API_TOKEN in the environment', async () => {
    const created = json<{ session_id: string }>(await runBenchmon(['--token', token, 'session-create', '--session', 'guarded', '--json'], { BENCHMON_URL: svc!.url }));
    assert.equal(created.session_id, 'guarded');
    const listed = json<Array<{ session_id: string }>>(await runBenchmon(['session-list', '--json'], { BENCHMON_URL: svc!.url, BENCHMON_API_TOKEN: token }));
    assert.deepEqual(listed.map((s) => s.session_id), ['guarded']);
  });
});
