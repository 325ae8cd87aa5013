import { Type } from '@sinclair/typebox';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { MonitoringService } from '../../sessions/monitoring-service.js';
import { ErrorSchema } from '../error-handler.js';

/**
 * GET /metrics/{service}/{job_id}: outside /api, so it stays open when BENCHMON_API_TOKEN is set,
 * like /metrics: Prometheus scrapes it without a token.
 */
export const proxyRoutes: FastifyPluginAsyncTypebox<{ service: MonitoringService }> = async (app, { service }) => {
  app.get('/metrics/:service/:job_id', {
    schema: {
      tags: ['proxy'],
      summary: "The metrics of a registered Slurm target, fetched from the node its job runs on (byte for byte, with the upstream's content type)",
      description:
        'Only registered Slurm targets whose target_type is {service} and whose job {job_id} runs now (anything else → 404). ' +
        '?node= picks the node of a multi-node job. Upstream down → 502, no answer within PROXY_TIMEOUT → 504.',
      params: Type.Object({ service: Type.String({ maxLength: 64 }), job_id: Type.String({ maxLength: 64 }) }),
      querystring: Type.Object({ node: Type.Optional(Type.String({ minLength: 1, maxLength: 256 })) }),
      response: { 200: Type.Unknown({ description: "The upstream's body, as it came" }), 400: ErrorSchema, 404: ErrorSchema, 502: ErrorSchema, 504: ErrorSchema },
    },
  }, async (request, reply) => {
    const up = await service.proxyMetrics(request.params.service, request.params.job_id, request.query.node, request.headers);
    // 2xx only (other upstream statuses are 502): the upstream's own status, e.g. 200.
    return reply.status(up.status as 200).headers(up.headers).send(up.body);
  });
};
