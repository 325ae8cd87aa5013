/**
 * MonitoringService: the facade the API and CLI talk to. It owns the store, the registry, the
 * Prometheus client, the config applier and the runtime, and knows the order of things:
 * a session change that alters prometheus.yml goes through the apply protocol; a target change
 * is a file_sd write.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import type { Logger } from 'pino';
import YAML from 'yaml';
import { BenchmonError, describeError } from '../errors.js';
import { PrometheusClient, type QueryResult, type TargetsResult, type TimeArg } from '../prometheus/client.js';
import { ConfigApplier } from '../prometheus/config/apply.js';
import { FileSdWriter } from '../prometheus/config/file-sd-writer.js';
import { buildPrometheusConfig, renderPrometheusYaml } from '../prometheus/config/render.js';
import { parseDuration } from '../prometheus/duration.js';
import { ExternalRuntime } from '../prometheus/runtime/external.js';
import { runCollection, type CollectRequestBody, type CollectionSummary } from '../collect/run-collection.js';
import type { CollectProgress } from '../collect/collector.js';
import { endedPhase, newPhase, phaseNotFound, type EndPhaseBody, type MarkPhaseBody, type Phase } from '../collect/phases.js';
import { readCollectionManifest } from '../artifacts/read-collection.js';
import type { Manifest } from '../artifacts/manifest.js';
import { configChecksum } from '../prometheus/config/render.js';
import { LocalRuntime } from '../prometheus/runtime/local.js';
import { SlurmRuntime } from '../prometheus/runtime/slurm.js';
import { proxyAddressOf } from '../prometheus/config/render.js';
import { MetricsProxy, type ProxyResponse } from '../proxy/metrics-proxy.js';
import { parseCommandPrefix } from '../slurm/command-runner.js';
import { SlurmCommands } from '../slurm/commands.js';
import { ExporterManager, type ExporterView } from '../slurm/exporter-manager.js';
import type { StartExporterBody } from '../slurm/exporters.js';
import { SlurmJobResolver } from '../slurm/job-resolver.js';
import { SlurmJobTracker, SlurmTargets } from '../slurm/slurm-targets.js';
import type { PrometheusRuntime, RuntimeStatus } from '../prometheus/runtime/runtime.js';
import { prometheusListenAddress, type Settings } from '../settings/settings.js';
import { StateStore } from '../store/state-store.js';
import type { SelfMetrics } from '../api/self-metrics.js';
import type { CreateSessionBody, RegisterTargetBody, Session, Target, TargetWithHealth } from './model.js';
import { Registry } from './registry.js';
import { TargetHealth } from './target-health.js';
import { UpWatch } from './up-watch.js';
import { readCollectionView, tryWriteReport, writeReport, type ReportOutcome } from '../web/report.js';
import type { TimeseriesJson } from '../web/timeseries-json.js';
import { compareById, type CompareRequest, type CompareResult } from '../compare/run-compare.js';

export interface SessionStatus {
  session: Session;
  targets: TargetWithHealth[];
  health_error: string | null;
  collections: CollectionSummary[];
  artifact_paths: string[];
}

/** Per-query timeout for collections: a long window's histogram queries can take far longer than an API call. */
const COLLECT_TIMEOUT_MS = 120_000;

export interface WaitResult { satisfied: boolean; waited_ms: number; pending: string[] }

export interface PrometheusHealth {
  url: string;
  healthy: boolean;
  ready: boolean;
  version: string | null;
  last_reload_ok: boolean | null;
  last_reload_error: string | null;
  runtime: RuntimeStatus;
}

export class MonitoringService {
  readonly store: StateStore;
  readonly client: PrometheusClient;
  readonly registry: Registry;
  readonly fileSd: FileSdWriter;
  readonly applier: ConfigApplier;
  readonly runtime: PrometheusRuntime;
  /** Slurm: commands, job → endpoints, registration by job id, the job tracker, exporters in jobs, the metrics proxy. */
  readonly slurm: SlurmCommands;
  readonly slurmResolver: SlurmJobResolver;
  readonly slurmTargets: SlurmTargets;
  readonly slurmTracker: SlurmJobTracker;
  readonly exporters: ExporterManager;
  readonly metricsProxy: MetricsProxy;
  private readonly health: TargetHealth;
  private readonly upWatch: UpWatch;
  private exportersResumed: Promise<void> = Promise.resolve();
  private readonly configDir: string;

