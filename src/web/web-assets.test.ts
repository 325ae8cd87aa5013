import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { STATIC_DIR, WEB_ASSETS } from './web-assets.js';

describe('web UI files', () => {
  it('every listed file exists, and every browser script parses', () => {
    for (const a of WEB_ASSETS.values()) assert.ok(fs.statSync(a.file).size > 0, a.file);
    for (const name of fs.readdirSync(STATIC_DIR).filter((n) => n.endsWith('.js'))) {
      const check = spawnSync(process.execPath, ['--check', path.join(STATIC_DIR, name)], { encoding: 'utf8' });
      assert.equal(check.status, 0, `${name}: ${check.stderr}`);
    }
  });

  it('the page loads only files benchmon serves, and no file refers to a network address', () => {
    const index = fs.readFileSync(path.join(STATIC_DIR, 'index.html'), 'utf8');
    const refs = [...index.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1]!);
    for (const ref of refs.filter((r) => r.startsWith('/ui/'))) assert.ok(WEB_ASSETS.has(ref.slice('/ui/'.length)), `${ref} is not served`);
    assert.deepEqual(refs.filter((r) => !r.startsWith('/') && !r.startsWith('#') && r !== 'data:,'), [], 'a reference leaves the server');
    for (const name of fs.readdirSync(STATIC_DIR)) {
      assert.doesNotMatch(fs.readFileSync(path.join(STATIC_DIR, name), 'utf8'), /https?:\/\/|\/\/cdn|@import|\burl\(/, `${name} refers to something outside benchmon`);
    }
    assert.equal(fs.readdirSync(STATIC_DIR).filter((n) => !WEB_ASSETS.has(n)).length, 0, 'a file in static/ is not served');
  });
});
