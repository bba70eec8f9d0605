import { Session } from 'node:inspector/promises';
import { setTimeout as delay } from 'node:timers/promises';
import { type Clock, systemClock } from '../../clock.js';
import { invalidArgument } from '../../errors.js';
import { encodeProfile } from '../pprof/codec.js';
import { cpuProfileToPprof, type V8CpuProfile } from './cpu-profile-to-pprof.js';
import { ExclusiveRunner } from './exclusive-runner.js';

/** 100 Hz, the rate Go's CPU profiler uses: enough detail, overhead well under 1%. */
export const DEFAULT_CPU_SAMPLING_INTERVAL_US = 10_000;
export const MIN_CPU_SAMPLING_INTERVAL_US = 100;
export const MAX_CPU_SAMPLING_INTERVAL_US = 1_000_000;
/** Hard ceiling for one capture whatever the config says; V8 keeps every sample in memory. */
export const MAX_CPU_CAPTURE_MS = 3_600_000;
/** Captures that may queue behind the running one before requests are turned away. */
export const MAX_WAITING_CPU_CAPTURES = 8;

export interface CpuCaptureRequest {
  durationMs: number;
  samplingIntervalUs?: number;
  /** Aborting stops the capture (or leaves the queue) and rejects with the signal's reason. */
  signal?: AbortSignal;
  /** Wall clock for the profile's time_nanos. */
  clock?: Clock;
  /**
   * The continuous profiler's capture: it waits only for the running capture, ahead of the queued
   * ones, and takes none of their MAX_WAITING_CPU_CAPTURES places.
   */
  background?: boolean;
}

/** V8 can run several profilers, but one capture at a time keeps sampling rates and costs predictable. */
const cpuCaptures = new ExclusiveRunner(MAX_WAITING_CPU_CAPTURES, 'CPU profile captures');

/** CPU profile captures queued behind the running one (a background one waiting ahead not included). */
export function waitingCpuCaptures(): number {
  return cpuCaptures.waiting;
}

/**
 * Samples this process's JS thread for `durationMs` and returns a gzipped pprof profile.
 * Concurrent calls wait their turn (at most MAX_WAITING_CPU_CAPTURES of them, and a background one).
 */
export async function captureCpuProfile(request: CpuCaptureRequest): Promise<Uint8Array> {
  const { durationMs, signal, clock = systemClock, background = false } = request;
  const samplingIntervalUs = request.samplingIntervalUs ?? DEFAULT_CPU_SAMPLING_INTERVAL_US;
  if (!Number.isFinite(durationMs) || durationMs <= 0 || durationMs > MAX_CPU_CAPTURE_MS) {
    throw invalidArgument('duration_ms', `must be a number of milliseconds in (0, ${MAX_CPU_CAPTURE_MS}], got ${durationMs}`);
  }
  if (
    !Number.isInteger(samplingIntervalUs) ||
    samplingIntervalUs < MIN_CPU_SAMPLING_INTERVAL_US ||
    samplingIntervalUs > MAX_CPU_SAMPLING_INTERVAL_US
  ) {
    throw invalidArgument(
      'sampling_interval_us',
      `must be an integer in [${MIN_CPU_SAMPLING_INTERVAL_US}, ${MAX_CPU_SAMPLING_INTERVAL_US}], got ${samplingIntervalUs}`,
    );
  }
  return cpuCaptures.run(() => runCpuCapture(durationMs, samplingIntervalUs, clock, signal), { signal, ahead: background, expectedMs: durationMs });
}

async function runCpuCapture(durationMs: number, samplingIntervalUs: number, clock: Clock, signal?: AbortSignal): Promise<Uint8Array> {
  const session = new Session();
  session.connect();
  try {
    await session.post('Profiler.enable');
    await session.post('Profiler.setSamplingInterval', { interval: samplingIntervalUs });
    const timeNanos = BigInt(Math.round(clock.nowMs())) * 1_000_000n;
    await session.post('Profiler.start');
    // The profile runs from its first sample, taken as Profiler.start returns; timers count whole
    // milliseconds and may fire up to 1 ms early, so one more keeps it at least the length asked.
    // Reject with the caller's reason, as an abort while queued does, rather than a generic AbortError.
    await delay(durationMs + 1, undefined, { signal }).catch((err: unknown) => {
      throw signal?.aborted ? signal.reason : err;
    });
    const { profile } = await session.post('Profiler.stop');
    return encodeProfile(cpuProfileToPprof(profile as V8CpuProfile, { timeNanos, samplingIntervalUs }));
  } finally {
    // Disconnecting also stops a profile left running by an abort.
    session.disconnect();
  }
}
