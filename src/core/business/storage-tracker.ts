/**
 * Stored buckets, objects and bytes, with a bounded history of the stored bytes for the growth
 * rate: the level as a step function of time, at most two steps a minute, over the last 24 h.
 * Until a gateway sets absolute figures the history is relative to a base not yet known, and may go
 * below zero where total_bytes stops at 0 (a delete of bytes stored before the start).
 * Times are on the interval clock the owner passes (monotonic in the service): a step of the wall
 * clock would otherwise overlap the history with itself, or stretch it, and bend the rate.
 */
import { invalidArgument } from '../errors.js';
import { addBytes, addRelativeBytes, MAX_BYTE_TOTAL } from './byte-totals.js';
import { StorageAccrual } from './storage-accrual.js';

export interface StorageUsage {
  /** Counts stay within 0..2^53 - 1, where a double counts exactly (see addCount). */
  buckets: number;
  objects: number;
  /** Exact over uint64 (see byte-totals.ts). */
  totalBytes: bigint;
}

/** Absolute figures as a gateway gives them: total bytes as a safe integer or a bigint. */
export type StorageUsageInput = Omit<StorageUsage, 'totalBytes'> & { totalBytes: number | bigint };

export interface StorageGrowth {
  /** Bytes per day, least squares over `growthWindowMs`; null while that is under GROWTH_MIN_SPAN_MS. */
  growthRateBytesPerDay: number | null;
  /** Span of history the fit covers: since start, up to GROWTH_WINDOW_MS. */
  growthWindowMs: number;
}

/** From `atMs` on, the stored bytes were `bytes`, until the next step. */
interface LevelStep {
  atMs: number;
  bytes: bigint;
}

const MINUTE_MS = 60_000;
const GROWTH_WINDOW_MS = 24 * 60 * MINUTE_MS;
/** Shortest history a rate per day is fitted over. */
const GROWTH_MIN_SPAN_MS = 60 * MINUTE_MS;
const DAY_MS = 24 * 60 * MINUTE_MS;
/**
 * Two steps per minute of the window (the minute's first change and its last), plus the step the
 * window starts on and the two of the current minute.
 */
export const MAX_GROWTH_STEPS = 2 * (GROWTH_WINDOW_MS / MINUTE_MS) + 3;

/**
 * `count + delta` within 0..Number.MAX_SAFE_INTEGER: past 2^53 - 1 a double stops counting by one
 * (a put left 2^54 unchanged), so a count stays there (saturates), as byte totals do at 2^64 - 1.
 */
function addCount(count: number, delta: number): number {
  return Math.min(Number.MAX_SAFE_INTEGER, Math.max(0, count + delta));
}

export class StorageTracker {
  private usage: StorageUsage = { buckets: 0, objects: 0, totalBytes: 0n };
  private readonly steps: LevelStep[];
  /** Whether a gateway has set absolute figures: until then the totals count from an unknown base. */
  private absolute = false;
  /**
   * The level the history follows: total_bytes once absolute, before that the sum of the deltas,
   * which does not stop at 0, so that the first absolute figures re-base every step alike.
   */
  private historyBytes = 0n;
  /** total_bytes as held over time, for the storage cost so far. */
  private readonly accrual: StorageAccrual;

  constructor(startMs: number) {
    this.steps = [{ atMs: startMs, bytes: 0n }];
    this.accrual = new StorageAccrual(startMs);
  }

  get current(): StorageUsage {
    return { ...this.usage };
  }

  /**
   * Byte-months of total_bytes held from start to `nowMs`: each figure for as long as it stood (before
   * the first absolute figures, the sum of the deltas, as total_bytes read then).
   */
  byteMonthsHeld(nowMs: number): number {
    return this.accrual.byteMonths(nowMs);
  }

  /**
   * Applies request deltas; the figures never go below zero (a gateway may report deletes of
   * unseen data), the history before absolute figures does (see historyBytes).
   */
  change(buckets: number, objects: number, bytes: number, nowMs: number): void {
    this.usage = {
      buckets: addCount(this.usage.buckets, buckets),
      objects: addCount(this.usage.objects, objects),
      totalBytes: addBytes(this.usage.totalBytes, bytes),
    };
    this.accrual.hold(this.usage.totalBytes, nowMs);
    this.historyBytes = this.absolute ? this.usage.totalBytes : addRelativeBytes(this.historyBytes, bytes);
    if (bytes !== 0) this.step(nowMs);
  }

