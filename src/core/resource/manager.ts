import { randomBytes } from 'node:crypto';
import { systemClock, type Clock } from '../clock.js';
import { invalidArgument, notFound } from '../errors.js';
import { isPriority, PRIORITIES, type AdmissionController, type Permit, type Priority } from './admission/types.js';
import { HoldTimes } from './hold-times.js';
import { LoadShedder, type ShedState } from './load-shedder.js';
import { resolveResourceManagerConfig, type ResourceManagerConfig } from './manager-config.js';
import type { PressureSnapshot, PressureSource } from './signals/types.js';
import { SlidingWindowStats, type Outcome } from './window-stats.js';

export type AcquireResult =
  | { admitted: true; permitId: string }
  | { admitted: false; reason: string; retryAfterMs?: number };

export interface ResourceManagerOptions {
  /** Times round trips, leases, the window and pressure refreshes: monotonic, so a step of the wall clock does not bend them. */
  clock: Clock;
  /** Stamps the status, which users compare with other times; default systemClock. */
  wallClock?: Clock;
  controller: AdmissionController;
  pressure: PressureSource;
  config?: Partial<ResourceManagerConfig>;
}

/** Everything GetResources reports. */
export interface ResourceStatus {
  /** When the status was taken, by the wall clock. */
  atMs: number;
  controller: string;
  /** The controller's limit, in `limitUnit`. */
  limit: number;
  limitUnit: 'concurrency' | 'rps';
  /** Requests per second the token bucket allows; only for rate-limiting controllers. */
  rateLimitRps?: number;
  /** Permits held by work in progress: outstanding and not presumed lost. */
  inflight: number;
  /**
   * Permits held far longer than work takes while other work went on past them, or while nothing
   * at all was released (see `presumeLost`): their slots went back to the controller, but each can
   * still be released until its lease runs out.
   */
  presumedLost: number;
  /**
   * Permits of work in progress beyond the controller's estimate of how many requests the server
   * runs at once, i.e. work the server has queued (0 before the controller has an estimate).
   */
  pending: number;
  maxOutstanding: number;
  window: {
    windowMs: number;
    completions: number;
    successes: number;
    errors: number;
    dropped: number;
    successRate?: number;
    p50LatencyMs?: number;
    p99LatencyMs?: number;
    admitted: Record<Priority, number>;
    rejected: Record<Priority, number>;
    /** Critical requests refused at the controller's limit or RS3GW_MAX_PERMITS (not shed). */
    criticalRefusedAtCapacity: number;
  };
  totals: {
    admitted: Record<Priority, number>;
    rejected: Record<Priority, number>;
    /** The same refusals by why: pressure, the controller's limit, or RS3GW_MAX_PERMITS. */
    rejectedByReason: Record<RefusalReason, Record<Priority, number>>;
    /**
     * Permits reclaimed after their lease ran out, or presumed lost and forgotten early to keep
     * the outstanding permits within maxOutstanding.
     */
    reclaimed: number;
  };
  shedding: { level: number; byPriority: Record<Priority, ShedState> };
  pressure: PressureSnapshot;
}

/** Why an Acquire was refused. */
export type RefusalReason = 'shedding' | 'controller_limit' | 'outstanding_cap';
export const REFUSAL_REASONS: readonly RefusalReason[] = ['shedding', 'controller_limit', 'outstanding_cap'];

/** What shedding is doing and the pressure behind it: the part of the status that is cheap to read often. */
export type SheddingStatus = Pick<ResourceStatus, 'shedding' | 'pressure'>;

interface Held {
  permit: Permit;
  priority: Priority;
  acquiredMs: number;
  /** Releases counted when it was acquired, and the work in progress ahead of it then. */
  releasesBefore: number;
  ahead: number;
  /** Once presumed lost: the hold after which it was, the most its late release teaches (see release). */
  presumedAfterMs?: number;
}

const OUTCOMES: readonly Outcome[] = ['success', 'error', 'dropped'];
/** Retry hint when shedding or at the outstanding cap: about one pressure refresh. */
const SHED_RETRY_MS = 1000;
/** Where a priority is refused against the limit (or rate): sheddable traffic below it, critical above it. */
const CAP_BESIDE_LIMIT: Record<Priority, string> = {
  sheddable: ' less a reserve for higher priorities',
  normal: '',
  critical: " plus critical traffic's extra",
};
/**
 * A permit held this many times the recent p99.9 hold time may be presumed lost (a crashed or
 * leaky client): beyond the tail of the work, well short of a lease.
 */
