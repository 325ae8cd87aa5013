/**
 * Exporters benchmon can start inside a Slurm job, one table entry per kind: the binary (from a
 * setting), its arguments for a port, the port it listens on by default, and the target_type its
 * target gets. A new kind (say, a cgroup exporter) is one more entry.
 */
import { Type, type Static } from '@sinclair/typebox';
import { SLURM_JOB_ID_PATTERN } from './model.js';

export interface ExporterLauncher {
  /** target_type of the exporter's target, and the service name in the proxy path. */
  targetType: string;
  defaultPort: number;
  metricsPath: string;
  /** The command line that serves on `port`, given the binary. */
  argv(bin: string, port: number): string[];
  description: string;
}

export const EXPORTER_LAUNCHERS = {
  node: {
    targetType: 'node_exporter',
    defaultPort: 9100,
    metricsPath: '/metrics',
    argv: (bin: string, port: number) => [bin, `--web.listen-address=:${port}`],
    description: 'prometheus-node-exporter (SLURM_NODE_EXPORTER_BIN) on every node of the job',
  },
  dcgm: {
    targetType: 'dcgm_exporter',
    defaultPort: 9400,
    metricsPath: '/metrics',
    // dcgm-exporter's -a/--address takes ":PORT" (default :9400).
    argv: (bin: string, port: number) => [bin, '--address', `:${port}`],
    description: 'NVIDIA dcgm-exporter (SLURM_DCGM_EXPORTER_BIN) on every node of the job, for GPU metrics',
  },
} as const satisfies Record<string, ExporterLauncher>;

export type ExporterKind = keyof typeof EXPORTER_LAUNCHERS;
export const EXPORTER_KINDS = Object.keys(EXPORTER_LAUNCHERS) as ExporterKind[];

export function isExporterKind(kind: string): kind is ExporterKind {
  return Object.hasOwn(EXPORTER_LAUNCHERS, kind);
}

export const StartExporterBody = Type.Object(
  {
    // An enum (not a union of literals) so that a wrong kind is one clear error naming `kind`.
    kind: Type.Unsafe<ExporterKind>({ type: 'string', enum: EXPORTER_KINDS, description: `What to start: ${EXPORTER_KINDS.join(', ')}` }),
    slurm_job_id: Type.String({ pattern: SLURM_JOB_ID_PATTERN, description: 'The running Slurm job whose nodes get the exporter' }),
    port: Type.Optional(Type.Integer({ minimum: 1, maximum: 65535, description: 'Port the exporter listens on (default: the kind\'s usual port, 9100 for node)' })),
    via_proxy: Type.Optional(Type.Boolean({ description: "Prometheus scrapes it through benchmon's /metrics/{target_type}/{job_id} proxy" })),
  },
  { additionalProperties: false },
);
export type StartExporterBody = Static<typeof StartExporterBody>;
