import type { HostFiles } from './host-files.js';
import { readPidFile } from './pid.js';

/**
 * Memory figures from `/proc/<pid>/status`, in bytes. Kernel threads and zombies have no Vm* lines,
 * so those fields may be absent.
 */
export interface ProcessStatus {
  rssBytes?: number;
  /** VmHWM: peak resident set size. */
  peakRssBytes?: number;
  virtualBytes?: number;
  /** VmPeak: peak virtual size. */
  peakVirtualBytes?: number;
  threads?: number;
  /**
   * The thread group (process) this id belongs to. /proc/<tid> of any thread also answers, with its
   * process's figures: an id whose Tgid is not itself is a thread, not a process.
   */
  tgid?: number;
}

export function parseProcessStatus(text: string): ProcessStatus {
  const values = new Map<string, string>();
  for (const line of text.split('\n')) {
    const colon = line.indexOf(':');
    if (colon > 0) values.set(line.slice(0, colon), line.slice(colon + 1).trim());
  }
  const kib = (key: string): number | undefined => {
    const match = /^(\d+)\s*kB$/.exec(values.get(key) ?? '');
    return match ? Number(match[1]) * 1024 : undefined;
  };
  const count = (key: string): number | undefined => {
    const value = values.get(key);
    return value !== undefined && /^\d+$/.test(value) ? Number(value) : undefined;
  };
  return {
    rssBytes: kib('VmRSS'),
    peakRssBytes: kib('VmHWM'),
    virtualBytes: kib('VmSize'),
    peakVirtualBytes: kib('VmPeak'),
    threads: count('Threads'),
    tgid: count('Tgid'),
  };
}

export function readProcessStatus(files: HostFiles, pid: number): ProcessStatus {
  return parseProcessStatus(readPidFile(files, pid, 'status'));
}
