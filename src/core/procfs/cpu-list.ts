import type { HostFiles } from './host-files.js';

/** Counts the CPUs in a kernel cpu list such as `0-3,8,10-11`; undefined if it is not one. */
export function countCpuList(text: string): number | undefined {
  const list = text.trim();
  if (list === '') return undefined;
  let count = 0;
  for (const part of list.split(',')) {
    const match = /^(\d+)(?:-(\d+))?$/.exec(part);
    if (!match) return undefined;
    const first = Number(match[1]);
    const last = match[2] === undefined ? first : Number(match[2]);
    if (last < first) return undefined;
    count += last - first + 1;
  }
  return count;
}

export interface OnlineCpus {
  count: number;
  source: string;
}

/** Online CPUs from sysfs, else the per-CPU lines of /proc/stat, else 1. */
export function readOnlineCpus(files: HostFiles): OnlineCpus {
  const online = files.tryReadText('/sys/devices/system/cpu/online');
  const fromSysfs = online === undefined ? undefined : countCpuList(online);
  if (fromSysfs) return { count: fromSysfs, source: '/sys/devices/system/cpu/online' };
  const stat = files.tryReadText('/proc/stat') ?? '';
  const perCpu = stat.split('\n').filter((l) => /^cpu\d+\s/.test(l)).length;
  if (perCpu > 0) return { count: perCpu, source: '/proc/stat per-cpu lines' };
  return { count: 1, source: 'default 1 (no /sys/devices/system/cpu/online nor /proc/stat)' };
}
