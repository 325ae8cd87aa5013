/**
 * EMULATOR public surface (demo and tests only; not part of the benchmon product). Explicit exports, no `export *`.
 */
export {
  startEmulatedWorkload,
  knownDistributions,
  type EmulatedWorkload,
  type WorkloadOptions,
  type WorkloadLoadDefaults,
  type WorkloadLoadOptions,
  type WorkloadCounts,
  type KnownDistribution,
  type KnownDistributions,
  type KnownQuantile,
} from './workload.js';
export {
  runLoad,
  runOpenLoopLoad,
  vllmCompletionLoad,
  qdrantSearchLoad,
  summarize,
  type LoadTargets,
  type LoadReport,
  type TargetsLoadReport,
  type EndpointLoadReport,
  type EndpointLoad,
  type LoadProgress,
  type RunLoadOptions,
  type SampleSummary,
  type RequestOutcome,
  type VllmLoadSpec,
  type QdrantLoadSpec,
} from './load-generator.js';
export {
  startVllmEmulator,
  EMULATED_VLLM_VERSION,
  DEFAULT_VLLM_TTFT,
  DEFAULT_VLLM_ITL,
  DEFAULT_VLLM_OUTPUT_TOKENS,
  type VllmEmulator,
  type VllmEmulatorOptions,
  type VllmServedStats,
} from './vllm-emulator.js';
export {
  startQdrantEmulator,
  EMULATED_QDRANT_VERSION,
  DEFAULT_QDRANT_LATENCY,
  type QdrantEmulator,
  type QdrantEmulatorOptions,
  type QdrantServedStats,
} from './qdrant-emulator.js';
export {
  VLLM_TTFT_BUCKETS,
  VLLM_ITL_BUCKETS,
  VLLM_REQUEST_LATENCY_BUCKETS,
  type KvCacheMetricName,
  type FinishedReason,
} from './vllm-metrics.js';
export { QDRANT_DURATION_BUCKETS } from './qdrant-metrics.js';
export {
  PiecewiseUniform,
  DiscreteUniform,
  bucketBounds,
  nearestRank,
  type BucketBounds,
  type QuantileKnot,
} from './distributions.js';
