/**
 * Acceptance: the web UI at `/`, in Debian's headless Chromium, against a real benchmon with its
 * real Prometheus and a real node_exporter, with BENCHMON_API_TOKEN set:
 *  - without a token the page loads and says "API token required" (not a broken page); a wrong
 *    token is said to be rejected; with the right one it works;
 *  - the sessions list shows a session created through the API;
 *  - the session page shows a registered target turning up, without a reload;
 *  - after a collection, its page shows every KPI of the recipe and plots with data drawn;
 *  - phases are shaded bands in the plots and per-phase KPI columns;
 *  - `benchmon report COLLECTION_ID` re-creates report.html on the server.
 * Screenshots of each page: test-artifacts/screenshots/ui-*.png.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import type { CollectionSummary } from '../../src/collect/run-collection.js';
import type { ReportOutcome } from '../../src/web/report.js';
import { launchBrowser, pageProblems, panelInk, screenshot } from '../helpers/browser.js';
import { sleep } from '../helpers/collect-checks.js';
import { nodeExporterBody, startNodeExporter, startTestService, type NodeExporter, type TestService } from '../helpers/harness.js';
import { runBenchmon } from '../helpers/processes.js';

const TOKEN = 'web-ui-test-token-42';
const SESSION = 'ui-bench';

describe('web UI (headless Chromium, real benchmon + Prometheus + node_exporter, API token set)', () => {
  let svc: TestService | undefined;
  let ne: NodeExporter | undefined;
  let browser: Browser | undefined;
  let context: BrowserContext;
  let page: Page;
  let problems: string[];
  const foreignRequests: string[] = [];
  const responses: Array<{ url: string; status: number; type: string }> = [];
  let upAtMs = 0;
  let collection: CollectionSummary & ReportOutcome;

  before(async () => {
    [svc, ne, browser] = await Promise.all([startTestService({ BENCHMON_API_TOKEN: TOKEN }), startNodeExporter(), launchBrowser()]);
    context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    page = await context.newPage();
    problems = pageProblems(page);
    const origin = new URL(svc.url).origin;
    page.on('request', (r) => {
      if (!r.url().startsWith(origin) && !r.url().startsWith('data:')) foreignRequests.push(r.url());
    });
    page.on('response', (r) => responses.push({ url: r.url(), status: r.status(), type: r.headers()['content-type'] ?? '' }));
  });

  after(async () => {
    await browser?.close();
    await ne?.stop();
    await svc?.close();
  });

  it('without a token: the page and its files load, and it says "API token required" with a field for it', async (t) => {
    await page.goto(`${svc!.url}/`);
    const state = page.locator('[data-state="token-required"]');
    await state.waitFor({ timeout: 15_000 });
    assert.equal(await state.locator('h1').textContent(), 'API token required');
    assert.match(await state.textContent() ?? '', /BENCHMON_API_TOKEN/);
    assert.ok(await page.locator('#token-input').isVisible());
    // The static UI needs no token; only the API answered 401.
    const ui = responses.filter((r) => !r.url.includes('/api/'));
    assert.deepEqual(ui.filter((r) => r.status !== 200), [], 'a UI file did not load');
    assert.ok(ui.some((r) => r.url.endsWith('/ui/uPlot.iife.min.js') && r.type.startsWith('text/javascript')), JSON.stringify(ui));
    assert.ok(ui.some((r) => r.url.endsWith('/ui/style.css') && r.type.startsWith('text/css')), JSON.stringify(ui));
    assert.ok(responses.some((r) => r.url.endsWith('/api/v1/sessions') && r.status === 401));
    assert.deepEqual(problems.filter((p) => !p.includes('401')), [], 'the page broke');
    t.diagnostic(`screenshot: ${await screenshot(page, 'ui-token-required')}`);

    await page.fill('#token-input', 'not-the-token');
    await page.click('.token-form button[type=submit]');
    await page.locator('#token-rejected').waitFor({ timeout: 15_000 });
    assert.match(await page.locator('#token-rejected').textContent() ?? '', /rejected: wrong API token/);
  });

  it('with the token entered, the sessions list shows a session created through the API', async (t) => {
    await svc!.client.createSession({ session_id: SESSION, labels: { benchmark: 'ui <test>' } });
    await page.fill('#token-input', TOKEN);
    await page.click('.token-form button[type=submit]');
    const row = page.locator(`#sessions tr[data-session="${SESSION}"]`);
    await row.waitFor({ timeout: 15_000 });
    assert.equal(await row.locator('a').textContent(), SESSION);
    assert.equal(await row.locator('a').getAttribute('href'), `#/sessions/${SESSION}`);
    // User text is shown as text, never as markup.
    assert.match(await row.textContent() ?? '', /benchmark=ui <test>/);
    assert.match(await page.locator('#token-state').textContent() ?? '', /API token set/);
    t.diagnostic(`screenshot: ${await screenshot(page, 'ui-sessions')}`);
  });

  it('the session page shows a registered target turning up, without reloading the page', async (t) => {
    await page.click(`#sessions tr[data-session="${SESSION}"] a`);
    await page.getByText('No targets registered yet.').waitFor({ timeout: 15_000 });
    await page.evaluate('window.__sameDocument = true');
    await svc!.client.registerTarget(SESSION, nodeExporterBody(SESSION, ne!.address));
    const health = page.locator(`#targets-table tr[data-target="node"][data-endpoint="${ne!.address}"] td.health`);
    await health.waitFor({ timeout: 15_000 });
    t.diagnostic(`first health shown: ${await health.getAttribute('data-health')}`);
    await page.locator(`#targets-table tr[data-target="node"] td.health[data-health="up"]`).waitFor({ timeout: 60_000 });
    upAtMs = Date.now();
    assert.equal(await page.evaluate('window.__sameDocument === true'), true, 'the page was reloaded');
    assert.equal(await health.textContent(), 'up');
    const cells = await page.locator('#targets-table tr[data-target="node"] td').allTextContents();
    t.diagnostic(`target row: ${cells.join(' | ')}`);
    await page.waitForFunction(`/ms$/.test(document.querySelector('#targets-table tr[data-target="node"] td:nth-child(7)').textContent)`, null, { timeout: 15_000 });
    t.diagnostic(`screenshot: ${await screenshot(page, 'ui-session')}`);
  });

  it('after a collection, its page shows every KPI of the recipe and plot canvases with data drawn', async (t) => {
    await sleep(Math.max(0, upAtMs + 12_000 - Date.now()));
    const end = new Date(Date.now() - 2000).toISOString();
    collection = await svc!.client.collect(SESSION, { start_time: new Date(upAtMs).toISOString(), end_time: end, recipe: 'node' }) as CollectionSummary & ReportOutcome;
    assert.ok(collection.report && fs.existsSync(collection.report), `no report.html after the collection: ${JSON.stringify(collection)}`);

    // The session page lists it on its next refresh.
    const link = page.locator(`#collections-table tr[data-collection="${collection.collection_id}"] a`);
    await link.waitFor({ timeout: 15_000 });
    await link.click();
    await page.locator('#kpi-table').waitFor({ timeout: 15_000 });
    const { manifest_content: manifest } = await svc!.client.getCollection(collection.collection_id);
    const shown = await page.locator('#kpi-table tr.kpi').evaluateAll((rows) => rows.map((r) => (r as unknown as { dataset: { kpi: string } }).dataset.kpi));
    assert.deepEqual(shown, manifest.recipe.kpis.map((k) => k.name), 'the KPI table lists every KPI of the recipe, in order');
    const cpu = await page.locator('#kpi-table tr.kpi[data-kpi="cpu_utilisation"] td').allTextContents();
    assert.equal(cpu[2], '%');
    assert.ok(Number.isFinite(Number(cpu[1])) && cpu[1] !== '', `cpu_utilisation value ${cpu[1]}`);
    assert.match(cpu[4] ?? '', /^\d+ %$/, 'coverage');

    await page.locator('section.panel canvas').first().waitFor({ timeout: 15_000 });
    const ink = await panelInk(page);
    t.diagnostic(`panels: ${ink.map((p) => `${p.panel} x=${p.xLength} values=${p.values} series-pixels=${p.seriesPixels}`).join('; ')}`);
    const cpuPanel = ink.find((p) => p.panel === 'cpu_utilisation|%');
    assert.ok(cpuPanel, 'no cpu_utilisation panel');
    assert.ok(cpuPanel.xLength > 5 && cpuPanel.values > 5, `cpu panel data: ${JSON.stringify(cpuPanel)}`);
    assert.ok(cpuPanel.seriesPixels > 50, `cpu panel: no line drawn: ${JSON.stringify(cpuPanel)}`);
    // memory_used_avg and memory_used_max share one panel (one quantity, one unit).
    const memory = ink.find((p) => p.panel.startsWith('memory_used|'));
    assert.ok(memory && memory.seriesPixels > 0, JSON.stringify(ink.map((p) => p.panel)));
    assert.deepEqual(await page.locator('section.panel[data-panel^="memory_used|"] .panel-head .muted').textContent(), 'memory_used_avg, memory_used_max');
    assert.doesNotMatch(await page.locator('main').innerText(), /\bundefined\b|\bnull\b|\bNaN\b/);
    assert.deepEqual(foreignRequests, [], 'the UI asked something other than its own server');
    assert.deepEqual(problems.filter((p) => !p.includes('401')), []);
    t.diagnostic(`screenshot: ${await screenshot(page, 'ui-collection')}`);
  });

  it('phases are shaded bands in the plots, with per-phase KPIs side by side', async (t) => {
    const start = Date.parse(collection.window.start);
    const end = Date.parse(collection.window.end);
    const mid = start + Math.round((end - start) / 2);
    await svc!.client.markPhase(SESSION, { name: 'warmup', start_time: new Date(start).toISOString(), end_time: new Date(mid).toISOString() });
    await svc!.client.markPhase(SESSION, { name: 'steady', start_time: new Date(mid).toISOString(), end_time: new Date(end).toISOString() });
    const withPhases = await svc!.client.collect(SESSION, { recipe: 'node', phases: ['warmup', 'steady'] });
    await page.goto(`${svc!.url}/#/collections/${withPhases.collection_id}`);
    await page.locator('#phase-kpi-table').waitFor({ timeout: 15_000 });
    assert.deepEqual(await page.locator('#phase-kpi-table thead th').allTextContents(), ['KPI', 'unit', 'warmup', 'steady']);
    const cpuPhases = await page.locator('#phase-kpi-table tr[data-kpi="cpu_utilisation"] td').allTextContents();
    assert.ok(cpuPhases.slice(2).every((v) => v !== '' && Number.isFinite(Number(v))), `per-phase cpu_utilisation: ${cpuPhases.join(' | ')}`);
    await page.locator('section.panel canvas').first().waitFor({ timeout: 15_000 });
    const cpuPanel = (await panelInk(page)).find((p) => p.panel === 'cpu_utilisation|%');
    assert.ok(cpuPanel && cpuPanel.bandPixels > 1000, `no phase bands drawn: ${JSON.stringify(cpuPanel)}`);
    t.diagnostic(`screenshot: ${await screenshot(page, 'ui-collection-phases')}`);
  });

  it('the plot data route answers JSON for a collection and refuses a malformed or unknown id', async () => {
    const auth = { authorization: `Bearer ${TOKEN}` };
    const ts = await svc!.client.collectionTimeseries(collection.collection_id);
    assert.equal(ts.collection_id, collection.collection_id);
    assert.ok(ts.timestamps.length > 5 && ts.series.every((s) => s.values.length === ts.timestamps.length));
    const bad = await fetch(`${svc!.url}/api/v1/collections/..%2F..%2Fetc/timeseries`, { headers: auth });
    assert.equal(bad.status, 400);
    const unknown = await fetch(`${svc!.url}/api/v1/collections/20990101T000000Z-00000000/timeseries`, { headers: auth });
    assert.equal(unknown.status, 404);
    assert.equal(((await unknown.json()) as { error: { code: string } }).error.code, 'COLLECTION_NOT_FOUND');
    assert.equal((await fetch(`${svc!.url}/api/v1/collections/${collection.collection_id}/timeseries`)).status, 401, 'the data needs the token');
  });

  it('`benchmon report COLLECTION_ID` re-creates report.html on the server and prints its path', async () => {
    const file = path.join(collection.directory, 'report.html');
    fs.rmSync(file);
    const run = await runBenchmon(['--url', svc!.url, '--token', TOKEN, 'report', collection.collection_id], {});
    assert.equal(run.code, 0, `${run.stdout}\n${run.stderr}`);
    assert.equal(run.stdout.trim(), `report: ${file}`);
    assert.match(fs.readFileSync(file, 'utf8'), new RegExp(collection.collection_id));

    const unknown = await runBenchmon(['--url', svc!.url, '--token', TOKEN, 'report', '20990101T000000Z-00000000'], {});
    assert.equal(unknown.code, 3, unknown.stderr);
    assert.match(unknown.stderr, /COLLECTION_NOT_FOUND/);
    const nonsense = await runBenchmon(['--url', svc!.url, 'report', 'no-such-thing'], {});
    assert.equal(nonsense.code, 2, nonsense.stderr);
    assert.match(nonsense.stderr, /neither a collection directory nor a collection id/);
  });
});
