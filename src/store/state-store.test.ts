import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { MIGRATIONS } from './migrations.js';
import { StateStore } from './state-store.js';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'benchmon-store-'));
after(() => fs.rmSync(dir, { recursive: true, force: true }));

const session = (id: string) => ({ session_id: id, labels: {}, scrape_interval: null, created_at: '2024-05-01T10:00:00.000Z' });
const phase = (sessionId: string, name: string, start: string, end: string | null = null) => ({
  session_id: sessionId, name, start_time: start, end_time: end, created_at: start,
});

describe('StateStore phases', () => {
  it('keeps phases per session: unique names, listed by start time, ended once, gone with their session', () => {
    const store = new StateStore(path.join(dir, 'a.sqlite'));
    store.insertSession(session('s1'));
    store.insertSession(session('s2'));
    assert.equal(store.insertPhase(phase('s1', 'steady', '2024-05-01T10:01:00.000Z')), true);
    assert.equal(store.insertPhase(phase('s1', 'warmup', '2024-05-01T10:00:00.000Z', '2024-05-01T10:01:00.000Z')), true);
    assert.equal(store.insertPhase(phase('s1', 'steady', '2024-05-01T10:02:00.000Z')), false, 'a second "steady" in s1');
    assert.equal(store.insertPhase(phase('s2', 'steady', '2024-05-01T10:02:00.000Z')), true, 'names are per session');
    assert.deepEqual(store.listPhases('s1').map((p) => p.name), ['warmup', 'steady']);
    assert.equal(store.endPhase('s1', 'steady', '2024-05-01T10:03:00.000Z'), true);
    assert.equal(store.endPhase('s1', 'steady', '2024-05-01T10:04:00.000Z'), false, 'an ended phase keeps its end');
    assert.equal(store.getPhase('s1', 'steady')?.end_time, '2024-05-01T10:03:00.000Z');
    assert.equal(store.deletePhase('s1', 'warmup'), true);
    assert.equal(store.deletePhase('s1', 'warmup'), false);
    store.deleteSession('s2');
    assert.deepEqual(store.listPhases('s2'), []);
    store.close();
    // Acknowledged writes are there after a reopen.
    const again = new StateStore(path.join(dir, 'a.sqlite'));
    assert.deepEqual(again.listPhases('s1'), [phase('s1', 'steady', '2024-05-01T10:01:00.000Z', '2024-05-01T10:03:00.000Z')]);
    again.close();
  });

  it('migrates a database written before phases existed, keeping its data', () => {
    const file = path.join(dir, 'old.sqlite');
    const db = new Database(file);
    for (const [v, sql] of MIGRATIONS.slice(0, 3).entries()) {
      db.exec(sql);
      db.pragma(`user_version = ${v + 1}`);
    }
    db.prepare('INSERT INTO sessions (id, labels, scrape_interval, created_at) VALUES (?, ?, ?, ?)').run('old', '{}', null, '2024-05-01T10:00:00.000Z');
    db.close();
    const store = new StateStore(file);
    assert.equal(store.getSession('old')?.session_id, 'old');
    assert.equal(store.insertPhase(phase('old', 'warmup', '2024-05-01T10:00:00.000Z')), true);
    store.close();
    const check = new Database(file, { readonly: true });
    assert.equal(check.pragma('user_version', { simple: true }), MIGRATIONS.length);
    check.close();
  });
});
