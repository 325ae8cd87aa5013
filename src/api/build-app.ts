/**
 * The Fastify app as a function of the facade: routes only translate HTTP to MonitoringService
 * calls. Tests build the same app and talk to it over a real socket or app.inject().
 */
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { Logger } from 'pino';
import type { MonitoringService } from '../sessions/monitoring-service.js';
import { BENCHMON_VERSION } from '../version.js';
import { installTokenGuard } from './auth.js';
import { installErrorHandler } from './error-handler.js';
import { collectionRoutes } from './routes/collections.js';
import { collectionDataRoutes } from './routes/collection-data.js';
import { webUiRoutes } from '../web/ui-routes.js';
import { phaseRoutes } from './routes/phases.js';
import { prometheusRoutes } from './routes/prometheus.js';
import { sessionRoutes } from './routes/sessions.js';
import { systemRoutes } from './routes/system.js';
import { targetRoutes } from './routes/targets.js';
import { exporterRoutes } from './routes/exporters.js';
import { proxyRoutes } from './routes/proxy.js';
import { compareRoutes } from './routes/compare.js';

export async function buildApp(service: MonitoringService, logger: Logger): Promise<FastifyInstance> {
  const app = Fastify({
    loggerInstance: logger as FastifyBaseLogger,
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: 4 * 1024 * 1024,
    ajv: { customOptions: { removeAdditional: false, allErrors: false, coerceTypes: 'array' } },
  }).withTypeProvider<TypeBoxTypeProvider>();

  installErrorHandler(app);
  installTokenGuard(app, service.settings.BENCHMON_API_TOKEN);
  app.addHook('onResponse', async (request, reply) => {
    service.metrics.httpRequests.inc({ method: request.method, route: request.routeOptions.url ?? 'unmatched', status: String(reply.statusCode) });
  });

  await app.register(swagger, {
    openapi: {
      openapi: '3.0.3',
      info: { title: 'benchmon API', version: BENCHMON_VERSION, description: 'Benchmark monitoring: sessions, targets, Prometheus, collections.' },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
      security: service.settings.BENCHMON_API_TOKEN ? [{ bearer: [] }] : [],
    },
  });
  await app.register(swaggerUi, { routePrefix: '/docs' });
  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());

  await app.register(systemRoutes, { service });
  await app.register(sessionRoutes, { service });
  await app.register(targetRoutes, { service });
  await app.register(exporterRoutes, { service });
  await app.register(proxyRoutes, { service });
  await app.register(prometheusRoutes, { service });
  await app.register(collectionRoutes, { service });
  await app.register(collectionDataRoutes, { service });
  await app.register(webUiRoutes);
  await app.register(phaseRoutes, { service });
  await app.register(compareRoutes, { service });
  return app;
}
