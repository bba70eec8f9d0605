/**
 * The admission-control contract shared by the service and the admission simulation. The caller
 * passes the time on every call, so the service can use the wall clock and the simulation virtual
 * time, and every controller meets exactly the same requests.
 */

/** How much a request matters when the service has to refuse some: lower priorities go first. */
export type Priority = 'critical' | 'normal' | 'sheddable';

/** Highest first, the order in which traffic keeps its share under overload. */
export const PRIORITIES: readonly Priority[] = ['critical', 'normal', 'sheddable'];

/** Proof of admission, handed back on release so the controller can measure the round trip. */
export interface Permit {
  /** When the request was admitted; rtt = release time - startMs. */
  readonly startMs: number;
  readonly priority: Priority;
  /** Requests in flight just after this one was admitted (itself included). */
  readonly inflight: number;
}

export interface ReleaseOutcome {
  nowMs: number;
  /** The request was dropped or timed out: the strongest sign of overload. */
  dropped: boolean;
  /**
   * The request ended in an error that says nothing about load (its latency is not representative).
   * It still frees its slot; success-rate rules count it as a failure.
   */
  failed?: boolean;
}

export interface AdmissionController {
  /** Admit now (a permit) or refuse (undefined). */
  tryAcquire(nowMs: number, priority?: Priority): Permit | undefined;
  release(permit: Permit, outcome: ReleaseOutcome): void;
  /** Periodic housekeeping; callers invoke it at least every 100 ms. */
  tick?(nowMs: number): void;
  /**
   * While held, the limit does not grow past where it stood when the hold began (it may still
   * fall). The service holds it while load shedding refuses arrivals before the controller sees
   * them: the calm they leave behind is not spare capacity, and a limit opened on it would let the
   * whole load in at once when shedding ends.
   */
  holdLimit?(held: boolean): void;
  /** Current limit, for reporting: concurrent requests, or requests per second for rate limiters. */
  readonly limit: number;
  /** Requests admitted and not yet released. */
  readonly inflight: number;
  /** Short algorithm name for status pages; the service's controllers use their factory kind ('adaptive', 'seed'). */
  readonly name: string;
  /** What `limit` counts. */
  readonly limitUnit: 'concurrency' | 'rps';
  /** Requests the server runs at once, if the controller estimates it (the rest are queued). */
  readonly estimatedCapacity?: number;
}

export function isPriority(value: unknown): value is Priority {
  return value === 'critical' || value === 'normal' || value === 'sheddable';
}
