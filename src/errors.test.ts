import assert from 'node:assert/strict';
import fs from 'node:fs';
import { describe, it } from 'node:test';
import { ERROR_CODES } from './errors.js';

describe('error codes', () => {
  it('each has a 4xx/5xx status and a description, and is documented in the README', () => {
    const readme = fs.readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
    for (const [code, { status, doc }] of Object.entries(ERROR_CODES)) {
      assert.ok(status >= 400 && status < 600, code);
      assert.ok(doc.length > 10, code);
      assert.ok(readme.includes(`\`${code}\``), `${code} is not documented in README.md`);
    }
  });
});