  constructor(readonly settings: Settings, readonly metrics: SelfMetrics, private readonly logger: Logger) {
    this.store = new StateStore(path.join(settings.BENCHMON_STATE_DIR, 'benchmon.sqlite'));
    this.client = new PrometheusClient(settings.PROMETHEUS_URL, parseDuration(settings.PROMETHEUS_TIMEOUT)!);
    this.configDir = path.dirname(settings.PROMETHEUS_CONFIG_PATH);
    this.fileSd = new FileSdWriter(this.configDir, this.store, { proxy: proxyAddressOf(settings.SERVER_API_URL) });
    this.registry = new Registry(this.store, this.fileSd, { scrapeInterval: settings.DEFAULT_SCRAPE_INTERVAL, scrapeTimeout: settings.DEFAULT_SCRAPE_TIMEOUT });
    this.slurm = new SlurmCommands({
      ...(settings.SLURM_BIN_DIR ? { binDir: settings.SLURM_BIN_DIR } : {}),
      prefix: parseCommandPrefix(settings.SLURM_COMMAND_PREFIX),
      timeoutMs: parseDuration(settings.SLURM_COMMAND_TIMEOUT)!,
    });
    this.slurmResolver = new SlurmJobResolver(this.slurm, { addressSource: settings.SLURM_ADDRESS_SOURCE });
    this.slurmTargets = new SlurmTargets(this.registry, this.store, this.slurmResolver);
    this.exporters = new ExporterManager({
      store: this.store,
      slurm: this.slurm,
      bins: { node: settings.SLURM_NODE_EXPORTER_BIN, dcgm: settings.SLURM_DCGM_EXPORTER_BIN },
      registerTarget: async (sessionId, body) => (await this.registerTarget(sessionId, body)).target,
      deregisterTarget: (sessionId, targetId) => this.deregisterTarget(sessionId, targetId),
      getSession: (sessionId) => this.registry.getSession(sessionId),
      logger,
    });
    this.slurmTracker = new SlurmJobTracker({
      store: this.store,
      fileSd: this.fileSd,
      slurm: this.slurm,
      resolver: this.slurmResolver,
      intervalMs: parseDuration(settings.SLURM_POLL_INTERVAL)!,
      logger,
      onJobEnded: (jobId, state) => this.exporters.onJobEnded(jobId, state),
    });
    this.metricsProxy = new MetricsProxy(this.store, parseDuration(settings.PROXY_TIMEOUT)!);
    this.health = new TargetHealth(this.client);
    this.upWatch = new UpWatch(this.client);
    this.applier = new ConfigApplier({
      configPath: settings.PROMETHEUS_CONFIG_PATH,
      promtoolBin: settings.PROMTOOL_BIN,
      client: this.client,
      render: () => this.renderConfig(),
      revisions: this.store,
      counters: { reloads: () => metrics.reloads.inc(), reloadFailures: () => metrics.reloadFailures.inc(), rollbacks: () => metrics.rollbacks.inc() },
      logger,
    });
    if (settings.PROMETHEUS_MODE === 'local') {
      const listen = prometheusListenAddress(settings);
      this.runtime = new LocalRuntime({
        bin: settings.PROMETHEUS_BIN,
        configPath: settings.PROMETHEUS_CONFIG_PATH,
        dataDir: path.join(settings.BENCHMON_STATE_DIR, 'prometheus', 'data'),
        listenHost: listen.host,
        listenPort: listen.port,
        retention: settings.PROMETHEUS_RETENTION,
        client: this.client,
        logger,
        onRestart: () => metrics.prometheusRestarts.inc(),
      });
    } else if (settings.PROMETHEUS_MODE === 'slurm') {
      this.runtime = new SlurmRuntime({
        slurm: this.slurm,
        resolver: this.slurmResolver,
        client: this.client,
        bin: settings.PROMETHEUS_BIN,
        configPath: settings.PROMETHEUS_CONFIG_PATH,
        dataDir: path.join(settings.BENCHMON_STATE_DIR, 'prometheus', 'data'),
        listenPort: prometheusListenAddress(settings).port,
        retention: settings.PROMETHEUS_RETENTION,
        partition: settings.SLURM_PROMETHEUS_PARTITION,
        timeLimit: settings.SLURM_PROMETHEUS_TIME_LIMIT,
        extraSbatchArgs: parseCommandPrefix(settings.SLURM_PROMETHEUS_SBATCH_ARGS),
        startTimeoutMs: parseDuration(settings.SLURM_PROMETHEUS_START_TIMEOUT)!,
        maxResubmits: settings.SLURM_PROMETHEUS_MAX_RESUBMITS,
        pollIntervalMs: Math.max(1000, parseDuration(settings.SLURM_POLL_INTERVAL)!),
        logger,
        onRestart: () => metrics.prometheusRestarts.inc(),
      });
    } else {
      this.runtime = new ExternalRuntime(this.client);
    }
  }

