import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import { type Clock, monotonicClock, systemClock } from '../../clock.js';
import { CountedLog } from '../../counted-log.js';
import { failedPrecondition, invalidArgument, notFound, resourceExhausted } from '../../errors.js';
import { logLine } from '../../log-line.js';
import { pageLimit } from '../../page-limit.js';
import { encodeProfile } from '../pprof/codec.js';
import { ProfileMerger } from '../pprof/merge.js';
import { profileTimes } from '../pprof/profile-times.js';
import { CpuCaptures } from '../v8/cpu-capture.js';
import { ExclusiveRunner } from '../v8/exclusive-runner.js';
import { type ContinuousProfilingConfig, resolveContinuousProfilingConfig } from './config.js';
import { ProfileStore, type StoredProfile, type StoredProfileInfo } from './profile-store.js';

/** Takes one CPU profile as gzipped pprof with time_nanos and duration_nanos set; must reject promptly when the signal aborts. */
export type CpuCaptureFunction = (request: { durationMs: number; samplingIntervalUs: number; signal: AbortSignal }) => Promise<Uint8Array>;

export interface ContinuousProfilerOptions {
  /** Stamps a profile whose own header has no time; default the wall clock. */
  clock?: Clock;
  /** Times the rest of each interval, which a step of the wall clock must not bend; default monotonic. */
  intervals?: Clock;
  /**
   * Defaults to a background capture of `cpuCaptures` (this process's V8 profiler): it waits only
   * for the capture running, ahead of queued on-demand ones, and takes none of their places.
   */
  capture?: CpuCaptureFunction;
  /** The captures on-demand ones queue on too; default its own, on `clock` and `intervals`. */
  cpuCaptures?: CpuCaptures;
  config?: Partial<ContinuousProfilingConfig>;
  /**
   * Where failed and skipped captures are reported, at most once a minute, and the first profile too
   * large to store; default stderr.
   */
  log?: (message: string) => void;
}

/** A time range over profile start times, [startMs, endMs); open ends when omitted. */
export interface ProfileRange {
  startMs?: number;
  endMs?: number;
}

export interface ProfileListQuery extends ProfileRange {
  /** Most recent profiles to return; default DEFAULT_LIST_LIMIT, at most MAX_LIST_LIMIT. */
  limit?: number;
}

export interface MergedProfile {
  /** Gzipped pprof of all profiles in the range. */
  data: Uint8Array;
  profileIds: string[];
  /** Start of the earliest profile and end of the latest one. */
  startMs: number;
  endMs: number;
}

export interface ContinuousProfilerStats {
  running: boolean;
  storedProfiles: number;
  storedBytes: number;
  evictedProfiles: number;
  completedCaptures: number;
  failedCaptures: number;
  /**
   * Due times that got no capture: they passed while the capture before them waited for an
   * on-demand one (at most RS3GW_PROFILING_MAX_SECONDS) and ran.
   */
  skippedCaptures: number;
  /** Captures not stored: each profile alone was larger than the byte cap (RS3GW_PROFILING_MAX_PROFILE_BYTES). */
  oversizedCaptures: number;
  lastError?: string;
}

const DEFAULT_LIST_LIMIT = 100;
const MAX_LIST_LIMIT = 10_000;
/** Merges queued behind the running one; more are refused (resource_exhausted). */
export const MAX_WAITING_MERGES = 4;
/** Failed and skipped captures are logged at most this often, summed since the last line. */
const CAPTURE_PROBLEM_LOG_INTERVAL_MS = 60_000;

/**
 * Captures a short CPU profile every interval while running and keeps them under the retention
 * caps, for listing, fetching and merging over a time range.
 */
export class ContinuousProfiler {
  readonly config: ContinuousProfilingConfig;
  private readonly clock: Clock;
  private readonly intervals: Clock;
  private readonly capture: CpuCaptureFunction;
  private readonly store: ProfileStore;
  private readonly merges = new ExclusiveRunner(MAX_WAITING_MERGES, 'merges of stored profiles');
  private timer: NodeJS.Timeout | undefined;
  private inFlight: { controller: AbortController; promise: Promise<StoredProfileInfo> } | undefined;
  private isRunning = false;
  /** Bumped by start and stop, so a cycle from an earlier run never schedules another. */
  private generation = 0;
  private sequence = 0;
  private completed = 0;
  private oversized = 0;
  private lastError: string | undefined;
  private readonly log: (message: string) => void;
  /** Failed and skipped captures, logged at most once a minute. */
  private readonly problems: CountedLog<'failed' | 'skipped'>;

