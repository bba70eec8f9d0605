/**
 * Time source for the engines. Engines never read the wall clock directly so that tests and the
 * admission simulation can drive them with virtual time.
 */
export interface Clock {
  /** Wall-clock time in milliseconds since the Unix epoch. */
  nowMs(): number;
}

export const systemClock: Clock = {
  nowMs: () => Date.now(),
};
