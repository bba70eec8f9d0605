/**
 * Distinct users over the last hour and day when the user table cannot list them all: one
 * HyperLogLog sketch per five-minute slot of event time, in a ring covering a day, merged on demand.
 * Memory is bounded: at most SKETCH_SLOTS sketches of 4 KiB (1.2 MiB), allocated as slots are used.
 * A window counts whole slots, so it reaches back to the start of the slot it begins in (up to
 * 5 minutes more than the hour or day).
 */
import { HyperLogLog, murmur3 } from './hyperloglog.js';

const SKETCH_SLOT_MS = 5 * 60_000;
/** A day of slots plus the current one. */
export const SKETCH_SLOTS = (24 * 60 * 60_000) / SKETCH_SLOT_MS + 1;

export class ActiveUserSketches {
  private readonly stamps = new Float64Array(SKETCH_SLOTS).fill(Number.NEGATIVE_INFINITY);
  private readonly sketches: Array<HyperLogLog | undefined> = new Array(SKETCH_SLOTS);

  /** Counts `user` in the slot of `timeMs`; events older than the ring are ignored. */
  add(user: string, timeMs: number, nowMs: number): void {
    const slot = Math.floor(timeMs / SKETCH_SLOT_MS);
    if (slot <= Math.floor(nowMs / SKETCH_SLOT_MS) - SKETCH_SLOTS) return;
    const at = slot % SKETCH_SLOTS;
    let sketch = this.sketches[at];
    if (!sketch) sketch = this.sketches[at] = new HyperLogLog();
    // Another slot here is one that left the ring, or one ahead of now (the wall clock stepped
    // back): stale either way.
    if (this.stamps[at] !== slot) {
      this.stamps[at] = slot;
      sketch.clear();
    }
    sketch.add(murmur3(user));
  }

  /** Estimated distinct users in the slots from the one holding `sinceMs` to the one holding `nowMs`. */
  estimateSince(sinceMs: number, nowMs: number): number {
    const first = Math.floor(sinceMs / SKETCH_SLOT_MS);
    const last = Math.floor(nowMs / SKETCH_SLOT_MS);
    const union = new HyperLogLog();
    for (let at = 0; at < SKETCH_SLOTS; at++) {
      const stamp = this.stamps[at];
      if (stamp >= first && stamp <= last) union.merge(this.sketches[at]!);
    }
    return union.estimate();
  }

  /** Sketches allocated (at most SKETCH_SLOTS). */
  get allocated(): number {
    return this.sketches.filter(Boolean).length;
  }
}
