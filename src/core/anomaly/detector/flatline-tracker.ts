/**
 * Stuck-value rule: a run of identical values is anomalous once it is at least `minRun` long and
 * twice as long as the longest run seen before, so metrics that are often flat (idle counters,
 * square waves) calibrate themselves. It fires once per run. Values within the detector's resolution
 * of the run's first value are identical: 0.1 + 0.2 continues a run of 0.3.
 */
export class FlatlineTracker {
  private runValue = Number.NaN;
  private run = 0;
  private longest = 0;
  private fired = false;

  constructor(private readonly minRun: number) {}

  /** Adds `x`, read to within `tiny`; returns whether the current run has just become a stuck value. */
  update(x: number, tiny: number): boolean {
    const d = x - this.runValue;
    if (d <= tiny && d >= -tiny) {
      this.run++;
    } else {
      if (this.run > this.longest) this.longest = this.run;
      this.run = 1;
      this.fired = false;
      this.runValue = x;
    }
    return !this.fired && this.run >= this.minRun && this.run >= 2 * this.longest;
  }

  /** Marks the current run as reported. */
  markFired(): void {
    this.fired = true;
  }

  get runLength(): number {
    return this.run;
  }
}