  private async renderConfig(): Promise<string> {
    let extra: Array<Record<string, unknown>> = [];
    const extraPath = this.settings.PROMETHEUS_EXTRA_SCRAPE_CONFIGS;
    if (extraPath) {
      let parsed: unknown;
      try {
        parsed = YAML.parse(await fs.readFile(extraPath, 'utf8'));
      } catch (err) {
        throw new BenchmonError('PROM_CONFIG_INVALID', `PROMETHEUS_EXTRA_SCRAPE_CONFIGS ${extraPath}: ${describeError(err)}`);
      }
      if (!Array.isArray(parsed) || parsed.some((j) => j === null || typeof j !== 'object' || Array.isArray(j))) {
        throw new BenchmonError('PROM_CONFIG_INVALID', `PROMETHEUS_EXTRA_SCRAPE_CONFIGS ${extraPath}: expected a YAML list of scrape configs`);
      }
      extra = parsed as Array<Record<string, unknown>>;
    }
    return renderPrometheusYaml(
      buildPrometheusConfig({
        sessions: this.store.listSessions(),
        defaultScrapeInterval: this.settings.DEFAULT_SCRAPE_INTERVAL,
        defaultScrapeTimeout: this.settings.DEFAULT_SCRAPE_TIMEOUT,
        serverApiUrl: this.settings.SERVER_API_URL,
        fileSdRefreshInterval: this.settings.PROMETHEUS_FILE_SD_REFRESH,
        extraScrapeConfigs: extra,
      }),
    );
  }

  /** Re-create every file from the store, start Prometheus, and make sure it runs the current config. */
  async start(): Promise<void> {
    await fs.mkdir(this.configDir, { recursive: true });
    await fs.mkdir(this.settings.ARTIFACTS_ROOT, { recursive: true });
    const sessions = this.store.listSessions();
    await this.fileSd.pruneSessions(new Set(sessions.map((s) => s.session_id)));
    for (const s of sessions) await this.fileSd.rewriteSession(s.session_id);
    await this.applier.writeInitial();
    await this.runtime.start();
    // An external Prometheus (or one adopted after a crash) may run an older config.
    await this.applier.request(true);
    this.refreshGauges();
    this.slurmTracker.start();
    this.exportersResumed = this.exporters.resume().catch((err: unknown) => this.logger.warn({ err: describeError(err) }, 'exporter resume failed'));
  }

  async stop(): Promise<void> {
    await this.slurmTracker.stop();
    await this.exportersResumed;
    await this.exporters.shutdown();
    await this.runtime.stop();
    this.store.close();
  }

  private refreshGauges(): void {
    const sessions = this.store.listSessions();
    this.metrics.sessions.set(sessions.length);
    this.metrics.targets.set(sessions.reduce((n, s) => n + this.store.countTargets(s.session_id), 0));
  }

  listSessions(): Array<Session & { target_count: number }> {
    return this.registry.listSessions().map((s) => ({ ...s, target_count: this.store.countTargets(s.session_id) }));
  }

  /** Creates the session and applies the config that scrapes it; undone when Prometheus rejects it. */
  async createSession(body: CreateSessionBody): Promise<Session> {
    const session = await this.registry.createSession(body);
    try {
      await this.applier.request();
    } catch (err) {
      await this.registry.deleteSession(session.session_id).catch(() => undefined);
      throw err;
    }
    this.refreshGauges();
    return session;
  }

