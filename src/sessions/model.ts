/**
 * Sessions and targets: the request schemas (TypeBox, used by the API for validation and the
 * OpenAPI document) and the stored shapes. Types are derived from the schemas.
 */
import { Type, type Static } from '@sinclair/typebox';
import { DURATION_PATTERN } from '../prometheus/duration.js';
import { SLURM_JOB_ID_PATTERN, type SlurmJobPhase } from '../slurm/model.js';
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

/**
 * The Slurm form: benchmon resolves the job's nodes and tracks the job. The job id may be sent as a
 * number or a string; `42_7` names one task of a job array.
 */
export const SlurmTargetBody = Type.Object(
  {
    job_id: Type.String({ pattern: SLURM_JOB_ID_PATTERN, description: 'Slurm job id, e.g. 3607637 (or 3607637_2 for an array task)' }),
    port: Type.Integer({ minimum: 1, maximum: 65535, description: 'Port the service listens on, on every node of the job' }),
    metrics_path: Type.Optional(Type.String({ pattern: METRICS_PATH_PATTERN, description: 'default /metrics' })),
    scheme: Type.Optional(Type.Union([Type.Literal('http'), Type.Literal('https')])),
    job_name: Type.Optional(Type.String({ pattern: JOB_NAME_PATTERN, description: 'The `job` label; default <target_type>-<job_id>' })),
  },
  { additionalProperties: false },
);
export type SlurmTargetBody = Static<typeof SlurmTargetBody>;

export const RegisterTargetBody = Type.Object(
  {
    job_id: Type.Optional(Type.String({ pattern: JOB_ID_PATTERN, description: 'The benchmark job this target belongs to (e.g. a Slurm job id); the Slurm form defaults it to slurm.job_id' })),
    target_type: Type.String({ pattern: TARGET_TYPE_PATTERN, description: 'What is scraped: vllm, qdrant, node_exporter, client, …' }),
    role: Type.Optional(Role),
    scheme: Type.Optional(Type.Union([Type.Literal('http'), Type.Literal('https')])),
    scrape_interval: Type.Optional(Duration),
    scrape_timeout: Type.Optional(Duration),
    labels: Type.Optional(Labels),
    scrape_config: Type.Optional(ScrapeConfigBody),
    slurm: Type.Optional(SlurmTargetBody),
    via_proxy: Type.Optional(Type.Boolean({ description: 'Slurm form only: Prometheus scrapes benchmon\'s /metrics/{target_type}/{job_id} proxy instead of the nodes' })),
  },
  { additionalProperties: false, description: 'Exactly one of scrape_config (host:port targets) and slurm (a job id and a port)' },
);
export type RegisterTargetBody = Static<typeof RegisterTargetBody>;

export interface Session {
  session_id: string;
  labels: Record<string, string>;
  scrape_interval: string | null;
  created_at: string;
}

/** One node of a Slurm target: its Slurm name (the `node` label) and where it is scraped. */
export interface SlurmNodeEndpoint { node: string; endpoint: string }

/** What benchmon knows about the Slurm job behind a target, kept current by the job tracker. */
export interface SlurmTargetInfo {
  job_id: string;
  port: number;
  /** The job state last seen (PENDING, RUNNING, CANCELLED, …). */
  state: string | null;
  /** pending, running, ending or ended (derived from state). */
  phase: SlurmJobPhase;
  /** Why it is pending or how it ended (BeginTime, NonZeroExitCode, …). */
  reason: string | null;
  /** The nodes it runs (or last ran) on; empty while pending. */
  nodes: SlurmNodeEndpoint[];
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
  /** host:port endpoints scraped now; for a Slurm target only while its job runs. */
  endpoints: string[];
  created_at: string;
  /** Set for targets registered by Slurm job id. */
  slurm?: SlurmTargetInfo | null;
  /** Prometheus scrapes benchmon's /metrics/{target_type}/{slurm job id} proxy instead of the nodes. */
  via_proxy?: boolean;
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
  /** `ended`: a Slurm target whose job has ended (slurm.state says how). */
  health: 'up' | 'down' | 'unknown' | 'pending' | 'partial' | 'ended';
  endpoints_health: EndpointHealth[];
}