  /**
   * Absolute figures from a gateway that knows them; they replace the running totals. The first
   * ones only tell the base the deltas so far counted from, so they move the whole history and are
   * no growth; later ones are the level then, and a change from the running total is growth.
   */
  set(usage: StorageUsageInput, nowMs: number): void {
    const given = usage as Partial<StorageUsageInput> | undefined;
    const count = (value: unknown, field: string) => {
      if (!Number.isSafeInteger(value) || (value as number) < 0) throw invalidArgument(field, `must be a whole number from 0 to ${Number.MAX_SAFE_INTEGER} (2^53 - 1), got ${String(value)}`);
      return value as number;
    };
    const bytes = given?.totalBytes;
    if (typeof bytes === 'bigint' ? bytes < 0n || bytes > MAX_BYTE_TOTAL : !Number.isSafeInteger(bytes) || (bytes as number) < 0) {
      throw invalidArgument('total_bytes', `must be a whole number from 0 to ${MAX_BYTE_TOTAL} (2^64 - 1; as a number, at most ${Number.MAX_SAFE_INTEGER}), got ${String(bytes)}`);
    }
    const next = { buckets: count(given?.buckets, 'buckets'), objects: count(given?.objects, 'objects'), totalBytes: BigInt(bytes as number | bigint) };
    if (!this.absolute) {
      // The steps so far are the level relative to this base: shifted by it, each is the level then.
      const base = next.totalBytes - this.historyBytes;
      for (const s of this.steps) s.bytes += base;
      this.absolute = true;
    }
    this.usage = next;
    this.accrual.hold(next.totalBytes, nowMs);
    this.historyBytes = next.totalBytes;
    this.step(nowMs);
  }

  /** Where the growth fit starts: a day back, or when the service started if that is later. */
  private fitStart(nowMs: number): number {
    return Math.max(this.steps[0]!.atMs, nowMs - GROWTH_WINDOW_MS);
  }

  /**
   * The growth rate and the span of history it is fitted over: the last 24 h, or since the
   * service started. Under GROWTH_MIN_SPAN_MS the rate is null: a line through seconds of history
   * scaled to a day turns one upload into terabytes a day.
   */
  growth(nowMs: number): StorageGrowth {
    const growthWindowMs = Math.max(0, nowMs - this.fitStart(nowMs));
    return { growthRateBytesPerDay: growthWindowMs >= GROWTH_MIN_SPAN_MS ? this.growthRatePerDay(nowMs) : null, growthWindowMs };
  }

  /**
   * Slope of the least-squares line through the stored bytes over the last 24 h (or since the
   * service started), in bytes per day. The fit is over the level at every instant, not over the
   * steps, so that the time between changes weighs as it lasted.
   */
  growthRatePerDay(nowMs: number): number {
    const from = this.fitStart(nowMs);
    if (!(nowMs > from)) return 0;
    // Moments of the level over [from, now], with time in days from `from` (small numbers: the
    // cubes of epoch milliseconds would lose every digit that matters), and the level as a double
    // relative to the first step's (a day's change is exact where the level itself may not be).
    const base = this.steps[0]!.bytes;
    let s = 0;
    let st = 0;
    let stt = 0;
    let sv = 0;
    let svt = 0;
    for (let i = 0; i < this.steps.length; i++) {
      const a = Math.max(this.steps[i]!.atMs, from);
      const b = Math.min(this.steps[i + 1]?.atMs ?? nowMs, nowMs);
      if (!(b > a)) continue;
      const [ta, tb] = [(a - from) / DAY_MS, (b - from) / DAY_MS];
      const v = Number(this.steps[i]!.bytes - base);
      const dt = tb - ta;
      const dtt = (tb * tb - ta * ta) / 2;
      s += dt;
      st += dtt;
      stt += (tb ** 3 - ta ** 3) / 3;
      sv += v * dt;
      svt += v * dtt;
    }
    const spread = s * stt - st * st;
    return spread > 0 ? (s * svt - st * sv) / spread : 0;
  }

  /** Number of stored steps (bounded by MAX_GROWTH_STEPS). */
  get historyLength(): number {
    return this.steps.length;
  }

  /**
   * The level changed now. Within a minute only its first step and its last are kept (the last
   * one moved as the minute goes on): the level before and after the minute stay exact, and what
   * it did in between weighs at most a minute.
   */
  private step(nowMs: number): void {
    const minute = Math.floor(nowMs / MINUTE_MS);
    const n = this.steps.length;
    const inMinute = (i: number) => i >= 1 && Math.floor(this.steps[i]!.atMs / MINUTE_MS) === minute;
    const point = { atMs: nowMs, bytes: this.historyBytes };
    if (inMinute(n - 1) && inMinute(n - 2)) this.steps[n - 1] = point;
    else this.steps.push(point);
    // The step the window starts on is kept: it holds the level at the window's start.
    while (this.steps.length > MAX_GROWTH_STEPS || (this.steps.length > 1 && this.steps[1]!.atMs <= nowMs - GROWTH_WINDOW_MS)) {
      this.steps.shift();
    }
  }
}
