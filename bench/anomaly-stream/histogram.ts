/**
 * Delivery-delay histogram with fixed 0.1 ms buckets up to a cap: memory is fixed (the cap bounds
 * it) however many deliveries are recorded, and quantiles are exact to a bucket. Delays at or past
 * the cap land in one overflow bucket; the true maximum is kept apart.
 */
const BUCKET_MS = 0.1;

export interface DelaySummary {
  count: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  /** Deliveries at or past the cap (their quantile reads as the cap). */
  overCap: number;
}

export class DelayHistogram {
  private readonly buckets: Uint32Array;
  private count = 0;
  private max = 0;

  constructor(readonly capMs = 120_000) {
    this.buckets = new Uint32Array(Math.ceil(capMs / BUCKET_MS) + 1);
  }

  record(delayMs: number): void {
    const d = Math.max(0, delayMs);
    this.buckets[Math.min(this.buckets.length - 1, Math.floor(d / BUCKET_MS))]!++;
    this.count++;
    if (d > this.max) this.max = d;
  }

  /** Upper edge of the bucket holding the q-quantile (nearest rank). */
  quantile(q: number): number {
    if (this.count === 0) return NaN;
    const rank = Math.max(1, Math.ceil(q * this.count));
    let seen = 0;
    for (let i = 0; i < this.buckets.length; i++) {
      seen += this.buckets[i]!;
      if (seen >= rank) return Math.min(this.capMs, (i + 1) * BUCKET_MS);
    }
    return this.capMs;
  }

  summary(): DelaySummary {
    return {
      count: this.count,
      p50Ms: this.quantile(0.5),
      p99Ms: this.quantile(0.99),
      maxMs: this.count === 0 ? NaN : this.max,
      overCap: this.buckets[this.buckets.length - 1]!,
    };
  }
}
