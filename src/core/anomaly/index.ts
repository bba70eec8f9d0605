/** Anomaly engine (issues 2 and 3): what the server wires. */
export { AnomalyEngine, DEFAULT_ENGINE_LIMITS, MAX_ENGINE_LIMITS, type AnomalyEngineOptions, type NewMetricLimit } from './engine.js';
export { DEFAULT_METRIC_CONFIG, MAX_SEASON_SLOTS, inferAnomalyType, snake } from './config.js';
export { eventAnomalyType } from './event-type.js';
export { createDetector } from './detector/factory.js';
export { DEFAULT_DETECTOR_SETTINGS, DEFAULT_DETECTOR_TUNING } from './detector/defaults.js';
export type { DetectorOutput, DetectorTuning } from './detector/types.js';
export {
  ANOMALY_TYPES,
  SEVERITIES,
  type AnomalyEvent,
  type AnomalyType,
  type Assessment,
  type EngineLimits,
  type MetricConfig,
  type MetricConfigPatch,
  type Severity,
  type StreamItem,
  type Subscription,
} from './types.js';
