/** Public surface of the metrics engine for the server's wiring. */
export {
  MetricsEngine,
  DEFAULT_METRICS_LIMITS,
  MAX_EXPOSITION_BYTES_LIMIT,
  type MetricsLimits,
  type JsonExport,
} from './engine.js';
export type * from './types.js';
