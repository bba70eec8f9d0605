/** CPU time of a process at one moment. */
export interface CpuReadingPoint {
  /** A monotonic clock's reading: a step of the wall clock must not stretch or shrink the interval. */
  atMs: number;
  /** utime + stime, clock ticks. */
  ticks: number;
  /** Process start after boot, clock ticks: tells a reused pid from the process we saw before. */
  startTimeTicks: number;
}

export type CpuBasis = 'since_start' | 'interval';

export interface CpuMeasure {
  /** Percent of one core (100 = one core fully busy). */
  percentOfCore: number;
  /** `interval`: since an earlier sample; `since_start`: average over the process's life. */
  basis: CpuBasis;
  /** Length of the window the figure covers. */
  intervalMs: number;
}

/**
 * CPU use of one process from deltas between samples. Tick counters are coarse (10 ms at 100 Hz),
 * so a delta is only taken over at least `minIntervalMs`: when the newest baseline is too recent the
 * one before it is used, and with no usable baseline (first sample, or a reused pid) the figure is
 * the average since the process started rather than an inflated short-window one.
 */
export class CpuTracker {
  private latest?: CpuReadingPoint;
  private older?: CpuReadingPoint;

  constructor(private readonly minIntervalMs: number) {}

  /**
   * Measures `current` against the newest usable baseline, this tracker's or `also`'s, and keeps
   * `current` as a baseline of this tracker only: `also`'s readers keep their own windows.
   */
  measure(current: CpuReadingPoint, uptimeSeconds: number, ticksPerSecond: number, also?: CpuTracker): CpuMeasure {
    // A reused pid: the old baseline would measure nothing.
    if (this.latest && !continuedBy(this.latest, current)) {
      this.latest = undefined;
      this.older = undefined;
    }
    let reference: CpuReadingPoint | undefined;
    for (const b of [this.latest, this.older, also?.latest, also?.older]) {
      if (!b || !continuedBy(b, current) || !this.spacedEnough(b, current)) continue;
      if (!reference || b.atMs > reference.atMs) reference = b;
    }
    const result = reference
      ? this.overInterval(reference, current, ticksPerSecond)
      : this.sinceStart(current, uptimeSeconds, ticksPerSecond);
    if (!this.latest || current.atMs - this.latest.atMs >= this.minIntervalMs) {
      this.older = this.latest;
      this.latest = current;
    }
    return result;
  }

  /** A zero window measures nothing, whatever the minimum (0 for readings already spaced by a timer). */
  private spacedEnough(baseline: CpuReadingPoint, current: CpuReadingPoint): boolean {
    const elapsedMs = current.atMs - baseline.atMs;
    return elapsedMs > 0 && elapsedMs >= this.minIntervalMs;
  }

  private overInterval(from: CpuReadingPoint, to: CpuReadingPoint, ticksPerSecond: number): CpuMeasure {
    const intervalMs = to.atMs - from.atMs;
    const cpuMs = ((to.ticks - from.ticks) / ticksPerSecond) * 1000;
    return { percentOfCore: (cpuMs / intervalMs) * 100, basis: 'interval', intervalMs };
  }

  private sinceStart(current: CpuReadingPoint, uptimeSeconds: number, ticksPerSecond: number): CpuMeasure {
    const aliveSeconds = uptimeSeconds - current.startTimeTicks / ticksPerSecond;
    const percentOfCore = aliveSeconds > 0 ? (current.ticks / ticksPerSecond / aliveSeconds) * 100 : 0;
    return { percentOfCore, basis: 'since_start', intervalMs: Math.max(0, aliveSeconds * 1000) };
  }
}

/** The same process, its counter not gone back: a delta from `baseline` to `current` means something. */
function continuedBy(baseline: CpuReadingPoint, current: CpuReadingPoint): boolean {
  return baseline.startTimeTicks === current.startTimeTicks && current.ticks >= baseline.ticks;
}
