import { malformedHostFile, type HostFiles } from './host-files.js';
import { readPidFile } from './pid.js';

/** The fields of `/proc/<pid>/stat` the profiler uses. Times are in clock ticks, rss in pages. */
export interface ProcessStat {
  pid: number;
  comm: string;
  /** One-letter state: R running, S sleeping, D disk sleep, Z zombie, ... */
  state: string;
  ppid: number;
  utimeTicks: number;
  stimeTicks: number;
  /** Time the process started after boot, in clock ticks. */
  startTimeTicks: number;
  numThreads: number;
  vsizeBytes: number;
  rssPages: number;
}

function field(rest: string[], index: number, name: string): number {
  const value = Number(rest[index - 3]);
  if (rest[index - 3] === undefined || !Number.isSafeInteger(value)) {
    throw malformedHostFile('/proc/<pid>/stat', `field ${index} (${name}) is missing or not an integer`);
  }
  return value;
}

/**
 * Parses one `/proc/<pid>/stat` line. The comm field is parenthesised and may itself contain spaces
 * and parentheses, so the numeric fields are read after the LAST `)`.
 */
export function parseProcessStat(text: string): ProcessStat {
  const open = text.indexOf('(');
  const close = text.lastIndexOf(')');
  if (open < 0 || close < open) throw malformedHostFile('/proc/<pid>/stat', 'no (comm) field');
  const rest = text.slice(close + 1).trim().split(/\s+/);
  return {
    pid: Number(text.slice(0, open).trim()),
    comm: text.slice(open + 1, close),
    state: rest[0] ?? '?',
    ppid: field(rest, 4, 'ppid'),
    utimeTicks: field(rest, 14, 'utime'),
    stimeTicks: field(rest, 15, 'stime'),
    numThreads: field(rest, 20, 'num_threads'),
    startTimeTicks: field(rest, 22, 'starttime'),
    vsizeBytes: field(rest, 23, 'vsize'),
    rssPages: field(rest, 24, 'rss'),
  };
}

/**
 * States of a process that has exited: Z zombie (exited, its parent has not reaped it yet), X dead,
 * and x, dead on Linux 2.6.33 to 3.13. Such a process runs no more and its /proc figures are empty
 * (no memory, no threads of its own); it is gone in all but its pid.
 */
const EXITED_STATES: Readonly<Record<string, string>> = { Z: 'zombie', X: 'dead', x: 'dead' };

/** Why a process whose stat says it has exited is gone (`zombie, not reaped by its parent 1`), or undefined while it runs. */
export function exitedState(stat: Pick<ProcessStat, 'state' | 'ppid'>): string | undefined {
  const name = EXITED_STATES[stat.state];
  if (name === undefined) return undefined;
  return stat.state === 'Z' ? `${name}, not yet reaped by its parent ${stat.ppid}` : `state ${stat.state}, ${name}`;
}

export function readProcessStat(files: HostFiles, pid: number): ProcessStat {
  return parseProcessStat(readPidFile(files, pid, 'stat'));
}
