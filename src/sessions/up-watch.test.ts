/**
 * UpWatch against a real Prometheus scraping itself under job names that need escaping in a
 * regex (dots) and one that does not exist: `?wait=up` must see exactly the jobs it waits for,
 * and concurrent waiters must share queries.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { freePort, startPrometheus, type RunningPrometheus } from '../collect/testing/real-prometheus.js';
import { upQuery, UpWatch } from './up-watch.js';

const SESSION = 'up-watch.1';

describe('UpWatch (real Prometheus)', () => {
  let prom: RunningPrometheus;
  before(async () => {
    const port = await freePort();
    const job = (name: string, target: string) =>
      `  - job_name: ${name}\n    static_configs: [{targets: ['${target}'], labels: {session: ${SESSION}}}]\n`;
    prom = await startPrometheus({
      port,
      config:
        'global:\n  scrape_interval: 1s\nscrape_configs:\n' +
        job('node.a', `127.0.0.1:${port}`) +
        // "nodeXa" would match the unescaped regex node.a: it must not be reported for node.a.
        job('nodeXa', `127.0.0.1:${port}`) +
        job('dead.1', '127.0.0.1:9'),
    });
    const deadline = Date.now() + 20_000;
    for (;;) {
      const r = await prom.client.queryInstant(`count(up{session="${SESSION}"})`);
      if (r.resultType === 'vector' && Number(r.result[0]?.value[1]) === 3) break;
      if (Date.now() > deadline) throw new Error('Prometheus did not scrape the three jobs');
      await new Promise((res) => setTimeout(res, 200));
    }
  });
  after(async () => prom?.stop());

  it('reports up, down and not-yet-scraped per job, with the scrape time and duration', async () => {
    const watch = new UpWatch(prom.client);
    const up = await watch.next(SESSION, 'node.a');
    assert.deepEqual([...up.keys()], [new URL(prom.url).host]);
    const s = [...up.values()][0]!;
    assert.equal(s.up, 1);
    assert.ok(s.lastScrape && Date.now() - Date.parse(s.lastScrape) < 30_000, `last scrape ${s.lastScrape}`);
    assert.ok(s.lastScrapeDurationSeconds !== null && s.lastScrapeDurationSeconds > 0);

    const down = await watch.next(SESSION, 'dead.1');
    assert.equal(down.get('127.0.0.1:9')?.up, 0);
    assert.equal((await watch.next(SESSION, 'not.registered')).size, 0);
    assert.equal((await watch.next('other-session', 'node.a')).size, 0, 'another session must not see this one');
  });

  it('answers 200 concurrent waiters of one session with a handful of queries', async () => {
    const watch = new UpWatch(prom.client);
    const jobs = Array.from({ length: 200 }, (_, i) => (i === 0 ? 'node.a' : `job.${i}`));
    const results = await Promise.all(jobs.map((j) => watch.next(SESSION, j)));
    assert.equal(results[0]!.size, 1);
    assert.ok(results.slice(1).every((r) => r.size === 0));
    assert.ok(watch.rounds <= 2, `${watch.rounds} queries for 200 concurrent waiters`);
  });

  it('escapes job names so a dot matches only a dot', () => {
    assert.match(upQuery('s', ['node.a', 'b']), /job=~"node\\\\\.a\|b"/);
  });
});
