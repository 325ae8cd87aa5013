/**
 * Independent checks of what a collection returns and writes, for the collection tests: the
 * MANIFEST.json against the published JSON Schema (a fresh Ajv 2020 with ajv-formats, not
 * benchmon's own validator), each listed file's bytes and sha256 recomputed from disk, the
 * Parquet file read back by an independent reader (parquet-wasm + Arrow), metrics_summary.csv
 * parsed by an RFC 4180 reader written here; plus the ground-truth sources the tests compare
 * with: Debian's `hey` and /proc/stat.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { Ajv2020 } from 'ajv/dist/2020.js';
import type { ValidateFunction } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import type { FormatsPlugin } from 'ajv-formats';
import { tableFromIPC } from 'apache-arrow';
import { readParquet } from 'parquet-wasm/node';
import type { CollectionSummary, KpiSummary } from '../../src/collect/run-collection.js';
import { REPO_ROOT } from './harness.js';

export const MANIFEST_SCHEMA_FILE = path.join(REPO_ROOT, 'src', 'artifacts', 'manifest.schema.json');

let validator: ValidateFunction | undefined;

/** Validates against the schema file published in the repository. */
export function validateAgainstPublishedSchema(manifest: unknown): string[] {
  if (!validator) {
    const ajv = new Ajv2020({ allErrors: true, strict: true });
    (addFormatsModule as unknown as FormatsPlugin)(ajv);
    validator = ajv.compile(JSON.parse(fs.readFileSync(MANIFEST_SCHEMA_FILE, 'utf8')) as object);
  }
  if (validator(manifest)) return [];
  return (validator.errors ?? []).map((e) => `${e.instancePath || '/'} ${e.message ?? 'invalid'}`);
}

export function sha256File(file: string): string {
  return createHash('sha256').update(fs.readFileSync(file)).digest('hex');
}

/** RFC 4180: CRLF or LF line ends, quoted fields with doubled quotes. Returns rows of cells. */
export function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let cell = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        cell += '"';
        i++;
      } else if (c === '"') {
        quoted = false;
      } else {
        cell += c;
      }
      continue;
    }
    if (c === '"') quoted = true;
    else if (c === ',') {
      row.push(cell);
      cell = '';
    } else if (c === '\r' && text[i + 1] === '\n') {
      // the \n ends the row
    } else if (c === '\n') {
      row.push(cell);
      rows.push(row);
      row = [];
      cell = '';
    } else cell += c;
  }
  if (cell !== '' || row.length > 0) {
    row.push(cell);
    rows.push(row);
  }
  return rows;
}

/** CSV rows as objects keyed by the header. */
export function csvRecords(text: string): Array<Record<string, string>> {
  const [header, ...rows] = parseCsv(text);
  assert.ok(header, 'empty CSV');
  return rows.map((r) => {
    assert.equal(r.length, header.length, `a CSV row has ${r.length} cells, the header ${header.length}: ${JSON.stringify(r)}`);
    return Object.fromEntries(header.map((h, i) => [h, r[i]!]));
  });
}

// The manifest as far as these checks read it.
export interface ManifestView {
  collection_id: string;
  window: { start: string; end: string; duration: string; duration_seconds: number; step: string };
  recipe: { name: string; kpis: Array<{ name: string }> };
  queries: Array<{ purpose: string; kpi: string | null; type: string; query: string; time: string | null; error: string | null }>;
  kpis: Array<{
    name: string; value: number | null; note: string | null; unit: string; method: string;
    lower_bound: number | null; upper_bound: number | null; in_inf_bucket: boolean;
    quality: { series: number; coverage: number | null; samples_expected: number; samples_present: number; targets_down: string[] };
    rows: Array<{ scope: string; slice: string; value: number | null; note: string | null }>;
  }>;
  data_quality: { targets_down: Array<{ job: string; instance: string; from: string; to: string; seconds: number; kind: string }>; kpis_without_value: string[] };
  files: Array<{ name: string; bytes: number; sha256: string; media_type: string; rows: number | null }>;
}

export interface CheckedCollection {
  manifest: ManifestView;
  /** metrics_summary.csv as records. */
  summary: Array<Record<string, string>>;
  /** metrics_summary.csv as written. */
  summaryText: string;
  timeseriesRows: number;
}

