/**
 * Stored buckets, objects and bytes, with a bounded history of the stored bytes for the growth
 * rate: the level as a step function of time, at most two steps a minute, over the last 24 h.
 */
import { invalidArgument } from '../errors.js';
import type { SnapshotPoint } from '../metrics/snapshots.js';

export interface StorageUsage {
  buckets: number;
  objects: number;
  totalBytes: number;
}

const MINUTE_MS = 60_000;
export const GROWTH_WINDOW_MS = 24 * 60 * MINUTE_MS;
const DAY_MS = 24 * 60 * MINUTE_MS;
/**
 * Two steps per minute of the window (the minute's first change and its last), plus the step the
 * window starts on and the two of the current minute.
 */
export const MAX_GROWTH_STEPS = 2 * (GROWTH_WINDOW_MS / MINUTE_MS) + 3;

export class StorageTracker {
  private usage: StorageUsage = { buckets: 0, objects: 0, totalBytes: 0 };
  /** From each step's time on, total bytes were its value, until the next step. */
  private readonly steps: SnapshotPoint[];
  /** Whether a gateway has set absolute figures: until then the totals count from an unknown base. */
  private absolute = false;

  constructor(startMs: number) {
    this.steps = [{ timestampMs: startMs, value: 0 }];
  }

  get current(): StorageUsage {
    return { ...this.usage };
  }

  /** Applies request deltas; figures never go below zero (a gateway may report deletes of unseen data). */
  change(buckets: number, objects: number, bytes: number, nowMs: number): void {
    this.usage = {
      buckets: Math.max(0, this.usage.buckets + buckets),
      objects: Math.max(0, this.usage.objects + objects),
      totalBytes: Math.max(0, this.usage.totalBytes + bytes),
    };
    if (bytes !== 0) this.step(nowMs);
  }

  /**
   * Absolute figures from a gateway that knows them; they replace the running totals. The first
   * ones only tell the base the deltas so far counted from, so they move the whole history and are
   * no growth; later ones are the level then, and a change from the running total is growth.
   */
  set(usage: StorageUsage, nowMs: number): void {
    const checked = (name: keyof StorageUsage, field: string) => {
      const value = (usage as Partial<StorageUsage> | undefined)?.[name];
      if (!Number.isSafeInteger(value) || (value as number) < 0) throw invalidArgument(field, `must be a whole number from 0 to ${Number.MAX_SAFE_INTEGER} (2^53 - 1), got ${String(value)}`);
      return value as number;
    };
    const next = {
      buckets: checked('buckets', 'buckets'),
      objects: checked('objects', 'objects'),
      totalBytes: checked('totalBytes', 'total_bytes'),
    };
    if (!this.absolute) {
      const base = next.totalBytes - this.usage.totalBytes;
      for (const s of this.steps) s.value += base;
      this.absolute = true;
    }
    this.usage = next;
    this.step(nowMs);
  }

  /**
   * Slope of the least-squares line through the stored bytes over the last 24 h (or since the
   * service started), in bytes per day. The fit is over the level at every instant, not over the
   * steps, so that the time between changes weighs as it lasted.
   */
  growthRatePerDay(nowMs: number): number {
    const from = Math.max(this.steps[0]!.timestampMs, nowMs - GROWTH_WINDOW_MS);
    if (!(nowMs > from)) return 0;
    // Moments of the level over [from, now], with time in days from `from` (small numbers: the
    // cubes of epoch milliseconds would lose every digit that matters).
    let s = 0;
    let st = 0;
    let stt = 0;
    let sv = 0;
    let svt = 0;
    for (let i = 0; i < this.steps.length; i++) {
      const a = Math.max(this.steps[i]!.timestampMs, from);
      const b = Math.min(this.steps[i + 1]?.timestampMs ?? nowMs, nowMs);
      if (!(b > a)) continue;
      const [ta, tb] = [(a - from) / DAY_MS, (b - from) / DAY_MS];
      const v = this.steps[i]!.value;
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
    const inMinute = (i: number) => i >= 1 && Math.floor(this.steps[i]!.timestampMs / MINUTE_MS) === minute;
    const point = { timestampMs: nowMs, value: this.usage.totalBytes };
    if (inMinute(n - 1) && inMinute(n - 2)) this.steps[n - 1] = point;
    else this.steps.push(point);
    // The step the window starts on is kept: it holds the level at the window's start.
    while (this.steps.length > MAX_GROWTH_STEPS || (this.steps.length > 1 && this.steps[1]!.timestampMs <= nowMs - GROWTH_WINDOW_MS)) {
      this.steps.shift();
    }
  }
}
