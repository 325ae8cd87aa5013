/**
 * Sessions and targets: the request schemas (TypeBox, used by the API for validation and the
 * OpenAPI document) and the stored shapes. Types are derived from the schemas.
 */
import { Type, type Static } from '@sinclair/typebox';
import { DURATION_PATTERN } from '../prometheus/duration.js';
import {
  HOST_PORT_PATTERN, JOB_ID_PATTERN, JOB_NAME_PATTERN, LABEL_NAME_PATTERN, METRICS_PATH_PATTERN, SESSION_ID_PATTERN, TARGET_TYPE_PATTERN,
} from './identifiers.js';

const Duration = Type.String({ pattern: DURATION_PATTERN, minLength: 1, maxLength: 32, description: 'Prometheus duration, e.g. 15s, 1m' });
const Labels = Type.Record(Type.String({ pattern: LABEL_NAME_PATTERN }), Type.String({ maxLength: 1024 }), {
  description: 'Extra labels put on every series of the target',
});

export const SessionId = Type.String({ pattern: SESSION_ID_PATTERN, description: 'Letters, digits, _ . - (max 64), starting with a letter or digit' });

export const CreateSessionBody = Type.Object(
  {
    session_id: SessionId,
    labels: Type.Optional(Labels),
    scrape_interval: Type.Optional(Duration),
  },
  { additionalProperties: false },
);
export type CreateSessionBody = Static<typeof CreateSessionBody>;

export const Role = Type.Union([Type.Literal('client'), Type.Literal('service'), Type.Literal('exporter')]);
export type Role = Static<typeof Role>;

export const ScrapeConfigBody = Type.Object(
  {
    job_name: Type.String({ pattern: JOB_NAME_PATTERN, description: 'Becomes the `job` label; unique within the session' }),
    metrics_path: Type.Optional(Type.String({ pattern: METRICS_PATH_PATTERN })),
    targets: Type.Array(Type.String({ pattern: HOST_PORT_PATTERN, description: 'host:port' }), { minItems: 1, maxItems: 1024 }),
    scheme: Type.Optional(Type.Union([Type.Literal('http'), Type.Literal('https')])),
    scrape_interval: Type.Optional(Duration),
    scrape_timeout: Type.Optional(Duration),
    labels: Type.Optional(Labels),
  },
  { additionalProperties: false },
);

export const RegisterTargetBody = Type.Object(
  {
    job_id: Type.Optional(Type.String({ pattern: JOB_ID_PATTERN, description: 'The benchmark job this target belongs to (e.g. a Slurm job id)' })),
    target_type: Type.String({ pattern: TARGET_TYPE_PATTERN, description: 'What is scraped: vllm, qdrant, node_exporter, client, …' }),
    role: Type.Optional(Role),
    scheme: Type.Optional(Type.Union([Type.Literal('http'), Type.Literal('https')])),
    scrape_interval: Type.Optional(Duration),
    scrape_timeout: Type.Optional(Duration),
    labels: Type.Optional(Labels),
    scrape_config: ScrapeConfigBody,
  },
  { additionalProperties: false },
);
export type RegisterTargetBody = Static<typeof RegisterTargetBody>;

export interface Session {
  session_id: string;
  labels: Record<string, string>;
  scrape_interval: string | null;
  created_at: string;
}

/** One registration: a job name with one or more host:port endpoints and how to scrape them. */
export interface Target {
  session_id: string;
  target_id: string;
  job_id: string | null;
  target_type: string;
  role: Role;
  job_name: string;
  metrics_path: string;
  scheme: 'http' | 'https';
  scrape_interval: string;
  scrape_timeout: string;
  labels: Record<string, string>;
  endpoints: string[];
  created_at: string;
}

export interface EndpointHealth {
  endpoint: string;
  health: 'up' | 'down' | 'unknown' | 'pending';
  last_scrape: string | null;
  last_scrape_duration_seconds: number | null;
  last_error: string | null;
  scrape_url: string | null;
}

export interface TargetWithHealth extends Target {
  health: 'up' | 'down' | 'unknown' | 'pending' | 'partial';
  endpoints_health: EndpointHealth[];
}
