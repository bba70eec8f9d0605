/**
 * Time source for the engines. Engines never read a clock directly so that tests and the
 * admission simulation can drive them with virtual time.
 */
export interface Clock {
  /** Milliseconds since the Unix epoch. */
  nowMs(): number;
}

/** The wall clock: timestamps that other systems compare with their own. */
export const systemClock: Clock = {
  nowMs: () => Date.now(),
};

/**
 * Milliseconds since the Unix epoch that never run backwards: the wall clock at start-up plus the
 * monotonic clock since, to a fraction of a millisecond. For engines that time intervals (round
 * trips, leases, rates per second): a step of the wall clock (NTP at boot, a resumed VM, an
 * operator) would otherwise read as a round trip of minutes, expire every lease at once, or hold
 * the admission windows still until the clock caught up; and whole milliseconds blur the round
 * trips of fast requests. Its readings differ from the wall clock by any step since start-up.
 */
export const monotonicClock: Clock = {
  nowMs: () => performance.timeOrigin + performance.now(),
};
