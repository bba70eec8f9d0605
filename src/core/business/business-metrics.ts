/**
 * Business KPIs of the gateway, fed by request events: storage utilisation, data transfer, request
 * patterns, user activity and a cost estimate; also exposed as Prometheus metrics (kpi-instruments.ts).
 *
 * Definitions (window = (now - `windowSeconds`, now], default 60 s, in one-second slots; the second it
 * starts in counts by the part of it inside: request-window.ts):
 * - upload/download rate: bytes in/out within the window / windowSeconds, a request's bytes spread
 *   evenly over its latency (a one-hour upload counts the minute of it the window holds). Peak: the
 *   highest such rate evaluated after each ingest, remembered per minute for 24 h.
 * - p50/p95/p99 latency: over the window, within 1% (see latency-histogram.ts); null without requests.
 * - errorRate: (4xx + 5xx) / requests within the window; clientErrorRate (4xx) and serverErrorRate (5xx)
 *   apart, since S3 clients cause many expected 4xx (404 on HEAD). All 0 without requests.
 * - requestsPerSec: requests completed within the window / windowSeconds (a request is one event,
 *   counted when it completed).
 * - totals, by-operation and by-bucket counts: since start (buckets capped, overflow in `_other`);
 *   byte totals exact over uint64 (byte-totals.ts).
 * - storage growth: over the last 24 h of the interval clock (monotonic in the service), so a step
 *   of the wall clock does not bend it; every other window is of event times, on the wall clock.
 *   Null until the history covers GROWTH_MIN_SPAN_MS (1 h): a per-day rate from seconds of history
 *   would extrapolate one upload into terabytes a day.
 * - users: a table of at most maxTrackedUsers users by Space-Saving (user-tracker.ts) for top users.
 *   Active users are counted exactly from the table while it holds every user seen in the window
 *   (no user seen since the window's start was replaced), else estimated by HyperLogLog
 *   (active-user-sketches.ts, relative standard error 1.6%), never below the exact count of the
 *   table's users seen in the window.
 * - costs: storage for a month at the current size; transfer and requests since start; the total is
 *   spending since start, storage counted as held over the interval clock (costs.ts).
 */
import { monotonicClock, systemClock, type Clock } from '../clock.js';
import { invalidArgument } from '../errors.js';
import type { MetricsEngine } from '../metrics/engine.js';
import { addBytes } from './byte-totals.js';
import { CappedCounts } from './capped-counts.js';
import { checkPrices, estimateCosts, type CostEstimate, type Prices } from './costs.js';
import { OPERATIONS, acceptEvents, type AcceptedEvent, type Operation, type RequestEvent } from './events.js';
import { createKpiInstruments, statusClass, type KpiInstruments } from './kpi-instruments.js';
import { ActiveUserSketches } from './active-user-sketches.js';
import { binOf } from './latency-histogram.js';
import { PeakTracker } from './peak-tracker.js';
import { RequestWindow } from './request-window.js';
import { StorageTracker, type StorageGrowth, type StorageUsage, type StorageUsageInput } from './storage-tracker.js';
import { UserTracker, type UserUsage } from './user-tracker.js';

export interface BusinessLimits {
  /** Length of the sliding window for rates, error rates and latency percentiles (1..3600). */
  windowSeconds: number;
  /** Buckets counted by name (report and `rs3gw_bucket_requests_total`); more go to `_other`. */
  maxTrackedBuckets: number;
  /** Users in the table behind the top users and the exact active counts. */
  maxTrackedUsers: number;
  /** Length of each top-users list (1..100). */
  topUsers: number;
  /** Events in one `ingest` call. */
  maxEventsPerBatch: number;
}

const DEFAULT_BUSINESS_LIMITS: BusinessLimits = {
  windowSeconds: 60,
  maxTrackedBuckets: 1_000,
  maxTrackedUsers: 10_000,
  topUsers: 10,
  maxEventsPerBatch: 10_000,
};

