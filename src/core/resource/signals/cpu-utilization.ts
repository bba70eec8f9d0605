import { busyFraction, type CpuTimes } from '../../procfs/cpu-times.js';
import type { CgroupCpu, CpuThrottling } from '../../procfs/cgroup-cpu.js';
import type { ProcReader } from '../../procfs/reader.js';
import type { CpuReading } from './types.js';

/**
 * The span the throttled share is taken over: the 10 s of PSI's avg10, which the other overload
 * signals use. One sample holds only about ten 100 ms CFS periods, and the kernel's count of them
 * varies by one or two from sample to sample, which on a saturated quota alone moves the share by
 * some 20 points.
 */
const THROTTLING_WINDOW_MS = 10_000;
/** A new reading is kept for the window only this long after the newest kept one. */
const THROTTLING_SPACING_MS = THROTTLING_WINDOW_MS / 20;
/**
 * Readings kept at most. Spacing and pruning keep about 21 at once; the cap holds even when the
 * clock steps back and nothing kept turns 10 s old.
 */
export const THROTTLING_HISTORY_CAP = 32;

interface ThrottlingMark {
  atMs: number;
  periods: number;
  throttledPeriods: number;
}

type Previous =
  | { basis: 'cgroup'; atMs: number; usageUs: number; source: string }
  | { basis: 'host'; times: CpuTimes };

/**
 * CPU utilisation from counter deltas. Inside a cgroup with a CPU quota or cpuset, the usage under
 * that limit (the quota's cgroup, the cpuset's CPUs) over (elapsed x allowed cores); otherwise the
 * host's busy share from /proc/stat, time at a positive nice value counted as idle. The first
 * reading (and the first after the basis changes) has no interval yet and reports 0. With a quota
 * whose throttling the kernel counts, also the share of its periods in which the cgroup ran out of
 * quota over the last 10 s (THROTTLING_WINDOW_MS), or since the first reading while there are fewer
 * than 10 s of them.
 */
export class CpuUtilization {
  private previous?: Previous;
  private last?: CpuReading;
  private throttlingSource?: string;
  /** Throttling counters by time, oldest first: one at least 10 s old (once there is one), and newer. */
  private throttlingHistory: ThrottlingMark[] = [];

  constructor(private readonly reader: ProcReader) {}

  read(nowMs: number): CpuReading {
    const cgroup = this.reader.cgroupCpu();
    const reading = this.utilization(nowMs, cgroup);
    const throttled = this.throttledPercent(nowMs, cgroup.throttling);
    return throttled === undefined ? reading : { ...reading, ...throttled };
  }

  /** Throttling readings kept now (at most THROTTLING_HISTORY_CAP). */
  get throttlingHistorySize(): number {
    return this.throttlingHistory.length;
  }

  /**
   * Percent of the quota's periods throttled over the last THROTTLING_WINDOW_MS: against the newest
   * kept reading at least that old, or the oldest kept while the history is shorter (0 if no period
   * ran). Undefined at the first reading, and again when the counters' source changes or they go
   * back (a new cgroup, or a reset), which starts the history over.
   */
  private throttledPercent(nowMs: number, now: CpuThrottling | undefined): Pick<CpuReading, 'throttledPercent' | 'throttlingSource'> | undefined {
    const history = this.throttlingHistory;
    const newest = history[history.length - 1];
    if (!now) {
      this.throttlingSource = undefined;
      this.throttlingHistory = [];
      return undefined;
    }
    const mark: ThrottlingMark = { atMs: nowMs, periods: now.periods, throttledPeriods: now.throttledPeriods };
    if (!newest || now.source !== this.throttlingSource || now.periods < newest.periods || now.throttledPeriods < newest.throttledPeriods) {
      this.throttlingSource = now.source;
      this.throttlingHistory = [mark];
      return undefined;
    }
    // The newest reading at least a window old, else the oldest kept; older ones are no longer needed.
    let base = 0;
    for (let i = history.length - 1; i >= 0; i--) {
      if (nowMs - history[i]!.atMs >= THROTTLING_WINDOW_MS) {
        base = i;
        break;
      }
    }
    const before = history[base]!;
    if (base > 0) history.splice(0, base);
    if (nowMs - newest.atMs >= THROTTLING_SPACING_MS || nowMs < newest.atMs) {
      history.push(mark);
      if (history.length > THROTTLING_HISTORY_CAP) history.splice(0, history.length - THROTTLING_HISTORY_CAP);
    }
    const periods = now.periods - before.periods;
    const throttled = now.throttledPeriods - before.throttledPeriods;
    return { throttledPercent: periods > 0 ? Math.min(100, (100 * throttled) / periods) : 0, throttlingSource: now.source };
  }

  private utilization(nowMs: number, cgroup: CgroupCpu): CpuReading {
    const cores = this.reader.availableCores(cgroup);
    const used = cores.usage;
    if (cores.limitedByCgroup && used !== undefined) {
      const source = `${used.source} over ${cores.source}`;
      // Counters of another cgroup (the limit moved) cannot be subtracted from these.
      const before = this.previous?.basis === 'cgroup' && this.previous.source === used.source ? this.previous : undefined;
      if (before && nowMs <= before.atMs && this.last) return this.last;
      this.previous = { basis: 'cgroup', atMs: nowMs, usageUs: used.usageUs, source: used.source };
      const utilization = before
        ? Math.max(0, used.usageUs - before.usageUs) / ((nowMs - before.atMs) * 1000 * cores.cores)
        : 0;
      return this.remember({ utilization, availableCores: cores.cores, source: before ? source : `${source} (first sample: no interval yet)` });
    }
    const times = this.reader.cpuTimes();
    const before = this.previous?.basis === 'host' ? this.previous.times : undefined;
    const busy = before ? busyFraction(before, times) : undefined;
    if (before && busy === undefined && this.last) return this.last;
    this.previous = { basis: 'host', times };
    return this.remember({
      utilization: busy ?? 0,
      availableCores: cores.cores,
      source: before ? '/proc/stat' : '/proc/stat (first sample: no interval yet)',
    });
  }

  private remember(reading: CpuReading): CpuReading {
    this.last = reading;
    return reading;
  }
}
