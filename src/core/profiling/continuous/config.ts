import { invalidArgument } from '../../errors.js';
import {
  DEFAULT_CPU_SAMPLING_INTERVAL_US,
  MAX_CPU_CAPTURE_MS,
  MAX_CPU_SAMPLING_INTERVAL_US,
  MIN_CPU_SAMPLING_INTERVAL_US,
} from '../v8/cpu-capture.js';

export interface ContinuousProfilingConfig {
  /** Time from the start of one capture to the start of the next. */
  intervalMs: number;
  /** Length of each CPU capture; must be shorter than the interval. */
  captureDurationMs: number;
  samplingIntervalUs: number;
  /** Retention caps: the oldest profiles are evicted until both hold. */
  maxProfiles: number;
  maxBytes: number;
}

/** 10 s of every 60 s at 100 Hz: a profile a minute, overhead under 1% (see bench/profiling). */
export const DEFAULT_CONTINUOUS_PROFILING: Readonly<ContinuousProfilingConfig> = Object.freeze({
  intervalMs: 60_000,
  captureDurationMs: 10_000,
  samplingIntervalUs: DEFAULT_CPU_SAMPLING_INTERVAL_US,
  maxProfiles: 100,
  maxBytes: 64 * 1024 * 1024,
});

/** Longest interval between background captures: one a day. */
export const MAX_CONTINUOUS_INTERVAL_MS = 24 * 3_600_000;
/** Retention caps at most, so a typo cannot make the profiler hold unbounded history. */
export const MAX_CONTINUOUS_PROFILES = 100_000;
export const MAX_CONTINUOUS_BYTES = 16 * 1024 * 1024 * 1024;

function requireInteger(field: string, value: number, min: number, max: number): void {
  if (!Number.isInteger(value) || value < min || value > max) {
    throw invalidArgument(field, `must be an integer in [${min}, ${max}], got ${value}`);
  }
}

/** Fills in defaults and checks the result, naming the config field that is wrong. */
export function resolveContinuousProfilingConfig(partial: Partial<ContinuousProfilingConfig> = {}): ContinuousProfilingConfig {
  const config = { ...DEFAULT_CONTINUOUS_PROFILING, ...partial };
  requireInteger('capture_duration_ms', config.captureDurationMs, 1, MAX_CPU_CAPTURE_MS);
  requireInteger('interval_ms', config.intervalMs, 1, MAX_CONTINUOUS_INTERVAL_MS);
  if (config.captureDurationMs >= config.intervalMs) {
    throw invalidArgument('capture_duration_ms', `must be shorter than interval_ms (${config.intervalMs}), got ${config.captureDurationMs}`);
  }
  requireInteger('sampling_interval_us', config.samplingIntervalUs, MIN_CPU_SAMPLING_INTERVAL_US, MAX_CPU_SAMPLING_INTERVAL_US);
  requireInteger('max_profiles', config.maxProfiles, 1, MAX_CONTINUOUS_PROFILES);
  requireInteger('max_bytes', config.maxBytes, 1, MAX_CONTINUOUS_BYTES);
  return config;
}
