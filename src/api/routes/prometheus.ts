import { Type } from '@sinclair/typebox';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { DURATION_PATTERN } from '../../prometheus/duration.js';
import type { MonitoringService } from '../../sessions/monitoring-service.js';
import { ErrorSchema } from '../error-handler.js';

const errors = { 400: ErrorSchema, 401: ErrorSchema, 502: ErrorSchema, 503: ErrorSchema };
const Time = Type.Union([Type.String({ minLength: 1, maxLength: 64 }), Type.Number()], { description: 'RFC 3339 or Unix seconds' });
const Query = Type.String({ minLength: 1, maxLength: 20_000, description: 'PromQL' });

export const prometheusRoutes: FastifyPluginAsyncTypebox<{ service: MonitoringService }> = async (app, { service }) => {
  app.get('/api/v1/prometheus/targets', {
    schema: {
      tags: ['prometheus'],
      summary: "Prometheus's active and dropped targets",
      querystring: Type.Object({ state: Type.Optional(Type.Union([Type.Literal('active'), Type.Literal('dropped'), Type.Literal('any')])) }, { additionalProperties: false }),
      response: { 200: Type.Unknown(), ...errors },
    },
  }, async (request) => service.prometheusTargets(request.query.state));

  app.post('/api/v1/prometheus/query', {
    schema: { tags: ['prometheus'], summary: 'Instant PromQL query', body: Type.Object({ query: Query, time: Type.Optional(Time) }, { additionalProperties: false }), response: { 200: Type.Unknown(), ...errors } },
  }, async (request) => service.query(request.body.query, request.body.time));

  app.post('/api/v1/prometheus/query_range', {
    schema: {
      tags: ['prometheus'],
      summary: 'Range PromQL query',
      body: Type.Object({ query: Query, start: Time, end: Time, step: Type.Union([Type.String({ pattern: DURATION_PATTERN, minLength: 1 }), Type.Number({ exclusiveMinimum: 0 })]) }, { additionalProperties: false }),
      response: { 200: Type.Unknown(), ...errors },
    },
  }, async (request) => service.queryRange(request.body.query, request.body.start, request.body.end, request.body.step));

  app.get('/api/v1/prometheus/health', {
    schema: { tags: ['prometheus'], summary: 'Prometheus healthy, ready, version, last reload ok, runtime', response: { 200: Type.Unknown(), 401: ErrorSchema } },
  }, async () => service.prometheusHealth());

  app.post('/api/v1/prometheus/reload', {
    schema: { tags: ['prometheus'], summary: 'Re-render prometheus.yml and reload it through the apply protocol', response: { 200: Type.Unknown(), ...errors } },
  }, async () => ({ reloaded: true, ...(await service.reload()) }));
};
