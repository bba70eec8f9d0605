import { monotonicClock, type Clock } from './clock.js';

/**
 * Events counted by kind and written as one line per interval at most: the first at once, those
 * that follow when the interval since the line before has passed (a timer, so a burst that stops
 * is still written in full), and any not yet written at flush(). A flood costs a line a minute,
 * and nothing is lost from the log.
 */
export class CountedLog<K extends string> {
  /** Events since start-up, by kind. */
  readonly totals: Record<K, number>;
  private pending: Record<K, number>;
  private lastLineMs = -Infinity;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly kinds: readonly K[],
    /** Writes the line for the counts since the line before (some of them may be 0). */
    private readonly write: (counts: Record<K, number>) => void,
    private readonly intervalMs: number,
    private readonly clock: Clock = monotonicClock,
  ) {
    this.totals = this.zero();
    this.pending = this.zero();
  }

  add(kind: K, count = 1): void {
    this.pending[kind] += count;
    this.totals[kind] += count;
    // The clock decides, not only the timer: a timer may be late, and the clock may be a fake.
    const wait = this.lastLineMs + this.intervalMs - this.clock.nowMs();
    if (wait <= 0) return this.flush();
    if (this.timer !== undefined) return;
    this.timer = setTimeout(() => this.flush(), wait);
    this.timer.unref();
  }

  flush(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    if (this.kinds.every((k) => this.pending[k] === 0)) return;
    const counts = this.pending;
    this.pending = this.zero();
    this.lastLineMs = this.clock.nowMs();
    this.write(counts);
  }

  private zero(): Record<K, number> {
    return Object.fromEntries(this.kinds.map((k) => [k, 0])) as Record<K, number>;
  }
}
