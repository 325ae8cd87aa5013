/**
 * Acceptance: CPU utilisation of the `node` and `default` recipes (node_exporter's
 * node_cpu_seconds_total, scraped every second by the session's real Prometheus) within 5
 * percentage points of a figure computed independently from /proc/stat over the same window:
 * 100 · (1 − Δidle / Δtotal) of the aggregate `cpu` line read at the window's start and end.
 *
 * A child process burns one CPU for the middle 10 s of the 24 s window, so the figure is
 * neither trivially 0 nor 100; the rest of the machine's load (shared) counts on both sides.
 * Because a shared machine may be saturated anyway (busy ≈ 100 % on both sides proves little),
 * the `node` collection also carries two ad-hoc KPIs, the user and system shares, which stay
 * well inside (0, 100) and are compared with /proc/stat's user and system columns the same way.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import type { CollectionSummary } from '../../src/collect/run-collection.js';
import { busyPercent, checkCollectionDir, kpiOf, modePercent, readProcStatCpu, type ProcStatCpu, sleep, sleepUntil, stopChild } from '../helpers/collect-checks.js';
import { nodeExporterBody, startNodeExporter, startTestService, type NodeExporter, type TestService, registerUp } from '../helpers/harness.js';

const SESSION = 'cpu';
const WINDOW_MS = 24_000;
const BURN_FROM_MS = 7_000;
const BURN_MS = 10_000;

const modeQuery = (mode: string) => ({
  name: `cpu_${mode}_share`,
  unit: '%',
  method: 'rate',
  higher_is_better: false,
  slice_by: ['job', 'instance'],
  query: `100 * avg by (\${by}) (rate(node_cpu_seconds_total{mode="${mode}", \${session}}[\${window}]))`,
});
const MODE_QUERIES = [modeQuery('user'), modeQuery('system')];

describe('collect: CPU utilisation against /proc/stat', () => {
  let svc: TestService | undefined;
  let ne: NodeExporter | undefined;
  let burner: ChildProcess | undefined;
  let independent = 0;
  let stat: [ProcStatCpu, ProcStatCpu];
  const collections = new Map<string, CollectionSummary>();

  before(async () => {
    svc = await startTestService();
    ne = await startNodeExporter();
    await svc.client.createSession({ session_id: SESSION });
    await registerUp(svc.client, SESSION, nodeExporterBody(SESSION, ne.address), 'node_exporter');
    await sleep(3000);

    const startMs = Date.now();
    const a = readProcStatCpu();
    await sleepUntil(startMs + BURN_FROM_MS);
    burner = spawn(process.execPath, ['-e', `const end = Date.now() + ${BURN_MS}; let x = 0; while (Date.now() < end) x++;`], { stdio: 'ignore' });
    const burnt = new Promise<void>((resolve) => burner!.once('exit', () => resolve()));
    await sleepUntil(startMs + WINDOW_MS);
    const b = readProcStatCpu();
    const endMs = Date.now();
    await burnt;
    independent = busyPercent(a, b);
    stat = [a, b];
    await sleep(2500);
    for (const recipe of ['node', 'default']) {
      collections.set(recipe, await svc.client.collect(SESSION, {
        start_time: new Date(startMs).toISOString(),
        end_time: new Date(endMs).toISOString(),
        recipe,
        ...(recipe === 'node' ? { queries: MODE_QUERIES } : {}),
      }));
    }
  });

  after(async () => {
    await stopChild(burner);
    await ne?.stop();
    await svc?.close();
  });

  it('the independent figure is not trivial (one CPU of the machine was busy for 10 of 24 s)', (t) => {
    t.diagnostic(`/proc/stat busy over the window: ${independent.toFixed(2)} %`);
    assert.ok(independent > 5 && independent <= 100, `${independent} %`);
  });

  for (const recipe of ['node', 'default']) {
    it(`${recipe} recipe: cpu_utilisation within 5 percentage points of /proc/stat`, (t) => {
      const c = collections.get(recipe)!;
      const k = kpiOf(c, 'cpu_utilisation');
      assert.equal(k.unit, '%');
      assert.ok(k.value !== null, `no value: ${k.note}`);
      t.diagnostic(`${recipe}: cpu_utilisation ${k.value.toFixed(2)} % vs. /proc/stat ${independent.toFixed(2)} %`);
      assert.ok(Math.abs(k.value - independent) <= 5, `cpu_utilisation ${k.value} % vs. /proc/stat ${independent} %`);
      assert.ok(k.coverage !== null && k.coverage >= 0.9, `coverage ${k.coverage}`);
      checkCollectionDir(c.directory);
    });
  }

  for (const mode of ['user', 'system'] as const) {
    it(`node recipe + ad-hoc: the ${mode} share within 5 percentage points of /proc/stat`, (t) => {
      const k = kpiOf(collections.get('node')!, `cpu_${mode}_share`);
      assert.ok(k.value !== null, `no value: ${k.note}`);
      const truth = modePercent(stat[0], stat[1], mode);
      t.diagnostic(`cpu_${mode}_share ${k.value.toFixed(2)} % vs. /proc/stat ${truth.toFixed(2)} %`);
      assert.ok(Math.abs(k.value - truth) <= 5, `cpu_${mode}_share ${k.value} % vs. /proc/stat ${truth} %`);
    });
  }
});
