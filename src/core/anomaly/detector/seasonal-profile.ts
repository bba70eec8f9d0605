/**
 * Seasonal baseline: the expected value per phase slot of a fixed period (a day by default), each slot
 * an exponentially weighted mean over past periods (the seasonal part of Holt-Winters). Slots come
 * from sample timestamps, so gaps and irregular steps do not shift the phase. A slot only predicts
 * once it holds data from `MIN_PERIODS` earlier periods.
 */
const MIN_PERIODS = 2;

export class SeasonalProfile {
  private readonly expected: Float64Array;
  private readonly lastPeriod: Float64Array;
  private readonly periodsSeen: Uint8Array;
  private readonly slotMs: number;
  private slot = 0;
  private period = 0;

  constructor(
    private readonly periodMs: number,
    slots: number,
    private readonly alpha: number,
  ) {
    this.expected = new Float64Array(slots);
    this.lastPeriod = new Float64Array(slots).fill(Number.NEGATIVE_INFINITY);
    this.periodsSeen = new Uint8Array(slots);
    this.slotMs = periodMs / slots;
  }

  /** Locates the slot of `timeMs`; returns whether that slot can predict yet. */
  locate(timeMs: number): boolean {
    this.period = Math.floor(timeMs / this.periodMs);
    const phase = timeMs - this.period * this.periodMs;
    const slot = Math.floor(phase / this.slotMs);
    // Rounding can put the last instant of a period one past the end.
    this.slot = slot < this.expected.length ? slot : this.expected.length - 1;
    return this.periodsSeen[this.slot] >= MIN_PERIODS;
  }

  /** Expected value of the slot found by the last `locate`. */
  expectedValue(): number {
    return this.expected[this.slot];
  }

  /** Adds `x` to the slot found by the last `locate`. */
  update(x: number): void {
    const s = this.slot;
    if (this.lastPeriod[s] !== this.period) {
      const first = this.periodsSeen[s] === 0;
      this.lastPeriod[s] = this.period;
      if (this.periodsSeen[s] < 255) this.periodsSeen[s]++;
      if (first) {
        this.expected[s] = x;
        return;
      }
    }
    this.expected[s] += this.alpha * (x - this.expected[s]);
  }
}
