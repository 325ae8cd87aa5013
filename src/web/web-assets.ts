/**
 * The browser side of the UI and of report.html: plain JavaScript and CSS in src/web/static/,
 * read from the source tree at run time (tsconfig compiles .ts only, without DOM types; the same
 * path works from src/ and dist/src/), plus uPlot's own build from node_modules. Nothing comes
 * from a network: the UI works offline and the report inlines all of it.
 */
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const require = createRequire(import.meta.url);

function packageRoot(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  while (!fs.existsSync(path.join(dir, 'package.json'))) {
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error('benchmon package root not found');
    dir = parent;
  }
  return dir;
}

export const STATIC_DIR = path.join(packageRoot(), 'src', 'web', 'static');

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
};

export interface WebAsset { name: string; file: string; contentType: string }

function asset(name: string, file: string): [string, WebAsset] {
  return [name, { name, file, contentType: CONTENT_TYPES[path.extname(name)] ?? 'application/octet-stream' }];
}

/** Served under /ui/<name>; nothing outside this list is ever read for a request. */
export const WEB_ASSETS: ReadonlyMap<string, WebAsset> = new Map([
  asset('index.html', path.join(STATIC_DIR, 'index.html')),
  asset('style.css', path.join(STATIC_DIR, 'style.css')),
  asset('dom.js', path.join(STATIC_DIR, 'dom.js')),
  asset('plots.js', path.join(STATIC_DIR, 'plots.js')),
  asset('collection-view.js', path.join(STATIC_DIR, 'collection-view.js')),
  asset('app.js', path.join(STATIC_DIR, 'app.js')),
  asset('report-main.js', path.join(STATIC_DIR, 'report-main.js')),
  asset('uPlot.iife.min.js', require.resolve('uplot/dist/uPlot.iife.min.js')),
  asset('uPlot.min.css', require.resolve('uplot/dist/uPlot.min.css')),
]);

/** Scripts shared by the UI and the report, in load order (each defines one global namespace). */
export const SHARED_SCRIPTS = ['uPlot.iife.min.js', 'dom.js', 'plots.js', 'collection-view.js'] as const;
export const SHARED_STYLES = ['uPlot.min.css', 'style.css'] as const;

export async function readWebAsset(name: string): Promise<string> {
  const a = WEB_ASSETS.get(name);
  if (!a) throw new Error(`no web asset ${name}`);
  return fs.promises.readFile(a.file, 'utf8');
}
