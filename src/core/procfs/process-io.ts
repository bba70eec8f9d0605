import { ObservabilityError } from '../errors.js';
import { malformedHostFile, type HostFiles } from './host-files.js';
import { readPidFile } from './pid.js';

/** Counters from `/proc/<pid>/io`. `*Bytes` are storage-layer bytes; rchar/wchar include page-cache hits. */
export interface ProcessIoCounters {
  rchar: number;
  wchar: number;
  syscr: number;
  syscw: number;
  readBytes: number;
  writeBytes: number;
  cancelledWriteBytes: number;
}

/** `/proc/<pid>/io` is often unreadable (other users' processes), which is reported, not thrown. */
export type ProcessIo =
  | ({ available: true } & ProcessIoCounters)
  | { available: false; reason: string };

const KEYS: Record<string, keyof ProcessIoCounters> = {
  rchar: 'rchar',
  wchar: 'wchar',
  syscr: 'syscr',
  syscw: 'syscw',
  read_bytes: 'readBytes',
  write_bytes: 'writeBytes',
  cancelled_write_bytes: 'cancelledWriteBytes',
};

function parseProcessIo(text: string): ProcessIoCounters {
  const counters: Partial<ProcessIoCounters> = {};
  for (const line of text.split('\n')) {
    const match = /^(\w+):\s*(\d+)$/.exec(line.trim());
    const key = match ? KEYS[match[1]] : undefined;
    if (match && key) counters[key] = Number(match[2]);
  }
  for (const [name, key] of Object.entries(KEYS)) {
    if (counters[key] === undefined) throw malformedHostFile('/proc/<pid>/io', `no ${name} line`);
  }
  return counters as ProcessIoCounters;
}

/**
 * Reads `/proc/<pid>/io`. A process that does not exist still raises notFound; a file we may not
 * read, or a kernel without I/O accounting, gives `{ available: false, reason }`.
 */
export function readProcessIo(files: HostFiles, pid: number): ProcessIo {
  let text: string;
  try {
    text = readPidFile(files, pid, 'io');
  } catch (error) {
    if (error instanceof ObservabilityError && error.kind === 'permission_denied') {
      return { available: false, reason: `/proc/${pid}/io is not readable by this service (EACCES)` };
    }
    if (error instanceof ObservabilityError && error.kind === 'not_found' && files.exists(`/proc/${pid}/stat`)) {
      return { available: false, reason: 'this kernel has no per-process I/O accounting (/proc/<pid>/io)' };
    }
    throw error;
  }
  return { available: true, ...parseProcessIo(text) };
}
