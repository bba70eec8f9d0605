import { Session } from 'node:inspector/promises';
import { setTimeout as delay } from 'node:timers/promises';
import { type Clock, monotonicClock, systemClock } from '../../clock.js';
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
  /**
   * The continuous profiler's capture: it waits only for the running capture, ahead of the queued
   * ones, and takes none of their MAX_WAITING_CPU_CAPTURES places.
   */
  background?: boolean;
}

export interface CpuCapturesOptions {
  /** Wall clock for each profile's time_nanos; default the system clock. */
  clock?: Clock;
  /** Times the running capture, for the retry-after of a refused one; default monotonic. */
  intervals?: Clock;
}

/**
 * This process's V8 CPU profile captures, one at a time. V8 can run several profilers, but one
 * capture at a time keeps sampling rates and costs predictable: the service makes one of these and
 * hands it to both the on-demand captures and the continuous profiler, so they queue together.
 */
export class CpuCaptures {
  private readonly clock: Clock;
  private readonly runner: ExclusiveRunner;

  constructor(options: CpuCapturesOptions = {}) {
    this.clock = options.clock ?? systemClock;
    this.runner = new ExclusiveRunner(MAX_WAITING_CPU_CAPTURES, 'CPU profile captures', options.intervals ?? monotonicClock);
  }

  /** Captures queued behind the running one (a background one waiting ahead not included). */
  get waiting(): number {
    return this.runner.waiting;
  }

  /**
   * Samples this process's JS thread for `durationMs` and returns a gzipped pprof profile.
   * Concurrent calls wait their turn (at most MAX_WAITING_CPU_CAPTURES of them, and a background one).
   */
  async capture(request: CpuCaptureRequest): Promise<Uint8Array> {
    const { durationMs, signal, background = false } = request;
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
    return this.runner.run(() => runCpuCapture(durationMs, samplingIntervalUs, this.clock, signal), { signal, ahead: background, expectedMs: durationMs });
  }
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
