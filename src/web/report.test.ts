import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { syntheticCollection } from '../artifacts/testing/synthetic-collection.js';
import { writeCollectionArtifacts, type WrittenCollection } from '../artifacts/write-collection.js';
import { BenchmonError } from '../errors.js';
import { escapeHtml, jsonForScriptElement, REPORT_DATA_ID, REPORT_FILE, renderReportHtml, tryWriteReport, writeReport } from './report.js';
import { readTimeseriesJson } from './timeseries-json.js';

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'benchmon-report-'));
after(() => fs.rmSync(root, { recursive: true, force: true }));

const EVIL = '</script><script>alert(1)</script><!-- & "quoted" \u2028';

function dataIsland(html: string): unknown {
  const open = `<script type="application/json" id="${REPORT_DATA_ID}">`;
  const start = html.indexOf(open);
  assert.ok(start >= 0, 'no data island');
  const end = html.indexOf('</script>', start);
  return JSON.parse(html.slice(start + open.length, end));
}

describe('report.html', () => {
  let written: WrittenCollection;
  before(async () => {
    written = await writeCollectionArtifacts(syntheticCollection(), { artifactsRoot: root, sessionLabels: { note: EVIL }, targets: [], prometheusConfigSha256: null });
  });

  it('keeps user text that looks like markup inside the data island, and reads back the same data', async () => {
    const manifest = structuredClone(written.manifest);
    manifest.kpis[0]!.note = EVIL;
    const timeseries = await readTimeseriesJson(written.dir, manifest);
    timeseries.series[1]!.labels.job = EVIL;
    const html = renderReportHtml(manifest, timeseries, { now: new Date('2024-05-02T00:00:00Z') });
    // Every </script> closes one of our <script> elements: nothing in the data ends one early.
    assert.equal(html.match(/<\/script/gi)!.length, html.match(/<script[\s>]/gi)!.length);
    assert.equal(html.includes(EVIL), false);
    const data = dataIsland(html) as { manifest: unknown; timeseries: unknown; generated_at: string };
    assert.deepEqual(data.manifest, manifest);
    assert.deepEqual(data.timeseries, timeseries);
    assert.equal(data.generated_at, '2024-05-02T00:00:00.000Z');
  });

  it('escapes what it writes into the markup itself (title, header)', () => {
    const manifest = structuredClone(written.manifest);
    manifest.session.session_id = '<b>x</b>&"';
    const html = renderReportHtml(manifest, { collection_id: manifest.collection_id, timestamps: [], series: [], panels: [], non_finite_points: 0 });
    assert.match(html, /<title>benchmon report: &#60;b&#62;x&#60;\/b&#62;&#38;&#34; · default · /);
    assert.equal(html.includes('<b>x</b>'), false);
  });

  it('is self-contained: no element loads anything, and a CSP forbids every fetch', () => {
    const html = renderReportHtml(written.manifest, { collection_id: written.manifest.collection_id, timestamps: [], series: [], panels: [], non_finite_points: 0 });
    assert.doesNotMatch(html, /<(?:script|link|img|iframe)\b[^>]*\s(?:src|href)=/i);
    assert.match(html, /<meta http-equiv="Content-Security-Policy" content="default-src 'none';/);
    assert.match(html, /uPlot/, 'uPlot is inlined');
    assert.match(html, /BenchmonCollectionView/, 'the UI view code is inlined');
  });

  it('escapes JSON and HTML text as the browser needs it', () => {
    assert.equal(jsonForScriptElement({ a: '</script>&' }), '{"a":"\\u003c/script\\u003e\\u0026"}');
    assert.deepEqual(JSON.parse(jsonForScriptElement({ a: '</script>\u2028' })), { a: '</script>\u2028' });
    assert.equal(escapeHtml(`<a href="x">'&`), '&#60;a href=&#34;x&#34;&#62;&#39;&#38;');
  });

  it('writes report.html into the collection directory (temp file + rename) and re-creates it', async () => {
    const file = await writeReport(written.dir, { expectedId: written.id });
    assert.equal(file, path.join(written.dir, REPORT_FILE));
    const first = fs.readFileSync(file, 'utf8');
    assert.deepEqual((dataIsland(first) as { manifest: unknown }).manifest, JSON.parse(JSON.stringify(written.manifest)));
    fs.rmSync(file);
    await writeReport(written.dir);
    assert.ok(fs.existsSync(file));
    assert.deepEqual(fs.readdirSync(written.dir).filter((n) => n.startsWith('.')), [], 'no temp file left');
  });

  it('refuses a directory that holds another collection than the one asked for', async () => {
    await assert.rejects(writeReport(written.dir, { expectedId: '20990101T000000Z-00000000' }), (err: unknown) => err instanceof BenchmonError && err.code === 'COLLECTION_UNREADABLE');
  });

  it('after a collection, a report that cannot be written is an answer field and a log line, not a failure', async () => {
    const broken = path.join(root, 'broken');
    fs.cpSync(written.dir, broken, { recursive: true });
    fs.rmSync(path.join(broken, 'timeseries.csv'));
    fs.rmSync(path.join(broken, REPORT_FILE), { force: true });
    const warnings: unknown[] = [];
    const outcome = await tryWriteReport(broken, { warn: (obj: unknown) => void warnings.push(obj) } as never);
    assert.equal(outcome.report, null);
    assert.ok('report_error' in outcome && /COLLECTION_UNREADABLE|time series/.test(outcome.report_error), JSON.stringify(outcome));
    assert.equal(warnings.length, 1);
    assert.equal(fs.existsSync(path.join(broken, REPORT_FILE)), false);
    assert.deepEqual(await tryWriteReport(written.dir, { warn: () => undefined } as never), { report: path.join(written.dir, REPORT_FILE) });
  });
});
