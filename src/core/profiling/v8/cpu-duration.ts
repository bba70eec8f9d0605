import { invalidArgument } from '../../errors.js';

export interface CpuDurationLimits {
  /** Used when the request gives no duration (Go's /debug/pprof/profile default), if within maxSeconds. */
  defaultSeconds?: number;
  /** The configured ceiling. */
  maxSeconds?: number;
  /** Request field named in errors (`seconds` in GetProfile, `duration` in CaptureProfile). */
  field?: string;
}

export const DEFAULT_CPU_PROFILE_SECONDS = 30;
export const DEFAULT_MAX_CPU_PROFILE_SECONDS = 300;

/**
 * Turns a request's duration in seconds (undefined when unset) into a capture duration in ms, or
 * raises invalidArgument. An unset duration is the default cut to the maximum: the client asked for
 * no particular length, so there is nothing to refuse.
 */
export function cpuProfileDurationMs(seconds: number | undefined, limits: CpuDurationLimits = {}): number {
  const maxSeconds = limits.maxSeconds ?? DEFAULT_MAX_CPU_PROFILE_SECONDS;
  const field = limits.field ?? 'seconds';
  const chosen = seconds ?? Math.min(limits.defaultSeconds ?? DEFAULT_CPU_PROFILE_SECONDS, maxSeconds);
  if (!Number.isFinite(chosen) || chosen <= 0) {
    throw invalidArgument(field, `must be a finite number of seconds above 0, got ${chosen}`);
  }
  if (chosen > maxSeconds) throw invalidArgument(field, `must be at most ${maxSeconds} (the configured maximum), got ${chosen}`);
  return Math.max(1, Math.round(chosen * 1000));
}
