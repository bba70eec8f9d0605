import { posix } from 'node:path';
import { cgroupLevels, cgroupSource, type CgroupDir, type CgroupLayout } from './cgroup-layout.js';
import { parseCpuList } from './cpu-list.js';
import { parseFlatKeyed } from './flat-keyed.js';
import type { HostFiles } from './host-files.js';

/** CPU accounting and limits of this process's cgroup. */
export interface CgroupCpu {
  /** CPU time used by the cgroup since it was created, microseconds. */
  usageUs?: number;
  usageSource?: string;
  /** Cores' worth of CPU time the quota allows (quota / period); the lowest over ancestors. */
  quotaCores?: number;
  quotaSource?: string;
  /**
   * CPU time used under the quota: by the cgroup that holds it (an ancestor's quota is shared with
   * everything below it), microseconds.
   */
  quotaUsage?: CpuUsage;
  /** CPUs the cgroup may run on (cpuset), where the cpuset controller is visible. */
  cpusetCpus?: number;
  cpusetSource?: string;
  /**
   * CPU time spent on the cpuset's CPUs (v1: `cpuacct.usage_percpu` summed over them, so a cpuset
   * without a cpuacct cgroup of its own does not count other CPUs' work), microseconds.
   */
  cpusetUsage?: CpuUsage;
  /**
   * CFS bandwidth periods since the quota's cgroup was created, and those in which it ran out of
   * quota and its tasks waited (`nr_periods`, `nr_throttled` of the `cpu.stat` beside the binding
   * quota); absent without a quota or where the kernel does not count them.
   */
  throttling?: CpuThrottling;
}

export interface CpuUsage {
  usageUs: number;
  source: string;
}

export interface CpuThrottling {
  periods: number;
  throttledPeriods: number;
  source: string;
}

interface Quota {
  cores: number;
  source: string;
  /** The directory holding the quota, whose cpu.stat counts its throttling. */
  level: string;
}

function lowerQuota(current: Quota | undefined, candidate: Quota): Quota {
  return !current || candidate.cores < current.cores ? candidate : current;
}

/** `cpu.max` is `$MAX $PERIOD`, MAX being `max` when there is no quota. */
function parseCpuMax(text: string): number | undefined {
  const [max, period] = text.trim().split(/\s+/);
  const quota = Number(max);
  const periodUs = Number(period);
  if (max === 'max' || !Number.isFinite(quota) || !(periodUs > 0) || quota <= 0) return undefined;
  return quota / periodUs;
}

function v2Quota(files: HostFiles, dir: CgroupDir): Quota | undefined {
  let quota: Quota | undefined;
  for (const level of cgroupLevels(dir)) {
    const path = `${level}/cpu.max`;
    const text = files.tryReadText(path);
    const cores = text === undefined ? undefined : parseCpuMax(text);
    if (cores !== undefined) quota = lowerQuota(quota, { cores, source: cgroupSource(2, path), level });
  }
  return quota;
}

function v1Quota(files: HostFiles, dir: CgroupDir): Quota | undefined {
  let quota: Quota | undefined;
  for (const level of cgroupLevels(dir)) {
    const quotaUs = Number(files.tryReadText(`${level}/cpu.cfs_quota_us`)?.trim());
    const periodUs = Number(files.tryReadText(`${level}/cpu.cfs_period_us`)?.trim());
    // A quota of -1 means none.
    if (quotaUs > 0 && periodUs > 0) {
      quota = lowerQuota(quota, { cores: quotaUs / periodUs, source: cgroupSource(1, `${level}/cpu.cfs_quota_us`), level });
    }
  }
  return quota;
}

function usage(files: HostFiles, dir: CgroupDir | undefined): CpuUsage | undefined {
  return dir ? usageAt(files, dir.version, dir.dir) : undefined;
}

function usageAt(files: HostFiles, version: 1 | 2, level: string): CpuUsage | undefined {
  if (version === 2) {
    const path = `${level}/cpu.stat`;
    const usec = parseFlatKeyed(files.tryReadText(path) ?? '').get('usage_usec');
    return usec === undefined ? undefined : { usageUs: usec, source: cgroupSource(2, `${path} usage_usec`) };
  }
  const path = `${level}/cpuacct.usage`;
  const text = files.tryReadText(path)?.trim();
  return text !== undefined && /^\d+$/.test(text) ? { usageUs: Number(text) / 1000, source: cgroupSource(1, path) } : undefined;
}