/**
 * Everything a collection directory must satisfy: exactly the four files; MANIFEST.json valid
 * against the published schema; every listed file's size and sha256 equal to the file on disk;
 * timeseries.parquet readable by parquet-wasm with the same rows as timeseries.csv; no "NaN"
 * in any CSV; metrics_summary.csv one row per manifest value row.
 */
export function checkCollectionDir(dir: string): CheckedCollection {
  // report.html (src/web/report.ts) is a view written after the collection is committed, not one of its data files.
  const names = fs.readdirSync(dir).filter((n) => n !== 'report.html').sort();
  assert.deepEqual(names, ['MANIFEST.json', 'metrics_summary.csv', 'timeseries.csv', 'timeseries.parquet'], `files in ${dir}`);
  const manifest = JSON.parse(fs.readFileSync(path.join(dir, 'MANIFEST.json'), 'utf8')) as ManifestView;
  const problems = validateAgainstPublishedSchema(manifest);
  assert.deepEqual(problems, [], `${dir}/MANIFEST.json does not validate against ${MANIFEST_SCHEMA_FILE}`);
  assert.equal(path.basename(dir), manifest.collection_id, 'the directory is named after the collection id');
  assert.deepEqual(manifest.files.map((f) => f.name).sort(), ['metrics_summary.csv', 'timeseries.csv', 'timeseries.parquet']);
  for (const f of manifest.files) {
    const file = path.join(dir, f.name);
    assert.equal(fs.statSync(file).size, f.bytes, `${f.name}: bytes`);
    assert.equal(sha256File(file), f.sha256, `${f.name}: sha256`);
  }
  const summaryText = fs.readFileSync(path.join(dir, 'metrics_summary.csv'), 'utf8');
  const tsText = fs.readFileSync(path.join(dir, 'timeseries.csv'), 'utf8');
  for (const [name, text] of [['metrics_summary.csv', summaryText], ['timeseries.csv', tsText]] as const) {
    assert.doesNotMatch(text, /(^|,)NaN(,|\r?$)/m, `${name} holds a NaN`);
  }
  const summary = csvRecords(summaryText);
  assert.deepEqual(Object.keys(summary[0] ?? {}), ['kpi', 'slice', 'value', 'unit', 'method', 'lower_bound', 'upper_bound', 'series', 'coverage', 'note']);
  const tsRows = csvRecords(tsText);
  const listed = (name: string) => manifest.files.find((f) => f.name === name)!.rows;
  assert.equal(summary.length, listed('metrics_summary.csv'));
  assert.equal(tsRows.length, listed('timeseries.csv'));
  const table = tableFromIPC(readParquet(new Uint8Array(fs.readFileSync(path.join(dir, 'timeseries.parquet')))).intoIPCStream());
  assert.equal(table.numRows, tsRows.length, 'timeseries.parquet and timeseries.csv hold the same rows');
  assert.equal(table.numRows, listed('timeseries.parquet'));
  // Every KPI has its overall row in the summary; a value the manifest has not is an empty cell.
  for (const k of manifest.kpis) {
    const overall = summary.filter((r) => r.kpi === k.name && r.slice === 'overall');
    if (k.value !== null || k.rows.filter((r) => r.scope === 'overall').length <= 1) {
      assert.equal(overall.length, 1, `${k.name}: one overall row in metrics_summary.csv`);
      assert.equal(overall[0]!.value, k.value === null ? '' : String(k.value), `${k.name}: CSV value = manifest value`);
    }
  }
  return { manifest, summary, summaryText, timeseriesRows: tsRows.length };
}

/** Every finished collection directory under root (recursively), i.e. every directory holding a MANIFEST.json. */
export function findCollectionDirs(root: string): string[] {
  const out: string[] = [];
  const walk = (dir: string) => {
    if (!fs.existsSync(dir)) return;
    for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
      if (!e.isDirectory()) continue;
      const p = path.join(dir, e.name);
      if (fs.existsSync(path.join(p, 'MANIFEST.json'))) out.push(p);
      else walk(p);
    }
  };
  walk(root);
  return out.sort();
}

/** Every path under root with its size and sha256 (directories as "dir"), to show nothing changed. */
export function snapshotTree(root: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (dir: string) => {
    if (!fs.existsSync(dir)) return;
    for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
      const p = path.join(dir, e.name);
      const rel = path.relative(root, p);
      if (e.isDirectory()) {
        out[rel] = 'dir';
        walk(p);
      } else {
        out[rel] = `${fs.statSync(p).size}:${sha256File(p)}`;
      }
    }
  };
  walk(root);
  return out;
}

