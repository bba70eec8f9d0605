import { busyFraction, type CpuTimes } from '../../procfs/cpu-times.js';
import type { ProcReader } from '../../procfs/reader.js';
import type { CpuReading } from './types.js';

type Previous =
  | { basis: 'cgroup'; atMs: number; usageUs: number }
  | { basis: 'host'; times: CpuTimes };

/**
 * CPU utilisation from counter deltas. Inside a cgroup with a CPU quota or cpuset, the cgroup's own
 * usage over (elapsed x allowed cores); otherwise the host's busy share from /proc/stat. The first
 * reading (and the first after the basis changes) has no interval yet and reports 0.
 */
export class CpuUtilization {
  private previous?: Previous;
  private last?: CpuReading;

  constructor(private readonly reader: ProcReader) {}

  read(nowMs: number): CpuReading {
    const cgroup = this.reader.cgroupCpu();
    const cores = this.reader.availableCores(cgroup);
    if (cores.limitedByCgroup && cgroup.usageUs !== undefined) {
      const source = `${cgroup.usageSource} over ${cores.source}`;
      const before = this.previous?.basis === 'cgroup' ? this.previous : undefined;
      if (before && nowMs <= before.atMs && this.last) return this.last;
      this.previous = { basis: 'cgroup', atMs: nowMs, usageUs: cgroup.usageUs };
      const utilization = before
        ? Math.max(0, cgroup.usageUs - before.usageUs) / ((nowMs - before.atMs) * 1000 * cores.cores)
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
