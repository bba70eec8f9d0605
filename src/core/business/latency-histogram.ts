/**
 * Fixed log-scale histogram of latencies (DDSketch-style bins). Any quantile it reports is within
 * 1% (relative) of the true nearest-rank quantile for latencies in [0.01 ms, 1e7 ms]; latencies below
 * 0.01 ms are reported as 0 and those above 1e7 ms (2.8 h) as about 1e7 ms. Memory is fixed:
 * BIN_COUNT counters, whatever the traffic.
 */

export const RELATIVE_ERROR = 0.01;
const MIN_MS = 0.01;
const MAX_MS = 1e7;
const GAMMA = (1 + RELATIVE_ERROR) / (1 - RELATIVE_ERROR);
const LOG_GAMMA = Math.log(GAMMA);
/** Bin 0 holds [0, MIN_MS); bin i >= 1 holds [MIN_MS * GAMMA^(i-1), MIN_MS * GAMMA^i). */
export const BIN_COUNT = 1 + Math.ceil(Math.log(MAX_MS / MIN_MS) / LOG_GAMMA);

export function binOf(latencyMs: number): number {
  if (latencyMs < MIN_MS) return 0;
  return Math.min(BIN_COUNT - 1, 1 + Math.floor(Math.log(latencyMs / MIN_MS) / LOG_GAMMA));
}

/** The value that represents a bin: within RELATIVE_ERROR of every value the bin holds. */
function binValue(bin: number): number {
  if (bin === 0) return 0;
  const lower = MIN_MS * GAMMA ** (bin - 1);
  return (lower * 2 * GAMMA) / (GAMMA + 1);
}

/**
 * Nearest-rank quantile of bin counts holding `total` values; null when empty. Counts may be
 * weighted (fractional): the first bin where the running count reaches q of the total and is above
 * 0 (q = 0 is the smallest value). For whole counts that is rank max(1, ceil(q * total)).
 */
export function quantileOf(counts: ArrayLike<number>, total: number, q: number): number | null {
  if (!(total > 0)) return null;
  const rank = q * total;
  let seen = 0;
  for (let bin = 0; bin < counts.length; bin++) {
    seen += counts[bin];
    if (seen > 0 && seen >= rank) return binValue(bin);
  }
  return binValue(counts.length - 1);
}
