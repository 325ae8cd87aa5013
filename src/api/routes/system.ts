import { createRequire } from 'node:module';
import fs from 'node:fs';
import { Type } from '@sinclair/typebox';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { MonitoringService } from '../../sessions/monitoring-service.js';

const require = createRequire(import.meta.url);

const REDOC_PAGE = `<!doctype html>
<html><head><meta charset="utf-8"><title>benchmon API</title><meta name="viewport" content="width=device-width, initial-scale=1"></head>
<body><redoc spec-url="/openapi.json"></redoc><script src="/redoc/redoc.standalone.js"></script></body></html>`;

export const systemRoutes: FastifyPluginAsyncTypebox<{ service: MonitoringService }> = async (app, { service }) => {
  app.get('/health', { schema: { tags: ['system'], summary: 'Liveness', response: { 200: Type.Unknown() } } }, async () => ({ status: 'ok' }));

  app.get('/ready', { schema: { tags: ['system'], summary: 'Readiness: store open and Prometheus ready', response: { 200: Type.Unknown(), 503: Type.Unknown() } } }, async (_request, reply) => {
    const r = await service.isReady();
    return reply.status(r.ready ? 200 : 503).send(r);
  });

  app.get('/metrics', { schema: { tags: ['system'], summary: "benchmon's own metrics (Prometheus text format)" } }, async (_request, reply) => {
    const body = await service.metrics.registry.metrics();
    return reply.type(service.metrics.registry.contentType).send(body);
  });

  app.get('/redoc', { schema: { hide: true } }, async (_request, reply) => reply.type('text/html').send(REDOC_PAGE));

  // ReDoc's own bundle from node_modules: the docs work without any network.
  const redocBundle = require.resolve('redoc/bundles/redoc.standalone.js');
  app.get('/redoc/redoc.standalone.js', { schema: { hide: true } }, async (_request, reply) =>
    reply.type('application/javascript').header('cache-control', 'public, max-age=86400').send(fs.createReadStream(redocBundle)),
  );
};
