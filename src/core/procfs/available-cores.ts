import type { CgroupCpu, CpuUsage } from './cgroup-cpu.js';
import type { OnlineCpus } from './cpu-list.js';

/** How many cores this process can use, and which limit decided it. */
export interface AvailableCores {
  cores: number;
  source: string;
  /** True when a cgroup quota or cpuset, not the host, sets the figure. */
  limitedByCgroup: boolean;
  onlineCpus: number;
  /** CPU time used against the deciding cgroup limit (see CgroupCpu), when one decides. */
  usage?: CpuUsage;
}

/** The smallest of the online CPUs, the cgroup CPU quota and the cgroup cpuset. */
export function availableCores(online: OnlineCpus, cgroup: CgroupCpu): AvailableCores {
  let result: AvailableCores = { cores: online.count, source: online.source, limitedByCgroup: false, onlineCpus: online.count };
  if (cgroup.cpusetCpus !== undefined && cgroup.cpusetSource && cgroup.cpusetCpus < result.cores) {
    result = { ...result, cores: cgroup.cpusetCpus, source: cgroup.cpusetSource, limitedByCgroup: true, usage: cgroup.cpusetUsage };
  }
  if (cgroup.quotaCores !== undefined && cgroup.quotaSource && cgroup.quotaCores < result.cores) {
    result = { ...result, cores: cgroup.quotaCores, source: cgroup.quotaSource, limitedByCgroup: true, usage: cgroup.quotaUsage };
  }
  return result;
}
