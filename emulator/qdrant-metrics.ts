/**
 * The Prometheus families of the EMULATED Qdrant server: Qdrant 1.16.0's real names, types, HELP texts, labels and
 * histogram bounds, as in a real 1.16.0 scrape (../shared/fixtures/qdrant-1.16.0-metrics-datadog-fixture.prom,
 * DataDog/integrations-extras @ 030009a1) and qdrant/qdrant src/common/metrics.rs. Registration order follows that
 * scrape. One Registry per emulator instance.
 */
import fs from 'node:fs';
import { Counter, Gauge, Histogram, Registry } from 'prom-client';

/** Qdrant's `DEFAULT_BUCKET_BOUNDARIES_MICROS`, in seconds (lib/segment/src/common/operation_time_statistics.rs). */
export const QDRANT_DURATION_BUCKETS: readonly number[] = Object.freeze([0.001, 0.005, 0.01, 0.02, 0.05, 0.1, 0.5, 1, 5, 10, 50]);

/** Qdrant only reports timings (avg/min/max and the histogram) for REST responses with this status. */
export const QDRANT_TIMINGS_FOR_STATUS = 200;

/** Qdrant's average duration gauge covers only the most recent operations (a ring of this many). */
const AVG_WINDOW = 128;

export interface QdrantCollectionSpec {
  readonly name: string;
  readonly points: number;
  readonly dim: number;
  /** Vector name; "" is the unnamed default vector. */
  readonly vectorName: string;
}

export interface QdrantMetricsConfig {
  readonly version: string;
  readonly collections: readonly QdrantCollectionSpec[];
  readonly clusterEnabled: boolean;
  readonly peerId: string;
}

interface TimingStats {
  min: number;
  max: number;
  recent: number[];
  next: number;
}

export type RestLabels = { method: string; endpoint: string; status: string };

const HARDWARE_COUNTERS = [
  ['cpu', 'CPU measurements of a collection'],
  ['payload_io_read', 'Total IO payload read metrics of a collection'],
  ['payload_index_io_read', 'Total IO payload index read metrics of a collection'],
  ['payload_index_io_write', 'Total IO payload index write metrics of a collection'],
  ['payload_io_write', 'Total IO payload write metrics of a collection'],
  ['vector_io_read', 'Total IO vector read metrics of a collection'],
  ['vector_io_write', 'Total IO vector write metrics of a collection'],
] as const;
export type HardwareCounter = (typeof HARDWARE_COUNTERS)[number][0];

export class QdrantMetrics {
  readonly registry = new Registry();
  readonly restResponses: Counter;
  readonly restResponsesFail: Counter;
  private readonly restAvg: Gauge;
  private readonly restMin: Gauge;
  private readonly restMax: Gauge;
  readonly restDuration: Histogram;
  private readonly hardware = new Map<HardwareCounter, Counter>();
  private readonly timings = new Map<string, { labels: RestLabels; stats: TimingStats }>();

