/**
 * Highest value seen over a retention period, kept as one maximum per minute in a ring, so a peak
 * is forgotten once its minute is older than the retention.
 */
const MINUTE_MS = 60_000;

export class PeakTracker {
  private readonly stamps: Float64Array;
  private readonly maxima: Float64Array;

  constructor(private readonly retentionMinutes: number) {
    this.stamps = new Float64Array(retentionMinutes).fill(Number.NEGATIVE_INFINITY);
    this.maxima = new Float64Array(retentionMinutes);
  }

  observe(nowMs: number, value: number): void {
    const minute = Math.floor(nowMs / MINUTE_MS);
    const slot = minute % this.retentionMinutes;
    // A minute ahead of now in the slot means the wall clock stepped back: it is stale.
    if (this.stamps[slot] !== minute) {
      this.stamps[slot] = minute;
      this.maxima[slot] = value;
    } else if (value > this.maxima[slot]) {
      this.maxima[slot] = value;
    }
  }

  /** Highest value observed in the minutes (now - retention, now]; 0 when none. */
  peak(nowMs: number): number {
    const newest = Math.floor(nowMs / MINUTE_MS);
    let peak = 0;
    for (let slot = 0; slot < this.retentionMinutes; slot++) {
      const stamp = this.stamps[slot];
      if (stamp > newest - this.retentionMinutes && stamp <= newest && this.maxima[slot] > peak) peak = this.maxima[slot];
    }
    return peak;
  }
}
