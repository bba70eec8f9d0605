import { invalidArgument, type ObservabilityError } from '../../errors.js';

export interface CpuDurationLimits {
  /** Used when the request gives no duration (Go's /debug/pprof/profile default), if within maxSeconds. */
  defaultSeconds?: number;
  /** The configured ceiling (RS3GW_PROFILING_MAX_SECONDS). */
  maxSeconds?: number;
  /** Request field named in errors (`seconds` in GetProfile, `duration` in CaptureProfile). */
  field?: string;
}

export const DEFAULT_CPU_PROFILE_SECONDS = 30;
const DEFAULT_MAX_CPU_PROFILE_SECONDS = 300;

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
    throw invalidArgument(field, `must be a finite number of seconds above 0, got ${secondsText(chosen)}`);
  }
  if (chosen > maxSeconds) throw secondsOverMaximum(field, maxSeconds, secondsText(chosen));
  return Math.max(1, Math.round(chosen * 1000));
}

/** The refusal of a length above the maximum; `given` is the length as the request gave it. */
export function secondsOverMaximum(field: string, maxSeconds: number, given: string): ObservabilityError {
  return invalidArgument(field, `must be at most ${maxSeconds} (RS3GW_PROFILING_MAX_SECONDS), got ${given}`);
}

/**
 * Seconds rounded to the nanosecond a Duration carries: a length that came through milliseconds
 * ("2.0001s" is 2000.1 ms) reads 2.0001, not 2.0000999999999998 (beyond about 9,000,000 s a double
 * holds fewer digits than that, and the last ones may differ from the request's).
 */
function secondsText(seconds: number): string {
  return String(Number(seconds.toFixed(9)));
}
