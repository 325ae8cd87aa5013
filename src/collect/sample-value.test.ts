import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { finiteOrNull, formatSampleValue, parseSampleValue } from './sample-value.js';

describe('Prometheus sample values', () => {
  it('parses the strings Prometheus sends; NaN becomes null, never 0', () => {
    assert.equal(parseSampleValue('NaN'), null);
    assert.equal(parseSampleValue('+Inf'), Number.POSITIVE_INFINITY);
    assert.equal(parseSampleValue('-Inf'), Number.NEGATIVE_INFINITY);
    assert.equal(parseSampleValue('0'), 0);
    assert.equal(parseSampleValue('-0.5'), -0.5);
    assert.equal(parseSampleValue('1.7976931348623157e+308'), Number.MAX_VALUE);
    assert.equal(parseSampleValue('68.244'), 68.244);
  });
  it('refuses text that is not a sample value rather than guessing', () => {
    for (const bad of ['', 'nan', 'inf', '1,5', '0x10', ' 1', 'null']) assert.throws(() => parseSampleValue(bad), /not a Prometheus sample value/, bad);
  });
  it('formats like Prometheus and keeps non-finite values out of JSON numbers', () => {
    assert.equal(formatSampleValue(Number.POSITIVE_INFINITY), '+Inf');
    assert.equal(formatSampleValue(Number.NEGATIVE_INFINITY), '-Inf');
    assert.equal(formatSampleValue(0.1 + 0.2), '0.30000000000000004');
    assert.equal(finiteOrNull(Number.POSITIVE_INFINITY), null);
    assert.equal(finiteOrNull(null), null);
    assert.equal(finiteOrNull(0), 0);
  });
});
