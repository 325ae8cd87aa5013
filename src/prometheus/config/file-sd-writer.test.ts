/**
 * The file_sd writer keeps each target's rendered JSON between writes; what Prometheus reads must
 * still be exactly the store's state after inserts, in-place updates (a Slurm job's endpoints),
 * deletes, a failed write, and a session deleted and created again under the same id.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import type { Target } from '../../sessions/model.js';
import { StateStore } from '../../store/state-store.js';
import { FileSdWriter } from './file-sd-writer.js';
import { FILE_SD_SHARDS, shardFileName, shardOf, targetGroups } from './render.js';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'benchmon-filesd-'));
after(() => fs.rmSync(dir, { recursive: true, force: true }));

function target(id: string, endpoint: string): Target {
  return {
    session_id: 's1', target_id: id, job_id: null, target_type: 'node', role: 'exporter', job_name: id, metrics_path: '/metrics',
    scheme: 'http', scrape_interval: '5s', scrape_timeout: '5s', labels: {}, endpoints: [endpoint], created_at: new Date().toISOString(), slurm: null, via_proxy: false,
  };
}

/** Every target of the session as Prometheus reads it from the shard files, by job. */
function onDisk(writer: FileSdWriter): Map<string, string[]> {
  const jobs = new Map<string, string[]>();
  const d = writer.sessionDir('s1');
  for (let shard = 0; shard < FILE_SD_SHARDS; shard++) {
    const file = path.join(d, shardFileName(shard));
    if (!fs.existsSync(file)) continue;
    for (const g of JSON.parse(fs.readFileSync(file, 'utf8')) as Array<{ targets: string[]; labels: Record<string, string> }>) jobs.set(g.labels.job!, g.targets);
  }
  return jobs;
}

function fromStore(store: StateStore): Map<string, string[]> {
  const session = store.getSession('s1')!;
  return new Map(store.listTargets('s1').flatMap((t) => targetGroups(t, session)).map((g) => [g.labels.job!, g.targets]));
}

describe('FileSdWriter', () => {
  it('shard files always hold what the store holds', async () => {
    const store = new StateStore(path.join(dir, 'state.db'));
    const writer = new FileSdWriter(path.join(dir, 'config'), store);
    store.insertSession({ session_id: 's1', labels: { run: 'a' }, scrape_interval: '5s', created_at: new Date().toISOString() });
    await writer.ensureSessionDir('s1');

    // 300 targets so most shards hold several; concurrent changes coalesce into one flush.
    await Promise.all(Array.from({ length: 300 }, (_, i) => {
      const t = target(`t${i}`, `127.0.0.1:${10000 + i}`);
      store.insertTarget(t, shardOf(t.target_id));
      return writer.markChanged('s1', t.target_id);
    }));
    assert.deepEqual(onDisk(writer), fromStore(store));
    assert.equal(onDisk(writer).size, 300);

    // In-place update (what the Slurm tracker does when a job's nodes change) and deletes.
    store.updateSlurmTarget('s1', 't7', { state: 'RUNNING', reason: null, nodes: [], endpoints: ['10.0.0.7:9100', '10.0.0.8:9100'] });
    await writer.markChanged('s1', 't7');
    for (const id of ['t1', 't2', 't3']) {
      store.deleteTarget('s1', id);
      await writer.markChanged('s1', id);
    }
    assert.deepEqual(onDisk(writer).get('t7'), ['10.0.0.7:9100', '10.0.0.8:9100']);
    assert.equal(onDisk(writer).has('t2'), false);
    assert.deepEqual(onDisk(writer), fromStore(store));

    // A failed write (a directory where the shard file goes, so the rename fails) rejects, and the
    // registry then drops the target from the store without another markChanged (registry.ts
    // storeTarget). The next write to that shard must not bring it back.
    const victim = target('t-fail', '127.0.0.1:9999');
    let n = 0;
    while (shardOf(`t-next${n}`) !== shardOf(victim.target_id)) n++;
    const shardFile = path.join(writer.sessionDir('s1'), shardFileName(shardOf(victim.target_id)));
    store.insertTarget(victim, shardOf(victim.target_id));
    fs.rmSync(shardFile, { force: true });
    fs.mkdirSync(shardFile);
    await assert.rejects(writer.markChanged('s1', victim.target_id));
    fs.rmdirSync(shardFile);
    store.deleteTarget('s1', victim.target_id);
    const next = target(`t-next${n}`, '127.0.0.1:9998');
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

  it('a state directory written with 64 shards is re-sharded at start-up and its old files removed', async () => {
    const store = new StateStore(path.join(dir, 'state-64.db'));
    const writer = new FileSdWriter(path.join(dir, 'config-64'), store);
    store.insertSession({ session_id: 's1', labels: {}, scrape_interval: '5s', created_at: new Date().toISOString() });
    await writer.ensureSessionDir('s1');
    // As the previous version left them: shard numbers up to 63, and a file per shard.
    for (let i = 0; i < 40; i++) {
      const t = target(`old${i}`, `127.0.0.1:${20000 + i}`);
      store.insertTarget(t, 8 + i);
      fs.writeFileSync(path.join(writer.sessionDir('s1'), `shard-${8 + i}.json`), '[]');
    }
    store.assignShards(shardOf, FILE_SD_SHARDS); // what start-up does
    await writer.rewriteSession('s1');
    assert.deepEqual(onDisk(writer), fromStore(store));
    assert.equal(onDisk(writer).size, 40);
    const files = fs.readdirSync(writer.sessionDir('s1'));
    assert.ok(files.every((f) => Number(/^shard-(\d+)\.json$/.exec(f)?.[1]) < FILE_SD_SHARDS), `left behind: ${files.join(' ')}`);
    // And the next change to one of them rewrites the right file.
    store.deleteTarget('s1', 'old5');
    await writer.markChanged('s1', 'old5');
    assert.equal(onDisk(writer).has('old5'), false);
    store.close();
  });
});
