import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { BenchmonClient } from '../../src/client/api-client.js';
import { startTestService, type TestService } from '../helpers/harness.js';

describe('BENCHMON_API_TOKEN guards the API', () => {
  let svc: TestService;
  const token = 'correct-horse-battery';

  before(async () => {
    svc = await startTestService({ BENCHMON_API_TOKEN: token });
  });
  after(async () => svc?.close());

  it('no token → 401 on /api routes', async () => {
    const res = await fetch(`${svc.url}/api/v1/sessions`);
    assert.equal(res.status, 401);
    assert.equal(((await res.json()) as { error: { code: string } }).error.code, 'UNAUTHORIZED');
    const post = await fetch(`${svc.url}/api/v1/sessions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"session_id":"x"}' });
    assert.equal(post.status, 401);
    assert.equal(svc.running.service.store.getSession('x'), undefined, 'an unauthorised request created a session');
  });

  it('wrong token → 401', async () => {
    await assert.rejects(new BenchmonClient(svc.url, { token: 'wrong-token-123' }).listSessions(), (err: { status: number }) => err.status === 401);
  });

  it('right token → 2xx', async () => {
    const s = await svc.client.createSession({ session_id: 'guarded' });
    assert.equal(s.session_id, 'guarded');
    const list = await svc.client.listSessions();
    assert.deepEqual(list.sessions.map((x) => x.session_id), ['guarded']);
  });

  it('/health, /ready and /metrics stay open', async () => {
    for (const p of ['/health', '/ready', '/metrics']) assert.equal((await fetch(`${svc.url}${p}`)).status, 200, p);
  });
});
