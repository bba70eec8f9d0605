/**
 * How many connections the port holds at most. Each costs a file descriptor, and the service needs
 * descriptors of its own (/proc reads, profiles, span exports): past the process's open-files
 * limit every one of those fails with EMFILE. So by default the cap leaves room for them.
 */
import { readFileSync } from 'node:fs';

/** Descriptors kept for the service's own files and sockets. */
export const RESERVED_FILES = 256;
/** The cap is never lower than this, however tight the open-files limit. */
export const MIN_CONNECTION_CAP = 64;

/** The cap for a process whose /proc/self/limits reads `limits`; undefined when the limit is unlimited or unknown. */
export function connectionCapFromLimits(limits: string): number | undefined {
  const soft = /^Max open files\s+(\S+)/m.exec(limits)?.[1];
  if (soft === undefined || !/^\d+$/.test(soft)) return undefined;
  return Math.max(MIN_CONNECTION_CAP, Number(soft) - RESERVED_FILES);
}

/**
 * The cap for this process. Its own limits, not the machine's, so /proc/self is read directly
 * rather than under RS3GW_FS_ROOT (which stands for the machine being watched).
 */
export function connectionCapOfThisProcess(): number | undefined {
  try {
    return connectionCapFromLimits(readFileSync('/proc/self/limits', 'utf8'));
  } catch {
    return undefined;
  }
}