const LIMIT_RANGES: Record<keyof BusinessLimits, [number, number]> = {
  windowSeconds: [1, 3_600],
  maxTrackedBuckets: [1, 100_000],
  maxTrackedUsers: [1, 1_000_000],
  topUsers: [1, 100],
  maxEventsPerBatch: [1, 1_000_000],
};

const HOUR_MS = 3_600_000;
/** The proto's active-user fields are uint32. */
const UINT32_MAX = 0xffff_ffff;
const DAY_MS = 24 * HOUR_MS;
/** Peaks are remembered for one day. */
const PEAK_RETENTION_MINUTES = 24 * 60;

export interface BusinessMetricsOptions {
  /** The engine whose registries expose the KPI metrics. */
  metrics: MetricsEngine;
  /** The wall clock: event times, the windows over them, the report's timestamp. */
  clock?: Clock;
  /**
   * Times the storage growth history, which a step of the wall clock must not bend; default the
   * monotonic clock.
   */
  intervals?: Clock;
  prices?: Partial<Prices>;
  limits?: Partial<BusinessLimits>;
}

export interface BusinessReport {
  timestamp: string;
  storageUtilization: StorageUsage & StorageGrowth;
  dataTransfer: {
    uploadRateBytesPerSec: number;
    downloadRateBytesPerSec: number;
    peakUploadRateBytesPerSec: number;
    peakDownloadRateBytesPerSec: number;
    totalUploadedBytes: bigint;
    totalDownloadedBytes: bigint;
    rateWindowSeconds: number;
  };
  requestPatterns: {
    /** Null when the window holds no request. */
    p50LatencyMs: number | null;
    p95LatencyMs: number | null;
    p99LatencyMs: number | null;
    errorRate: number;
    clientErrorRate: number;
    serverErrorRate: number;
    requestsPerSec: number;
    totalRequests: number;
    /** 4xx and 5xx answers since start. */
    clientErrors: number;
    serverErrors: number;
    requestsByOperation: Record<Operation, number>;
    requestsByBucket: Record<string, number>;
    windowSeconds: number;
  };
  userActivity: {
    activeUsersLastHour: number;
    activeUsersLastDay: number;
    /** Whether the figure above is a HyperLogLog estimate rather than an exact count. */
    activeUsersLastHourEstimated: boolean;
    activeUsersLastDayEstimated: boolean;
    trackedUsers: number;
    /** The table's cap (maxTrackedUsers). */
    maxTrackedUsers: number;
    /** Users replaced since start because the table was full. */
    evictedUsers: number;
    /** Heaviest users by requests. */
    topUsers: UserUsage[];
  };
  costEstimate: CostEstimate;
}

export class BusinessMetrics {
  private readonly clock: Clock;
  private readonly intervals: Clock;
  private readonly limits: BusinessLimits;
  private readonly prices: Prices;
  private readonly window: RequestWindow;
  private readonly peakUpload = new PeakTracker(PEAK_RETENTION_MINUTES);
  private readonly peakDownload = new PeakTracker(PEAK_RETENTION_MINUTES);
  private readonly storage: StorageTracker;
  private readonly users: UserTracker;
  private readonly userSketches = new ActiveUserSketches();
  private readonly byBucket: CappedCounts;
  private readonly byOperation = Object.fromEntries(OPERATIONS.map((op) => [op, 0])) as Record<Operation, number>;
  private readonly totals = { requests: 0, bytesIn: 0n, bytesOut: 0n, clientErrors: 0, serverErrors: 0 };
  private readonly instruments: KpiInstruments;
  private readonly metrics: MetricsEngine;

