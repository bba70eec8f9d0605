/** Bucket bounds grow by this factor, so a bucket's geometric middle is within ~1% of any value in it. */
const GROWTH = 1.02;
/** Latencies at or above one hour share the overflow bucket (reported as the exact maximum). */
const MAX_US = 3_600_000_000;

const LOG_BUCKETS = Math.ceil(Math.log(MAX_US) / Math.log(GROWTH));
/** upper[i] is the exclusive upper bound of bucket i; bucket 0 is [0, 1 us). */
const UPPER = Float64Array.from({ length: LOG_BUCKETS + 1 }, (_, i) => GROWTH ** i);

/**
 * Worst-case relative error of a percentile estimate for values of 1 us and more: sqrt(1.02) - 1,
 * about 0.995%. Values below 1 us are off by at most 0.5 us.
 */
export const PERCENTILE_RELATIVE_ERROR = Math.sqrt(GROWTH) - 1;

/**
 * Latency distribution in a fixed set of log-spaced buckets: memory does not grow with the number of
 * values recorded, and percentiles are estimated within PERCENTILE_RELATIVE_ERROR. Exact count, sum,
 * min and max are kept alongside.
 */
export class LatencyHistogram {
  /** Fixed at construction: 1 bucket below 1 us, LOG_BUCKETS log buckets, 1 overflow bucket. */
  readonly bucketCount = LOG_BUCKETS + 2;
  private readonly counts = new Float64Array(this.bucketCount);
  count = 0;
  sum = 0;
  min = Number.POSITIVE_INFINITY;
  max = 0;

  /** Records one latency in microseconds; callers validate that it is finite and not negative. */
  record(valueUs: number): void {
    this.counts[this.indexOf(valueUs)] += 1;
    this.count += 1;
    this.sum += valueUs;
    this.min = Math.min(this.min, valueUs);
    this.max = Math.max(this.max, valueUs);
  }

  /** Nearest-rank percentile estimate (q in 0..1), or undefined when nothing was recorded. */
  percentile(q: number): number | undefined {
    if (this.count === 0) return undefined;
    const rank = Math.max(1, Math.ceil(q * this.count));
    let seen = 0;
    for (let i = 0; i < this.bucketCount; i++) {
      seen += this.counts[i];
      if (seen >= rank) return this.clamp(this.estimate(i));
    }
    return this.max;
  }

  private indexOf(valueUs: number): number {
    if (valueUs < 1) return 0;
    if (valueUs >= MAX_US) return this.bucketCount - 1;
    // Bucket k (1-based) holds [GROWTH^(k-1), GROWTH^k); the log guess is corrected for rounding.
    let k = Math.floor(Math.log(valueUs) / Math.log(GROWTH)) + 1;
    while (k > 1 && UPPER[k - 1] > valueUs) k -= 1;
    while (k < LOG_BUCKETS && UPPER[k] <= valueUs) k += 1;
    return k;
  }

  private estimate(index: number): number {
    if (index === 0) return 0.5;
    if (index === this.bucketCount - 1) return this.max;
    return Math.sqrt(UPPER[index - 1] * UPPER[index]);
  }

  private clamp(value: number): number {
    return Math.min(this.max, Math.max(this.min, value));
  }
}
