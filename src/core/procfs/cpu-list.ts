import type { HostFiles } from './host-files.js';

/** Largest CPU number taken from a list; the kernel's own limit (NR_CPUS) is 8192. */
const MAX_CPU = 8191;

/** The CPUs of a kernel cpu list such as `0-3,8,10-11`, in order; undefined if it is not one. */
export function parseCpuList(text: string): number[] | undefined {
  const list = text.trim();
  if (list === '') return undefined;
  const cpus: number[] = [];
  for (const part of list.split(',')) {
    const match = /^(\d+)(?:-(\d+))?$/.exec(part);
    if (!match) return undefined;
    const first = Number(match[1]);
    const last = match[2] === undefined ? first : Number(match[2]);
    if (last < first || last > MAX_CPU) return undefined;
    for (let cpu = first; cpu <= last; cpu++) cpus.push(cpu);
  }
  return cpus;
}

/** Counts the CPUs in a kernel cpu list; undefined if it is not one. */
export function countCpuList(text: string): number | undefined {
  return parseCpuList(text)?.length;
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
