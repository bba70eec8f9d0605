import type { CgroupMemory } from './cgroup-memory.js';
import type { Meminfo } from './meminfo.js';

/** Memory in use against the limit that binds this process: its cgroup's, else the host's. */
export interface MemoryUsage {
  usedBytes: number;
  limitBytes: number;
  scope: 'cgroup' | 'host';
  /** Where usedBytes came from. */
  source: string;
  /** Where limitBytes came from. */
  limitSource: string;
}

/**
 * Chooses the binding limit. A cgroup limit at or above the host's RAM does not bind (the host runs
 * out first), so host figures are used then, as they are when there is no cgroup limit.
 */
export function memoryUsage(meminfo: Meminfo, cgroup: CgroupMemory | undefined): MemoryUsage {
  if (cgroup?.limitBytes !== undefined && cgroup.limitSource && cgroup.limitBytes < meminfo.totalBytes) {
    return {
      usedBytes: cgroup.workingSetBytes,
      limitBytes: cgroup.limitBytes,
      scope: 'cgroup',
      source: cgroup.usageSource,
      limitSource: cgroup.limitSource,
    };
  }
  return {
    usedBytes: Math.max(0, meminfo.totalBytes - meminfo.availableBytes),
    limitBytes: meminfo.totalBytes,
    scope: 'host',
    source: '/proc/meminfo',
    limitSource: '/proc/meminfo MemTotal',
  };
}
