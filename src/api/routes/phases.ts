import { Type } from '@sinclair/typebox';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { PHASE_NAME_PATTERN } from '../../collect/phases.js';
import { SessionId } from '../../sessions/model.js';
import type { MonitoringService } from '../../sessions/monitoring-service.js';
import { ErrorSchema } from '../error-handler.js';
import { SessionParams } from './sessions.js';

const errors = { 400: ErrorSchema, 401: ErrorSchema, 404: ErrorSchema, 409: ErrorSchema, 422: ErrorSchema };
const time = (description: string) => Type.Union([Type.String({ minLength: 1, maxLength: 64 }), Type.Number()], { description: `RFC 3339 or Unix seconds. ${description}` });
const PhaseName = Type.String({ pattern: PHASE_NAME_PATTERN, description: 'Phase name, e.g. warmup, steady, cooldown ("all" is reserved)' });

const PhaseSchema = Type.Object({
  session_id: Type.String(),
  name: Type.String(),
  start_time: Type.String({ format: 'date-time' }),
  end_time: Type.Union([Type.String({ format: 'date-time' }), Type.Null()], { description: 'null while the phase is open' }),
  created_at: Type.String({ format: 'date-time' }),
});

const MarkBody = Type.Object(
  {
    name: PhaseName,
    start_time: Type.Optional(time('Default: now')),
    end_time: Type.Optional(time('Omit to leave the phase open; end it later with POST …/phases/{name}/end')),
  },
  { additionalProperties: false },
);
const EndBody = Type.Object(
  { end_time: Type.Optional(time('Default: now')) },
  { additionalProperties: false },
);
const PhaseParams = Type.Object({ session_id: SessionId, name: PhaseName });

export const phaseRoutes: FastifyPluginAsyncTypebox<{ service: MonitoringService }> = async (app, { service }) => {
  app.post('/api/v1/sessions/:session_id/phases', {
    schema: {
      tags: ['phases'],
      summary: 'Mark a benchmark phase (warmup, steady, cooldown, …): a named span of the session, usable as a collection window (collect {phase}) or for per-phase KPIs (collect {phases})',
      description:
        'start_time defaults to now; without end_time the phase stays open until POST …/phases/{name}/end. Names are unique per session (409 PHASE_EXISTS); ' +
        'phases may overlap or nest. Times in the future (beyond 5 s of clock slack) or end_time ≤ start_time → 422 naming the field.',
      params: SessionParams,
      body: MarkBody,
      response: { 201: PhaseSchema, ...errors },
    },
  }, async (request, reply) => reply.status(201).send(service.markPhase(request.params.session_id, request.body)));

  app.get('/api/v1/sessions/:session_id/phases', {
    schema: { tags: ['phases'], summary: 'The phases of the session, by start time', params: SessionParams, response: { 200: Type.Object({ phases: Type.Array(PhaseSchema) }), ...errors } },
  }, async (request) => ({ phases: service.listPhases(request.params.session_id) }));

  app.get('/api/v1/sessions/:session_id/phases/:name', {
    schema: { tags: ['phases'], summary: 'One phase', params: PhaseParams, response: { 200: PhaseSchema, ...errors } },
  }, async (request) => service.getPhase(request.params.session_id, request.params.name));

  app.post('/api/v1/sessions/:session_id/phases/:name/end', {
    schema: {
      tags: ['phases'],
      summary: 'End an open phase (end_time default now); 409 PHASE_ALREADY_ENDED if it has ended',
      params: PhaseParams,
      body: EndBody,
      response: { 200: PhaseSchema, ...errors },
    },
    // `curl -XPOST …/end` sends no body at all: that is "end it now", like {}.
    preValidation: async (request) => {
      const r = request as { body: unknown };
      r.body ??= {};
    },
  }, async (request) => service.endPhase(request.params.session_id, request.params.name, request.body));

  app.delete('/api/v1/sessions/:session_id/phases/:name', {
    schema: { tags: ['phases'], summary: 'Delete a phase (collections made with it keep it in their manifests)', params: PhaseParams, response: { 200: Type.Object({ deleted: PhaseSchema }), ...errors } },
  }, async (request) => ({ deleted: service.deletePhase(request.params.session_id, request.params.name) }));
};
