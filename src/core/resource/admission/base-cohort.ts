/**
 * A probe's cohort: a fixed set of admissions whose round trips, once all are back, measure the
 * base round trip (the service time without queueing). A fixed set, so fast requests do not bias it.
 */
export interface Cohort {
  readonly id: number;
  readonly startedMs: number;
  /** Admissions wanted. */
  readonly size: number;
  admittingFromMs: number;
  admitted: number;
  done: number;
  rttSum: number;
  rttSquares: number;
  rttCount: number;
}

export function newCohort(id: number, nowMs: number, size: number): Cohort {
  return { id, startedMs: nowMs, size, admittingFromMs: nowMs, admitted: 0, done: 0, rttSum: 0, rttSquares: 0, rttCount: 0 };
}

export function addRoundTrip(c: Cohort, rttMs: number): void {
  c.rttSum += rttMs;
  c.rttSquares += rttMs * rttMs;
  c.rttCount += 1;
}

/** A cohort's mean must differ at least this much from every explanation to replace the base. */
const MIN_CHANGE = 0.15;
/** ...and by this many of its standard errors. */
const CHANGE_ERRORS = 4;

export interface BaseBefore {
  base: number;
  /** Round trips behind `base`, to weigh the cohort against it. */
  samples: number;
  /** Squared coefficient of variation of round trips seen so far. */
  cv2: number;
  /**
   * The busy-server estimate the windows give now with `base`, and the knee as last confirmed. If
   * they differ and the servers did not change, the base moved by reference / estimate.
   */
  estimate?: number;
  reference?: number;
}

export interface BaseAfter {
  base: number;
  samples: number;
  /** The cohort fits a changed service time rather than the base as it was. */
  serviceChanged: boolean;
}

/**
 * Reads a finished cohort against the base. Either the service time is unchanged (a moved
 * busy-server estimate then means the servers changed), or the servers are unchanged and the base
 * moved against the estimate; the cohort picks the explanation it is closer to and refines that
 * base by its share of the samples. A cohort that fits neither replaces the base.
 */
export function readCohort(c: Cohort, before: BaseBefore): BaseAfter {
  const measured = c.rttSum / c.rttCount;
  const candidates = [before.base];
  if (before.estimate !== undefined && before.reference !== undefined) {
    candidates.push((before.base * before.reference) / before.estimate);
  }
  const distance = (b: number): number => Math.abs(Math.log(measured / b));
  const anchor = candidates.reduce((a, b) => (distance(b) < distance(a) ? b : a));
  if (distance(anchor) > tolerance(c, measured, before.cv2)) {
    return { base: measured, samples: c.rttCount, serviceChanged: true };
  }
  const samples = before.samples + c.rttCount;
  return {
    base: (anchor * before.samples + measured * c.rttCount) / samples,
    samples,
    serviceChanged: anchor !== before.base,
  };
}

/**
 * Change (as a log ratio) of a cohort's mean that its sampling noise does not explain. The cohort's
 * own spread counts: round trips measured under a queue understate the service's.
 */
function tolerance(c: Cohort, mean: number, cv2: number): number {
  const spread = Math.max(cv2, c.rttSquares / c.rttCount / (mean * mean) - 1);
  return Math.log(1 + Math.max(MIN_CHANGE, CHANGE_ERRORS * Math.sqrt(spread / c.rttCount)));
}
