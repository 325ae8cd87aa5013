import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isValidHostPort, isValidSessionId } from './identifiers.js';

describe('identifiers', () => {
  it('accepts host:port with names, IPv4 and bracketed IPv6', () => {
    for (const ok of ['localhost:9100', 'node01.cluster.local:8000', '127.0.0.1:9090', '[::1]:9100', 'mel2001:65535']) assert.ok(isValidHostPort(ok), ok);
  });
  it('rejects anything else', () => {
    for (const bad of ['localhost', 'http://x:1', 'x:0', 'x:65536', 'x:99999', 'a b:1', 'x:1/metrics', '-x:1', 'x:1\n- job_name: y', '::1:9100']) assert.ok(!isValidHostPort(bad), bad);
  });
  it('session ids cannot escape a directory', () => {
    for (const ok of ['run-42', 'bench_1.2', 'A']) assert.ok(isValidSessionId(ok), ok);
    for (const bad of ['..', '../etc', 'a/b', '.hidden', '', 'x'.repeat(65), 'a b', 'a\nb']) assert.ok(!isValidSessionId(bad), bad);
  });
});
