/**
 * Optional bearer token: when BENCHMON_API_TOKEN is set, every /api route needs
 * `Authorization: Bearer <token>`; /health, /ready, /metrics, the metrics proxy /metrics/{service}/{job_id}
 * (Prometheus scrapes both without a token) and the docs stay open. So do the web UI's page and files
 * (`/`, `/ui/*`): they hold no data, and the page asks for the token when the API answers 401.
 */
import { timingSafeEqual } from 'node:crypto';
import type { FastifyInstance } from 'fastify';

function sameToken(given: string, expected: string): boolean {
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

export function installTokenGuard(app: FastifyInstance, token: string | undefined): void {
  if (!token) return;
  app.addHook('onRequest', async (request, reply) => {
    if (!request.url.startsWith('/api/')) return;
    const header = request.headers.authorization ?? '';
    const m = /^Bearer\s+(.+)$/i.exec(header);
    if (m && sameToken(m[1]!.trim(), token)) return;
    return reply
      .status(401)
      .header('www-authenticate', 'Bearer realm="benchmon"')
      .send({ error: { code: 'UNAUTHORIZED', message: m ? 'wrong API token' : 'API token required: send Authorization: Bearer <BENCHMON_API_TOKEN>' } });
  });
}
