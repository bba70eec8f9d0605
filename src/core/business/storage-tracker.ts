/**
 * Stored buckets, objects and bytes, with a bounded history of (time, total bytes) for the growth
 * rate: at most one point per minute (the last value seen in that minute), over the last 24 h.
 */
import { invalidArgument } from '../errors.js';
import { leastSquaresSlope } from '../metrics/trend.js';
import type { SnapshotPoint } from '../metrics/snapshots.js';

export interface StorageUsage {
  buckets: number;
  objects: number;
  totalBytes: number;
}

const MINUTE_MS = 60_000;
export const GROWTH_WINDOW_MS = 24 * 60 * MINUTE_MS;
const DAY_MS = 24 * 60 * MINUTE_MS;
/** One point per minute of the window, plus the one being overwritten in the current minute. */
export const MAX_GROWTH_POINTS = GROWTH_WINDOW_MS / MINUTE_MS + 1;

export class StorageTracker {
  private usage: StorageUsage = { buckets: 0, objects: 0, totalBytes: 0 };
  private readonly history: SnapshotPoint[] = [];

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
    if (bytes !== 0) this.remember(nowMs);
  }

  /** Absolute figures from a gateway that knows them; they replace the running totals. */
  set(usage: StorageUsage, nowMs: number): void {
    const checked = (name: keyof StorageUsage, field: string) => {
      const value = (usage as Partial<StorageUsage> | undefined)?.[name];
      if (!Number.isSafeInteger(value) || (value as number) < 0) throw invalidArgument(field, 'must be a whole number >= 0');
      return value as number;
    };
    this.usage = {
      buckets: checked('buckets', 'buckets'),
      objects: checked('objects', 'objects'),
      totalBytes: checked('totalBytes', 'total_bytes'),
    };
    this.remember(nowMs);
  }

  /** Least-squares slope of total bytes over the last 24 h of points plus now, in bytes per day (0 if unknown). */
  growthRatePerDay(nowMs: number): number {
    const points = this.history.filter((p) => p.timestampMs > nowMs - GROWTH_WINDOW_MS && p.timestampMs <= nowMs);
    points.push({ timestampMs: nowMs, value: this.usage.totalBytes });
    return leastSquaresSlope(points, DAY_MS) ?? 0;
  }

  /** Number of stored growth points (bounded by MAX_GROWTH_POINTS). */
  get historyLength(): number {
    return this.history.length;
  }

  private remember(nowMs: number): void {
    const last = this.history[this.history.length - 1];
    const point = { timestampMs: nowMs, value: this.usage.totalBytes };
    if (last && Math.floor(last.timestampMs / MINUTE_MS) === Math.floor(nowMs / MINUTE_MS)) {
      this.history[this.history.length - 1] = point;
    } else {
      this.history.push(point);
    }
    while (this.history.length > MAX_GROWTH_POINTS || this.history[0].timestampMs <= nowMs - GROWTH_WINDOW_MS) {
      this.history.shift();
    }
  }
}
