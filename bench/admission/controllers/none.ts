import type { AdmissionController, Permit, Priority, ReleaseOutcome } from '../../../src/core/resource/admission/types.js';

/** Admits everything: the baseline that shows what overload does to an unprotected server. */
export class NoLimitController implements AdmissionController {
  readonly name = 'none';
  readonly limitUnit = 'concurrency' as const;
  readonly limit = Infinity;
  private count = 0;

  get inflight(): number {
    return this.count;
  }

  tryAcquire(nowMs: number, priority: Priority = 'normal'): Permit {
    this.count += 1;
    return { startMs: nowMs, priority, inflight: this.count };
  }

  release(_permit: Permit, _outcome: ReleaseOutcome): void {
    this.count = Math.max(0, this.count - 1);
  }
}
