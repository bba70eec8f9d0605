/**
 * Fixed-size latency histogram with log-spaced bins (5 % wide, so a quantile is within 2.5 %) from
 * 0.1 ms up to the longest google.protobuf.Duration (about 315,576,000,001 s), which bounds any
 * lease, so any hold time (and a Release's latency counts at most as that): a permit held for days,
 * or reclaimed after a lease of weeks, reads as what it was, not as the top of a shorter scale. A
 * bucket of the sliding window costs the same memory whatever it records.
 */
const MIN_MS = 0.1;
const GROWTH = 1.05;
const MAX_MS = 315_576_000_001_000;
const BINS = Math.ceil(Math.log(MAX_MS / MIN_MS) / Math.log(GROWTH)) + 1;

export class LatencyHistogram {
  private readonly counts = new Float64Array(BINS);
  private total = 0;
  /** The bins in use lie in [low, high], so merging the window's buckets skips the empty rest. */
  private low = BINS;
  private high = -1;
  private min = Infinity;
  private max = -Infinity;

  get count(): number {
    return this.total;
  }

  add(latencyMs: number): void {
    const bin = binOf(latencyMs);
    this.counts[bin] += 1;
    this.total += 1;
    this.low = Math.min(this.low, bin);
    this.high = Math.max(this.high, bin);
    this.min = Math.min(this.min, latencyMs);
    this.max = Math.max(this.max, latencyMs);
  }

  addAll(other: LatencyHistogram): void {
    for (let i = other.low; i <= other.high; i++) this.counts[i] += other.counts[i];
    this.total += other.total;
    this.low = Math.min(this.low, other.low);
    this.high = Math.max(this.high, other.high);
    this.min = Math.min(this.min, other.min);
    this.max = Math.max(this.max, other.max);
  }

  clear(): void {
    this.counts.fill(0, this.low, this.high + 1);
    this.total = 0;
    this.low = BINS;
    this.high = -1;
    this.min = Infinity;
    this.max = -Infinity;
  }

  /**
   * Nearest-rank quantile (q in 0..1), reported as the bin's geometric middle, kept within the
   * smallest and largest values recorded (so one value, or a bin past MAX_MS, reads exactly);
   * undefined if empty.
   */
  quantile(q: number): number | undefined {
    if (this.total === 0) return undefined;
    const rank = Math.max(1, Math.ceil(q * this.total));
    let seen = 0;
    for (let i = this.low; i <= this.high; i++) {
      seen += this.counts[i];
      if (seen >= rank) return Math.min(this.max, Math.max(this.min, i === 0 ? MIN_MS : MIN_MS * GROWTH ** (i - 0.5)));
    }
    return this.max;
  }
}

function binOf(latencyMs: number): number {
  if (!(latencyMs > MIN_MS)) return 0;
  return Math.min(BINS - 1, Math.ceil(Math.log(latencyMs / MIN_MS) / Math.log(GROWTH)));
}
