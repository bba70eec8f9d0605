/** Metric configuration: shipped defaults, type inference from names, and validation of patches. */
import { invalidArgument } from '../errors.js';
import { DEFAULT_DETECTOR_SETTINGS } from './detector/defaults.js';
import type { DetectorTuning } from './detector/types.js';
import { ANOMALY_TYPES, type AnomalyType, type MetricConfig, type MetricConfigPatch, type SeverityThresholds } from './types.js';

const DEFAULT_SEVERITY_THRESHOLDS: Readonly<SeverityThresholds> = Object.freeze({ low: 2, medium: 3, high: 4, critical: 5 });

/** Defaults for every metric; `anomalyType` is replaced by the type inferred from the name. */
export const DEFAULT_METRIC_CONFIG: Readonly<MetricConfig> = Object.freeze({
  anomalyType: 'other',
  minSamples: DEFAULT_DETECTOR_SETTINGS.minSamples,
  windowSize: DEFAULT_DETECTOR_SETTINGS.windowSize,
  restSamples: DEFAULT_DETECTOR_SETTINGS.restSamples,
  severityThresholds: DEFAULT_SEVERITY_THRESHOLDS,
  detector: DEFAULT_DETECTOR_SETTINGS.tuning,
});

/**
 * Tried in order on the name as `_`-separated lower-case words with `_` at both ends. Long stems
 * match anywhere in a word; short or common ones only at a word's start or end (`mem`, `rss`,
 * `rtt`, `heap`) or as whole words (`rate`, `rps`, `err`), so that `active_members`, `cheap_items`,
 * `generated_reports` and `failover_count` are not memory, request-rate or error metrics, while
 * `maxrss`, `shmem_bytes`, `offheap_bytes` and `tcp_srtt_ms` are.
 */
const TYPE_RULES: Array<[RegExp, AnomalyType]> = [
  [/latenc|duration|_rtt|rtt_/, 'latency_spike'],
  [/error|fail(?!over)|_errs?_/, 'error_rate_increase'],
  [/throughput|bandwidth|_bytes_per_/, 'throughput_drop'],
  [/cpu/, 'cpu_spike'],
  [/memory|_mem(?!ber)|mem_|(?<![a-z])heap|offheap|onheap|_rss|rss_/, 'memory_spike'],
  [/storage|disk|_bytes_stored_/, 'storage_growth_anomaly'],
  [/request|_reqs?_|_rps_|_qps_|_rates?_/, 'request_rate_anomaly'],
];

/** `httpRequestDuration`, `JVMHeapUsed`, `http.request-duration` -> `_http_request_duration_`, `_jvm_heap_used_`. */
function nameWords(metric: string): string {
  const split = metric.replace(/([A-Z]+)([A-Z][a-z])/g, '$1_$2').replace(/([a-z0-9])([A-Z])/g, '$1_$2');
  const words = split.toLowerCase().split(/[^a-z0-9]+/).filter(Boolean);
  return `_${words.join('_')}_`;
}

export function inferAnomalyType(metric: string): AnomalyType {
  const name = nameWords(metric);
  for (const [pattern, type] of TYPE_RULES) if (pattern.test(name)) return type;
  return 'other';
}

const MAX_SAMPLES = 10_000_000;
const MAX_SEASON_MS = 366 * 86_400_000;
/**
 * A week of one-minute slots per metric (~17 bytes each); the engine's `maxSeasonSlots` bounds
 * them across metrics.
 */
export const MAX_SEASON_SLOTS = 10_080;

function integer(field: string, v: unknown, min: number, max: number): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
    throw invalidArgument(field, `must be an integer in [${min}, ${max}]`);
  }
  return v;
}

function real(field: string, v: unknown, min: number, max: number, minExclusive: boolean): number {
  if (typeof v !== 'number' || !Number.isFinite(v) || v > max || (minExclusive ? v <= min : v < min)) {
    throw invalidArgument(field, `must be a finite number in ${minExclusive ? '(' : '['}${min}, ${max}]`);
  }
  return v;
}

/** API (proto) name of an engine field: `seasonSlots` -> `season_slots`. */
export function snake(name: string): string {
  return name.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
}

