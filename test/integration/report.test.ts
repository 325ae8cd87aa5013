/**
 * Acceptance: report.html from a demo collection (`benchmon demo --duration 10s`, a child process,
 * as a user runs it) opens from file:// in Debian's headless Chromium with the network off
 * (offline context, and every non-file request aborted and recorded: none may be attempted) and
 * shows the KPI table and plots with data drawn; its PNG button saves a PNG; `benchmon report DIR`
 * re-creates it with no server. Screenshot: test-artifacts/screenshots/report-vllm.png.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { after, before, describe, it } from 'node:test';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { findCollectionDirs } from '../helpers/collect-checks.js';
import { launchBrowser, pageProblems, panelInk, screenshot } from '../helpers/browser.js';
import { tempDir } from '../helpers/harness.js';
import { runBenchmon, type Finished } from '../helpers/processes.js';

interface ManifestView { collection_id: string; recipe: { name: string; kpis: Array<{ name: string }> }; kpis: Array<{ name: string; value: number | null }> }

function manifestOf(dir: string): ManifestView {
  return JSON.parse(fs.readFileSync(path.join(dir, 'MANIFEST.json'), 'utf8')) as ManifestView;
}

describe('report.html of a demo collection, opened from disk with no network', () => {
  let root: string;
  let demo: Finished;
  let dirs: string[] = [];
  let browser: Browser | undefined;
  let context: BrowserContext;
  let page: Page;
  let problems: string[];
  const attempted: string[] = [];

  before(async () => {
    root = tempDir('benchmon-report-artifacts-');
    [demo, browser] = await Promise.all([runBenchmon(['demo', '--duration', '10s'], { ARTIFACTS_ROOT: root }, 150_000), launchBrowser()]);
    dirs = findCollectionDirs(root);
    context = await browser.newContext({ offline: true, viewport: { width: 1280, height: 900 }, acceptDownloads: true });
    await context.route('**/*', async (route) => {
      const url = route.request().url();
      if (url.startsWith('file:') || url.startsWith('data:')) return route.continue();
      attempted.push(url);
      return route.abort('internetdisconnected');
    });
    page = await context.newPage();
    problems = pageProblems(page);
    page.on('request', (r) => {
      if (!r.url().startsWith('file:') && !r.url().startsWith('data:')) attempted.push(r.url());
    });
  });

  after(async () => {
    await browser?.close();
    fs.rmSync(root, { recursive: true, force: true });
  });

  it('the demo wrote report.html beside the artifacts of each of its collections', () => {
    assert.equal(demo.code, 0, `demo exit ${demo.code}:\n${demo.stdout}\n${demo.stderr}`);
    assert.deepEqual(dirs.map((d) => manifestOf(d).recipe.name).sort(), ['node', 'qdrant', 'vllm']);
    for (const d of dirs) assert.ok(fs.statSync(path.join(d, 'report.html')).size > 50_000, `${d}/report.html`);
  });

  it('opens from file:// offline and shows every KPI and plots with data drawn, asking no network for anything', async (t) => {
    const dir = dirs.find((d) => manifestOf(d).recipe.name === 'vllm')!;
    const manifest = manifestOf(dir);
    await page.goto(pathToFileURL(path.join(dir, 'report.html')).href);
    await page.locator('#kpi-table').waitFor({ timeout: 15_000 });
    assert.match(await page.title(), new RegExp(`benchmon report: .* · vllm · ${manifest.collection_id}`));
    const shown = await page.locator('#kpi-table tr.kpi').evaluateAll((rows) => rows.map((r) => (r as unknown as { dataset: { kpi: string } }).dataset.kpi));
    assert.deepEqual(shown, manifest.recipe.kpis.map((k) => k.name));
    const throughput = await page.locator('#kpi-table tr.kpi[data-kpi="request_throughput"] td').allTextContents();
    assert.equal(throughput[2], 'req/s');
    const expected = manifest.kpis.find((k) => k.name === 'request_throughput')!.value!;
    assert.ok(Math.abs(Number(throughput[1]) - expected) <= Math.abs(expected) * 1e-4, `shown ${throughput[1]}, manifest ${expected}`);
    const bounds = await page.locator('#kpi-table tr.kpi[data-kpi="ttft_p95"] td').nth(3).textContent();
    assert.match(bounds ?? '', /^[\d.e+-]+ \.\. (?:[\d.e+-]+|\+Inf)/, 'a percentile shows the bucket it fell into');

    await page.locator('section.panel canvas').first().waitFor({ timeout: 15_000 });
    const ink = await panelInk(page);
    t.diagnostic(`panels: ${ink.map((p) => `${p.panel} values=${p.values} series-pixels=${p.seriesPixels}`).join('; ')}`);
    const ttft = ink.find((p) => p.panel === 'ttft|s');
    assert.ok(ttft && ttft.values > 0 && ttft.seriesPixels > 50, `ttft panel: ${JSON.stringify(ttft)}`);
    assert.ok(ink.filter((p) => p.seriesPixels > 50).length >= 5, 'most vllm panels have lines drawn');
    assert.deepEqual(attempted, [], 'the report asked the network for something');
    assert.deepEqual(problems, [], 'the report broke');
    assert.doesNotMatch(await page.locator('main').innerText(), /\bundefined\b|\bNaN\b/);
    t.diagnostic(`screenshot: ${await screenshot(page, 'report-vllm')}`);
  });

  it("a plot's PNG button saves a PNG image", async () => {
    const [download] = await Promise.all([page.waitForEvent('download'), page.locator('section.panel[data-panel="ttft|s"] button').click()]);
    assert.match(download.suggestedFilename(), /-ttft\.png$/);
    const file = path.join(root, 'ttft.png');
    await download.saveAs(file);
    assert.deepEqual([...fs.readFileSync(file).subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
    assert.deepEqual(attempted, []);
  });

  it('`benchmon report DIR` re-creates report.html from the directory, with no server', async () => {
    const dir = dirs.find((d) => manifestOf(d).recipe.name === 'node')!;
    const file = path.join(dir, 'report.html');
    const before = fs.readFileSync(file, 'utf8');
    fs.rmSync(file);
    const run = await runBenchmon(['--url', 'http://127.0.0.1:9', 'report', dir], {});
    assert.equal(run.code, 0, `${run.stdout}\n${run.stderr}`);
    assert.equal(run.stdout.trim(), `report: ${file}`);
    const again = fs.readFileSync(file, 'utf8');
    // Same data; only the generation time differs.
    const strip = (html: string) => html.replace(/"generated_at":"[^"]+"/, '');
    assert.equal(strip(again), strip(before));

    const noManifest = await runBenchmon(['report', root], {});
    assert.equal(noManifest.code, 2, noManifest.stderr);
    assert.match(noManifest.stderr, /no MANIFEST\.json there/);
  });
});