  async deleteSession(id: string): Promise<{ session_id: string; targets_removed: number }> {
    this.registry.getSession(id);
    const removed = this.store.countTargets(id);
    await this.exporters.stopSession(id);
    await this.registry.deleteSession(id);
    this.refreshGauges();
    await this.applier.request();
    return { session_id: id, targets_removed: removed };
  }

  async sessionStatus(id: string): Promise<SessionStatus> {
    const session = this.registry.getSession(id);
    const { targets, error } = await this.targetsWithHealth(id);
    const collections = this.store.listCollections<CollectionSummary>(id);
    return { session, targets, health_error: error, collections, artifact_paths: collections.map((c) => c.directory) };
  }

  /** Marks a phase of the session (warmup, steady, …): start default now; open until ended unless end_time is given. */
  markPhase(sessionId: string, body: MarkPhaseBody): Phase {
    this.registry.getSession(sessionId);
    const phase = newPhase(sessionId, body, new Date());
    if (!this.store.insertPhase(phase)) {
      throw new BenchmonError('PHASE_EXISTS', `name: session ${JSON.stringify(sessionId)} already has a phase ${JSON.stringify(phase.name)}`, { details: { field: 'name', phase: phase.name } });
    }
    return phase;
  }

  /** Ends an open phase (end default now). */
  endPhase(sessionId: string, name: string, body: EndPhaseBody): Phase {
    const ended = endedPhase(this.getPhase(sessionId, name), body, new Date());
    this.store.endPhase(sessionId, name, ended.end_time!);
    return ended;
  }

  getPhase(sessionId: string, name: string): Phase {
    this.registry.getSession(sessionId);
    const phase = this.store.getPhase(sessionId, name);
    if (!phase) throw phaseNotFound('name', sessionId, name);
    return phase;
  }

  listPhases(sessionId: string): Phase[] {
    this.registry.getSession(sessionId);
    return this.store.listPhases(sessionId);
  }

  deletePhase(sessionId: string, name: string): Phase {
    const phase = this.getPhase(sessionId, name);
    this.store.deletePhase(sessionId, name);
    return phase;
  }

  /**
   * Collect a window of the session: KPIs, data quality and artifacts (DESIGN §5). Queries on a
   * long window can take long, so this uses a client with a longer timeout than the API calls.
   */
  async collect(sessionId: string, body: CollectRequestBody, onProgress?: (p: CollectProgress) => void): Promise<CollectionSummary & ReportOutcome> {
    const session = this.registry.getSession(sessionId);
    const config = await fs.readFile(this.settings.PROMETHEUS_CONFIG_PATH, 'utf8').catch(() => undefined);
    const { summary } = await runCollection(new PrometheusClient(this.client.baseUrl, COLLECT_TIMEOUT_MS), {
      sessionId,
      body,
      scrapeIntervalMs: parseDuration(session.scrape_interval ?? this.settings.DEFAULT_SCRAPE_INTERVAL)!,
      artifactsRoot: this.settings.ARTIFACTS_ROOT,
      sessionLabels: session.labels,
      targets: this.store.listTargets(sessionId) as unknown as Array<Record<string, unknown>>,
      prometheusConfigSha256: config === undefined ? null : configChecksum(config),
      phases: this.store.listPhases(sessionId),
      onProgress,
    });
    this.store.insertCollection({
      id: summary.collection_id,
      session_id: sessionId,
      start_time: summary.window.start,
      end_time: summary.window.end,
      step: summary.window.step,
      recipe: summary.recipe,
      output_dir: summary.directory,
      summary,
    });
    // report.html is a view of the committed data: failing to write it never fails the collection (report_error says why).
    return { ...summary, ...(await tryWriteReport(summary.directory, this.logger)) };
  }

  /** Past collections of a session, each with its manifest read back (and checked) from disk. Artifacts outlive the session. */
  async listCollections(sessionId: string): Promise<Array<CollectionSummary & { manifest_content: unknown; manifest_error: string | null }>> {
    const rows = this.store.listCollections<CollectionSummary>(sessionId);
    if (rows.length === 0) this.registry.getSession(sessionId);
    return Promise.all(
      rows.map(async (c) => {
        try {
          return { ...c, manifest_content: await readCollectionManifest(c.directory), manifest_error: null };
        } catch (err) {
          return { ...c, manifest_content: null, manifest_error: describeError(err) };
        }
      }),
    );
  }