const PRESUMED_LOST_HOLD_TAIL = 4;
/** The shortest hold presumed lost, whatever the tail: fast work leaves its client a pause (a GC, a retry) first. */
const PRESUMED_LOST_MIN_MS = 1000;
/**
 * Work that started after a permit and has finished, in units of the work in progress, that shows
 * the server went on past it: a slow server serves in about the order work came, so work is seldom
 * overtaken by twice what is in progress, while a lost permit is overtaken by everything.
 */
const OVERTAKEN_BY_IN_PROGRESS = 2;
/**
 * With no release at all for this long since a permit was taken (or the hold time's bound, if
 * longer), it is presumed lost without being overtaken: clients holding every slot have crashed, or the server has stalled
 * for longer than a pause; a stall sends it more work, so this waits out pauses first.
 */
const STALL_MIN_MS = 5000;
/**
 * Most slots a retry hint spans: a hint far beyond the time work takes would leave the server idle
 * once an overload ends.
 */
const MAX_RETRY_SLOTS = 10;

/**
 * Admission for the service: load shedding by priority from the pressure monitor, then the
 * admission controller, with leases so that permits a client forgets are reclaimed, and request
 * statistics over a sliding window.
 */
export class ResourceManager {
  private readonly clock: Clock;
  private readonly wallClock: Clock;
  private readonly controller: AdmissionController;
  private readonly pressure: PressureSource;
  private readonly config: ResourceManagerConfig;
  private readonly shedder: LoadShedder;
  private readonly stats: SlidingWindowStats;
  /**
   * Permits of work in progress in acquisition order, so the longest held are found at the front;
   * the controller counts each as in flight.
   */
  private readonly held = new Map<string, Held>();
  /**
   * Permits presumed lost, in acquisition order (that of their leases running out), still
   * releasable until their lease runs out; the controller has already been told each one ended.
   */
  private readonly lost = new Map<string, Held>();
  /** When the newest permit presumed lost was acquired, or later once it is gone: a bound for `addLost`. */
  private lostNewestMs = -Infinity;
  /** Permits released by their clients since start-up, and when the last one was. */
  private releases = 0;
  private lastReleaseMs: number | undefined;
  /**
   * How long clients held the permits they released before they were presumed lost: what "far
   * longer than work takes" is measured against.
   */
  private readonly holdTimes: HoldTimes;
  private readonly admittedTotal: Record<Priority, number> = { critical: 0, normal: 0, sheddable: 0 };
  private readonly rejectedTotal: Record<RefusalReason, Record<Priority, number>> = {
    shedding: { critical: 0, normal: 0, sheddable: 0 },
    controller_limit: { critical: 0, normal: 0, sheddable: 0 },
    outstanding_cap: { critical: 0, normal: 0, sheddable: 0 },
  };
  private reclaimed = 0;
  private snapshot: PressureSnapshot;
  private snapshotReadMs: number;

  constructor(options: ResourceManagerOptions) {
    this.clock = options.clock;
    this.wallClock = options.wallClock ?? systemClock;
    this.controller = options.controller;
    this.pressure = options.pressure;
    this.config = resolveResourceManagerConfig(options.config);
    this.shedder = new LoadShedder(this.config.shedThresholds, this.config.memoryPressureLevel, this.config.shedEscalationMs);
    this.stats = new SlidingWindowStats(this.config.windowMs, this.config.bucketMs);
    this.holdTimes = new HoldTimes(this.config.windowMs / 2, this.clock.nowMs());
    this.snapshotReadMs = this.clock.nowMs();
    this.snapshot = this.pressure.snapshot();
    this.updateShedding(this.snapshotReadMs);
  }

  /** The controller's current limit (cheap; `status()` has the full picture). */
  get limit(): number {
    return this.controller.limit;
  }

  /** Permits held by work in progress (not presumed lost). */
  get inflight(): number {
    return this.held.size;
  }

