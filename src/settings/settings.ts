/**
 * Settings: environment → defaults → strict validation → frozen object. One place reads
 * process.env; everything else receives a Settings value. A bad value stops start-up with a
 * message naming the variable.
 */
import path from 'node:path';
import { Type, type Static } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { parseDuration, DURATION_PATTERN } from '../prometheus/duration.js';

const Duration = Type.String({ pattern: DURATION_PATTERN, minLength: 1 });
/** sbatch --time: minutes, M:S, H:M:S, D-H, D-H:M, D-H:M:S. */
const SLURM_TIME_PATTERN = '^[0-9]+(-[0-9]+)?(:[0-9]+){0,2}$';

export const SettingsSchema = Type.Object(
  {
    DEPLOYMENT_MODE: Type.Union([Type.Literal('local'), Type.Literal('docker'), Type.Literal('slurm')]),
    PROMETHEUS_MODE: Type.Union([Type.Literal('local'), Type.Literal('external'), Type.Literal('slurm')]),
    PROMETHEUS_URL: Type.String({ minLength: 1 }),
    PROMETHEUS_CONFIG_PATH: Type.String({ minLength: 1 }),
    PROMETHEUS_BIN: Type.String({ minLength: 1 }),
    PROMTOOL_BIN: Type.String({ minLength: 1 }),
    PROMETHEUS_RETENTION: Duration,
    PROMETHEUS_TIMEOUT: Duration,
    PROMETHEUS_EXTRA_SCRAPE_CONFIGS: Type.Optional(Type.String({ minLength: 1 })),
    PROMETHEUS_FILE_SD_REFRESH: Duration,
    SERVER_API_URL: Type.String({ minLength: 1 }),
    DEFAULT_SCRAPE_INTERVAL: Duration,
    DEFAULT_SCRAPE_TIMEOUT: Duration,
    BENCHMON_HOST: Type.String({ minLength: 1 }),
    BENCHMON_PORT: Type.Integer({ minimum: 0, maximum: 65535 }),
    BENCHMON_STATE_DIR: Type.String({ minLength: 1 }),
    ARTIFACTS_ROOT: Type.String({ minLength: 1 }),
    BENCHMON_API_TOKEN: Type.Optional(Type.String({ minLength: 8 })),
    LOG_LEVEL: Type.Union(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].map((l) => Type.Literal(l))),
    // Slurm: where the commands are, how long each may take, how often tracked jobs are polled.
    SLURM_BIN_DIR: Type.Optional(Type.String({ minLength: 1 })),
    SLURM_COMMAND_PREFIX: Type.Optional(Type.String({ minLength: 1 })),
    SLURM_COMMAND_TIMEOUT: Duration,
    SLURM_POLL_INTERVAL: Duration,
    SLURM_ADDRESS_SOURCE: Type.Union([Type.Literal('node-addr'), Type.Literal('node-name')]),
    SLURM_NODE_EXPORTER_BIN: Type.String({ minLength: 1 }),
    SLURM_DCGM_EXPORTER_BIN: Type.String({ minLength: 1 }),
    // PROMETHEUS_MODE=slurm: how the Prometheus job is submitted.
    SLURM_PROMETHEUS_PARTITION: Type.Optional(Type.String({ minLength: 1 })),
    SLURM_PROMETHEUS_TIME_LIMIT: Type.Optional(Type.String({ pattern: SLURM_TIME_PATTERN, minLength: 1 })),
    SLURM_PROMETHEUS_SBATCH_ARGS: Type.Optional(Type.String({ minLength: 1 })),
    SLURM_PROMETHEUS_START_TIMEOUT: Duration,
    SLURM_PROMETHEUS_MAX_RESUBMITS: Type.Integer({ minimum: 0, maximum: 100 }),
    // GET /metrics/{service}/{job_id}: how long the upstream may take.
    PROXY_TIMEOUT: Duration,
  },
  { additionalProperties: false },
);

export type Settings = Readonly<Static<typeof SettingsSchema>>;

export class SettingsError extends Error {
  constructor(readonly variable: string, message: string) {
    super(`invalid setting ${variable}: ${message}`);
    this.name = 'SettingsError';
  }
}

type Env = Record<string, string | undefined>;

function optionalText(env: Env, name: string): string | undefined {
  const v = env[name];
  return v === undefined || v.trim() === '' ? undefined : v.trim();
}

function integer(env: Env, name: string, fallback: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  if (!/^\d+$/.test(raw)) throw new SettingsError(name, `expected a whole number, got ${JSON.stringify(raw)}`);
  return Number(raw);
}

