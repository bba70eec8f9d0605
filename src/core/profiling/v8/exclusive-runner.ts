import { resourceExhausted } from '../../errors.js';

/**
 * Runs tasks one at a time in arrival order, with at most `maxWaiting` queued behind the running
 * one. A waiter whose signal aborts leaves the queue without letting the next one start early.
 */
export class ExclusiveRunner {
  private tail: Promise<void> = Promise.resolve();
  /** Tasks admitted and not yet finished: the running one plus those waiting. */
  private admitted = 0;

  constructor(
    private readonly maxWaiting: number,
    private readonly what: string,
  ) {}

  /** Tasks queued behind the running one. */
  get waiting(): number {
    return Math.max(0, this.admitted - 1);
  }

  async run<T>(task: () => Promise<T>, signal?: AbortSignal): Promise<T> {
    signal?.throwIfAborted();
    if (this.admitted > this.maxWaiting) {
      throw resourceExhausted(undefined, `${this.maxWaiting} ${this.what} are already waiting; try again later`);
    }
    this.admitted++;
    const previous = this.tail;
    let release!: () => void;
    this.tail = new Promise<void>((resolve) => (release = resolve));
    try {
      await waitUnlessAborted(previous, signal);
    } catch (err) {
      this.admitted--;
      void previous.then(release);
      throw err;
    }
    try {
      return await task();
    } finally {
      this.admitted--;
      release();
    }
  }
}

function waitUnlessAborted(done: Promise<void>, signal: AbortSignal | undefined): Promise<void> {
  if (!signal) return done;
  return new Promise<void>((resolve, reject) => {
    const onAbort = (): void => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    void done.then(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    });
  });
}
