/**
 * The file_sd writer keeps each target's rendered JSON between writes; what Prometheus reads must
 * still be exactly the store's state after inserts, in-place updates (a Slurm job's endpoints, or
 * none), deletes, a failed write, and a session deleted and created again under the same id.
 * Concurrent changes share writes; a lone change is written at once.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import type { Target } from '../../sessions/model.js';
import { StateStore } from '../../store/state-store.js';
import { FileSdWriter } from './file-sd-writer.js';
import { shardOf, targetGroups } from './render.js';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'benchmon-filesd-'));
after(() => fs.rmSync(dir, { recursive: true, force: true }));

function target(id: string, endpoint: string): Target {
  return {
    session_id: 's1', target_id: id, job_id: null, target_type: 'node', role: 'exporter', job_name: id, metrics_path: '/metrics',
    scheme: 'http', scrape_interval: '5s', scrape_timeout: '5s', labels: {}, endpoints: [endpoint], created_at: new Date().toISOString(), slurm: null, via_proxy: false,
  };
}

/** Every target of the session as Prometheus reads it from its file, by job. */
function onDisk(writer: FileSdWriter): Map<string, string[]> {
  const file = writer.sessionFile('s1');
  if (!fs.existsSync(file)) return new Map();
  const groups = JSON.parse(fs.readFileSync(file, 'utf8')) as Array<{ targets: string[]; labels: Record<string, string> }>;
  return new Map(groups.map((g) => [g.labels.job!, g.targets]));
}

function fromStore(store: StateStore): Map<string, string[]> {
  const session = store.getSession('s1')!;
  return new Map(store.listTargets('s1').flatMap((t) => targetGroups(t, session)).map((g) => [g.labels.job!, g.targets]));
}

describe('FileSdWriter', () => {
  it('the file always holds what the store holds', async () => {
    const store = new StateStore(path.join(dir, 'state.db'));
    const writer = new FileSdWriter(path.join(dir, 'config'), store);
    store.insertSession({ session_id: 's1', labels: { run: 'a' }, scrape_interval: '5s', created_at: new Date().toISOString() });
    await writer.ensureSessionDir('s1');

    // 300 concurrent changes: a handful of writes, not 300.
    await Promise.all(Array.from({ length: 300 }, (_, i) => {
      const t = target(`t${i}`, `127.0.0.1:${10000 + i}`);
      store.insertTarget(t, shardOf(t.target_id));
      return writer.markChanged('s1', t.target_id);
    }));
    assert.deepEqual(onDisk(writer), fromStore(store));
    assert.equal(onDisk(writer).size, 300);
    assert.ok(writer.writes <= 2, `${writer.writes} writes for 300 concurrent changes`);

    // One change at a time: each is written at once (no batching delay for a lone registration).
    const before = writer.writes;
    for (let i = 0; i < 5; i++) {
      const t = target(`seq${i}`, `127.0.0.1:${11000 + i}`);
      store.insertTarget(t, shardOf(t.target_id));
      await writer.markChanged('s1', t.target_id);
      assert.equal(onDisk(writer).has(`seq${i}`), true);
    }
    assert.equal(writer.writes - before, 5);

    // In-place update (what the Slurm tracker does when a job's nodes change) and deletes.
    store.updateSlurmTarget('s1', 't7', { state: 'RUNNING', reason: null, nodes: [], endpoints: ['10.0.0.7:9100', '10.0.0.8:9100'] });
    await writer.markChanged('s1', 't7');
    for (const id of ['t1', 't2', 't3']) {
      store.deleteTarget('s1', id);
      await writer.markChanged('s1', id);
    }
    assert.deepEqual(onDisk(writer).get('t7'), ['10.0.0.7:9100', '10.0.0.8:9100']);
    // A Slurm target whose job has no endpoints (pending) has no group, and the file stays valid JSON.
    const pending: Target = { ...target('slurm-1', '10.0.0.9:9100'), endpoints: [], slurm: { job_id: '77', port: 9100, state: 'PENDING', phase: 'pending', reason: null, nodes: [] } };
    store.insertTarget(pending, shardOf(pending.target_id));
    await writer.markChanged('s1', pending.target_id);
    assert.equal(onDisk(writer).has('slurm-1'), false);
    store.updateSlurmTarget('s1', 'slurm-1', { state: 'RUNNING', reason: null, nodes: [{ node: 'n1', endpoint: '10.0.0.9:9100' }], endpoints: ['10.0.0.9:9100'] });
    await writer.markChanged('s1', 'slurm-1');
    assert.deepEqual(onDisk(writer).get('slurm-1'), ['10.0.0.9:9100']);
    assert.equal(onDisk(writer).has('t2'), false);
    assert.deepEqual(onDisk(writer), fromStore(store));

    // A failed write (a directory where the file goes, so the rename fails) rejects, and the
    // registry then drops the target from the store without another markChanged (registry.ts
    // storeTarget). The next write must not bring it back.
    const victim = target('t-fail', '127.0.0.1:9999');
    const file = writer.sessionFile('s1');
    store.insertTarget(victim, shardOf(victim.target_id));
    fs.rmSync(file);
    fs.mkdirSync(file);
    await assert.rejects(writer.markChanged('s1', victim.target_id));
    fs.rmdirSync(file);
    store.deleteTarget('s1', victim.target_id);
    const next = target('t-next', '127.0.0.1:9998');
    store.insertTarget(next, shardOf(next.target_id));
    await writer.markChanged('s1', next.target_id);
    assert.equal(onDisk(writer).has('t-fail'), false, 'a target whose write failed came back');
    assert.deepEqual(onDisk(writer), fromStore(store));

    // Deleted and created again under the same id: nothing of the old session comes back.
    store.deleteSession('s1');
    await writer.removeSession('s1');
    store.insertSession({ session_id: 's1', labels: {}, scrape_interval: '5s', created_at: new Date().toISOString() });
    const fresh = target('t0', '127.0.0.1:1234');
    store.insertTarget(fresh, shardOf('t0'));
    await writer.markChanged('s1', 't0');
    assert.deepEqual([...onDisk(writer).entries()], [['t0', ['127.0.0.1:1234']]]);
    store.close();
  });

  it('start-up rewrites the file from the store and removes the shard files of earlier versions', async () => {
    const store = new StateStore(path.join(dir, 'state-old.db'));
    const writer = new FileSdWriter(path.join(dir, 'config-old'), store);
    store.insertSession({ session_id: 's1', labels: {}, scrape_interval: '5s', created_at: new Date().toISOString() });
    await writer.ensureSessionDir('s1');
    for (let i = 0; i < 40; i++) {
      store.insertTarget(target(`old${i}`, `127.0.0.1:${20000 + i}`), i);
      fs.writeFileSync(path.join(writer.sessionDir('s1'), `shard-${String(i).padStart(2, '0')}.json`), '[]');
    }
    await writer.rewriteSession('s1'); // what start-up does
    assert.deepEqual(onDisk(writer), fromStore(store));
    assert.equal(onDisk(writer).size, 40);
    assert.deepEqual(fs.readdirSync(writer.sessionDir('s1')), ['targets.json']);
    store.deleteTarget('s1', 'old5');
    await writer.markChanged('s1', 'old5');
    assert.equal(onDisk(writer).has('old5'), false);
    store.close();
  });
});
