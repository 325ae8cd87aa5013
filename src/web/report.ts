/**
 * report.html: one collection as a single self-contained file that opens from disk with no
 * server and no network: uPlot, the UI's own plotting and table code (the same files the web UI
 * loads, inlined) and the data (manifest + time series) as a JSON island. A Content-Security-Policy
 * meta tag forbids every fetch, so a report can never depend on a network by accident.
 *
 * Written beside the other artifacts right after each collection (temp file + rename), and again
 * by `benchmon report`. It is not listed in MANIFEST.json: the manifest describes the data, the
 * report is a view of it that can be re-created at any time.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Logger } from 'pino';
import { readCollectionManifest } from '../artifacts/read-collection.js';
import type { Manifest } from '../artifacts/manifest.js';
import { BenchmonError, describeError } from '../errors.js';
import { atomicWriteFile } from '../fs/atomic-write.js';
import { BENCHMON_VERSION } from '../version.js';
import { readTimeseriesJson, type TimeseriesJson } from './timeseries-json.js';
import { SHARED_SCRIPTS, SHARED_STYLES, WEB_ASSETS } from './web-assets.js';

export const REPORT_FILE = 'report.html';
export const REPORT_DATA_ID = 'benchmon-data';

const REPORT_CSP = "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src data: blob:";

/** Text for HTML element content and attribute values. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/**
 * JSON that is safe inside <script type="application/json">: no `<` can end the element or open
 * a comment, whatever the data holds (session labels, notes, label values come from users).
 * JSON.parse reads the \u escapes back as the same characters.
 */
export function jsonForScriptElement(value: unknown): string {
  return JSON.stringify(value).replace(/[<>&\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** Our own and uPlot's code inside <script>/<style>: make sure nothing in it can close the element early. */
function inlineText(code: string, element: 'script' | 'style'): string {
  return code.replace(new RegExp(`</(${element})`, 'gi'), '<\\/$1').replace(/<!--/g, '<\\!--');
}

function assetText(name: string): string {
  return fs.readFileSync(WEB_ASSETS.get(name)!.file, 'utf8');
}

export interface ReportData {
  manifest: Manifest;
  timeseries: TimeseriesJson;
  generated_at: string;
  benchmon_version: string;
}

export function renderReportHtml(manifest: Manifest, timeseries: TimeseriesJson, options: { now?: Date } = {}): string {
  const data: ReportData = {
    manifest,
    timeseries,
    generated_at: (options.now ?? new Date()).toISOString(),
    benchmon_version: BENCHMON_VERSION,
  };
  const title = `benchmon report: ${manifest.session.session_id} · ${manifest.recipe.name} · ${manifest.collection_id}`;
  const styles = SHARED_STYLES.map((s) => `<style>\n${inlineText(assetText(s), 'style')}\n</style>`).join('\n');
  const scripts = [...SHARED_SCRIPTS, 'report-main.js'].map((s) => `<script>\n${inlineText(assetText(s), 'script')}\n</script>`).join('\n');
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="${REPORT_CSP}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="benchmon ${escapeHtml(BENCHMON_VERSION)}">
<title>${escapeHtml(title)}</title>
${styles}
</head>
<body class="report">
<header class="topbar"><span class="brand">benchmon</span> <span class="crumb">report · session ${escapeHtml(manifest.session.session_id)} · recipe ${escapeHtml(manifest.recipe.name)}</span></header>
<main id="app"><noscript><p class="notice">This report draws its tables and plots with JavaScript: allow scripts for this file, or read MANIFEST.json and metrics_summary.csv beside it.</p></noscript></main>
<script type="application/json" id="${REPORT_DATA_ID}">${jsonForScriptElement(data)}</script>
${scripts}
</body>
</html>
`;
}

/**
 * The manifest and time series of a collection directory (its MANIFEST.json and timeseries.csv,
 * nothing else), failures named as COLLECTION_UNREADABLE. With expectedId, a directory holding
 * another collection (moved or replaced on disk) is refused rather than shown under the wrong id.
 */
export async function readCollectionView(dir: string, expectedId?: string): Promise<{ manifest: Manifest; timeseries: TimeseriesJson }> {
  let manifest: Manifest;
  try {
    manifest = await readCollectionManifest(dir);
  } catch (err) {
    throw new BenchmonError('COLLECTION_UNREADABLE', `cannot read the manifest of the collection in ${dir}: ${describeError(err)}`, { details: { path: dir }, cause: err });
  }
  if (expectedId !== undefined && manifest.collection_id !== expectedId) {
    throw new BenchmonError('COLLECTION_UNREADABLE', `${dir} now holds collection ${manifest.collection_id}, not ${expectedId}`, { details: { path: dir, collection_id: expectedId } });
  }
  try {
    return { manifest, timeseries: await readTimeseriesJson(dir, manifest) };
  } catch (err) {
    throw new BenchmonError('COLLECTION_UNREADABLE', `cannot read the time series of collection ${manifest.collection_id}: ${describeError(err)}`, { details: { path: dir, collection_id: manifest.collection_id }, cause: err });
  }
}

/** (Re-)creates `<dir>/report.html` from the files in dir; answers its path. */
export async function writeReport(collectionDir: string, options: { expectedId?: string; now?: Date } = {}): Promise<string> {
  const { manifest, timeseries } = await readCollectionView(collectionDir, options.expectedId);
  const file = path.join(collectionDir, REPORT_FILE);
  await atomicWriteFile(file, renderReportHtml(manifest, timeseries, options.now ? { now: options.now } : {}));
  return file;
}

export type ReportOutcome = { report: string } | { report: null; report_error: string };

/**
 * After a collection: the data is written and committed, so a report that cannot be written
 * must not turn the collection into a failure. The answer says why instead (report_error) and
 * `benchmon report` can make it later.
 */
export async function tryWriteReport(collectionDir: string, logger: Pick<Logger, 'warn'>): Promise<ReportOutcome> {
  try {
    return { report: await writeReport(collectionDir) };
  } catch (err) {
    const reason = describeError(err);
    logger.warn({ dir: collectionDir, err: reason }, 'report.html not written');
    return { report: null, report_error: reason };
  }
}
