import { Type } from '@sinclair/typebox';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { JOB_NAME_PATTERN } from '../../sessions/identifiers.js';
import { RegisterTargetBody, SessionId } from '../../sessions/model.js';
import type { MonitoringService } from '../../sessions/monitoring-service.js';
import { ErrorSchema } from '../error-handler.js';
import { SessionParams } from './sessions.js';

const errors = { 400: ErrorSchema, 401: ErrorSchema, 404: ErrorSchema, 409: ErrorSchema, 422: ErrorSchema, 502: ErrorSchema, 503: ErrorSchema };

const RegisterQuery = Type.Object(
  {
    wait: Type.Optional(Type.Literal('up', { description: 'Answer only once Prometheus has scraped every endpoint (or the timeout passed)' })),
    timeout: Type.Optional(Type.Number({ minimum: 0, maximum: 600, description: 'Seconds to wait with wait=up (default 30)' })),
  },
  { additionalProperties: false },
);

export const targetRoutes: FastifyPluginAsyncTypebox<{ service: MonitoringService }> = async (app, { service }) => {
  app.post('/api/v1/sessions/:session_id/targets', {
    schema: {
      tags: ['targets'],
      summary: 'Register a target (written to the session file_sd; no reload). With ?wait=up, answers once scraped or says which endpoints are still down.',
      description:
        'Two forms, exactly one per request. `scrape_config`: host:port targets. `slurm: {job_id, port, metrics_path?, scheme?, job_name?}`: benchmon resolves ' +
        "the job's nodes (one endpoint per node, labels slurm_job_id and node), keeps a PENDING job's target waiting (health pending, slurm.state) until it runs, " +
        'and removes its endpoints when the job ends (slurm.state keeps the final state). Unknown job → 404 SLURM_JOB_NOT_FOUND; Slurm down → 503 SLURM_UNAVAILABLE, ' +
        'nothing registered. `via_proxy: true` (Slurm form) makes Prometheus scrape GET /metrics/{target_type}/{job_id} on benchmon instead of the nodes.',
      params: SessionParams,
      querystring: RegisterQuery,
      body: RegisterTargetBody,
      response: { 201: Type.Unknown(), ...errors },
    },
  }, async (request, reply) => {
    const wait = request.query.wait === 'up' ? { up: true, timeoutMs: (request.query.timeout ?? 30) * 1000 } : undefined;
    const result = await service.registerTarget(request.params.session_id, request.body, wait);
    return reply.status(201).send(result);
  });

  app.get('/api/v1/sessions/:session_id/targets', {
    schema: { tags: ['targets'], summary: 'List the session targets with live health from Prometheus', params: SessionParams, response: { 200: Type.Unknown(), ...errors } },
  }, async (request) => service.listTargets(request.params.session_id));

  app.delete('/api/v1/sessions/:session_id/targets/:target_id', {
    schema: {
      tags: ['targets'],
      summary: 'Deregister a target',
      params: Type.Object({ session_id: SessionId, target_id: Type.String({ pattern: JOB_NAME_PATTERN }) }),
      response: { 200: Type.Unknown(), ...errors },
    },
  }, async (request) => ({ deleted: await service.deregisterTarget(request.params.session_id, request.params.target_id) }));
};