export function kpiOf(c: Pick<CollectionSummary, 'kpis'>, name: string): KpiSummary {
  const k = c.kpis.find((x) => x.name === name);
  assert.ok(k, `no KPI ${name} in [${c.kpis.map((x) => x.name).join(', ')}]`);
  return k;
}

/** x lies in the bucket (lower, upper] the collection reported (on an edge counts as inside). */
export function assertInBounds(what: string, x: number, k: KpiSummary): void {
  assert.ok(k.lower_bound !== null && k.upper_bound !== null, `${what}: ${k.name} has no finite bucket bounds: ${JSON.stringify(k)}`);
  assert.equal(k.in_inf_bucket, false, `${what}: ${k.name} fell into the +Inf bucket`);
  assert.ok(x >= k.lower_bound && x <= k.upper_bound, `${what} = ${x} is outside ${k.name}'s reported bucket [${k.lower_bound}, ${k.upper_bound}]`);
}

// ---- hey -------------------------------------------------------------------------------------

export interface HeyReport {
  /** Responses by status code, from "Status code distribution". */
  byStatus: Record<string, number>;
  responses: number;
  errors: number;
  /** "Latency distribution": percent → seconds. */
  percentiles: Record<number, number>;
  averageSeconds: number;
  totalSeconds: number;
  raw: string;
}

export function parseHeyOutput(text: string): HeyReport {
  const byStatus: Record<string, number> = {};
  for (const m of text.matchAll(/^\s*\[(\d{3})\]\s+(\d+) responses/gm)) byStatus[m[1]!] = Number(m[2]);
  const percentiles: Record<number, number> = {};
  for (const m of text.matchAll(/^\s*(\d+)%+ in ([\d.]+) secs/gm)) percentiles[Number(m[1])] = Number(m[2]);
  let errors = 0;
  const errorPart = /Error distribution:\n([\s\S]*)$/.exec(text)?.[1] ?? '';
  for (const m of errorPart.matchAll(/^\s*\[(\d+)\]/gm)) errors += Number(m[1]);
  const num = (re: RegExp) => {
    const m = re.exec(text);
    assert.ok(m, `hey output lacks ${re}:\n${text}`);
    return Number(m[1]);
  };
  return {
    byStatus,
    responses: Object.values(byStatus).reduce((a, b) => a + b, 0),
    errors,
    percentiles,
    averageSeconds: num(/Average:\s+([\d.]+) secs/),
    totalSeconds: num(/Total:\s+([\d.]+) secs/),
    raw: text,
  };
}

/** Runs Debian's hey to its end; the child is killed if the caller's finally runs first. */
export function runHey(args: string[], track: (child: ChildProcess) => void): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn('hey', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    track(child);
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** Kills a child we started (by its own handle) and waits for it. */
export async function stopChild(child: ChildProcess | undefined): Promise<void> {
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  const gone = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGKILL');
  await gone;
}

// ---- /proc/stat ------------------------------------------------------------------------------

export interface ProcStatCpu { user: number; system: number; idle: number; total: number }

/** The aggregate "cpu" line of /proc/stat in jiffies: user, system, idle and total (user … steal; guest is inside user). */
export function readProcStatCpu(): ProcStatCpu {
  const line = fs.readFileSync('/proc/stat', 'utf8').split('\n').find((l) => l.startsWith('cpu '));
  assert.ok(line, '/proc/stat has no cpu line');
  const f = line.trim().split(/\s+/).slice(1).map(Number);
  const [user, nice, system, idle, iowait, irq, softirq, steal] = f as [number, number, number, number, number, number, number, number];
  return { user, system, idle, total: user + nice + system + idle + iowait + irq + softirq + (steal ?? 0) };
}

/** Busy share in % between two /proc/stat readings: 100 · (1 − Δidle / Δtotal). */
export function busyPercent(a: ProcStatCpu, b: ProcStatCpu): number {
  return 100 * (1 - (b.idle - a.idle) / (b.total - a.total));
}

/** Share of one mode in % between two readings: 100 · Δmode / Δtotal. */
export function modePercent(a: ProcStatCpu, b: ProcStatCpu, mode: 'user' | 'system' | 'idle'): number {
  return (100 * (b[mode] - a[mode])) / (b.total - a.total);
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Sleeps until the wall clock reaches ms (since epoch). */
export async function sleepUntil(ms: number): Promise<void> {
  const d = ms - Date.now();
  if (d > 0) await sleep(d);
}
