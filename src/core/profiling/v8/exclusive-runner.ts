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
}

interface Waiter {
  start(): void;
}

/**
 * Runs tasks one at a time in arrival order, with at most `maxWaiting` queued behind the running
 * one, plus at most one waiting ahead of them (RunOptions.ahead).
 */
export class ExclusiveRunner {
  private busy = false;
  private readonly queue: Waiter[] = [];
  private aheadWaiter: Waiter | undefined;

  constructor(
    private readonly maxWaiting: number,
    private readonly what: string,
  ) {}

  /** Tasks queued behind the running one (the one waiting ahead, if any, not included). */
  get waiting(): number {
    return this.queue.length;
  }

  async run<T>(task: () => Promise<T>, options: RunOptions = {}): Promise<T> {
    const { signal, ahead = false } = options;
    signal?.throwIfAborted();
    if (!this.busy) {
      this.busy = true;
    } else if (ahead) {
      if (this.aheadWaiter) throw resourceExhausted(undefined, `one of the ${this.what} is already waiting ahead of the queue`);
      await this.wait(
        signal,
        (w) => (this.aheadWaiter = w),
        () => (this.aheadWaiter = undefined),
      );
    } else {
      if (this.queue.length >= this.maxWaiting) {
        throw resourceExhausted(undefined, `${this.maxWaiting} ${this.what} are already waiting; try again later`);
      }
      await this.wait(
        signal,
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
  private wait(signal: AbortSignal | undefined, enqueue: (w: Waiter) => void, dequeue: (w: Waiter) => void): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const onAbort = (): void => {
        dequeue(waiter);
        reject(signal!.reason);
      };
      const waiter: Waiter = {
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
    if (next) next.start();
    else this.busy = false;
  }
}