/**
 * Usage of the cgroup holding the quota. In v1 the quota sits in the cpu hierarchy and the counters
 * in cpuacct, which may be mounted apart: the same path below the cpuacct mount.
 */
function quotaUsage(files: HostFiles, layout: CgroupLayout, quota: Quota | undefined): CpuUsage | undefined {
  if (!quota || !layout.cpu) return undefined;
  if (layout.cpu.version === 2) return usageAt(files, 2, quota.level);
  const cpuacct = layout.cpuacct;
  if (!cpuacct || cpuacct.version !== 1) return undefined;
  const relative = posix.relative(layout.cpu.mountPoint, quota.level);
  return usageAt(files, 1, relative === '' ? cpuacct.mountPoint : posix.join(cpuacct.mountPoint, relative));
}

/** v1: `cpuacct.usage_percpu` (nanoseconds, one per possible CPU) summed over the given CPUs. */
function usageOnCpus(files: HostFiles, dir: CgroupDir | undefined, cpus: number[]): CpuUsage | undefined {
  if (!dir) return undefined;
  if (dir.version === 2) return usage(files, dir); // v2 keeps no per-CPU counters; the cgroup's own
  const path = `${dir.dir}/cpuacct.usage_percpu`;
  const perCpu = files.tryReadText(path)?.trim().split(/\s+/).map(Number);
  if (!perCpu || perCpu.some((v) => !Number.isFinite(v))) return undefined;
  let ns = 0;
  for (const cpu of cpus) ns += perCpu[cpu] ?? 0;
  return { usageUs: ns / 1000, source: cgroupSource(1, `${path} of CPUs ${cpus.join(',')}`) };
}

function cpuset(files: HostFiles, dir: CgroupDir | undefined): { cpus: number[]; source: string } | undefined {
  if (!dir) return undefined;
  const names = dir.version === 2 ? ['cpuset.cpus.effective'] : ['cpuset.effective_cpus', 'cpuset.cpus'];
  for (const name of names) {
    const path = `${dir.dir}/${name}`;
    const text = files.tryReadText(path);
    const cpus = text === undefined ? undefined : parseCpuList(text);
    if (cpus !== undefined) return { cpus, source: cgroupSource(dir.version, path) };
  }
  return undefined;
}

/** The binding quota's throttling counters (v1 and v2 name them alike in the cpu controller's cpu.stat). */
function throttling(files: HostFiles, version: 1 | 2, quota: Quota | undefined): CpuThrottling | undefined {
  if (!quota) return undefined;
  const path = `${quota.level}/cpu.stat`;
  const stat = parseFlatKeyed(files.tryReadText(path) ?? '');
  const periods = stat.get('nr_periods');
  const throttledPeriods = stat.get('nr_throttled');
  if (periods === undefined || throttledPeriods === undefined) return undefined;
  return { periods, throttledPeriods, source: cgroupSource(version, `${path} nr_throttled/nr_periods`) };
}

export function readCgroupCpu(files: HostFiles, layout: CgroupLayout): CgroupCpu {
  const quota = layout.cpu ? (layout.cpu.version === 2 ? v2Quota(files, layout.cpu) : v1Quota(files, layout.cpu)) : undefined;
  const used = usage(files, layout.cpuacct);
  const set = cpuset(files, layout.cpuset);
  return {
    usageUs: used?.usageUs,
    usageSource: used?.source,
    quotaCores: quota?.cores,
    quotaSource: quota?.source,
    quotaUsage: quotaUsage(files, layout, quota) ?? used,
    cpusetCpus: set?.cpus.length,
    cpusetSource: set?.source,
    cpusetUsage: set ? usageOnCpus(files, layout.cpuacct, set.cpus) ?? used : undefined,
    throttling: layout.cpu ? throttling(files, layout.cpu.version, quota) : undefined,
  };
}