  acquire(priority: Priority = 'normal'): AcquireResult {
    if (!isPriority(priority)) {
      throw invalidArgument('priority', `must be one of ${PRIORITIES.join(', ')}, got '${String(priority)}'`);
    }
    const now = this.clock.nowMs();
    this.refreshPressure(now);
    if (this.shedder.sheds(priority)) {
      return this.refuse(now, priority, 'shedding', `shedding ${priority} traffic: pressure level ${this.shedder.level.toFixed(2)}`, SHED_RETRY_MS);
    }
    if (this.outstanding >= this.config.maxOutstanding) this.reclaimExpired(now);
    // Presumed-lost permits give way to work: the oldest is forgotten (its late release is not_found).
    if (this.outstanding >= this.config.maxOutstanding) this.forgetOldestLost(now);
    if (this.outstanding >= this.config.maxOutstanding) {
      return this.refuse(now, priority, 'outstanding_cap', `too many outstanding permits (cap ${this.config.maxOutstanding})`, SHED_RETRY_MS);
    }
    const permit = this.controller.tryAcquire(now, priority);
    if (permit === undefined) {
      const c = this.controller;
      const reason =
        c.limitUnit === 'rps'
          ? `rate limit reached (${c.limit.toFixed(0)} requests/s${CAP_BESIDE_LIMIT[priority]}, ${c.name})`
          : `concurrency limit reached (${c.inflight} in flight, limit ${Math.floor(c.limit)}${CAP_BESIDE_LIMIT[priority]}, ${c.name})`;
      return this.refuse(now, priority, 'controller_limit', reason, this.retryAfterMs(now));
    }
    const id = randomBytes(16).toString('base64url');
    this.held.set(id, { permit, priority, acquiredMs: now, releasesBefore: this.releases, ahead: this.held.size });
    this.admittedTotal[priority] += 1;
    this.stats.recordAdmission(now, priority);
    return { admitted: true, permitId: id };
  }

  /**
   * Ends a request. `latencyMs` defaults to the time since the permit was acquired, and counts at
   * most as that: the work ran between Acquire and Release, and one caller's figure must not set
   * the window's median, hence the retry hint every refused caller gets.
   */
  release(permitId: string, outcome: Outcome, latencyMs?: number): void {
    if (!OUTCOMES.includes(outcome)) {
      throw invalidArgument('outcome', `must be one of ${OUTCOMES.join(', ')}, got '${String(outcome)}'`);
    }
    if (latencyMs !== undefined && !(Number.isFinite(latencyMs) && latencyMs >= 0)) {
      throw invalidArgument('latency_ms', 'must be a finite number >= 0');
    }
    const held = this.held.get(permitId);
    const permit = held ?? this.lost.get(permitId);
    if (permit === undefined) {
      throw notFound('permit_id', 'no outstanding permit with this id (unknown, already released, or reclaimed)');
    }
    const now = this.clock.nowMs();
    const heldMs = Math.max(0, now - permit.acquiredMs);
    if (held !== undefined) {
      this.held.delete(permitId);
      this.controller.release(held.permit, { nowMs: now, dropped: outcome === 'dropped', failed: outcome === 'error' });
      this.holdTimes.add(now, heldMs);
    } else {
      // Presumed lost: its slot went back to the controller already, but its work did complete, so
      // work can take at least the bound it was presumed lost at, and that much is learned: work
      // that is long and real raises the bound fourfold per late release until it is no longer
      // presumed lost. Not its whole hold: among a few hundred releases the p99.9 is the longest,
      // and a single late one (22 s) would hold the next lost permits for about a lease.
      this.lost.delete(permitId);
      this.holdTimes.add(now, Math.min(heldMs, permit.presumedAfterMs ?? heldMs));
    }
    this.releases += 1;
    this.lastReleaseMs = now;
    this.stats.recordCompletion(now, outcome, Math.min(latencyMs ?? heldMs, heldMs));
  }

  /**
   * Housekeeping; call about every 100 ms: reclaims expired leases, presumes lost the permits held
   * far longer than work takes, reads pressure, ticks the controller.
   */
  tick(): void {
    const now = this.clock.nowMs();
    this.reclaimExpired(now);
    this.presumeLost(now);
    this.refreshPressure(now);
    this.controller.tick?.(now);
  }

