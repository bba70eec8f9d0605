/**
 * The admission controller as the resource manager sees it, counting the requests it refuses by
 * priority: the manager's totals do not say which refusals were the controller's limit.
 */
import type { AdmissionController, Permit, Priority, ReleaseOutcome } from '../../core/resource/admission/types.js';

/** Every member of T, optional ones too: a member added to the interface must be forwarded here, or this does not compile. */
type EveryMember<T> = { [K in keyof Required<T>]: T[K] };

export class RefusalCountingController implements EveryMember<AdmissionController> {
  /** Requests the controller refused since start-up, by priority. */
  readonly refused: Record<Priority, number> = { critical: 0, normal: 0, sheddable: 0 };

  constructor(private readonly inner: AdmissionController) {}

  tryAcquire(nowMs: number, priority: Priority = 'normal'): Permit | undefined {
    const permit = this.inner.tryAcquire(nowMs, priority);
    if (permit === undefined) this.refused[priority] += 1;
    return permit;
  }

  release(permit: Permit, outcome: ReleaseOutcome): void {
    this.inner.release(permit, outcome);
  }

  tick(nowMs: number): void {
    this.inner.tick?.(nowMs);
  }

  holdLimit(held: boolean): void {
    this.inner.holdLimit?.(held);
  }

  get limit(): number {
    return this.inner.limit;
  }

  get inflight(): number {
    return this.inner.inflight;
  }

  get name(): string {
    return this.inner.name;
  }

  get limitUnit(): 'concurrency' | 'rps' {
    return this.inner.limitUnit;
  }

  get estimatedCapacity(): number | undefined {
    return this.inner.estimatedCapacity;
  }
}
