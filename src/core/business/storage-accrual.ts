/**
 * Storage held over time, in byte-months: the stored bytes integrated over the interval clock since
 * start, so that a storage bill so far counts each size for as long as it was held. A month is 30
 * days (2,592,000 s).
 */
const MONTH_MS = 30 * 24 * 3_600_000;

export class StorageAccrual {
  /** Bytes x milliseconds up to `sinceMs` (a double: 2^64 bytes held for years stays finite). */
  private byteMs = 0;
  private bytes = 0n;
  private sinceMs: number;

  constructor(startMs: number) {
    this.sinceMs = startMs;
  }

  /** From `nowMs` on, `bytes` are held. */
  hold(bytes: bigint, nowMs: number): void {
    this.byteMs = this.byteMsAt(nowMs);
    this.sinceMs = Math.max(this.sinceMs, nowMs);
    this.bytes = bytes;
  }

  /** Byte-months held from start to `nowMs`. */
  byteMonths(nowMs: number): number {
    return this.byteMsAt(nowMs) / MONTH_MS;
  }

  private byteMsAt(nowMs: number): number {
    return this.byteMs + Number(this.bytes) * Math.max(0, nowMs - this.sinceMs);
  }
}
