import { decodeProfile } from './codec.js';
import { int64, int64Big } from './numbers.js';
import { assertValidProfile } from './validate.js';

/**
 * When a gzipped pprof profile started and how long it ran, from its own header: a capture may
 * wait its turn behind another, so the time it was asked for is not when it started. `fallbackMs`
 * stands in for a profile that carries no start time.
 */
export function profileTimes(data: Uint8Array, fallbackMs: number): { startMs: number; durationMs: number } {
  const profile = decodeProfile(data, { field: 'capture' });
  assertValidProfile(profile, 'capture');
  const timeNanos = int64Big(profile.timeNanos);
  return {
    startMs: timeNanos > 0n ? Number(timeNanos / 1_000_000n) : fallbackMs,
    durationMs: int64(profile.durationNanos) / 1e6,
  };
}
