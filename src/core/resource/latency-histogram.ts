/**
 * Fixed-size latency histogram with log-spaced bins (about 5 % wide) from 0.1 ms to ~1 hour, so a
 * bucket of the sliding window costs the same memory whatever it records.
 */
const MIN_MS = 0.1;
const GROWTH = 1.05;
const BINS = Math.ceil(Math.log(3_600_000 / MIN_MS) / Math.log(GROWTH)) + 1;

export class LatencyHistogram {
  private readonly counts = new Float64Array(BINS);
  private total = 0;

  get count(): number {
    return this.total;
  }

  add(latencyMs: number): void {
    this.counts[binOf(latencyMs)] += 1;
    this.total += 1;
  }

  addAll(other: LatencyHistogram): void {
    for (let i = 0; i < BINS; i++) this.counts[i] += other.counts[i];
    this.total += other.total;
  }

  clear(): void {
    this.counts.fill(0);
    this.total = 0;
  }

  /** Nearest-rank quantile (q in 0..1), reported as the bin's geometric middle; undefined if empty. */
  quantile(q: number): number | undefined {
    if (this.total === 0) return undefined;
    const rank = Math.max(1, Math.ceil(q * this.total));
    let seen = 0;
    for (let i = 0; i < BINS; i++) {
      seen += this.counts[i];
      if (seen >= rank) return i === 0 ? MIN_MS : MIN_MS * GROWTH ** (i - 0.5);
    }
    return MIN_MS * GROWTH ** (BINS - 1);
  }
}

function binOf(latencyMs: number): number {
  if (!(latencyMs > MIN_MS)) return 0;
  return Math.min(BINS - 1, Math.ceil(Math.log(latencyMs / MIN_MS) / Math.log(GROWTH)));
}
