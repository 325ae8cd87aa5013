/**
 * Acceptance: `benchmon demo` — the whole job in one command, run as a user runs it
 * (`node bin/benchmon.js demo --duration 20s`, a child process, ARTIFACTS_ROOT in a temp dir):
 * it exits 0, prints a KPI table for each of vllm, qdrant and node with non-empty values, the
 * artifact directories it prints hold valid collections whose manifests carry the same values,
 * and it leaves nothing running (its Prometheus, node_exporter and emulators are stopped).
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { checkCollectionDir, findCollectionDirs } from '../helpers/collect-checks.js';
import { tempDir } from '../helpers/harness.js';
import { runBenchmon, type Finished } from '../helpers/processes.js';

interface Section { recipe: string; withValue: number; total: number; rows: Array<{ kpi: string; value: string }>; artifacts: string }

/** The "== recipe (n/m KPIs with a value)" sections of the demo's output, with their KPI tables. */
function sections(out: string): Section[] {
  const result: Section[] = [];
  const lines = out.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const head = /^== (\S+) \((\d+)\/(\d+) KPIs with a value\)$/.exec(lines[i]!);
    if (!head) continue;
    const header = lines[i + 1] ?? '';
    assert.match(header, /^KPI\s+VALUE\s+UNIT/, `no KPI table under ${lines[i]}`);
    const valueAt = header.indexOf('VALUE');
    const unitAt = header.indexOf('UNIT');
    const rows: Section['rows'] = [];
    let j = i + 3; // header, dashes
    for (; j < lines.length && lines[j]!.trim() !== '' && !lines[j]!.startsWith('artifacts: '); j++) {
      rows.push({ kpi: lines[j]!.slice(0, valueAt).trim(), value: lines[j]!.slice(valueAt, unitAt).trim() });
    }
    const artifacts = /^artifacts: (.+)$/.exec(lines[j] ?? '')?.[1] ?? '';
    result.push({ recipe: head[1]!, withValue: Number(head[2]), total: Number(head[3]), rows, artifacts });
  }
  return result;
}

describe('benchmon demo --duration 20s (child process)', () => {
  let root: string;
  let run: Finished;
  let found: Section[];

  before(async () => {
    root = tempDir('benchmon-demo-artifacts-');
    run = await runBenchmon(['demo', '--duration', '20s'], { ARTIFACTS_ROOT: root }, 150_000);
    found = sections(run.stdout);
  });

  after(() => {
    fs.rmSync(root, { recursive: true, force: true });
  });

  it('exits 0 (not killed) and prints the load it ran', () => {
    assert.equal(run.signal, null, `demo was killed after 150 s:\n${run.stdout}\n${run.stderr}`);
    assert.equal(run.code, 0, `exit ${run.code}:\n${run.stdout}\n${run.stderr}`);
    const load = /load: vLLM (\d+)\/(\d+) ok, Qdrant (\d+)\/(\d+) ok/.exec(run.stdout);
    assert.ok(load, `no load line:\n${run.stdout}`);
    assert.ok(Number(load[1]) > 50 && Number(load[3]) > 200, load[0]);
  });

  it('prints a KPI table for vllm, qdrant and node, in that order', () => {
    assert.deepEqual(found.map((s) => s.recipe), ['vllm', 'qdrant', 'node'], run.stdout);
  });

  for (const recipe of ['vllm', 'qdrant', 'node']) {
    it(`${recipe}: the KPIs are non-empty and match the collection written to disk`, (t) => {
      const s = found.find((x) => x.recipe === recipe);
      assert.ok(s, `no ${recipe} section:\n${run.stdout}`);
      assert.equal(s.rows.length, s.total);
      const empty = s.rows.filter((r) => r.value === '' || r.value === '(empty)').map((r) => r.kpi);
      assert.equal(s.withValue, s.total - empty.length);
      t.diagnostic(`${recipe}: ${s.withValue}/${s.total} KPIs with a value${empty.length > 0 ? `; empty: ${empty.join(', ')}` : ''}`);
      if (recipe === 'node') {
        // The node recipe reads the machine's node_exporter; CPU, memory and load always exist.
        for (const kpi of ['cpu_utilisation', 'load1_avg', 'memory_used_avg', 'memory_used_max']) {
          assert.ok(!empty.includes(kpi), `node: ${kpi} is empty:\n${run.stdout}`);
        }
      } else {
        assert.deepEqual(empty, [], `${recipe}: empty KPIs:\n${run.stdout}`);
      }
      for (const r of s.rows.filter((x) => !empty.includes(x.kpi))) assert.ok(Number.isFinite(Number(r.value)), `${recipe} ${r.kpi}: ${r.value}`);
      // The printed directory is a valid collection under ARTIFACTS_ROOT holding the same values.
      assert.ok(s.artifacts.startsWith(fs.realpathSync(root)) || s.artifacts.startsWith(root), `${s.artifacts} is not under ${root}`);
      const { manifest } = checkCollectionDir(s.artifacts);
      assert.equal(manifest.recipe.name, recipe);
      assert.deepEqual(manifest.kpis.map((k) => k.name), s.rows.map((r) => r.kpi));
      for (const r of s.rows) {
        const k = manifest.kpis.find((x) => x.name === r.kpi)!;
        assert.equal(k.value === null, empty.includes(r.kpi), `${recipe} ${r.kpi}: printed ${r.value}, manifest ${k.value}`);
      }
    });
  }

  it('stopped what it started: its Prometheus and node_exporter no longer answer', async () => {
    const prom = /Prometheus (http:\/\/127\.0\.0\.1:\d+)/.exec(run.stdout)?.[1];
    const ne = /node_exporter (127\.0\.0\.1:\d+)/.exec(run.stdout)?.[1];
    assert.ok(prom && ne, `the demo did not print its Prometheus and node_exporter addresses:\n${run.stdout}`);
    for (const url of [`${prom}/-/ready`, `http://${ne}/metrics`]) {
      const answer = await fetch(url, { signal: AbortSignal.timeout(5000) }).then((r) => `HTTP ${r.status}`, () => 'closed');
      assert.equal(answer, 'closed', `${url} still answers`);
    }
  });

  it('wrote exactly the three collections, and nothing else is left behind', () => {
    const dirs = findCollectionDirs(root);
    assert.equal(dirs.length, 3, dirs.join('\n'));
    const sessionDirs = fs.readdirSync(root);
    assert.equal(sessionDirs.length, 1, `one session directory: ${sessionDirs.join(', ')}`);
    assert.deepEqual(fs.readdirSync(path.join(root, sessionDirs[0]!)).filter((n) => n.startsWith('.')), []);
  });
});
