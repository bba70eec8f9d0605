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

/**
 * Refused connections, written as one line per interval at most: the first refusal at once, those
 * that follow when the interval since the line before has passed (a timer, so a flood that stops
 * is still counted in full), and any not yet written at flush().
 */
export class RefusalLog {
  private pending = 0;
  private total = 0;
  private lastLineMs = -Infinity;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly write: (count: number) => void,
    private readonly intervalMs: number,
  ) {}

  /** Refusals since start-up, for /metrics. */
  get refused(): number {
    return this.total;
  }

  add(): void {
    this.pending += 1;
    this.total += 1;
    if (this.timer !== undefined) return;
    const wait = this.lastLineMs + this.intervalMs - performance.now();
    if (wait <= 0) return this.flush();
    this.timer = setTimeout(() => this.flush(), wait);
    this.timer.unref();
  }

  flush(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    if (this.pending === 0) return;
    this.write(this.pending);
    this.pending = 0;
    this.lastLineMs = performance.now();
  }
}
