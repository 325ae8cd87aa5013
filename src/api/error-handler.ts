/**
 * One error shape for every failure: {error: {code, message, details?}}. Validation errors name
 * the field; 5xx answers say what failed (Prometheus, the runtime) but never leak a stack.
 */
import type { FastifyError, FastifyInstance } from 'fastify';
import { BenchmonError, ERROR_CODES, type ErrorCode } from '../errors.js';

export interface ErrorBody { error: { code: ErrorCode | string; message: string; details?: Record<string, unknown> } }

interface AjvError { instancePath: string; message?: string; keyword: string; params: Record<string, unknown> }

/** `/scrape_config/job_name` → `scrape_config.job_name`; `/targets/0` → `targets[0]`. */
function fieldOf(e: AjvError): string {
  const parts = e.instancePath.split('/').filter(Boolean);
  if (e.keyword === 'required' && typeof e.params.missingProperty === 'string') parts.push(e.params.missingProperty);
  if (e.keyword === 'additionalProperties' && typeof e.params.additionalProperty === 'string') parts.push(e.params.additionalProperty);
  if (e.keyword === 'propertyNames' && typeof e.params.propertyName === 'string') parts.push(e.params.propertyName);
  return parts.reduce((acc, p) => (/^\d+$/.test(p) ? `${acc}[${p}]` : acc ? `${acc}.${p}` : p), '');
}

function validationMessage(e: AjvError): string {
  switch (e.keyword) {
    case 'additionalProperties':
      return 'is not a known field';
    case 'required':
      return 'is required';
    case 'pattern':
      return `must match ${String(e.params.pattern)}`;
    default:
      return e.message ?? 'is invalid';
  }
}

export function errorBody(err: BenchmonError): ErrorBody {
  return { error: { code: err.code, message: err.message, ...(err.details ? { details: err.details } : {}) } };
}

export function installErrorHandler(app: FastifyInstance): void {
  app.setErrorHandler((err: FastifyError & { validation?: AjvError[]; validationContext?: string }, request, reply) => {
    if (err instanceof BenchmonError) {
      if (err.status >= 500) request.log.warn({ code: err.code, err: err.message }, 'request failed');
      return reply.status(err.status).send(errorBody(err));
    }
    if (err.validation && err.validation.length > 0) {
      const first = err.validation[0]!;
      const where = err.validationContext === 'body' ? '' : `${err.validationContext ?? 'request'}.`;
      const field = `${where}${fieldOf(first)}` || (err.validationContext ?? 'body');
      return reply.status(400).send({ error: { code: 'VALIDATION_FAILED', message: `${field}: ${validationMessage(first)}`, details: { field } } });
    }
    if (err.code?.startsWith('FST_ERR_CTP_')) {
      const status = err.statusCode ?? 400;
      const code = status === 415 ? 'UNSUPPORTED_MEDIA_TYPE' : 'INVALID_JSON';
      return reply.status(status).send({ error: { code, message: `body: ${err.message}`, details: { field: 'body' } } });
    }
    if (err.statusCode !== undefined && err.statusCode >= 400 && err.statusCode < 500) {
      return reply.status(err.statusCode).send({ error: { code: err.code ?? 'BAD_REQUEST', message: err.message } });
    }
    request.log.error({ err }, 'unexpected error');
    return reply.status(500).send({ error: { code: 'INTERNAL', message: 'internal error; see the benchmon log' } });
  });
  app.setNotFoundHandler((request, reply) => {
    reply.status(404).send({ error: { code: 'NOT_FOUND', message: `no route ${request.method} ${request.url.split('?')[0]}` } });
  });
}

export const ErrorSchema = {
  type: 'object',
  description: 'Every error answer has this shape.',
  properties: {
    error: {
      type: 'object',
      properties: {
        code: { type: 'string', enum: [...Object.keys(ERROR_CODES), 'UNSUPPORTED_MEDIA_TYPE', 'BAD_REQUEST'] },
        message: { type: 'string' },
        details: { type: 'object', additionalProperties: true },
      },
      required: ['code', 'message'],
    },
  },
  required: ['error'],
} as const;