function url(name: string, raw: string): URL {
  let parsed: URL;
  try {
    parsed = new URL(raw);
  } catch {
    throw new SettingsError(name, `not a URL: ${JSON.stringify(raw)}`);
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    throw new SettingsError(name, `expected an http:// or https:// URL, got ${JSON.stringify(raw)}`);
  }
  return parsed;
}

interface SchemaNode { anyOf?: Array<{ const?: unknown }>; pattern?: string; minLength?: number }

/** A message a user can act on: the allowed values or the expected form, never a regular expression. */
function schemaErrorText(variable: string, schema: SchemaNode, fallback: string, value: unknown): string {
  // The token is a secret: say what is wrong with it without printing it into logs.
  if (variable === 'BENCHMON_API_TOKEN') return `must be at least ${schema.minLength ?? 8} characters (got ${String(value).length})`;
  const got = `(got ${JSON.stringify(value)})`;
  const choices = schema.anyOf?.map((s) => s.const).filter((c): c is string => typeof c === 'string');
  if (choices && choices.length > 0) return `expected one of ${choices.join(', ')} ${got}`;
  if (schema.pattern === DURATION_PATTERN) return `not a Prometheus duration such as 15s, 1m or 500ms ${got}`;
  if (schema.pattern === SLURM_TIME_PATTERN) return `not a Slurm time limit such as 60 (minutes), 4:00:00 or 1-00:00:00 ${got}`;
  return `${fallback} ${got}`;
}

