/** Bounded, sequence-ordered store of anomaly events; the oldest are dropped beyond capacity. */
import type { AnomalyEvent } from './types.js';

export class EventHistory {
  private readonly ring: Array<AnomalyEvent | undefined>;
  /** Index of the oldest retained event. */
  private head = 0;
  private size = 0;

  constructor(readonly capacity: number) {
    this.ring = new Array(capacity);
  }

  get length(): number {
    return this.size;
  }

  append(event: AnomalyEvent): void {
    if (this.size < this.capacity) {
      this.ring[(this.head + this.size) % this.capacity] = event;
      this.size++;
    } else {
      this.ring[this.head] = event;
      this.head = (this.head + 1) % this.capacity;
    }
  }

  /** The i-th retained event, 0 = oldest. */
  at(i: number): AnomalyEvent {
    return this.ring[(this.head + i) % this.capacity]!;
  }

  /** Sequence of the oldest retained event, or undefined when empty. */
  oldestSequence(): number | undefined {
    return this.size > 0 ? this.at(0).sequence : undefined;
  }

  /** Position of the first retained event with sequence > `after` (binary search; sequences increase). */
  indexAfter(after: number): number {
    let lo = 0;
    let hi = this.size;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.at(mid).sequence > after) hi = mid;
      else lo = mid + 1;
    }
    return lo;
  }

  /** Newest first, at most `limit` events passing `keep`, stopping at sequence <= `afterSequence`. */
  newest(limit: number, keep: (e: AnomalyEvent) => boolean, afterSequence = 0): AnomalyEvent[] {
    const out: AnomalyEvent[] = [];
    for (let i = this.size - 1; i >= 0 && out.length < limit; i--) {
      const e = this.at(i);
      if (e.sequence <= afterSequence) break;
      if (keep(e)) out.push(e);
    }
    return out;
  }
}
