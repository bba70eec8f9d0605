import { busyFraction, type CpuTimes } from '../../procfs/cpu-times.js';
import type { CgroupCpu, CpuThrottling } from '../../procfs/cgroup-cpu.js';
import type { ProcReader } from '../../procfs/reader.js';
import type { CpuReading } from './types.js';

type Previous =
  | { basis: 'cgroup'; atMs: number; usageUs: number; source: string }
  | { basis: 'host'; times: CpuTimes };

/**
 * CPU utilisation from counter deltas. Inside a cgroup with a CPU quota or cpuset, the usage under
 * that limit (the quota's cgroup, the cpuset's CPUs) over (elapsed x allowed cores); otherwise the
 * host's busy share from /proc/stat, time at a positive nice value counted as idle. The first reading (and the first after the basis changes)
 * has no interval yet and reports 0. With a quota whose throttling the kernel counts, also the
 * share of its periods in which the cgroup ran out of quota since the previous reading.
 */
export class CpuUtilization {
  private previous?: Previous;
  private last?: CpuReading;
  private previousThrottling?: CpuThrottling;

  constructor(private readonly reader: ProcReader) {}

  read(nowMs: number): CpuReading {
    const cgroup = this.reader.cgroupCpu();
    const reading = this.utilization(nowMs, cgroup);
    const throttled = this.throttledPercent(cgroup.throttling);
    return throttled === undefined ? reading : { ...reading, ...throttled };
  }

  /** Percent of the quota's periods throttled since the last reading (0 if none ran); undefined at the first. */
  private throttledPercent(now: CpuThrottling | undefined): Pick<CpuReading, 'throttledPercent' | 'throttlingSource'> | undefined {
    const before = this.previousThrottling?.source === now?.source ? this.previousThrottling : undefined;
    this.previousThrottling = now;
    if (!before || !now) return undefined;
    const periods = now.periods - before.periods;
    const throttled = Math.max(0, now.throttledPeriods - before.throttledPeriods);
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
