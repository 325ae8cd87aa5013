import { PassThrough } from 'node:stream';
import { Type } from '@sinclair/typebox';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { COLLECTION_ID_PATTERN } from '../../artifacts/manifest.js';
import { ALL_PHASES, MAX_PHASES_PER_COLLECTION, PHASE_NAME_PATTERN } from '../../collect/phases.js';
import { BenchmonError } from '../../errors.js';
import { DURATION_PATTERN } from '../../prometheus/duration.js';
import type { MonitoringService } from '../../sessions/monitoring-service.js';
import { ErrorSchema, errorBody } from '../error-handler.js';
import { SessionParams } from './sessions.js';

const errors = { 400: ErrorSchema, 401: ErrorSchema, 404: ErrorSchema, 422: ErrorSchema, 502: ErrorSchema, 503: ErrorSchema };
const Time = Type.Union([Type.String({ minLength: 1, maxLength: 64 }), Type.Number()], { description: 'RFC 3339 or Unix seconds' });

const PhaseName = Type.String({ pattern: PHASE_NAME_PATTERN });

const CollectBody = Type.Object(
  {
    start_time: Type.Optional(Time),
    end_time: Type.Optional(Time),
    phase: Type.Optional(Type.String({ pattern: PHASE_NAME_PATTERN, description: 'A phase of the session (ended): the window is its start and end. Instead of start_time and end_time' })),
    phases: Type.Optional(Type.Union([
      Type.Literal(ALL_PHASES),
      Type.Array(PhaseName, { minItems: 1, maxItems: MAX_PHASES_PER_COLLECTION, uniqueItems: true }),
    ], {
      description: 'Per-phase KPIs side by side (manifest phases[], rows with a phase column in metrics_summary.csv): these phases, or "all" in the window; ' +
        'each must have ended and lie inside the window. Without start_time/end_time and phase, the window spans these phases',
    })),
    step: Type.Optional(Type.String({ pattern: DURATION_PATTERN, minLength: 1, description: 'Default: the session scrape interval' })),
    recipe: Type.Optional(Type.Union([Type.String({ minLength: 1, maxLength: 64 }), Type.Object({}, { additionalProperties: true })], {
      description: 'A built-in recipe name (default, node, dcgm, vllm, qdrant) or an inline recipe document',
    })),
    queries: Type.Optional(Type.Array(Type.Object({}, { additionalProperties: true }), { maxItems: 500, description: 'Ad-hoc KPI definitions, same fields as a recipe KPI' })),
    output_dir: Type.Optional(Type.String({ minLength: 1, maxLength: 1024, description: 'Parent directory inside ARTIFACTS_ROOT (default <ARTIFACTS_ROOT>/<session>)' })),
  },
  { additionalProperties: false },
);

const CollectQuery = Type.Object(
  { progress: Type.Optional(Type.Literal('ndjson', { description: 'Stream progress lines, then the result, as application/x-ndjson' })) },
  { additionalProperties: false },
);

export const CollectionParams = Type.Object({ collection_id: Type.String({ pattern: COLLECTION_ID_PATTERN, description: 'A collection id, e.g. 20261129T090000Z-1a2b3c4d' }) });

function line(value: unknown): string {
  return `${JSON.stringify(value)}\n`;
}

export const collectionRoutes: FastifyPluginAsyncTypebox<{ service: MonitoringService }> = async (app, { service }) => {
  app.post('/api/v1/sessions/:session_id/collect', {
    schema: {
      tags: ['collections'],
      summary: 'Collect a time window: KPIs with data quality, and artifacts (metrics_summary.csv, timeseries.csv/.parquet, MANIFEST.json)',
      description: 'The window: start_time and end_time, or phase (a phase of the session), or — neither given — the span of the phases listed in phases. ' +
        'Giving both, or none, is a 400 naming the field; an unknown phase a 404 PHASE_NOT_FOUND; an open phase a 422.',
      params: SessionParams,
      querystring: CollectQuery,
      body: CollectBody,
      response: { 201: Type.Unknown(), 200: Type.Unknown(), ...errors },
    },
  }, async (request, reply) => {
    const { session_id } = request.params;
    if (request.query.progress !== 'ndjson') return reply.status(201).send(await service.collect(session_id, request.body));

    // Streamed: the status is decided by the first event. A mistake found before any query
    // (bad window, unknown session, Prometheus down) is still an ordinary 4xx/5xx answer.
    const stream = new PassThrough();
    let started = false;
    let markStarted!: () => void;
    const firstProgress = new Promise<'progress'>((resolve) => (markStarted = () => resolve('progress')));
    const job = service.collect(session_id, request.body, (p) => {
      if (!started) {
        started = true;
        markStarted();
      }
      stream.write(line({ type: 'progress', ...p }));
    });
    const first = await Promise.race([job.then(() => 'done' as const, () => 'failed' as const), firstProgress]);
    if (first === 'failed' && !started) await job; // throws: the error handler answers
    job.then(
      (summary) => stream.end(line({ type: 'result', collection: summary })),
      (err: unknown) => {
        const body = err instanceof BenchmonError ? errorBody(err) : { error: { code: 'INTERNAL', message: 'internal error; see the benchmon log' } };
        if (!(err instanceof BenchmonError)) request.log.error({ err }, 'collection failed');
        stream.end(line({ type: 'error', ...body }));
      },
    );
    return reply.status(200).type('application/x-ndjson').send(stream);
  });

  app.get('/api/v1/sessions/:session_id/collections', {
    schema: { tags: ['collections'], summary: 'Past collections of the session with their manifests', params: SessionParams, response: { 200: Type.Unknown(), ...errors } },
  }, async (request) => ({ collections: await service.listCollections(request.params.session_id) }));

  app.get('/api/v1/collections/:collection_id', {
    schema: {
      tags: ['collections'],
      summary: 'One collection by id: its summary and its manifest (KPIs, window, recipe, targets, files)',
      params: CollectionParams,
      response: { 200: Type.Unknown(), ...errors },
    },
  }, async (request) => service.getCollection(request.params.collection_id));
};