  /** Shedding and pressure only, without the window's percentiles (for a caller on every tick). */
  sheddingStatus(): SheddingStatus {
    this.refreshPressure(this.clock.nowMs());
    return { shedding: { level: this.shedder.level, byPriority: this.shedder.states() }, pressure: this.snapshot };
  }

  status(): ResourceStatus {
    const now = this.clock.nowMs();
    const shedding = this.sheddingStatus();
    const c = this.controller;
    const w = this.stats.totals(now);
    const capacity = c.estimatedCapacity;
    return {
      atMs: this.wallClock.nowMs(),
      controller: c.name,
      limit: c.limit,
      limitUnit: c.limitUnit,
      ...(c.limitUnit === 'rps' ? { rateLimitRps: c.limit } : {}),
      inflight: this.held.size,
      presumedLost: this.lost.size,
      pending: capacity === undefined ? 0 : Math.max(0, Math.round(this.held.size - capacity)),
      maxOutstanding: this.config.maxOutstanding,
      window: {
        windowMs: w.windowMs,
        completions: w.completions,
        successes: w.successes,
        errors: w.errors,
        dropped: w.dropped,
        ...(w.successRate !== undefined ? { successRate: w.successRate } : {}),
        ...(w.p50LatencyMs !== undefined ? { p50LatencyMs: w.p50LatencyMs } : {}),
        ...(w.p99LatencyMs !== undefined ? { p99LatencyMs: w.p99LatencyMs } : {}),
        admitted: w.admitted,
        rejected: w.rejected,
        criticalRefusedAtCapacity: w.criticalRefusedAtCapacity,
      },
      totals: {
        admitted: { ...this.admittedTotal },
        rejected: Object.fromEntries(PRIORITIES.map((p) => [p, REFUSAL_REASONS.reduce((n, r) => n + this.rejectedTotal[r][p], 0)])) as Record<Priority, number>,
        rejectedByReason: Object.fromEntries(REFUSAL_REASONS.map((r) => [r, { ...this.rejectedTotal[r] }])) as Record<RefusalReason, Record<Priority, number>>,
        reclaimed: this.reclaimed,
      },
      ...shedding,
    };
  }

  private refuse(now: number, priority: Priority, why: RefusalReason, reason: string, retryAfterMs: number | undefined): AcquireResult {
    this.rejectedTotal[why][priority] += 1;
    this.stats.recordRejection(now, priority, why);
    return retryAfterMs === undefined ? { admitted: false, reason } : { admitted: false, reason, retryAfterMs };
  }

  /**
   * When a retry is likely to be admitted. A rate limiter frees a token every 1/rate, a concurrency
   * limiter a slot in about a median latency; but over the last second or two the service refused
   * r requests per admission, and a refused request that retries competes with them, so it waits
   * about 1 + r of those, at most MAX_RETRY_SLOTS. Under an overload of a few seconds, clients
   * that follow the hint retry once it is over instead of several times during it.
   */
  private retryAfterMs(now: number): number | undefined {
    const c = this.controller;
    const slotMs = c.limitUnit === 'rps' ? (c.limit > 0 ? 1000 / c.limit : undefined) : this.stats.medianLatencyMs(now);
    if (slotMs === undefined) return undefined;
    return Math.ceil(slotMs * Math.min(MAX_RETRY_SLOTS, 1 + this.stats.recentRefusalsPerAdmission(now)));
  }

  /** Permits outstanding: of work in progress, and presumed lost but still releasable. */
  private get outstanding(): number {
    return this.held.size + this.lost.size;
  }

  private reclaimExpired(now: number): void {
    for (const [id, held] of this.held) {
      if (now - held.acquiredMs < this.config.leaseMs) break;
      this.held.delete(id);
      this.controller.release(held.permit, { nowMs: now, dropped: true });
      this.reclaim(now);
    }
    for (const [id, lost] of this.lost) {
      if (now - lost.acquiredMs < this.config.leaseMs) break;
      this.lost.delete(id);
      this.reclaim(now);
    }
  }

