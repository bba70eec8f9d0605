/** Deterministic test signals (seeded noise), shared by the anomaly tests. */
import { gaussian, prng } from '../../../bench/nab/noise.js';

/** Mulberry32 uniform [0, 1), the benchmarks' generator. */
export const uniform = prng;

/** Standard normal noise (Box-Muller). */
export function normal(seed: number): () => number {
  const u = uniform(seed);
  return () => gaussian(u);
}

export const FIVE_MINUTES = 300_000;
export const DAY = 86_400_000;
/** 2024-01-01T00:00:00Z. */
export const T0 = Date.UTC(2024, 0, 1);

/** Sample times every five minutes from T0. */
export function timeAt(i: number): number {
  return T0 + i * FIVE_MINUTES;
}
