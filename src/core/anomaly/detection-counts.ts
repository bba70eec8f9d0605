/**
 * Anomalies detected in the last hour, by severity, in one-second buckets of the engine's monotonic
 * clock: the health report's hour and 5-minute figures. Counting them in the event history, which
 * keeps only the newest, undercounted them once anomalies came faster than it holds them.
 */
import { SEVERITIES, type Severity } from './types.js';

/** The longest window counted. */
export const DETECTION_COUNT_SPAN_MS = 3_600_000;
/** Granularity of the windows: an anomaly counts for its whole second of detection. */
const DETECTION_COUNT_BUCKET_MS = 1_000;
/** The span's seconds, and the second its oldest edge falls in. */
const BUCKETS = DETECTION_COUNT_SPAN_MS / DETECTION_COUNT_BUCKET_MS + 1;
const SEVERITY_INDEX: Record<string, number> = Object.fromEntries(SEVERITIES.map((s, i) => [s, i]));

/**
 * Taken at the first anomaly (84 KiB), as the history grows with its events: an engine that never
 * raises one holds nothing. Counts are 32-bit: a second would need 4 billion anomalies to overflow.
 */
export class DetectionCounts {
  /** The second (ms / bucket, floored) each slot counts; NaN for none yet. A slot is reused an hour later. */
  private seconds: Float64Array | undefined;
  private counts = new Uint32Array(0);

  add(severity: Severity, nowMs: number): void {
    if (this.seconds === undefined) {
      this.seconds = new Float64Array(BUCKETS).fill(Number.NaN);
      this.counts = new Uint32Array(BUCKETS * SEVERITIES.length);
    }
    const second = Math.floor(nowMs / DETECTION_COUNT_BUCKET_MS);
    const slot = ((second % BUCKETS) + BUCKETS) % BUCKETS;
    if (this.seconds[slot] !== second) {
      this.seconds[slot] = second;
      this.counts.fill(0, slot * SEVERITIES.length, (slot + 1) * SEVERITIES.length);
    }
    this.counts[slot * SEVERITIES.length + SEVERITY_INDEX[severity]!]! += 1;
  }

  /**
   * Anomalies detected at most `withinMs` (up to the span) ago, by severity. The second the window
   * starts in counts whole, so an anomaly leaves the window up to a second late, never early.
   */
  within(withinMs: number, nowMs: number): Record<Severity, number> {
    const from = Math.floor((nowMs - withinMs) / DETECTION_COUNT_BUCKET_MS);
    const to = Math.floor(nowMs / DETECTION_COUNT_BUCKET_MS);
    const out = Object.fromEntries(SEVERITIES.map((s) => [s, 0])) as Record<Severity, number>;
    if (this.seconds === undefined) return out;
    for (let slot = 0; slot < BUCKETS; slot++) {
      const second = this.seconds[slot]!;
      if (!(second >= from && second <= to)) continue;
      for (let i = 0; i < SEVERITIES.length; i++) out[SEVERITIES[i]!] += this.counts[slot * SEVERITIES.length + i]!;
    }
    return out;
  }
}