  constructor(options: BusinessMetricsOptions) {
    this.metrics = options.metrics;
    this.clock = options.clock ?? systemClock;
    this.intervals = options.intervals ?? monotonicClock;
    this.storage = new StorageTracker(this.intervals.nowMs());
    this.limits = checkLimits({ ...DEFAULT_BUSINESS_LIMITS, ...options.limits });
    this.prices = checkPrices(options.prices);
    this.window = new RequestWindow(this.limits.windowSeconds);
    this.users = new UserTracker(this.limits.maxTrackedUsers);
    this.byBucket = new CappedCounts(this.limits.maxTrackedBuckets);
    this.instruments = createKpiInstruments(options.metrics, {
      storage: () => ({ ...this.storage.current, totalBytes: Number(this.storage.current.totalBytes) }),
      storageGrowthBytesPerDay: () => this.storage.growth(this.intervals.nowMs()).growthRateBytesPerDay,
      transferRates: () => this.rates(this.clock.nowMs()),
      activeUsers: () => {
        const now = this.clock.nowMs();
        return { hour: this.activeUsers(now, HOUR_MS).count, day: this.activeUsers(now, DAY_MS).count };
      },
      users: () => ({ tracked: this.users.tracked, evicted: this.users.evicted }),
      costs: () => this.costs(),
    }, this.limits.maxTrackedUsers);
  }

  /** Validates every event first (nothing is applied if one is bad), then counts them all. */
  ingest(events: RequestEvent[]): { accepted: number } {
    const nowMs = this.clock.nowMs();
    const accepted = acceptEvents(events, nowMs, this.limits.maxEventsPerBatch);
    const intervalMs = this.intervals.nowMs();
    for (const event of accepted) this.apply(event, nowMs, intervalMs);
    const rates = this.rates(nowMs);
    this.peakUpload.observe(nowMs, rates.upload);
    this.peakDownload.observe(nowMs, rates.download);
    return { accepted: accepted.length };
  }

  /** Absolute storage figures from a gateway that knows them; request deltas then apply on top. */
  setStorageUsage(usage: StorageUsageInput): BusinessReport['storageUtilization'] {
    this.storage.set(usage, this.intervals.nowMs());
    return this.storageUtilization();
  }

  /** The KPI metrics alone, in Prometheus text. */
  exportPrometheus(): Promise<string> {
    return this.metrics.exportPrometheus('kpi');
  }

  /** The KPIs at `nowMs` on the wall clock; storage growth and costs are always as of now (interval clock). */
  report(nowMs: number = this.clock.nowMs()): BusinessReport {
    if (typeof nowMs !== 'number' || !Number.isFinite(nowMs)) throw invalidArgument('now_ms', 'must be a finite time');
    const seconds = this.limits.windowSeconds;
    const counts = this.window.counts(nowMs);
    const [p50, p95, p99] = this.window.latencyQuantiles(nowMs, [0.5, 0.95, 0.99]);
    const rates = this.rates(nowMs);
    const hour = this.activeUsers(nowMs, HOUR_MS);
    const day = this.activeUsers(nowMs, DAY_MS);
    return {
      timestamp: new Date(nowMs).toISOString(),
      storageUtilization: this.storageUtilization(),
      dataTransfer: {
        uploadRateBytesPerSec: rates.upload,
        downloadRateBytesPerSec: rates.download,
        peakUploadRateBytesPerSec: Math.max(this.peakUpload.peak(nowMs), rates.upload),
        peakDownloadRateBytesPerSec: Math.max(this.peakDownload.peak(nowMs), rates.download),
        totalUploadedBytes: this.totals.bytesIn,
        totalDownloadedBytes: this.totals.bytesOut,
        rateWindowSeconds: seconds,
      },
      requestPatterns: {
        p50LatencyMs: p50,
        p95LatencyMs: p95,
        p99LatencyMs: p99,
        errorRate: ratio(counts.clientErrors + counts.serverErrors, counts.requests),
        clientErrorRate: ratio(counts.clientErrors, counts.requests),
        serverErrorRate: ratio(counts.serverErrors, counts.requests),
        requestsPerSec: counts.requests / seconds,
        totalRequests: this.totals.requests,
        clientErrors: this.totals.clientErrors,
        serverErrors: this.totals.serverErrors,
        requestsByOperation: { ...this.byOperation },
        requestsByBucket: this.byBucket.toRecord(),
        windowSeconds: seconds,
      },
      userActivity: {
        activeUsersLastHour: hour.count,
        activeUsersLastDay: day.count,
        activeUsersLastHourEstimated: hour.estimated,
        activeUsersLastDayEstimated: day.estimated,
        trackedUsers: this.users.tracked,
        maxTrackedUsers: this.users.maxUsers,
        evictedUsers: this.users.evicted,
        topUsers: this.users.top(this.limits.topUsers),
      },
      costEstimate: this.costs(),
    };
  }