  constructor(config: QdrantMetricsConfig) {
    const r = this.registry;
    const gauge = (name: string, help: string, value?: number): Gauge => {
      const g = new Gauge({ name, help, registers: [r] });
      if (value !== undefined) g.set(value);
      return g;
    };
    const perCollection = (name: string, help: string, value: number, type: 'gauge' | 'counter' = 'gauge'): void => {
      const metric =
        type === 'gauge'
          ? new Gauge({ name, help, labelNames: ['id'], registers: [r] })
          : new Counter({ name, help, labelNames: ['id'], registers: [r] });
      for (const c of config.collections) {
        if (metric instanceof Gauge) metric.set({ id: c.name }, value);
        else metric.inc({ id: c.name }, value);
      }
    };
    const points = config.collections.reduce((n, c) => n + c.points, 0);

    new Gauge({ name: 'app_info', help: 'information about qdrant server', labelNames: ['name', 'version'], registers: [r] }).set(
      { name: 'qdrant', version: config.version },
      1,
    );
    gauge('app_status_recovery_mode', 'features enabled in qdrant server', 0);
    gauge('collections_total', 'number of collections', config.collections.length);
    gauge('collections_vector_total', 'total number of vectors in all collections', points);
    const vectors = new Gauge({
      name: 'collection_vectors',
      help: 'amount of vectors grouped by vector name',
      labelNames: ['collection', 'vector'],
      registers: [r],
    });
    for (const c of config.collections) vectors.set({ collection: c.name, vector: c.vectorName }, c.points);
    gauge('collection_active_replicas_min', 'minimum number of active replicas across all shards', 1);
    gauge('collection_active_replicas_max', 'maximum number of active replicas across all shards', 1);
    perCollection('collection_running_optimizations', 'number of currently running optimization tasks per collection', 0);
    const pointsGauge = new Gauge({
      name: 'collection_points',
      help: 'approximate amount of points per collection',
      labelNames: ['id'],
      registers: [r],
    });
    for (const c of config.collections) pointsGauge.set({ id: c.name }, c.points);
    gauge('collection_dead_replicas', 'total amount of shard replicas in non-active state', 0);
    perCollection('snapshot_creation_running', 'amount of snapshot creations that are currently running', 0);
    perCollection('snapshot_recovery_running', 'amount of snapshot recovery operations currently running', 0);
    perCollection('snapshot_created_total', 'total amount of snapshots created', 0, 'counter');
    gauge('cluster_enabled', 'is cluster support enabled', config.clusterEnabled ? 1 : 0);
    if (config.clusterEnabled) {
      gauge('cluster_peers_total', 'total number of cluster peers', 1);
      new Counter({ name: 'cluster_term', help: 'current cluster term', registers: [r] }).inc(1);
      new Counter({
        name: 'cluster_commit',
        help: 'index of last committed (finalized) operation cluster peer is aware of',
        labelNames: ['peer_id'],
        registers: [r],
      }).inc({ peer_id: config.peerId }, config.collections.length + 1);
      gauge('cluster_pending_operations_total', 'total number of pending operations for cluster peer', 0);
      gauge('cluster_voter', 'is cluster peer a voter or learner', 1);
    }

    const restLabelNames = ['method', 'endpoint', 'status'];
    this.restResponses = new Counter({ name: 'rest_responses_total', help: 'total number of responses', labelNames: restLabelNames, registers: [r] });
    this.restResponsesFail = new Counter({
      name: 'rest_responses_fail_total',
      help: 'total number of failed responses',
      labelNames: restLabelNames,
      registers: [r],
    });
    this.restAvg = new Gauge({ name: 'rest_responses_avg_duration_seconds', help: 'average response duration', labelNames: restLabelNames, registers: [r] });
    this.restMin = new Gauge({ name: 'rest_responses_min_duration_seconds', help: 'minimum response duration', labelNames: restLabelNames, registers: [r] });
    this.restMax = new Gauge({ name: 'rest_responses_max_duration_seconds', help: 'maximum response duration', labelNames: restLabelNames, registers: [r] });
    this.restDuration = new Histogram({
      name: 'rest_responses_duration_seconds',
      help: 'response duration histogram',
      labelNames: restLabelNames,
      buckets: [...QDRANT_DURATION_BUCKETS],
      registers: [r],
    });

    for (const [suffix, help] of HARDWARE_COUNTERS) {
      const c = new Counter({ name: `collection_hardware_metric_${suffix}`, help, labelNames: ['id'], registers: [r] });
      for (const col of config.collections) c.inc({ id: col.name }, 0);
      this.hardware.set(suffix, c);
    }

    const sampled = (name: string, help: string, read: () => number): void => {
      new Gauge({
        name,
        help,
        registers: [r],
        collect() {
          this.set(read());
        },
      });
    };
    const mem = (): NodeJS.MemoryUsage => process.memoryUsage();
    // jemalloc statistics in Qdrant; here the emulator process's own V8/RSS figures stand in for them.
    sampled('memory_active_bytes', 'Total number of bytes in active pages allocated by the application', () => mem().heapUsed);
    sampled('memory_allocated_bytes', 'Total number of bytes allocated by the application', () => mem().heapUsed + mem().external);
    sampled('memory_metadata_bytes', 'Total number of bytes dedicated to metadata', () => mem().heapTotal - mem().heapUsed);
    sampled('memory_resident_bytes', 'Maximum number of bytes in physically resident data pages mapped', () => mem().rss);
    sampled('memory_retained_bytes', 'Total number of bytes in virtual memory mappings', () => mem().heapTotal + mem().external);
    // Process figures of the emulator's own (Node.js) process, read from procfs as Qdrant does; 0 where unavailable.
    sampled('process_threads', 'count of active threads', () => procStatusField('Threads'));
    sampled('process_open_mmaps', 'count of open mmaps', () => countLines('/proc/self/maps'));
    sampled('system_max_mmaps', 'system wide limit of open mmaps', () => readNumber('/proc/sys/vm/max_map_count'));
    sampled('process_open_fds', 'count of currently open file descriptors', () => countDir('/proc/self/fd'));
    sampled('process_max_fds', 'limit for open file descriptors', maxOpenFiles);
    const minor = new Counter({ name: 'process_minor_page_faults_total', help: "count of minor page faults which didn't cause a disk access", registers: [r] });
    const major = new Counter({ name: 'process_major_page_faults_total', help: 'count of disk accesses caused by a mmap page fault', registers: [r] });
    // Counters cannot be set in prom-client; advance them to the procfs totals at scrape time.
    const faults = { minor: 0, major: 0 };
    const syncFaults = (): void => {
      const f = pageFaults();
      if (f.minor > faults.minor) minor.inc(f.minor - faults.minor);
      if (f.major > faults.major) major.inc(f.major - faults.major);
      faults.minor = Math.max(faults.minor, f.minor);
      faults.major = Math.max(faults.major, f.major);
    };
    this.syncFaults = syncFaults;
  }

