import { Type } from '@sinclair/typebox';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { SessionId } from '../../sessions/model.js';
import type { MonitoringService } from '../../sessions/monitoring-service.js';
import { EXPORTER_KINDS, EXPORTER_LAUNCHERS, StartExporterBody } from '../../slurm/exporters.js';
import { ErrorSchema } from '../error-handler.js';
import { SessionParams } from './sessions.js';

const errors = { 400: ErrorSchema, 401: ErrorSchema, 404: ErrorSchema, 409: ErrorSchema, 422: ErrorSchema, 502: ErrorSchema, 503: ErrorSchema };
const kinds = EXPORTER_KINDS.map((k) => `\`${k}\`: ${EXPORTER_LAUNCHERS[k].description} (target_type ${EXPORTER_LAUNCHERS[k].targetType}, default port ${EXPORTER_LAUNCHERS[k].defaultPort})`).join('; ');

export const exporterRoutes: FastifyPluginAsyncTypebox<{ service: MonitoringService }> = async (app, { service }) => {
  app.post('/api/v1/sessions/:session_id/exporters', {
    schema: {
      tags: ['exporters'],
      summary: 'Start an exporter on every node of a running Slurm job (srun --overlap) and register it (role exporter)',
      description: `Kinds: ${kinds}. The exporter stops when the session is deleted, the exporter is removed, or the job ends.`,
      params: SessionParams,
      body: StartExporterBody,
      response: { 201: Type.Unknown(), ...errors },
    },
  }, async (request, reply) => reply.status(201).send(await service.startExporter(request.params.session_id, request.body as StartExporterBody)));

  app.get('/api/v1/sessions/:session_id/exporters', {
    schema: { tags: ['exporters'], summary: 'Exporters started in Slurm jobs for this session, with their state and step', params: SessionParams, response: { 200: Type.Unknown(), ...errors } },
  }, async (request) => ({ exporters: service.listExporters(request.params.session_id) }));

  app.delete('/api/v1/sessions/:session_id/exporters/:exporter_id', {
    schema: {
      tags: ['exporters'],
      summary: 'Stop an exporter (its step ends) and deregister its target',
      params: Type.Object({ session_id: SessionId, exporter_id: Type.String({ pattern: '^[a-z]+-\\d+(_\\d+)?$' }) }),
      response: { 200: Type.Unknown(), ...errors },
    },
  }, async (request) => ({ deleted: await service.removeExporter(request.params.session_id, request.params.exporter_id) }));
};
