import type { AdmissionController, Permit, Priority, ReleaseOutcome } from '../../../src/core/resource/admission/types.js';

/** One completed request as a limit algorithm sees it (Netflix concurrency-limits' onSample). */
export interface Sample {
  nowMs: number;
  rttMs: number;
  /** In flight when the request was admitted, itself included. */
  inflight: number;
  dropped: boolean;
  failed: boolean;
  priority: Priority;
}

/**
 * Shared bookkeeping for controllers that cap concurrency: counts requests in flight, admits while
 * the count is under the limit, and hands every completion to the algorithm as a sample.
 */
export abstract class ConcurrencyLimitController implements AdmissionController {
  abstract readonly name: string;
  readonly limitUnit = 'concurrency' as const;
  private inflightCount = 0;

  abstract get limit(): number;

  get inflight(): number {
    return this.inflightCount;
  }

  tryAcquire(nowMs: number, priority: Priority = 'normal'): Permit | undefined {
    if (!this.admits(priority, this.inflightCount, nowMs)) return undefined;
    this.inflightCount += 1;
    return { startMs: nowMs, priority, inflight: this.inflightCount };
  }

  release(permit: Permit, outcome: ReleaseOutcome): void {
    this.inflightCount = Math.max(0, this.inflightCount - 1);
    this.onSample({
      nowMs: outcome.nowMs,
      rttMs: Math.max(0, outcome.nowMs - permit.startMs),
      inflight: permit.inflight,
      dropped: outcome.dropped,
      failed: outcome.failed ?? false,
      priority: permit.priority,
    });
  }

  /** Whether one more request of this priority fits; the default ignores priority. */
  protected admits(_priority: Priority, inflight: number, _nowMs: number): boolean {
    return inflight < Math.floor(this.limit);
  }

  protected abstract onSample(sample: Sample): void;
}
