import type { HostFiles } from './host-files.js';

const AT_NULL = 0n;
const AT_PAGESZ = 6n;
const AT_CLKTCK = 17n;

/** What Linux uses on nearly every architecture; only a fallback when auxv cannot be read. */
const DEFAULT_CLOCK_TICKS = 100;
const DEFAULT_PAGE_SIZE = 4096;

/** Kernel constants needed to turn /proc figures into seconds and bytes. */
export interface SystemConstants {
  clockTicksPerSecond: number;
  pageSizeBytes: number;
}

/** Reads AT_CLKTCK and AT_PAGESZ from an auxv buffer of 64-bit little-endian key/value pairs. */
function parseAuxv(buffer: Buffer): { clockTicks?: number; pageSize?: number } {
  const found: { clockTicks?: number; pageSize?: number } = {};
  for (let offset = 0; offset + 16 <= buffer.length; offset += 16) {
    const key = buffer.readBigUInt64LE(offset);
    if (key === AT_NULL) break;
    const value = Number(buffer.readBigUInt64LE(offset + 8));
    if (key === AT_CLKTCK && value > 0) found.clockTicks = value;
    if (key === AT_PAGESZ && value > 0) found.pageSize = value;
  }
  return found;
}

/** Clock ticks per second and page size from `/proc/self/auxv`, falling back to 100 / 4096. */
export function readSystemConstants(files: HostFiles): SystemConstants {
  let found: { clockTicks?: number; pageSize?: number } = {};
  try {
    found = parseAuxv(files.readBytes('/proc/self/auxv'));
  } catch {
    // Unreadable auxv (e.g. a hardened /proc) is what the fallback is for.
  }
  return {
    clockTicksPerSecond: found.clockTicks ?? DEFAULT_CLOCK_TICKS,
    pageSizeBytes: found.pageSize ?? DEFAULT_PAGE_SIZE,
  };
}
