import { PRIORITIES, type Priority } from './admission/types.js';
import { LatencyHistogram } from './latency-histogram.js';
import type { RefusalReason } from './manager.js';

export type Outcome = 'success' | 'error' | 'dropped';

/** Totals over the sliding window. */
export interface WindowTotals {
  windowMs: number;
  completions: number;
  successes: number;
  errors: number;
  dropped: number;
  /** successes / completions; undefined before any completion. */
  successRate: number | undefined;
  p50LatencyMs: number | undefined;
  p99LatencyMs: number | undefined;
  admitted: Record<Priority, number>;
  rejected: Record<Priority, number>;
  /** Critical requests refused at the controller's limit or the permit cap: not shed, yet lost. */
  criticalRefusedAtCapacity: number;
}

class Bucket {
  startMs = -Infinity;
  successes = 0;
  errors = 0;
  dropped = 0;
  readonly admitted: Record<Priority, number> = { critical: 0, normal: 0, sheddable: 0 };
  readonly rejected: Record<Priority, number> = { critical: 0, normal: 0, sheddable: 0 };
  /** Of the refusals, those at the admission controller's limit (not shed, not at the permit cap). */
  atLimit = 0;
  criticalRefusedAtCapacity = 0;
  readonly latency = new LatencyHistogram();

  reset(startMs: number): void {
    this.startMs = startMs;
    this.successes = 0;
    this.errors = 0;
    this.dropped = 0;
    this.atLimit = 0;
    this.criticalRefusedAtCapacity = 0;
    for (const p of PRIORITIES) {
      this.admitted[p] = 0;
      this.rejected[p] = 0;
    }
    this.latency.clear();
  }
}

/**
 * Request statistics over a sliding window, kept as a ring of fixed-width buckets: memory is
 * bounded by the number of buckets, and data older than the window is forgotten bucket by bucket.
 */
export class SlidingWindowStats {
  private readonly buckets: Bucket[];
  /** Bumped by every completion: the window's latencies change only then, or as buckets age out. */
  private completionsSeen = 0;
  private median: { completionsSeen: number; bucketStartMs: number; ms: number | undefined } | undefined;

  constructor(
    readonly windowMs: number,
    private readonly bucketMs: number,
  ) {
    this.buckets = Array.from({ length: Math.ceil(windowMs / bucketMs) }, () => new Bucket());
  }

  recordAdmission(nowMs: number, priority: Priority): void {
    this.bucketAt(nowMs).admitted[priority] += 1;
  }

  recordRejection(nowMs: number, priority: Priority, why: RefusalReason): void {
    const b = this.bucketAt(nowMs);
    b.rejected[priority] += 1;
    if (why === 'controller_limit') b.atLimit += 1;
    if (why !== 'shedding' && priority === 'critical') b.criticalRefusedAtCapacity += 1;
  }

  /**
   * Every completion's latency counts, whatever its outcome: the percentiles describe the
   * completions in the window, as GetResources says, and failed work held its permit as long. A
   * permit reclaimed at its lease has none (undefined): no end of its work was seen.
   */
  recordCompletion(nowMs: number, outcome: Outcome, latencyMs: number | undefined): void {
    const b = this.bucketAt(nowMs);
    if (outcome === 'success') b.successes += 1;
    else if (outcome === 'error') b.errors += 1;
    else b.dropped += 1;
    if (latencyMs !== undefined) b.latency.add(latencyMs);
    this.completionsSeen += 1;
  }

  /**
   * The window's median latency, kept until a completion or the next bucket changes it: every
   * refused request asks for it (its retry-after), most often under overload, and merging every
   * bucket's histogram each time would cost the most exactly then.
   */
  medianLatencyMs(nowMs: number): number | undefined {
    const bucketStartMs = this.startOf(nowMs);
    const m = this.median;
    if (m && m.completionsSeen === this.completionsSeen && m.bucketStartMs === bucketStartMs) return m.ms;
    const ms = this.totals(nowMs).p50LatencyMs;
    this.median = { completionsSeen: this.completionsSeen, bucketStartMs, ms };
    return ms;
  }

  /**
   * Refusals at the controller's limit per admission over the current bucket and the one before
   * (the last one to two bucket widths): what a request refused there competes with for a slot
   * now, rather than over the whole window (shed requests compete for none). Infinity when nothing
   * was admitted but something refused, 0 when neither.
   */
  recentRefusalsPerAdmission(nowMs: number): number {
    const start = this.startOf(nowMs);
    let admitted = 0;
    let rejected = 0;
    for (const startMs of [start, start - this.bucketMs]) {
      const b = this.buckets[this.indexOf(startMs)]!;
      if (b.startMs !== startMs) continue;
      rejected += b.atLimit;
      for (const p of PRIORITIES) admitted += b.admitted[p];
    }
    if (admitted === 0) return rejected === 0 ? 0 : Infinity;
    return rejected / admitted;
  }

  totals(nowMs: number): WindowTotals {
    const latency = new LatencyHistogram();
    const t = {
      windowMs: this.windowMs,
      completions: 0,
      successes: 0,
      errors: 0,
      dropped: 0,
      admitted: { critical: 0, normal: 0, sheddable: 0 },
      rejected: { critical: 0, normal: 0, sheddable: 0 },
      criticalRefusedAtCapacity: 0,
    };
    const oldest = this.startOf(nowMs) - (this.buckets.length - 1) * this.bucketMs;
    for (const b of this.buckets) {
      if (b.startMs < oldest || b.startMs > nowMs) continue;
      t.successes += b.successes;
      t.errors += b.errors;
      t.dropped += b.dropped;
      t.criticalRefusedAtCapacity += b.criticalRefusedAtCapacity;
      for (const p of PRIORITIES) {
        t.admitted[p] += b.admitted[p];
        t.rejected[p] += b.rejected[p];
      }
      latency.addAll(b.latency);
    }
    t.completions = t.successes + t.errors + t.dropped;
    return {
      ...t,
      successRate: t.completions > 0 ? t.successes / t.completions : undefined,
      p50LatencyMs: latency.quantile(0.5),
      p99LatencyMs: latency.quantile(0.99),
    };
  }

  private startOf(nowMs: number): number {
    return Math.floor(nowMs / this.bucketMs) * this.bucketMs;
  }

  private indexOf(startMs: number): number {
    return ((Math.floor(startMs / this.bucketMs) % this.buckets.length) + this.buckets.length) % this.buckets.length;
  }

  private bucketAt(nowMs: number): Bucket {
    const start = this.startOf(nowMs);
    const b = this.buckets[this.indexOf(start)];
    if (b.startMs !== start) b.reset(start);
    return b;
  }
}