  /** One collection by id, with its manifest read back (and checked) from disk. */
  async getCollection(collectionId: string): Promise<CollectionSummary & { manifest_content: Manifest }> {
    const c = this.store.getCollection<CollectionSummary>(collectionId);
    if (c === undefined) throw new BenchmonError('COLLECTION_NOT_FOUND', `no collection ${collectionId}`, { details: { collection_id: collectionId } });
    return { ...c, manifest_content: await readCollectionManifest(c.directory) };
  }

  /** A collection's time series for plots (src/web/timeseries-json.ts), read from its timeseries.csv. */
  async collectionTimeseries(collectionId: string): Promise<TimeseriesJson> {
    return (await readCollectionView(this.collectionDir(collectionId), collectionId)).timeseries;
  }

  /** (Re-)creates a collection's report.html from its files; answers where it is. */
  async writeCollectionReport(collectionId: string): Promise<{ collection_id: string; path: string }> {
    return { collection_id: collectionId, path: await writeReport(this.collectionDir(collectionId), { expectedId: collectionId }) };
  }

  private collectionDir(collectionId: string): string {
    const c = this.store.getCollection<CollectionSummary>(collectionId);
    if (c === undefined) throw new BenchmonError('COLLECTION_NOT_FOUND', `no collection ${collectionId}`, { details: { collection_id: collectionId } });
    return c.directory;
  }

  /** Run-to-run comparison of collections by id, with an optional gate (src/compare). */
  async compare(request: CompareRequest): Promise<CompareResult> {
    return compareById(request, async (id) => {
      const c = await this.getCollection(id);
      return { manifest: c.manifest_content, source: c.directory };
    });
  }

  async targetsWithHealth(sessionId: string): Promise<{ targets: TargetWithHealth[]; error: string | null }> {
    const targets = this.registry.listTargets(sessionId);
    try {
      const index = TargetHealth.index(await this.health.activeTargets(sessionId));
      return { targets: targets.map((t) => TargetHealth.withHealth(t, index)), error: null };
    } catch (err) {
      const unknown = (t: Target): TargetWithHealth => ({
        ...t,
        health: 'unknown',
        endpoints_health: t.endpoints.map((endpoint) => ({ endpoint, health: 'unknown', last_scrape: null, last_scrape_duration_seconds: null, last_error: null, scrape_url: null })),
      });
      return { targets: targets.map(unknown), error: describeError(err) };
    }
  }

  async registerTarget(sessionId: string, body: RegisterTargetBody, wait?: { up: boolean; timeoutMs: number }): Promise<{ target: TargetWithHealth; wait: WaitResult | null }> {
    const target = Registry.registrationForm(body) === 'slurm' ? await this.slurmTargets.register(sessionId, body) : await this.registry.registerTarget(sessionId, body);
    if (target.slurm && target.slurm.phase !== 'running') this.slurmTracker.nudge();
    this.metrics.registrations.inc();
    this.metrics.targets.inc();
    if (!wait?.up) return { target: { ...target, health: target.slurm?.phase === 'ended' ? 'ended' : 'pending', endpoints_health: [] }, wait: null };
    return this.waitUntilUp(target, wait.timeoutMs);
  }