  private readonly syncFaults: () => void;

  /** Record one REST response the way Qdrant 1.16 does. */
  observeRest(labels: RestLabels, seconds: number): void {
    this.restResponses.inc(labels);
    // Qdrant 1.16 never increments fail_count for REST (qdrant/qdrant#7927; removed in 1.17.0): always 0.
    this.restResponsesFail.inc(labels, 0);
    if (Number(labels.status) !== QDRANT_TIMINGS_FOR_STATUS) return;
    const micros = Math.round(seconds * 1e6) / 1e6; // Qdrant keeps microseconds
    const key = `${labels.method} ${labels.endpoint} ${labels.status}`;
    let entry = this.timings.get(key);
    if (!entry) {
      entry = { labels, stats: { min: micros, max: micros, recent: [], next: 0 } };
      this.timings.set(key, entry);
    }
    const s = entry.stats;
    s.min = Math.min(s.min, micros);
    s.max = Math.max(s.max, micros);
    if (s.recent.length < AVG_WINDOW) s.recent.push(micros);
    else s.recent[s.next] = micros;
    s.next = (s.next + 1) % AVG_WINDOW;
    this.restAvg.set(labels, s.recent.reduce((a, b) => a + b, 0) / s.recent.length);
    this.restMin.set(labels, s.min);
    this.restMax.set(labels, s.max);
    this.restDuration.observe(labels, micros);
  }

  addHardware(collection: string, counter: HardwareCounter, amount: number): void {
    this.hardware.get(counter)?.inc({ id: collection }, amount);
  }

  async metrics(): Promise<string> {
    this.syncFaults();
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}

function readText(path: string): string | undefined {
  try {
    return fs.readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}

function readNumber(path: string): number {
  const n = Number((readText(path) ?? '').trim());
  return Number.isFinite(n) ? n : 0;
}

function countLines(path: string): number {
  const text = readText(path);
  return text === undefined ? 0 : text.split('\n').filter((l) => l.length > 0).length;
}

function countDir(path: string): number {
  try {
    return fs.readdirSync(path).length;
  } catch {
    return 0;
  }
}

function procStatusField(field: string): number {
  const m = new RegExp(`^${field}:\\s+(\\d+)`, 'm').exec(readText('/proc/self/status') ?? '');
  return m ? Number(m[1]) : 0;
}

function maxOpenFiles(): number {
  const m = /^Max open files\s+(\d+)/m.exec(readText('/proc/self/limits') ?? '');
  return m ? Number(m[1]) : 0;
}

function pageFaults(): { minor: number; major: number } {
  // /proc/self/stat: fields after the ")" of comm; minflt is field 10, majflt field 12 (1-based).
  const text = readText('/proc/self/stat') ?? '';
  const rest = text.slice(text.lastIndexOf(')') + 2).split(' ');
  return { minor: Number(rest[7] ?? 0) || 0, major: Number(rest[9] ?? 0) || 0 };
}
