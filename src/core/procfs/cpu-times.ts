import { malformedHostFile, type HostFiles } from './host-files.js';

/** The aggregate `cpu` line of `/proc/stat`, in clock ticks summed over all CPUs. */
export interface CpuTimes {
  user: number;
  nice: number;
  system: number;
  idle: number;
  iowait: number;
  irq: number;
  softirq: number;
  steal: number;
  /** All of the above: guest time is already counted in user/nice, so it is not added again. */
  totalTicks: number;
  /** idle + iowait: time no task was running. */
  idleTicks: number;
}

function parseCpuTimes(text: string): CpuTimes {
  const line = text.split('\n').find((l) => l.startsWith('cpu '));
  if (!line) throw malformedHostFile('/proc/stat', 'no aggregate cpu line');
  const [user, nice, system, idle, iowait = 0, irq = 0, softirq = 0, steal = 0] = line
    .slice(4)
    .trim()
    .split(/\s+/)
    .map(Number);
  if ([user, nice, system, idle].some((v) => v === undefined || !Number.isFinite(v))) {
    throw malformedHostFile('/proc/stat', 'malformed cpu line');
  }
  return {
    user, nice, system, idle, iowait, irq, softirq, steal,
    totalTicks: user + nice + system + idle + iowait + irq + softirq + steal,
    idleTicks: idle + iowait,
  };
}

export function readCpuTimes(files: HostFiles): CpuTimes {
  return parseCpuTimes(files.readText('/proc/stat'));
}

/**
 * Busy fraction of the host's CPUs between two readings (0..1), or undefined if no ticks passed.
 * Time at a positive nice value counts as idle: background jobs (batch work, a niced build) yield
 * the CPU to anything at the default priority, so it is CPU the service can still have.
 */
export function busyFraction(previous: CpuTimes, current: CpuTimes): number | undefined {
  const total = current.totalTicks - previous.totalTicks;
  if (total <= 0) return undefined;
  const available = current.idleTicks - previous.idleTicks + (current.nice - previous.nice);
  return Math.min(1, Math.max(0, (total - available) / total));
}
