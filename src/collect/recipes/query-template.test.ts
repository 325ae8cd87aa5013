import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { checkQueryTemplate, expandQueryTemplate, findSelectors, splitHistogramQuantile } from './query-template.js';

const values = { sessionId: 'run-42', window: '5m', step: '15s', by: [] as string[] };

describe('findSelectors', () => {
  const cases: Array<[string, string[]]> = [
    ['sum by (${by}) (rate(http_requests_total{${session}}[${window}]))', ['http_requests_total{${session}}']],
    ['histogram_quantile(0.99, sum by (le, job) (increase(vllm:e2e_request_latency_seconds_bucket{${session}}[${window}])))', ['vllm:e2e_request_latency_seconds_bucket{${session}}']],
    ['sum(rate(a{x="}{", ${session}}[1m])) without (instance) / on(job) group_left(model) b{${session}}', ['a{x="}{", ${session}}', 'b{${session}}']],
    ['max_over_time((1 - m1{${session}} / m2{${session}})[${window}:${step}]) offset 5m', ['m1{${session}}', 'm2{${session}}']],
    ['label_replace(up{${session}}, "host", "$1", "instance", "(.*):.*") and bool vector(1)', ['up{${session}}']],
    ['{__name__=~"foo.*", ${session}} @ end()', ['{__name__=~"foo.*", ${session}}']],
    ['bare_metric + count without (cpu) (x{${session}})', ['bare_metric', 'x{${session}}']],
    ['sum by (le) (x{${session}}) # a comment with y{}', ['x{${session}}']],
  ];
  for (const [template, expected] of cases) {
    it(template, () => assert.deepEqual(findSelectors(template).map((s) => s.text), expected));
  }
});

describe('checkQueryTemplate', () => {
  it('accepts a template whose every selector carries ${session}', () => {
    assert.deepEqual(checkQueryTemplate('sum by (le, ${by}) (increase(x_bucket{${session}}[${window}])) / on() group_left sum(y{job="a", ${session}})'), []);
  });
  const bad: Array<[string, RegExp]> = [
    ['rate(http_requests_total[${window}])', /selector http_requests_total lacks the session matcher/],
    ['rate(http_requests_total{job="x"}[${window}])', /selector http_requests_total\{job="x"\} lacks the session matcher/],
    ['rate(a{${session}}[5m]) / rate(b{session="other"}[5m])', /selector b\{session="other"\} lacks/],
    ['rate(a{${sesion}}[5m])', /unknown placeholder \$\{sesion\}/],
    ['sum by (${session}) (a{${session}})', /belongs inside a selector's braces/],
    ['sum(rate(a{${session}}[5m])', /unbalanced/],
    ['a{x="unclosed}', /unclosed string/],
    ['vector(1)', /no metric selector/],
  ];
  for (const [template, message] of bad) {
    it(`refuses ${template}`, () => assert.match(checkQueryTemplate(template).join('\n'), message));
  }
});

describe('expandQueryTemplate', () => {
  it('writes the session matcher, window, step and slice labels', () => {
    const template = 'max_over_time(sum by (le, ${by}) (rate(x_bucket{${session}}[${window}]))[${window}:${step}])';
    assert.equal(expandQueryTemplate(template, values), 'max_over_time(sum by (le) (rate(x_bucket{session="run-42"}[5m]))[5m:15s])');
    assert.equal(
      expandQueryTemplate(template, { ...values, by: ['job', 'instance'] }),
      'max_over_time(sum by (le, job, instance) (rate(x_bucket{session="run-42"}[5m]))[5m:15s])',
    );
    assert.equal(expandQueryTemplate('sum by (${by}) (a{${session}})', values), 'sum by () (a{session="run-42"})');
    assert.equal(expandQueryTemplate('sum by (${by}, le) (a{${session}})', values), 'sum by (le) (a{session="run-42"})');
  });
  it('refuses session ids and labels that could escape their place', () => {
    assert.throws(() => expandQueryTemplate('a{${session}}', { ...values, sessionId: 'x"} or vector(1) #' }), /invalid session id/);
    assert.throws(() => expandQueryTemplate('sum by (${by}) (a{${session}})', { ...values, by: ['job) (x'] }), /invalid label name/);
  });
});

describe('splitHistogramQuantile', () => {
  it('splits q and the merged-bucket expression', () => {
    assert.deepEqual(splitHistogramQuantile('histogram_quantile(0.95, sum by (le, ${by}) (increase(x_bucket{${session}}[${window}])))'), {
      quantile: 0.95,
      buckets: 'sum by (le, ${by}) (increase(x_bucket{${session}}[${window}]))',
    });
  });
  it('refuses anything but one histogram_quantile call', () => {
    assert.equal(splitHistogramQuantile('histogram_quantile(0.9, a{${session}}) * 1000'), undefined);
    assert.equal(splitHistogramQuantile('100 * histogram_quantile(0.9, a{${session}})'), undefined);
    assert.equal(splitHistogramQuantile('histogram_quantile(scalar(q{${session}}), a{${session}})'), undefined);
  });
});
