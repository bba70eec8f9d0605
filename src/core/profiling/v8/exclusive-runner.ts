import { type Clock, monotonicClock } from '../../clock.js';
import { resourceExhausted } from '../../errors.js';

export interface RunOptions {
  /** Aborting leaves the queue (rejecting with the signal's reason) without letting the next one start early. */
  signal?: AbortSignal;
  /**
   * Waits only for the running task, ahead of the queue, and takes none of its `maxWaiting` places:
   * the owner's own periodic work, which clients must neither hold back for long nor lose places to.
   * At most one task waits ahead.
   */
  ahead?: boolean;
  /** How long the task runs, when known: a refusal then says when a waiting place frees. */
  expectedMs?: number;
}

interface Waiter {
  start(): void;
  expectedMs: number | undefined;
}

/**
 * Runs tasks one at a time in arrival order, with at most `maxWaiting` queued behind the running
 * one, plus at most one waiting ahead of them (RunOptions.ahead).
 */
export class ExclusiveRunner {
  private busy = false;
  private readonly queue: Waiter[] = [];
  private aheadWaiter: Waiter | undefined;
  /** When the running task should end (monotonic ms), if its length is known. */
  private runningUntilMs: number | undefined;

  constructor(
    private readonly maxWaiting: number,
    private readonly what: string,
    private readonly clock: Clock = monotonicClock,
  ) {}

  /** Tasks queued behind the running one (the one waiting ahead, if any, not included). */
  get waiting(): number {
    return this.queue.length;
  }

  async run<T>(task: () => Promise<T>, options: RunOptions = {}): Promise<T> {
    const { signal, ahead = false, expectedMs } = options;
    signal?.throwIfAborted();
    if (!this.busy) {
      this.busy = true;
      this.started(expectedMs);
    } else if (ahead) {
      if (this.aheadWaiter) throw resourceExhausted(undefined, `one of the ${this.what} is already waiting ahead of the queue`);
      await this.wait(
        signal,
        expectedMs,
        (w) => (this.aheadWaiter = w),
        () => (this.aheadWaiter = undefined),
      );
    } else {
      if (this.queue.length >= this.maxWaiting) throw this.full();
      await this.wait(
        signal,
        expectedMs,
        (w) => this.queue.push(w),
        (w) => this.queue.splice(this.queue.indexOf(w), 1),
      );
    }
    try {
      return await task();
    } finally {
      this.handOver();
    }
  }

  /**
   * Resolves once the runner is handed to this waiter (still busy: it never goes idle in between).
   * An abort can only come while the waiter is queued: start() removes the listener.
   */
  private wait(signal: AbortSignal | undefined, expectedMs: number | undefined, enqueue: (w: Waiter) => void, dequeue: (w: Waiter) => void): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const onAbort = (): void => {
        dequeue(waiter);
        reject(signal!.reason);
      };
      const waiter: Waiter = {
        expectedMs,
        start() {
          signal?.removeEventListener('abort', onAbort);
          resolve();
        },
      };
      enqueue(waiter);
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  private handOver(): void {
    const next = this.aheadWaiter ?? this.queue.shift();
    if (next === this.aheadWaiter) this.aheadWaiter = undefined;
    if (next) {
      this.started(next.expectedMs);
      next.start();
    } else {
      this.busy = false;
    }
  }

  private started(expectedMs: number | undefined): void {
    this.runningUntilMs = expectedMs === undefined ? undefined : this.clock.nowMs() + expectedMs;
  }

  /**
   * The refusal of a task the queue has no place for. The first place frees when the queue's head
   * starts: once the running task and the one waiting ahead, if any, are done. When their lengths
   * are known, that is how long to wait; otherwise nothing is promised.
   */
  private full(): Error {
    const message = `${this.maxWaiting} ${this.what} are already waiting`;
    const aheadMs = this.aheadWaiter ? this.aheadWaiter.expectedMs : 0;
    if (this.runningUntilMs === undefined || aheadMs === undefined) return resourceExhausted(undefined, `${message}; try again later`);
    const retryAfterMs = Math.max(0, this.runningUntilMs - this.clock.nowMs()) + aheadMs;
    return resourceExhausted(undefined, `${message}; the first place frees in ${(retryAfterMs / 1000).toFixed(1)} s`, retryAfterMs);
  }
}