  constructor(options: ContinuousProfilerOptions = {}) {
    this.config = resolveContinuousProfilingConfig(options.config);
    this.clock = options.clock ?? systemClock;
    this.intervals = options.intervals ?? monotonicClock;
    const cpuCaptures = options.cpuCaptures ?? new CpuCaptures({ clock: this.clock, intervals: this.intervals });
    this.capture = options.capture ?? ((request) => cpuCaptures.capture({ ...request, background: true }));
    this.store = new ProfileStore(this.config.maxProfiles, this.config.maxBytes);
    this.log = options.log ?? logLine;
    this.problems = new CountedLog(['failed', 'skipped'], (counts) => this.writeLog(counts), CAPTURE_PROBLEM_LOG_INTERVAL_MS, this.intervals);
  }

  get running(): boolean {
    return this.isRunning;
  }

  /** Starts capturing: the first profile at once, then one every intervalMs. */
  start(): void {
    if (this.isRunning) return;
    this.isRunning = true;
    this.generation++;
    this.schedule(0);
  }

  /** Stops the schedule and abandons a capture in flight; resolves once it has let go of the profiler. */
  async stop(): Promise<void> {
    this.isRunning = false;
    this.generation++;
    clearTimeout(this.timer);
    this.timer = undefined;
    const inFlight = this.inFlight;
    if (inFlight) {
      inFlight.controller.abort(new Error('continuous profiling stopped'));
      await inFlight.promise.catch(() => undefined);
    }
    // What waits for the minute to end is said now, or never.
    this.problems.flush();
  }

  /**
   * Captures one profile now and stores it; joins the capture already in flight, if any. Rejects
   * with resource_exhausted when the profile alone is larger than the byte cap.
   */
  captureNow(): Promise<StoredProfileInfo> {
    if (this.inFlight) return this.inFlight.promise;
    const controller = new AbortController();
    const promise = this.captureAndStore(controller.signal).finally(() => {
      this.inFlight = undefined;
    });
    this.inFlight = { controller, promise };
    return promise;
  }

  /** Profiles that started in the range, most recent first. */
  list(query: ProfileListQuery = {}): StoredProfileInfo[] {
    // The limit first, as the service checked it before the range: a call wrong in both names it.
    const limit = pageLimit(query.limit, 'limit', { default: DEFAULT_LIST_LIMIT, max: MAX_LIST_LIMIT });
    const { startMs, endMs } = this.range(query);
    return this.store
      .inRange(startMs, endMs)
      .reverse()
      .slice(0, limit)
      .map(infoOf);
  }

  get(id: string): StoredProfile {
    const profile = this.store.get(id);
    if (!profile) throw notFound('id', `no stored profile "${id}" (it may have been evicted by the retention caps)`);
    return profile;
  }

  /**
   * One profile summing every stored profile that started in the range. Each profile is decoded and
   * folded in on its own turn of the event loop (under a ms each; a full store takes seconds), so the
   * service keeps answering meanwhile; an abort of `signal` stops the merge between two profiles.
   */
  merge(range: ProfileRange = {}, signal?: AbortSignal): Promise<MergedProfile> {
    // One at a time: each holds its result, which can reach the decoded size of its range.
    return this.merges.run(() => this.mergeNow(range, signal), { signal });
  }

  private async mergeNow(range: ProfileRange, signal: AbortSignal | undefined): Promise<MergedProfile> {
    const { startMs, endMs } = this.range(range);
    const profiles = this.store.inRange(startMs, endMs);
    if (profiles.length === 0) {
      const state = this.isRunning ? 'running' : 'not running';
      throw failedPrecondition(
        undefined,
        `no stored profiles started in [${describeTime(startMs)}, ${describeTime(endMs)}); continuous profiling is ${state}`,
      );
    }
    // Each was checked as a valid profile when it was stored (profileTimes).
    const merger = new ProfileMerger('profiles', { validated: true });
    for (const p of profiles) {
      signal?.throwIfAborted();
      merger.add(p.data);
      await yieldToEventLoop();
    }
    signal?.throwIfAborted();
    return {
      data: encodeProfile(merger.result()),
      profileIds: profiles.map((p) => p.id),
      startMs: profiles[0].startMs,
      endMs: profiles.reduce((latest, p) => Math.max(latest, p.startMs + p.durationMs), -Infinity),
    };
  }

