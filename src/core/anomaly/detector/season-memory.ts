/**
 * How many samples the gates remember, so that a pattern recurring once a season (a nightly batch
 * job) is learned whatever the sampling rate. Each recurrence moves a gate's threshold halfway, in
 * log, towards the statistic it raised (the geometric mean, surprise-gate.ts); between recurrences,
 * S samples apart, the threshold decays by S / M in log for a memory of M samples. The distance
 * settles at 2 S / M, so the recurrence stops alarming only where 2 S / M < ln(margin); it is held
 * to half of that, leaving the other half for the recurrence's own variation from one season to
 * the next: M = 4 S / ln(margin), 29 seasons at the shipped margin of 1.15. The shipped memory of
 * 20,000 samples covers that at one sample every 5 minutes (69 days) but not at one every 15 s
 * (3.5 days), where the same nightly job alarmed every night. S comes from the typical interval
 * between sample times, a running mean of intervals each clipped to within 4x of it, so an
 * occasional gap barely moves it; samples that share a time (a batch sent without times gets the
 * server's clock for each) split the interval to the next time between them. Only a metric with a
 * season (`season_slots` above 0) has its memory lengthened: one without keeps `surprise_memory`.
 */
/** Weight of each interval in the running mean. */
const INTERVAL_ALPHA = 1 / 100;
/** An interval counts as at most this many times the typical one (and at least its inverse). */
const INTERVAL_CLIP = 4;
/** The longest memory, in samples: the bound `surprise_memory` itself may be set to (config.ts). */
const MAX_MEMORY = 10_000_000;

export class SeasonMemory {
  private readonly seasons: number;
  private lastMs = Number.NaN;
  /** Samples at `lastMs`, the time of the latest distinct sample time. */
  private atLast = 0;
  private intervalMs = 0;
  private intervals = 0;
  private memory: number;

  constructor(
    private readonly minimum: number,
    private readonly seasonPeriodMs: number,
    margin: number,
  ) {
    // A margin of 1 (alarm at the maximum itself) leaves no room to settle in: no lengthening.
    this.seasons = margin > 1 ? 4 / Math.log(margin) : 0;
    this.memory = minimum;
  }

  /** The gates' memory in samples after a sample at `timeMs`: at least `minimum`. */
  update(timeMs: number): number {
    const elapsed = timeMs - this.lastMs;
    if (elapsed === 0) {
      this.atLast++;
      return this.memory;
    }
    const samples = this.atLast;
    this.lastMs = timeMs;
    this.atLast = 1;
    // Earlier times (clock steps, late samples) say nothing about the sampling rate.
    if (!(elapsed > 0)) return this.memory;
    const dt = elapsed / samples;
    this.intervals++;
    const a = INTERVAL_ALPHA > 1 / this.intervals ? INTERVAL_ALPHA : 1 / this.intervals;
    const typical = this.intervalMs;
    const clipped = this.intervals === 1 ? dt : dt > INTERVAL_CLIP * typical ? INTERVAL_CLIP * typical : dt < typical / INTERVAL_CLIP ? typical / INTERVAL_CLIP : dt;
    this.intervalMs += a * (clipped - this.intervalMs);
    const perSeason = this.seasonPeriodMs / this.intervalMs;
    const spanning = this.seasons * perSeason;
    this.memory = spanning > MAX_MEMORY ? MAX_MEMORY : spanning > this.minimum ? spanning : this.minimum;
    return this.memory;
  }
}
