// The public surface for programs that use benchmon as a library.
export { BenchmonClient, BenchmonApiError, type ClientOptions } from './client/api-client.js';
export type { CreateSessionBody, RegisterTargetBody, Session, Target, TargetWithHealth, EndpointHealth, Role } from './sessions/model.js';
export type { SessionStatus, WaitResult, PrometheusHealth } from './sessions/monitoring-service.js';
export type { SlurmTargetBody, SlurmTargetInfo, SlurmNodeEndpoint } from './sessions/model.js';
export type { ExporterView } from './slurm/exporter-manager.js';
export type { StartExporterBody, ExporterKind } from './slurm/exporters.js';
export { startBenchmon, type RunningBenchmon } from './server.js';
export { loadSettings, type Settings } from './settings/settings.js';