function mergeTuning(base: DetectorTuning, patch: Partial<DetectorTuning> | undefined, prefix: string): DetectorTuning {
  const t: DetectorTuning = { ...base };
  if (patch !== undefined) {
    if (typeof patch !== 'object' || patch === null) throw invalidArgument(prefix, 'must be an object');
    for (const key of Object.keys(patch)) {
      if (!(key in base)) throw invalidArgument(`${prefix}.${snake(key)}`, 'unknown detector parameter');
      const v = (patch as Record<string, unknown>)[key];
      if (v !== undefined) (t as unknown as Record<string, unknown>)[key] = v;
    }
  }
  const f = (k: keyof DetectorTuning): string => `${prefix}.${snake(k)}`;
  integer(f('levelWindow'), t.levelWindow, 1, MAX_SAMPLES);
  integer(f('shiftWindow'), t.shiftWindow, 1, MAX_SAMPLES);
  integer(f('varianceShortWindow'), t.varianceShortWindow, 1, MAX_SAMPLES);
  integer(f('varianceLongWindow'), t.varianceLongWindow, 2, MAX_SAMPLES);
  if (t.varianceLongWindow <= t.varianceShortWindow) {
    throw invalidArgument(f('varianceLongWindow'), 'must be greater than variance_short_window');
  }
  integer(f('surpriseMemory'), t.surpriseMemory, 2, MAX_SAMPLES);
  real(f('alarmMargin'), t.alarmMargin, 1, 1000, false);
  real(f('clip'), t.clip, 0, 1000, true);
  real(f('scaleFloor'), t.scaleFloor, 0, 1, false);
  integer(f('flatMinRun'), t.flatMinRun, 2, MAX_SAMPLES);
  real(f('seasonPeriodMs'), t.seasonPeriodMs, 0, MAX_SEASON_MS, true);
  integer(f('seasonSlots'), t.seasonSlots, 0, MAX_SEASON_SLOTS);
  real(f('seasonAlpha'), t.seasonAlpha, 0, 1, true);
  real(f('seasonPreference'), t.seasonPreference, 0, 1, true);
  return t;
}

function mergeSeverity(base: SeverityThresholds, patch: Partial<SeverityThresholds> | undefined, prefix: string): SeverityThresholds {
  const s: SeverityThresholds = { ...base };
  if (patch !== undefined) {
    if (typeof patch !== 'object' || patch === null) throw invalidArgument(prefix, 'must be an object');
    for (const key of ['low', 'medium', 'high', 'critical'] as const) if (patch[key] !== undefined) s[key] = patch[key]!;
  }
  // Errors name the API's fields (severity_thresholds.low_sigma), not the engine's.
  real(`${prefix}.low_sigma`, s.low, 0, 1e6, true);
  real(`${prefix}.medium_sigma`, s.medium, 0, 1e6, true);
  real(`${prefix}.high_sigma`, s.high, 0, 1e6, true);
  real(`${prefix}.critical_sigma`, s.critical, 0, 1e6, true);
  if (s.medium <= s.low) throw invalidArgument(`${prefix}.medium_sigma`, `must be greater than low_sigma (${s.low}), got ${s.medium}`);
  if (s.high <= s.medium) throw invalidArgument(`${prefix}.high_sigma`, `must be greater than medium_sigma (${s.medium}), got ${s.high}`);
  if (s.critical <= s.high) throw invalidArgument(`${prefix}.critical_sigma`, `must be greater than high_sigma (${s.high}), got ${s.critical}`);
  return s;
}

/**
 * Applies `patch` on `base` and validates the result; errors name the field as the API does under
 * `prefix` (`config.min_samples`, `config.severity_thresholds.low_sigma`,
 * `config.detector_parameters.clip`). Returns a new frozen config; `base` is untouched.
 */
export function mergeMetricConfig(base: MetricConfig, patch: MetricConfigPatch, prefix = 'config'): MetricConfig {
  if (typeof patch !== 'object' || patch === null) throw invalidArgument(prefix, 'must be an object');
  for (const key of Object.keys(patch)) {
    if (!(key in base)) throw invalidArgument(`${prefix}.${snake(key)}`, 'unknown configuration field');
  }
  const anomalyType = patch.anomalyType ?? base.anomalyType;
  if (!(ANOMALY_TYPES as readonly string[]).includes(anomalyType)) {
    throw invalidArgument(`${prefix}.anomaly_type`, `must be one of ${ANOMALY_TYPES.join(', ')}`);
  }
  const config: MetricConfig = {
    anomalyType,
    minSamples: integer(`${prefix}.min_samples`, patch.minSamples ?? base.minSamples, 1, MAX_SAMPLES),
    windowSize: integer(`${prefix}.window_size`, patch.windowSize ?? base.windowSize, 2, MAX_SAMPLES),
    restSamples: integer(`${prefix}.rest_samples`, patch.restSamples ?? base.restSamples, 0, MAX_SAMPLES),
    severityThresholds: Object.freeze(mergeSeverity(base.severityThresholds, patch.severityThresholds, `${prefix}.severity_thresholds`)),
    detector: Object.freeze(mergeTuning(base.detector, patch.detector, `${prefix}.detector_parameters`)),
  };
  return Object.freeze(config);
}
