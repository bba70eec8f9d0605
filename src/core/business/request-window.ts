/**
 * Sliding window over the last N seconds of requests, one slot per second (a ring of N slots reused
 * as time moves on), so memory is fixed and old seconds are forgotten. Each slot keeps counts, bytes
 * and a latency histogram.
 */
import type { AcceptedEvent } from './events.js';
import { BIN_COUNT, quantileOf } from './latency-histogram.js';

export interface WindowCounts {
  requests: number;
  bytesIn: number;
  bytesOut: number;
  clientErrors: number;
  serverErrors: number;
}

export class RequestWindow {
  private readonly stamps: Float64Array;
  private readonly requests: Float64Array;
  private readonly bytesIn: Float64Array;
  private readonly bytesOut: Float64Array;
  private readonly clientErrors: Float64Array;
  private readonly serverErrors: Float64Array;
  private readonly latency: Uint32Array[];

  constructor(readonly seconds: number) {
    this.stamps = new Float64Array(seconds).fill(Number.NEGATIVE_INFINITY);
    this.requests = new Float64Array(seconds);
    this.bytesIn = new Float64Array(seconds);
    this.bytesOut = new Float64Array(seconds);
    this.clientErrors = new Float64Array(seconds);
    this.serverErrors = new Float64Array(seconds);
    this.latency = Array.from({ length: seconds }, () => new Uint32Array(BIN_COUNT));
  }

  /**
   * Counts an event into its second, and its latency's bin when it was measured; events that
   * already left the window are ignored here.
   */
  add(event: AcceptedEvent, latencyBin: number | undefined, nowMs: number): void {
    const second = Math.floor(event.timeMs / 1000);
    if (second <= Math.floor(nowMs / 1000) - this.seconds) return;
    const slot = second % this.seconds;
    // Another second in the slot is one that left the window, or one ahead of now (the wall clock
    // stepped back): stale either way.
    if (this.stamps[slot] !== second) this.reset(slot, second);
    this.requests[slot] += 1;
    this.bytesIn[slot] += event.bytesIn;
    this.bytesOut[slot] += event.bytesOut;
    if (event.status >= 400 && event.status < 500) this.clientErrors[slot] += 1;
    if (event.status >= 500) this.serverErrors[slot] += 1;
    if (latencyBin !== undefined) this.latency[slot][latencyBin] += 1;
  }

  counts(nowMs: number): WindowCounts {
    const out: WindowCounts = { requests: 0, bytesIn: 0, bytesOut: 0, clientErrors: 0, serverErrors: 0 };
    for (const slot of this.liveSlots(nowMs)) {
      out.requests += this.requests[slot];
      out.bytesIn += this.bytesIn[slot];
      out.bytesOut += this.bytesOut[slot];
      out.clientErrors += this.clientErrors[slot];
      out.serverErrors += this.serverErrors[slot];
    }
    return out;
  }

  /** Latency quantiles (ms) over the window, null when it holds no measured latency. */
  latencyQuantiles(nowMs: number, quantiles: readonly number[]): Array<number | null> {
    const merged = new Float64Array(BIN_COUNT);
    let total = 0;
    for (const slot of this.liveSlots(nowMs)) {
      const bins = this.latency[slot];
      for (let b = 0; b < BIN_COUNT; b++) {
        merged[b] += bins[b];
        total += bins[b];
      }
    }
    return quantiles.map((q) => quantileOf(merged, total, q));
  }

  /** Slots holding a second in (now - N s, now]. */
  private liveSlots(nowMs: number): number[] {
    const newest = Math.floor(nowMs / 1000);
    const live: number[] = [];
    for (let slot = 0; slot < this.seconds; slot++) {
      const stamp = this.stamps[slot];
      if (stamp > newest - this.seconds && stamp <= newest) live.push(slot);
    }
    return live;
  }

  private reset(slot: number, second: number): void {
    this.stamps[slot] = second;
    this.requests[slot] = 0;
    this.bytesIn[slot] = 0;
    this.bytesOut[slot] = 0;
    this.clientErrors[slot] = 0;
    this.serverErrors[slot] = 0;
    this.latency[slot].fill(0);
  }
}