  /**
   * A permit whose client never came back ends as dropped, without a latency: the time it was held
   * is the lease, not how long work takes, and would set the window's median (the retry hint every
   * refused caller gets) to minutes.
   */
  private reclaim(now: number): void {
    this.reclaimed += 1;
    this.stats.recordCompletion(now, 'dropped', undefined);
  }

  private forgetOldestLost(now: number): void {
    const oldest = this.lost.entries().next();
    if (oldest.done) return;
    const [id] = oldest.value;
    this.lost.delete(id);
    this.reclaim(now);
  }

  /**
   * A permit is presumed lost, its client crashed or leaking permits, when it has been held
   * PRESUMED_LOST_HOLD_TAIL x the recent p99.9 hold time (at least PRESUMED_LOST_MIN_MS) and
   * either work that started after it has finished, OVERTAKEN_BY_IN_PROGRESS times the work in
   * progress, or nothing at all was released since it was taken, for STALL_MIN_MS (or that bound,
   * if longer). Age alone is no sign: when the server slows down, all its work is held long, and
   * giving those slots away would pile more work on it. Waiting for the lease would keep a lost
   * permit's slot from everyone. The controller is told it ended as an error, so the slot is free
   * again: the adaptive controller learns nothing about load from it (no round trip, no deadline),
   * the seed rule counts a failure, as it does for a lease reclaimed. The permit stays releasable
   * until its lease runs out. Before any release nothing tells how long work takes, and only the
   * lease applies.
   */
  private presumeLost(now: number): void {
    const tail = this.holdTimes.tailMs(now);
    if (tail === undefined) return;
    const afterMs = Math.max(PRESUMED_LOST_MIN_MS, PRESUMED_LOST_HOLD_TAIL * tail);
    const stallMs = Math.max(STALL_MIN_MS, afterMs);
    const overtakenBy = OVERTAKEN_BY_IN_PROGRESS * Math.max(1, this.held.size);
    const presumed: Array<[string, Held]> = [];
    for (const [id, held] of this.held) {
      if (now - held.acquiredMs < afterMs) break;
      // A quiet spell before the permit was taken is no stall of its work.
      const stalled = now - Math.max(this.lastReleaseMs ?? held.acquiredMs, held.acquiredMs) >= stallMs;
      const finishedAfter = this.releases - held.releasesBefore - held.ahead;
      if (!stalled && finishedAfter < overtakenBy) continue;
      this.held.delete(id);
      held.presumedAfterMs = afterMs;
      presumed.push([id, held]);
      this.controller.release(held.permit, { nowMs: now, dropped: false, failed: true });
    }
    this.addLost(presumed);
  }

  /**
   * Adds permits just presumed lost (in acquisition order) to `lost`, keeping it in that order, on
   * which reclaimExpired and forgetOldestLost rely. A permit passed over while younger ones were
   * presumed (not yet overtaken by as much) comes after them, and only then is `lost` rebuilt.
   */
  private addLost(presumed: Array<[string, Held]>): void {
    if (presumed.length === 0) return;
    const inOrder = this.lost.size === 0 || presumed[0][1].acquiredMs >= this.lostNewestMs;
    const entries = inOrder ? presumed : [...this.lost, ...presumed].sort((a, b) => a[1].acquiredMs - b[1].acquiredMs);
    if (!inOrder) this.lost.clear();
    for (const [id, held] of entries) this.lost.set(id, held);
    const newestMs = presumed[presumed.length - 1][1].acquiredMs;
    this.lostNewestMs = inOrder ? newestMs : Math.max(this.lostNewestMs, newestMs);
  }

  private refreshPressure(now: number): void {
    if (now - this.snapshotReadMs < this.config.pressureRefreshMs && now >= this.snapshotReadMs) return;
    this.snapshot = this.pressure.snapshot();
    this.snapshotReadMs = now;
    this.updateShedding(now);
  }

  /**
   * Shed requests never reach the controller, which would read the calm they leave as spare
   * capacity: its limit is held while shedding lasts.
   */
  private updateShedding(now: number): void {
    const was = this.shedder.shedding;
    this.shedder.update(this.snapshot, now);
    if (this.shedder.shedding !== was) this.controller.holdLimit?.(this.shedder.shedding);
  }
}
