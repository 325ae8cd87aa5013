import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { csvField, csvRow } from './csv.js';

describe('RFC 4180 CSV', () => {
  it('quotes fields with commas, quotes, CR or LF and doubles the quotes', () => {
    assert.equal(csvField('plain'), 'plain');
    assert.equal(csvField('job="api",instance="h:80"'), '"job=""api"",instance=""h:80"""');
    assert.equal(csvField('two\nlines'), '"two\nlines"');
    assert.equal(csvField('cr\r'), '"cr\r"');
  });
  it('writes null as an empty cell and never NaN; infinities as Prometheus does', () => {
    assert.equal(csvRow([null, undefined, Number.NaN, 0, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, 1.5, true]), ',,,0,+Inf,-Inf,1.5,true\r\n');
  });
});
