import { Type } from '@sinclair/typebox';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { COLLECTION_ID_PATTERN } from '../../artifacts/manifest.js';
import type { MonitoringService } from '../../sessions/monitoring-service.js';
import { ErrorSchema } from '../error-handler.js';

const errors = { 400: ErrorSchema, 401: ErrorSchema, 404: ErrorSchema, 422: ErrorSchema };
const CollectionId = Type.String({ pattern: COLLECTION_ID_PATTERN, description: 'A collection id, e.g. 20261129T090000Z-1a2b3c4d' });

const CompareBody = Type.Object(
  {
    candidate: CollectionId,
    baseline: Type.Union([CollectionId, Type.Array(CollectionId, { minItems: 1, maxItems: 100 })], {
      description: 'One collection, or several earlier ones: A is then their mean and their spread the noise estimate',
    }),
    gate: Type.Optional(Type.Object({}, { additionalProperties: true, description: 'A gate document (fields as in a gate file: description, default, kpis)' })),
    phase: Type.Optional(Type.String({ minLength: 1, maxLength: 64, description: "Compare this phase's KPIs (collections with phases) instead of the whole window's" })),
    noise_k: Type.Optional(Type.Number({ minimum: 0, maximum: 10, description: 'k of the noise band mean ± k·stddev of the baseline runs (default 2)' })),
  },
  { additionalProperties: false },
);

export const compareRoutes: FastifyPluginAsyncTypebox<{ service: MonitoringService }> = async (app, { service }) => {
  app.post('/api/v1/compare', {
    schema: {
      tags: ['collections'],
      summary: 'Compare a candidate collection with a baseline (one or several collections), per KPI, with an optional gate',
      description: 'Answers 200 with the comparison whether or not the gate passed: see gate.passed and gate.failures.',
      body: CompareBody,
      response: { 200: Type.Unknown(), ...errors },
    },
  }, async (request) => service.compare(request.body));
};
