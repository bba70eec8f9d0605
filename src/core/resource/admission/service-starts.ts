/**
 * When a queued request started service, reconstructed from admissions and completions alone. In a
 * FIFO queue in front of `servers` busy servers, a request admitted with n in flight (itself
 * included) starts when the (n - servers)-th completion after its admission frees a server (no
 * request behind it can finish first). Its completion less that start is its service time alone.
 * Its round trip is not: the wait depends on how long the requests already in service still run,
 * and those are the slow ones whenever a queue has built behind them.
 */

/** Completions remembered: a start further back is forgotten, so memory stays bounded. */
export const REMEMBERED_COMPLETIONS = 1 << 14;

export class ServiceStarts {
  private completions = 0;
  private readonly atMs = new Float64Array(REMEMBERED_COMPLETIONS);
  private readonly inflightAfter = new Float64Array(REMEMBERED_COMPLETIONS);

  /**
   * The completion (counted from the first) whose freed server a request admitted now, with
   * `inflight` in flight, starts on; 0 if it starts at once.
   */
  startingCompletion(inflight: number, servers: number): number {
    const ahead = Math.round(inflight - servers);
    return ahead > 0 ? this.completions + ahead : 0;
  }

  /** A request completed at `nowMs`, leaving `inflight` in flight. */
  completed(nowMs: number, inflight: number): void {
    this.completions += 1;
    const slot = this.completions % REMEMBERED_COMPLETIONS;
    this.atMs[slot] = nowMs;
    this.inflightAfter[slot] = inflight;
  }

  /** When completion `n` happened, if it has and is still remembered. */
  timeOf(n: number): number | undefined {
    if (!(n > 0) || n > this.completions || this.completions - n >= REMEMBERED_COMPLETIONS) return undefined;
    return this.atMs[n % REMEMBERED_COMPLETIONS];
  }

  /** Requests in flight just after completion `n` (what a request starting on it runs under), as remembered. */
  inflightAt(n: number): number {
    return this.inflightAfter[n % REMEMBERED_COMPLETIONS]!;
  }
}
