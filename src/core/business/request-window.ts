/**
 * Sliding window over the last N seconds of requests, (now - N s, now], in one-second slots (a ring
 * reused as time moves on), so memory is fixed and old seconds are forgotten. Each slot keeps
 * counts, bytes and a latency histogram; slot k holds the seconds (k - 1, k].
 *
 * The window starts inside a slot: N slots would hold N - 1 to N seconds of requests and read up to
 * 1/N low. So the ring keeps N + 1 slots and the oldest counts by the part of it inside the window,
 * as if its requests were spread evenly over it (as Prometheus's rate() extrapolates); at a whole
 * second that part is 0 and the window is exactly N whole slots.
 *
 * A request's bytes are spread evenly over its latency, [completion - latency, completion], each slot
 * taking its share of the overlap: a one-hour upload moved a minute of its bytes in the last minute,
 * not all of them. Its count, status and latency are one event, at its completion.
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

/** A slot in the window and how much of it the window holds (0..1]. */
interface LiveSlot {
  slot: number;
  weight: number;
}

export class RequestWindow {
  /** N + 1: the N seconds of the window and the one it starts in. */
  private readonly size: number;
  private readonly stamps: Float64Array;
  private readonly requests: Float64Array;
  private readonly bytesIn: Float64Array;
  private readonly bytesOut: Float64Array;
  private readonly clientErrors: Float64Array;
  private readonly serverErrors: Float64Array;
  private readonly latency: Uint32Array[];

  constructor(readonly seconds: number) {
    this.size = seconds + 1;
    this.stamps = new Float64Array(this.size).fill(Number.NEGATIVE_INFINITY);
    this.requests = new Float64Array(this.size);
    this.bytesIn = new Float64Array(this.size);
    this.bytesOut = new Float64Array(this.size);
    this.clientErrors = new Float64Array(this.size);
    this.serverErrors = new Float64Array(this.size);
    this.latency = Array.from({ length: this.size }, () => new Uint32Array(BIN_COUNT));
  }

  /**
   * Counts an event into the second it completed, with its latency's bin when it was measured, and
   * spreads its bytes over its latency; what already left the window is ignored here.
   */
  add(event: AcceptedEvent, latencyBin: number | undefined, nowMs: number): void {
    const oldest = secondOf(nowMs) - this.seconds;
    const completed = secondOf(event.timeMs);
    if (completed < oldest) return;
    const slot = this.claim(completed);
    this.requests[slot] += 1;
    if (event.status >= 400 && event.status < 500) this.clientErrors[slot] += 1;
    if (event.status >= 500) this.serverErrors[slot] += 1;
    if (latencyBin !== undefined) this.latency[slot][latencyBin] += 1;
    this.spreadBytes(event, oldest);
  }

  /**
   * An event's bytes, moved evenly over [completion - latency, completion]: each second takes its
   * share of the overlap (all of them the second it completed in, without a latency). One add per
   * slot kept, whatever the latency: the part before the oldest is in no window.
   */
  private spreadBytes(event: AcceptedEvent, oldest: number): void {
    const endMs = event.timeMs;
    const spanMs = event.latencyMs ?? 0;
    const startMs = endMs - spanMs;
    for (let second = Math.max(oldest, secondOf(startMs)); second <= secondOf(endMs); second++) {
      // The overlap as distances back from the completion: epoch milliseconds would round a latency
      // under a microsecond away.
      const overlapMs = Math.min(spanMs, endMs - (second - 1) * 1000) - Math.max(0, endMs - second * 1000);
      const share = spanMs > 0 ? overlapMs / spanMs : 1;
      if (!(share > 0)) continue;
      const slot = this.claim(second);
      this.bytesIn[slot] += event.bytesIn * share;
      this.bytesOut[slot] += event.bytesOut * share;
    }
  }

  counts(nowMs: number): WindowCounts {
    const out: WindowCounts = { requests: 0, bytesIn: 0, bytesOut: 0, clientErrors: 0, serverErrors: 0 };
    for (const { slot, weight } of this.liveSlots(nowMs)) {
      out.requests += weight * this.requests[slot];
      out.bytesIn += weight * this.bytesIn[slot];
      out.bytesOut += weight * this.bytesOut[slot];
      out.clientErrors += weight * this.clientErrors[slot];
      out.serverErrors += weight * this.serverErrors[slot];
    }
    return out;
  }

  /** Latency quantiles (ms) over the window, null when it holds no measured latency. */
  latencyQuantiles(nowMs: number, quantiles: readonly number[]): Array<number | null> {
    const merged = new Float64Array(BIN_COUNT);
    for (const { slot, weight } of this.liveSlots(nowMs)) {
      const bins = this.latency[slot];
      for (let b = 0; b < BIN_COUNT; b++) merged[b] += weight * bins[b];
    }
    // Summed in bin order, as quantileOf sums, so that its running sum reaches the total exactly.
    let total = 0;
    for (let b = 0; b < BIN_COUNT; b++) total += merged[b];
    return quantiles.map((q) => quantileOf(merged, total, q));
  }

  /** Slots holding seconds of (now - N s, now], each with the part of it inside. */
  private liveSlots(nowMs: number): LiveSlot[] {
    const newest = secondOf(nowMs);
    const oldestWeight = (newest * 1000 - nowMs) / 1000;
    const live: LiveSlot[] = [];
    for (let slot = 0; slot < this.size; slot++) {
      const stamp = this.stamps[slot];
      if (stamp > newest - this.seconds && stamp <= newest) live.push({ slot, weight: 1 });
      else if (stamp === newest - this.seconds && oldestWeight > 0) live.push({ slot, weight: oldestWeight });
    }
    return live;
  }

  /**
   * The ring slot of `second`, emptied first when it holds another: one that left the window, or
   * one ahead of now (the wall clock stepped back), stale either way.
   */
  private claim(second: number): number {
    const slot = ((second % this.size) + this.size) % this.size;
    if (this.stamps[slot] !== second) this.reset(slot, second);
    return slot;
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

/** The slot second `timeMs` falls in: k for (k - 1 s, k s]. */
function secondOf(timeMs: number): number {
  return Math.ceil(timeMs / 1000);
}