  /** `nowMs` on the wall clock, `intervalMs` on the interval clock. */
  private apply(event: AcceptedEvent, nowMs: number, intervalMs: number): void {
    const { operation, status, bytesIn, bytesOut } = event;
    this.totals.requests += 1;
    this.totals.bytesIn = addBytes(this.totals.bytesIn, bytesIn);
    this.totals.bytesOut = addBytes(this.totals.bytesOut, bytesOut);
    if (status >= 400 && status < 500) this.totals.clientErrors += 1;
    if (status >= 500) this.totals.serverErrors += 1;
    this.byOperation[operation] += 1;
    this.users.record(event.user, event.timeMs, bytesIn, bytesOut);
    this.userSketches.add(event.user, event.timeMs, nowMs);
    this.window.add(event, event.latencyMs === undefined ? undefined : binOf(event.latencyMs), nowMs);
    this.storage.change(event.storedBucketsDelta, event.storedObjectsDelta, event.storedBytesDelta, intervalMs);

    const { requests, bucketRequests, transferBytes, latency } = this.instruments;
    requests.inc({ operation, status_class: statusClass(status) });
    if (event.bucket) bucketRequests.inc({ bucket: this.byBucket.add(event.bucket, 1) });
    if (bytesIn) transferBytes.inc({ direction: 'in' }, bytesIn);
    if (bytesOut) transferBytes.inc({ direction: 'out' }, bytesOut);
    if (event.latencyMs !== undefined) latency.observe({ operation }, event.latencyMs / 1000);
  }

  private storageUtilization(): BusinessReport['storageUtilization'] {
    return { ...this.storage.current, ...this.storage.growth(this.intervals.nowMs()) };
  }

  /** Distinct users seen in the last `spanMs`: exact while the table lost none of them, else estimated. */
  private activeUsers(nowMs: number, spanMs: number): { count: number; estimated: boolean } {
    const since = nowMs - spanMs;
    const exact = this.users.activeSince(since);
    if (this.users.completeSince(since)) return { count: exact, estimated: false };
    const estimate = Math.min(Math.round(this.userSketches.estimateSince(since, nowMs)), UINT32_MAX);
    return { count: Math.max(exact, estimate), estimated: true };
  }

  private rates(nowMs: number): { upload: number; download: number } {
    const counts = this.window.counts(nowMs);
    return { upload: counts.bytesIn / this.limits.windowSeconds, download: counts.bytesOut / this.limits.windowSeconds };
  }

  private costs(): CostEstimate {
    return estimateCosts(this.prices, {
      storedBytes: Number(this.storage.current.totalBytes),
      storedByteMonths: this.storage.byteMonthsHeld(this.intervals.nowMs()),
      bytesOut: Number(this.totals.bytesOut),
      requests: this.totals.requests,
    });
  }
}

function ratio(part: number, whole: number): number {
  return whole ? part / whole : 0;
}

function checkLimits(limits: BusinessLimits): BusinessLimits {
  for (const [name, [min, max]] of Object.entries(LIMIT_RANGES)) {
    const value = limits[name as keyof BusinessLimits];
    if (!Number.isInteger(value) || value < min || value > max) {
      throw invalidArgument(`limits.${name}`, `must be an integer in ${min}..${max}`);
    }
  }
  return limits;
}
