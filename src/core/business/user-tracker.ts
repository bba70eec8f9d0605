/**
 * Per-user activity, for at most `maxUsers` users. At the cap, the user seen least recently (by the
 * time of their latest event, not by when the events arrived) is forgotten: a newcomer replaces the
 * tracked user with the oldest last-seen time, or is itself not tracked when its event is older than
 * every tracked user's last one. Ties go against the user tracked first. An indexed binary min-heap
 * on (last seen, tracking order) finds that user: O(log n) per event, memory bounded by `maxUsers`.
 * Counts are cumulative from when the user was (last) first tracked; bytes exact over uint64.
 */
import { addBytes } from './byte-totals.js';

export interface UserUsage {
  user: string;
  requests: number;
  bytesIn: bigint;
  bytesOut: bigint;
  lastSeenMs: number;
}

interface Tracked {
  usage: UserUsage;
  /** When the user was first tracked, in tracking order: the tie-break between equal times. */
  order: number;
  /** Position in the heap. */
  at: number;
}

export class UserTracker {
  private readonly users = new Map<string, Tracked>();
  /** Min-heap of the tracked users by (lastSeenMs, order). */
  private readonly heap: Tracked[] = [];
  private nextOrder = 0;
  private evictedCount = 0;

  constructor(private readonly maxUsers: number) {}

  record(user: string, timeMs: number, bytesIn: number, bytesOut: number): void {
    const known = this.users.get(user);
    if (known) {
      const { usage } = known;
      usage.requests += 1;
      usage.bytesIn = addBytes(usage.bytesIn, bytesIn);
      usage.bytesOut = addBytes(usage.bytesOut, bytesOut);
      if (timeMs > usage.lastSeenMs) {
        usage.lastSeenMs = timeMs;
        this.siftDown(known.at);
      }
      return;
    }
    if (this.users.size >= this.maxUsers) {
      const oldest = this.heap[0];
      this.evictedCount += 1;
      // The newcomer is the least recently seen of all: it is the one not kept.
      if (timeMs < oldest.usage.lastSeenMs) return;
      this.removeRoot();
    }
    const tracked: Tracked = {
      usage: { user, requests: 1, bytesIn: BigInt(bytesIn), bytesOut: BigInt(bytesOut), lastSeenMs: timeMs },
      order: this.nextOrder++,
      at: this.heap.length,
    };
    this.users.set(user, tracked);
    this.heap.push(tracked);
    this.siftUp(tracked.at);
  }

  /** Tracked users seen at or after `sinceMs`. */
  activeSince(sinceMs: number): number {
    let active = 0;
    for (const { usage } of this.users.values()) if (usage.lastSeenMs >= sinceMs) active += 1;
    return active;
  }

  /** The `count` users highest by `by`, ties by name. */
  top<T extends number | bigint>(count: number, by: (u: UserUsage) => T): UserUsage[] {
    return [...this.users.values()]
      .map((t) => t.usage)
      .sort((a, b) => {
        const [x, y] = [by(a), by(b)];
        return x > y ? -1 : x < y ? 1 : a.user < b.user ? -1 : 1;
      })
      .slice(0, count)
      .map((u) => ({ ...u }));
  }

  get tracked(): number {
    return this.users.size;
  }

  get evicted(): number {
    return this.evictedCount;
  }

  private removeRoot(): void {
    const root = this.heap[0];
    this.users.delete(root.usage.user);
    const last = this.heap.pop()!;
    if (last !== root) {
      this.heap[0] = last;
      last.at = 0;
      this.siftDown(0);
    }
  }

  private before(a: Tracked, b: Tracked): boolean {
    return a.usage.lastSeenMs < b.usage.lastSeenMs || (a.usage.lastSeenMs === b.usage.lastSeenMs && a.order < b.order);
  }

  private siftUp(i: number): void {
    const heap = this.heap;
    const item = heap[i];
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!this.before(item, heap[parent])) break;
      heap[i] = heap[parent];
      heap[i].at = i;
      i = parent;
    }
    heap[i] = item;
    item.at = i;
  }

  private siftDown(i: number): void {
    const heap = this.heap;
    const item = heap[i];
    const n = heap.length;
    for (;;) {
      const left = 2 * i + 1;
      if (left >= n) break;
      const right = left + 1;
      const child = right < n && this.before(heap[right], heap[left]) ? right : left;
      if (!this.before(heap[child], item)) break;
      heap[i] = heap[child];
      heap[i].at = i;
      i = child;
    }
    heap[i] = item;
    item.at = i;
  }
}
