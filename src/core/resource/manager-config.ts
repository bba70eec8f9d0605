import { invalidArgument } from '../errors.js';
import { PRIORITIES } from './admission/types.js';
import { DEFAULT_MEMORY_PRESSURE_LEVEL, DEFAULT_SHED_ESCALATION_MS, DEFAULT_SHED_THRESHOLDS, type ShedThresholds } from './load-shedder.js';

export interface ResourceManagerConfig {
  /** A permit not released within this time is reclaimed as dropped. */
  leaseMs: number;
  /** Most permits outstanding at once; further acquires are refused. */
  maxOutstanding: number;
  /** Sliding window of the statistics, and the width of its buckets. */
  windowMs: number;
  bucketMs: number;
  /** How long a pressure snapshot is used before the source is asked again. */
  pressureRefreshMs: number;
  shedThresholds: ShedThresholds;
  /** Pressure level memory pressure alone stands for (0..1). */
  memoryPressureLevel: number;
  /** How long a priority must have been shed before the next one up may be. */
  shedEscalationMs: number;
}

export const DEFAULT_RESOURCE_MANAGER_CONFIG: ResourceManagerConfig = {
  leaseMs: 60_000,
  maxOutstanding: 100_000,
  windowMs: 60_000,
  bucketMs: 1000,
  pressureRefreshMs: 1000,
  shedThresholds: DEFAULT_SHED_THRESHOLDS,
  memoryPressureLevel: DEFAULT_MEMORY_PRESSURE_LEVEL,
  shedEscalationMs: DEFAULT_SHED_ESCALATION_MS,
};

/** Most buckets the sliding window may keep, whatever the configuration asks. */
export const MAX_WINDOW_BUCKETS = 3600;

/** Buckets a window shorter than MIN_WINDOW_BUCKETS default buckets is cut into, so that it slides rather than empties at once. */
const MIN_WINDOW_BUCKETS = 10;

export function resolveResourceManagerConfig(partial: Partial<ResourceManagerConfig> = {}): ResourceManagerConfig {
  const c: ResourceManagerConfig = { ...DEFAULT_RESOURCE_MANAGER_CONFIG, ...partial };
  // A window of one bucket held only the current one: every figure fell to nothing at each bucket's
  // start. Unless a width is given, a short window gets narrower buckets.
  if (partial.bucketMs === undefined && Number.isFinite(c.windowMs) && c.windowMs > 0) {
    c.bucketMs = Math.min(DEFAULT_RESOURCE_MANAGER_CONFIG.bucketMs, c.windowMs / MIN_WINDOW_BUCKETS);
  }
  const positive = (field: string, v: number): void => {
    if (!Number.isFinite(v) || v <= 0) throw invalidArgument(field, 'must be a finite number > 0');
  };
  positive('lease_ms', c.leaseMs);
  positive('window_ms', c.windowMs);
  positive('bucket_ms', c.bucketMs);
  positive('pressure_refresh_ms', c.pressureRefreshMs);
  if (!(Number.isFinite(c.shedEscalationMs) && c.shedEscalationMs >= 0)) {
    throw invalidArgument('shed_escalation_ms', 'must be a finite number >= 0');
  }
  if (!Number.isInteger(c.maxOutstanding) || c.maxOutstanding < 1) {
    throw invalidArgument('max_outstanding', 'must be an integer >= 1');
  }
  if (c.windowMs / c.bucketMs > MAX_WINDOW_BUCKETS) {
    throw invalidArgument('window_ms', `must span at most ${MAX_WINDOW_BUCKETS} buckets of bucket_ms`);
  }
  if (!(c.memoryPressureLevel >= 0 && c.memoryPressureLevel <= 1)) {
    throw invalidArgument('memory_pressure_level', 'must lie within [0, 1]');
  }
  for (const p of PRIORITIES) {
    const t = c.shedThresholds[p];
    if (!t || !(t.enter >= 0) || !(t.exit >= 0) || t.exit > t.enter) {
      throw invalidArgument(`shed_thresholds.${p}`, 'needs 0 <= exit <= enter');
    }
  }
  return c;
}
