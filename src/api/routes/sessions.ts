import { Type } from '@sinclair/typebox';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { CreateSessionBody, SessionId } from '../../sessions/model.js';
import type { MonitoringService } from '../../sessions/monitoring-service.js';
import { ErrorSchema } from '../error-handler.js';

export const SessionParams = Type.Object({ session_id: SessionId });
const errors = { 400: ErrorSchema, 401: ErrorSchema, 404: ErrorSchema, 409: ErrorSchema, 502: ErrorSchema, 503: ErrorSchema };

export const sessionRoutes: FastifyPluginAsyncTypebox<{ service: MonitoringService }> = async (app, { service }) => {
  app.post('/api/v1/sessions', {
    schema: { tags: ['sessions'], summary: 'Create a session (adds its scrape job to Prometheus)', body: CreateSessionBody, response: { 201: Type.Unknown(), ...errors } },
  }, async (request, reply) => reply.status(201).send(await service.createSession(request.body)));

  app.get('/api/v1/sessions', {
    schema: { tags: ['sessions'], summary: 'List sessions', response: { 200: Type.Unknown(), 401: ErrorSchema } },
  }, async () => ({ sessions: service.listSessions() }));

  app.get('/api/v1/sessions/:session_id', {
    schema: { tags: ['sessions'], summary: 'Session status: targets with live health, collections, artifacts', params: SessionParams, response: { 200: Type.Unknown(), ...errors } },
  }, async (request) => service.sessionStatus(request.params.session_id));

  app.delete('/api/v1/sessions/:session_id', {
    schema: { tags: ['sessions'], summary: 'Delete a session and remove its targets from Prometheus (artifacts stay on disk)', params: SessionParams, response: { 200: Type.Unknown(), ...errors } },
  }, async (request) => ({ deleted: true, ...(await service.deleteSession(request.params.session_id)) }));
};