/** Read settings from an environment (process.env by default). Throws SettingsError naming the variable. */
export function loadSettings(env: Env = process.env, cwd: string = process.cwd()): Settings {
  const text = (name: string, fallback: string): string => {
    const v = env[name];
    return v === undefined || v === '' ? fallback : v;
  };
  const port = integer(env, 'BENCHMON_PORT', 8002);
  const stateDir = path.resolve(cwd, text('BENCHMON_STATE_DIR', '.state'));
  const mode = text('PROMETHEUS_MODE', 'local');
  const raw = {
    DEPLOYMENT_MODE: text('DEPLOYMENT_MODE', 'local'),
    PROMETHEUS_MODE: mode,
    PROMETHEUS_URL: text('PROMETHEUS_URL', 'http://127.0.0.1:9090').replace(/\/+$/, ''),
    PROMETHEUS_CONFIG_PATH: path.resolve(cwd, text('PROMETHEUS_CONFIG_PATH', path.join(stateDir, 'prometheus', 'prometheus.yml'))),
    PROMETHEUS_BIN: text('PROMETHEUS_BIN', 'prometheus'),
    PROMTOOL_BIN: text('PROMTOOL_BIN', 'promtool'),
    PROMETHEUS_RETENTION: text('PROMETHEUS_RETENTION', '15d'),
    PROMETHEUS_TIMEOUT: text('PROMETHEUS_TIMEOUT', '10s'),
    PROMETHEUS_EXTRA_SCRAPE_CONFIGS: env.PROMETHEUS_EXTRA_SCRAPE_CONFIGS ? path.resolve(cwd, env.PROMETHEUS_EXTRA_SCRAPE_CONFIGS) : undefined,
    PROMETHEUS_FILE_SD_REFRESH: text('PROMETHEUS_FILE_SD_REFRESH', '5m'),
    SERVER_API_URL: text('SERVER_API_URL', `http://127.0.0.1:${port}`).replace(/\/+$/, ''),
    DEFAULT_SCRAPE_INTERVAL: text('DEFAULT_SCRAPE_INTERVAL', '15s'),
    DEFAULT_SCRAPE_TIMEOUT: text('DEFAULT_SCRAPE_TIMEOUT', '10s'),
    BENCHMON_HOST: text('BENCHMON_HOST', '0.0.0.0'),
    BENCHMON_PORT: port,
    BENCHMON_STATE_DIR: stateDir,
    ARTIFACTS_ROOT: path.resolve(cwd, text('ARTIFACTS_ROOT', 'artifacts')),
    BENCHMON_API_TOKEN: env.BENCHMON_API_TOKEN === '' ? undefined : env.BENCHMON_API_TOKEN,
    LOG_LEVEL: text('LOG_LEVEL', 'info'),
    SLURM_BIN_DIR: optionalText(env, 'SLURM_BIN_DIR'),
    SLURM_COMMAND_PREFIX: optionalText(env, 'SLURM_COMMAND_PREFIX'),
    SLURM_COMMAND_TIMEOUT: text('SLURM_COMMAND_TIMEOUT', '30s'),
    SLURM_POLL_INTERVAL: text('SLURM_POLL_INTERVAL', '2s'),
    SLURM_ADDRESS_SOURCE: text('SLURM_ADDRESS_SOURCE', 'node-addr'),
    SLURM_NODE_EXPORTER_BIN: text('SLURM_NODE_EXPORTER_BIN', 'prometheus-node-exporter'),
    SLURM_DCGM_EXPORTER_BIN: text('SLURM_DCGM_EXPORTER_BIN', 'dcgm-exporter'),
    SLURM_PROMETHEUS_PARTITION: optionalText(env, 'SLURM_PROMETHEUS_PARTITION'),
    SLURM_PROMETHEUS_TIME_LIMIT: optionalText(env, 'SLURM_PROMETHEUS_TIME_LIMIT'),
    SLURM_PROMETHEUS_SBATCH_ARGS: optionalText(env, 'SLURM_PROMETHEUS_SBATCH_ARGS'),
    SLURM_PROMETHEUS_START_TIMEOUT: text('SLURM_PROMETHEUS_START_TIMEOUT', '120s'),
    SLURM_PROMETHEUS_MAX_RESUBMITS: integer(env, 'SLURM_PROMETHEUS_MAX_RESUBMITS', 3),
    PROXY_TIMEOUT: text('PROXY_TIMEOUT', '10s'),
  };
  if (raw.PROMETHEUS_EXTRA_SCRAPE_CONFIGS === undefined) delete raw.PROMETHEUS_EXTRA_SCRAPE_CONFIGS;
  if (raw.BENCHMON_API_TOKEN === undefined) delete raw.BENCHMON_API_TOKEN;
  for (const name of ['SLURM_BIN_DIR', 'SLURM_COMMAND_PREFIX', 'SLURM_PROMETHEUS_PARTITION', 'SLURM_PROMETHEUS_TIME_LIMIT', 'SLURM_PROMETHEUS_SBATCH_ARGS'] as const) {
    if (raw[name] === undefined) delete raw[name];
  }
  const firstError = Value.Errors(SettingsSchema, raw).First();
  if (firstError) {
    const variable = firstError.path.replace(/^\//, '') || 'environment';
    throw new SettingsError(variable, schemaErrorText(variable, firstError.schema as SchemaNode, firstError.message, (raw as Record<string, unknown>)[variable]));
  }
  url('PROMETHEUS_URL', raw.PROMETHEUS_URL);
  url('SERVER_API_URL', raw.SERVER_API_URL);
  for (const name of [
    'DEFAULT_SCRAPE_INTERVAL', 'DEFAULT_SCRAPE_TIMEOUT', 'PROMETHEUS_TIMEOUT', 'PROMETHEUS_RETENTION', 'PROMETHEUS_FILE_SD_REFRESH',
    'SLURM_COMMAND_TIMEOUT', 'SLURM_POLL_INTERVAL', 'SLURM_PROMETHEUS_START_TIMEOUT', 'PROXY_TIMEOUT',
  ] as const) {
    if (parseDuration(raw[name]) === undefined) throw new SettingsError(name, `not a positive Prometheus duration: ${JSON.stringify(raw[name])}`);
  }
  if (parseDuration(raw.DEFAULT_SCRAPE_TIMEOUT)! > parseDuration(raw.DEFAULT_SCRAPE_INTERVAL)!) {
    throw new SettingsError('DEFAULT_SCRAPE_TIMEOUT', `${raw.DEFAULT_SCRAPE_TIMEOUT} is longer than DEFAULT_SCRAPE_INTERVAL ${raw.DEFAULT_SCRAPE_INTERVAL}`);
  }
  if (raw.PROMETHEUS_MODE === 'external' && env.PROMETHEUS_CONFIG_PATH === undefined) {
    throw new SettingsError('PROMETHEUS_CONFIG_PATH', 'required when PROMETHEUS_MODE=external (the prometheus.yml that Prometheus reads)');
  }
  return Object.freeze(raw as Static<typeof SettingsSchema>);
}

/** host and port the local Prometheus listens on, taken from PROMETHEUS_URL. */
export function prometheusListenAddress(settings: Settings): { host: string; port: number } {
  const u = new URL(settings.PROMETHEUS_URL);
  const port = u.port === '' ? (u.protocol === 'https:' ? 443 : 80) : Number(u.port);
  return { host: u.hostname.replace(/^\[|\]$/g, ''), port };
}
