/**
 * Browser tests drive Debian's Chromium (/usr/bin/chromium) with playwright-core: never a
 * downloaded browser. Screenshots go to test-artifacts/screenshots/ in the repository.
 */
import fs from 'node:fs';
import path from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { REPO_ROOT } from './harness.js';

export const CHROMIUM = '/usr/bin/chromium';
export const SCREENSHOT_DIR = path.join(REPO_ROOT, 'test-artifacts', 'screenshots');

export async function launchBrowser(): Promise<Browser> {
  if (!fs.existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} not found: install Debian's chromium (sudo apt-get install chromium); the tests never download a browser`);
  return chromium.launch({
    executablePath: CHROMIUM,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-dev-shm-usage'],
  });
}

/** A full-page screenshot as test-artifacts/screenshots/<name>.png; answers its path. */
export async function screenshot(page: Page, name: string): Promise<string> {
  fs.mkdirSync(SCREENSHOT_DIR, { recursive: true });
  const file = path.join(SCREENSHOT_DIR, `${name}.png`);
  await page.screenshot({ path: file, fullPage: true });
  return file;
}

/** Uncaught exceptions and console errors of a page, for "not a broken page" assertions. */
export function pageProblems(page: Page): string[] {
  const problems: string[] = [];
  page.on('pageerror', (err) => problems.push(`pageerror: ${err.message}`));
  page.on('console', (msg) => {
    if (msg.type() === 'error') problems.push(`console: ${msg.text()}`);
  });
  return problems;
}

export interface PanelInk {
  panel: string;
  /** data-points of the panel: values it was given. */
  points: number;
  /** uPlot's own data: points on the x axis, and non-null values over all series. */
  xLength: number;
  values: number;
  /** Canvas pixels painted in one of the series' colours (lines drawn), and all painted pixels. */
  seriesPixels: number;
  paintedPixels: number;
  /** Pixels of the translucent phase-band fills (see plots.js PHASE_FILLS). */
  bandPixels: number;
}

// Runs in the page (tsconfig has no DOM types, so it is passed as source text).
const PANEL_INK_SCRIPT = `(() => {
  const hex = (c) => [1, 3, 5].map((i) => parseInt(c.slice(i, i + 2), 16));
  const bands = [[255, 193, 7], [33, 150, 243], [76, 175, 80], [156, 39, 176]];
  return [...document.querySelectorAll('section.panel')].map((el) => {
    const u = el.uplot;
    const canvas = el.querySelector('canvas');
    const result = { panel: el.dataset.panel || '', points: Number(el.dataset.points), xLength: 0, values: 0, seriesPixels: 0, paintedPixels: 0, bandPixels: 0 };
    if (!u || !canvas) return result;
    result.xLength = u.data[0].length;
    result.values = u.data.slice(1).reduce((n, s) => n + s.filter((v) => v !== null && v !== undefined).length, 0);
    const colors = (el.dataset.colors || '').split(',').filter(Boolean).map(hex);
    const img = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
    const near = (i, c, tol) => Math.abs(img[i] - c[0]) <= tol && Math.abs(img[i + 1] - c[1]) <= tol && Math.abs(img[i + 2] - c[2]) <= tol;
    for (let i = 0; i < img.length; i += 4) {
      const alpha = img[i + 3];
      if (alpha === 0) continue;
      result.paintedPixels++;
      if (alpha > 160 && colors.some((c) => near(i, c, 20))) result.seriesPixels++;
      else if (alpha >= 20 && alpha <= 80 && bands.some((c) => near(i, c, 12))) result.bandPixels++;
    }
    return result;
  });
})()`;

/**
 * What each plot panel really drew: uPlot's data length, and the canvas pixels in the series'
 * colours (a canvas with only axes and grid has none of those).
 */
export async function panelInk(page: Page): Promise<PanelInk[]> {
  return page.evaluate(PANEL_INK_SCRIPT) as Promise<PanelInk[]>;
}