  /** Polls Prometheus until every endpoint of the target reports up, or the timeout passes. */
  private async waitUntilUp(target: Target, timeoutMs: number): Promise<{ target: TargetWithHealth; wait: WaitResult }> {
    const started = Date.now();
    let last: TargetWithHealth = { ...target, health: 'pending', endpoints_health: [] };
    for (;;) {
      // A Slurm target changes while waiting: a PENDING job gets its endpoints when it starts.
      const current = target.slurm ? this.store.getTarget(target.session_id, target.target_id) ?? target : target;
      try {
        last = TargetHealth.withUpStates(current, await this.upWatch.next(target.session_id, current.job_name));
      } catch (err) {
        last = { ...current, health: 'pending', endpoints_health: [] };
        this.logger.warn({ err: describeError(err) }, 'could not read target health while waiting for up');
      }
      const slurmWaiting = current.slurm && current.endpoints.length === 0 ? [`slurm job ${current.slurm.job_id} ${current.slurm.state ?? 'state unknown'}`] : null;
      const pending = slurmWaiting ?? (last.endpoints_health.length === 0 ? current.endpoints : last.endpoints_health.filter((e) => e.health !== 'up').map((e) => e.endpoint));
      const waited = Date.now() - started;
      const ended = current.slurm?.phase === 'ended';
      if (pending.length === 0 || ended) return { target: last, wait: { satisfied: pending.length === 0, waited_ms: waited, pending } };
      if (waited >= timeoutMs) {
        // Timed out: one look at Prometheus's targets API says why (last_error) — worth its cost once.
        const why = await this.health.activeTargets(target.session_id).then((a) => TargetHealth.withHealth(current, TargetHealth.index(a)), () => last);
        return { target: why, wait: { satisfied: false, waited_ms: waited, pending } };
      }
      await new Promise((r) => setTimeout(r, Math.min(250, Math.max(1, timeoutMs - waited))));
    }
  }

  async listTargets(sessionId: string): Promise<{ targets: TargetWithHealth[]; health_error: string | null }> {
    const { targets, error } = await this.targetsWithHealth(sessionId);
    return { targets, health_error: error };
  }

  async deregisterTarget(sessionId: string, targetId: string): Promise<Target> {
    const t = await this.registry.deregisterTarget(sessionId, targetId);
    this.metrics.deregistrations.inc();
    this.metrics.targets.dec();
    return t;
  }

  prometheusTargets(state?: 'active' | 'dropped' | 'any'): Promise<TargetsResult> {
    return this.client.getTargets(state ? { state } : {});
  }

  query(query: string, time?: TimeArg): Promise<QueryResult> {
    return this.client.queryInstant(query, time);
  }

  queryRange(query: string, start: TimeArg, end: TimeArg, step: string | number): Promise<QueryResult> {
    return this.client.queryRange(query, start, end, step);
  }

  async prometheusHealth(): Promise<PrometheusHealth> {
    const [healthy, ready] = await Promise.all([this.client.isHealthy(), this.client.isReady()]);
    let version: string | null = null;
    let lastReloadOk: boolean | null = this.applier.status().last_reload_ok ?? null;
    if (healthy) {
      try {
        version = (await this.client.buildInfo()).version;
        lastReloadOk = await this.client.lastReloadSuccessful();
      } catch (err) {
        this.logger.warn({ err: describeError(err) }, 'could not read Prometheus build or runtime info');
      }
    }
    return {
      url: this.client.baseUrl,
      healthy,
      ready,
      version,
      last_reload_ok: lastReloadOk,
      last_reload_error: this.applier.status().last_error ?? null,
      runtime: this.runtime.status(),
    };
  }

  /** POST /sessions/{id}/exporters: start an exporter in every node of a running Slurm job and register it. */
  startExporter(sessionId: string, body: StartExporterBody): Promise<ExporterView> {
    return this.exporters.start(sessionId, body);
  }

  listExporters(sessionId: string): ExporterView[] {
    return this.exporters.list(sessionId);
  }

  removeExporter(sessionId: string, exporterId: string): Promise<ExporterView> {
    return this.exporters.remove(sessionId, exporterId);
  }

  /** GET /metrics/{service}/{job_id}: the job's own metrics, from the node it runs on. */
  proxyMetrics(service: string, jobId: string, node: string | undefined, headers: Record<string, string | string[] | undefined>): Promise<ProxyResponse> {
    return this.metricsProxy.fetch(this.metricsProxy.resolve(service, jobId, node), headers);
  }

  /** Re-render and reload even when nothing changed (POST /api/v1/prometheus/reload). */
  async reload(): Promise<{ checksum: string; changed: boolean }> {
    return this.applier.request(true);
  }

  async isReady(): Promise<{ ready: boolean; store: boolean; prometheus: boolean }> {
    const store = this.store.isOpen();
    const prometheus = await this.client.isReady();
    return { ready: store && prometheus, store, prometheus };
  }
}
