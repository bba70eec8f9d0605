/** Public surface of the metrics engine for the server's wiring. */
export {
  MetricsEngine,
  DEFAULT_METRICS_LIMITS,
  MAX_EXPOSITION_BYTES_LIMIT,
  MIN_SNAPSHOT_INTERVAL_MS,
  type MetricsLimits,
  type MetricsEngineOptions,
  type RegisterResult,
  type ListFilter,
  type TrendResult,
  type JsonExport,
  type JsonMetric,
  type EngineStats,
} from './engine.js';
export type { ScrapeResult } from './expositions.js';
export type { InstrumentFactory, InstrumentConfig } from './instruments.js';
export type { Statistic } from './kind.js';
export type { SnapshotPoint } from './snapshots.js';
export type * from './types.js';
