import { invalidArgument } from '../../errors.js';

/**
 * A token bucket: tokens accrue at `ratePerSec` up to `capacity`; each admission takes one.
 * Time is passed in so the same bucket runs on the wall clock or in a simulation.
 */
export class TokenBucket {
  private tokens: number;
  private lastMs: number;

  constructor(
    private ratePerSec: number,
    private capacity: number,
    nowMs: number,
  ) {
    TokenBucket.check(ratePerSec, capacity);
    this.tokens = capacity;
    this.lastMs = nowMs;
  }

  get rate(): number {
    return this.ratePerSec;
  }

  get burst(): number {
    return this.capacity;
  }

  /** Tokens available at `nowMs` (fractional). */
  available(nowMs: number): number {
    this.refill(nowMs);
    return this.tokens;
  }

  /**
   * Takes one token if there is one beyond `reserve`: a positive reserve keeps tokens back for other
   * takers, a negative one borrows tokens not yet accrued (those after wait the debt out, so the
   * rate holds over time).
   */
  tryTake(nowMs: number, reserve = 0): boolean {
    this.refill(nowMs);
    if (this.tokens < 1 + reserve) return false;
    this.tokens -= 1;
    return true;
  }

  /** Changes rate and capacity from now on; tokens already saved are kept up to the new capacity. */
  reconfigure(ratePerSec: number, capacity: number, nowMs: number): void {
    TokenBucket.check(ratePerSec, capacity);
    this.refill(nowMs);
    this.ratePerSec = ratePerSec;
    this.capacity = capacity;
    this.tokens = Math.min(this.tokens, capacity);
  }

  private refill(nowMs: number): void {
    // A clock that steps back must not mint or remove tokens.
    if (nowMs <= this.lastMs) return;
    this.tokens = Math.min(this.capacity, this.tokens + ((nowMs - this.lastMs) * this.ratePerSec) / 1000);
    this.lastMs = nowMs;
  }

  private static check(ratePerSec: number, capacity: number): void {
    if (!Number.isFinite(ratePerSec) || ratePerSec <= 0) {
      throw invalidArgument('rate_per_sec', 'must be a finite number > 0');
    }
    if (!Number.isFinite(capacity) || capacity < 1) {
      throw invalidArgument('capacity', 'must be a finite number >= 1');
    }
  }
}
