import { LatencyHistogram } from './latency-histogram.js';

/**
 * How long clients held the permits they released, over the recent past: two histograms of
 * `periodMs` each, the older dropped when the newer has covered its period. Only releases of
 * permits released count (not permits reclaimed after their lease), and a late release of a
 * permit presumed lost counts only as the hold it was presumed lost at (manager.ts), so that lost
 * permits cannot teach that work takes as long as a lease. A generation
 * that saw no release is kept rather than rotated out, so the last known hold times survive a
 * pause in traffic.
 */
export class HoldTimes {
  private current = new LatencyHistogram();
  private previous = new LatencyHistogram();
  /** The two merged, reused: the tail is read on every housekeeping tick after a release. */
  private readonly merged = new LatencyHistogram();
  private currentStartMs: number;
  private tail: { ms: number | undefined } | undefined;

  constructor(
    private readonly periodMs: number,
    nowMs: number,
  ) {
    this.currentStartMs = nowMs;
  }

  add(nowMs: number, heldMs: number): void {
    this.rotate(nowMs);
    this.current.add(heldMs);
    this.tail = undefined;
  }

  /**
   * 99.9th percentile of the hold times of the last one or two periods (a tail rarer than 1 % of
   * work still counts as work); undefined before any release.
   */
  tailMs(nowMs: number): number | undefined {
    this.rotate(nowMs);
    if (this.tail === undefined) {
      const both = this.merged;
      both.clear();
      both.addAll(this.previous);
      both.addAll(this.current);
      this.tail = { ms: both.quantile(0.999) };
    }
    return this.tail.ms;
  }

  private rotate(nowMs: number): void {
    if (nowMs - this.currentStartMs < this.periodMs || this.current.count === 0) return;
    const older = this.previous;
    older.clear();
    this.previous = this.current;
    this.current = older;
    this.currentStartMs = nowMs;
    this.tail = undefined;
  }
}
