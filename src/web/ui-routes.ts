/**
 * Serves the web UI: `/` is the single page, `/ui/<file>` its scripts and styles (a fixed list,
 * see web-assets.ts). They load without the API token: the page itself asks for the token when
 * an /api call answers 401 (the guard in api/auth.ts covers /api/ only).
 */
import fs from 'node:fs';
import type { FastifyPluginAsync } from 'fastify';
import { WEB_ASSETS } from './web-assets.js';

/**
 * The page talks to its own origin only: no CDN, no fonts, nothing a network outage could break.
 * uPlot sets inline styles on its elements, hence 'unsafe-inline' for styles (not scripts).
 */
const CONTENT_SECURITY_POLICY = "default-src 'self'; img-src 'self' data: blob:; style-src 'self' 'unsafe-inline'; object-src 'none'; frame-ancestors 'none'; base-uri 'none'";

export const webUiRoutes: FastifyPluginAsync = async (app) => {
  const send = (name: string) => {
    const a = WEB_ASSETS.get(name)!;
    return fs.createReadStream(a.file);
  };

  app.get('/', { schema: { hide: true } }, async (_request, reply) =>
    reply
      .type(WEB_ASSETS.get('index.html')!.contentType)
      .header('cache-control', 'no-cache')
      .header('content-security-policy', CONTENT_SECURITY_POLICY)
      .header('x-content-type-options', 'nosniff')
      .send(send('index.html')));

  app.get<{ Params: { name: string } }>('/ui/:name', { schema: { hide: true } }, async (request, reply) => {
    const a = WEB_ASSETS.get(request.params.name);
    if (!a || a.name === 'index.html') {
      return reply.status(404).send({ error: { code: 'NOT_FOUND', message: `no UI file ${request.params.name}` } });
    }
    // no-cache: a browser revalidates, so an upgraded benchmon never runs with stale scripts.
    return reply.type(a.contentType).header('cache-control', 'no-cache').header('x-content-type-options', 'nosniff').send(send(a.name));
  });
};