  stats(): ContinuousProfilerStats {
    return {
      running: this.isRunning,
      storedProfiles: this.store.size,
      storedBytes: this.store.totalBytes,
      evictedProfiles: this.store.evicted,
      completedCaptures: this.completed,
      failedCaptures: this.problems.totals.failed,
      skippedCaptures: this.problems.totals.skipped,
      oversizedCaptures: this.oversized,
      ...(this.lastError === undefined ? {} : { lastError: this.lastError }),
    };
  }

  private schedule(delayMs: number): void {
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.cycle();
    }, delayMs);
    // The service's servers keep the process alive; this timer alone should not.
    this.timer.unref();
  }

  private async cycle(): Promise<void> {
    const generation = this.generation;
    const cycleStart = this.intervals.nowMs();
    try {
      await this.captureNow();
    } catch {
      // Counted in captureAndStore; a failed capture must not end the schedule.
    }
    if (!this.isRunning || generation !== this.generation) return;
    const elapsedMs = this.intervals.nowMs() - cycleStart;
    // A capture that waited for an on-demand one, or whose own setup and encoding took long (a
    // millisecond interval under load), can outlast the interval: the next starts at once, for the
    // latest due time passed; the ones before it got no capture.
    const passed = Math.floor(elapsedMs / this.config.intervalMs);
    if (passed > 1) this.problems.add('skipped', passed - 1);
    this.schedule(Math.max(0, this.config.intervalMs - elapsedMs));
  }

  private writeLog({ failed, skipped }: Record<'failed' | 'skipped', number>): void {
    const parts = [
      ...(failed > 0 ? [`${failed} failed (the last: ${this.lastError})`] : []),
      ...(skipped > 0 ? [`${skipped} skipped (due while the capture before still waited or ran: behind an on-demand capture, or longer than the interval)`] : []),
    ];
    this.log(`continuous profiling: captures ${parts.join(', ')}; logged at most once a minute`);
  }

  private async captureAndStore(signal: AbortSignal): Promise<StoredProfileInfo> {
    const requestedMs = this.clock.nowMs();
    let data: Uint8Array;
    let header: { startMs: number; durationMs: number };
    try {
      data = await this.capture({ durationMs: this.config.captureDurationMs, samplingIntervalUs: this.config.samplingIntervalUs, signal });
      header = profileTimes(data, requestedMs);
    } catch (err) {
      if (!signal.aborted) {
        this.lastError = (err as Error).message;
        this.problems.add('failed');
      }
      throw err;
    }
    const profile: StoredProfile = {
      id: `cpu-${header.startMs}-${++this.sequence}`,
      type: 'cpu',
      ...header,
      sizeBytes: data.byteLength,
      data,
    };
    if (!this.store.add(profile)) this.refuseOversized(profile.sizeBytes);
    this.completed++;
    return infoOf(profile);
  }

  /**
   * A profile over the byte cap on its own is not stored; logged once only, as every capture after
   * it is likely as large until the cap is raised, and counted in the stats for as long.
   */
  private refuseOversized(sizeBytes: number): never {
    const why = `a profile of ${sizeBytes} bytes is larger than RS3GW_PROFILING_MAX_PROFILE_BYTES (${this.config.maxBytes}) on its own`;
    if (++this.oversized === 1) {
      this.log(`continuous profiling: ${why}, so it was not stored (the stored profiles were kept); raise the setting to keep such profiles. Those not stored are counted as oversized_captures in the health report; logged once`);
    }
    throw resourceExhausted(undefined, `${why}; not stored`);
  }

  private range(range: ProfileRange): { startMs: number; endMs: number } {
    const startMs = range.startMs ?? -Infinity;
    const endMs = range.endMs ?? Infinity;
    if (range.startMs !== undefined && !Number.isFinite(range.startMs)) {
      throw invalidArgument('start_time', `must be a finite time in ms since the epoch, got ${range.startMs}`);
    }
    if (range.endMs !== undefined && !Number.isFinite(range.endMs)) {
      throw invalidArgument('end_time', `must be a finite time in ms since the epoch, got ${range.endMs}`);
    }
    if (startMs > endMs) throw invalidArgument('end_time', `must not be before start_time (${describeTime(startMs)}), got ${describeTime(endMs)}`);
    return { startMs, endMs };
  }
}

function infoOf(profile: StoredProfile): StoredProfileInfo {
  const { id, type, startMs, durationMs, sizeBytes } = profile;
  return { id, type, startMs, durationMs, sizeBytes };
}

function describeTime(ms: number): string {
  return Number.isFinite(ms) ? new Date(ms).toISOString() : ms > 0 ? 'end of time' : 'beginning of time';
}
