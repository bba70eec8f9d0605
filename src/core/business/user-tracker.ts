/**
 * Per-user activity in a table of at most `maxUsers` users, kept by the Space-Saving algorithm
 * (Metwally, Agrawal, El Abbadi, "Efficient computation of frequent and top-k elements in data
 * streams", 2005): on a full table a new user replaces the user with the fewest requests and
 * inherits that count, which becomes its error bound. Counts are then never below the true ones,
 * overstate them by at most the error bound, and any user with more than N / maxUsers of the N
 * requests so far is in the table: a flood of one-off users cannot push out a heavy one. Among users
 * with the fewest requests, the one seen least recently (by event time) goes, ties against the user
 * tracked first. An indexed binary min-heap finds it: O(log n) per event, memory bounded by `maxUsers`.
 * Bytes and last-seen are the user's own since they entered the table (exact over uint64).
 */
import { addBytes } from './byte-totals.js';

export interface UserUsage {
  user: string;
  /** At least the user's true count, at most `requestsError` above it. */
  requests: number;
  /** Requests inherited when the user replaced another: 0 = `requests` is exact. */
  requestsError: number;
  bytesIn: bigint;
  bytesOut: bigint;
  lastSeenMs: number;
}

interface Tracked {
  usage: UserUsage;
  /** When the user was tracked, in tracking order: the last tie-break. */
  order: number;
  /** Position in the heap. */
  at: number;
}

export class UserTracker {
  private readonly users = new Map<string, Tracked>();
  /** Min-heap of the tracked users by (requests, lastSeenMs, order). */
  private readonly heap: Tracked[] = [];
  private nextOrder = 0;
  private evictedCount = 0;
  /** Latest last-seen time of a user replaced: a window starting after it lost nobody. */
  private latestEvictedMs = Number.NEGATIVE_INFINITY;

  constructor(readonly maxUsers: number) {}

  record(user: string, timeMs: number, bytesIn: number, bytesOut: number): void {
    const known = this.users.get(user);
    if (known) {
      const { usage } = known;
      usage.requests += 1;
      usage.bytesIn = addBytes(usage.bytesIn, bytesIn);
      usage.bytesOut = addBytes(usage.bytesOut, bytesOut);
      if (timeMs > usage.lastSeenMs) usage.lastSeenMs = timeMs;
      this.siftDown(known.at);
      return;
    }
    let inherited = 0;
    if (this.users.size >= this.maxUsers) {
      const root = this.heap[0]!;
      inherited = root.usage.requests;
      this.evictedCount += 1;
      if (root.usage.lastSeenMs > this.latestEvictedMs) this.latestEvictedMs = root.usage.lastSeenMs;
      this.removeRoot();
    }
    const tracked: Tracked = {
      usage: { user, requests: inherited + 1, requestsError: inherited, bytesIn: BigInt(bytesIn), bytesOut: BigInt(bytesOut), lastSeenMs: timeMs },
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

  /** Whether every user seen at or after `sinceMs` is in the table (none of them was replaced). */
  completeSince(sinceMs: number): boolean {
    return this.latestEvictedMs < sinceMs;
  }

  /** The `count` users with the most requests; ties by the smaller error bound, then by name. */
  top(count: number): UserUsage[] {
    return [...this.users.values()]
      .map((t) => t.usage)
      .sort((a, b) => b.requests - a.requests || a.requestsError - b.requestsError || (a.user < b.user ? -1 : 1))
      .slice(0, count)
      .map((u) => ({ ...u }));
  }

  get tracked(): number {
    return this.users.size;
  }

  /** Users replaced since start because the table was full. */
  get evicted(): number {
    return this.evictedCount;
  }

  private removeRoot(): void {
    const root = this.heap[0]!;
    this.users.delete(root.usage.user);
    const last = this.heap.pop()!;
    if (last !== root) {
      this.heap[0] = last;
      last.at = 0;
      this.siftDown(0);
    }
  }

  private before(a: Tracked, b: Tracked): boolean {
    const x = a.usage;
    const y = b.usage;
    if (x.requests !== y.requests) return x.requests < y.requests;
    if (x.lastSeenMs !== y.lastSeenMs) return x.lastSeenMs < y.lastSeenMs;
    return a.order < b.order;
  }

  private siftUp(i: number): void {
    const heap = this.heap;
    const item = heap[i]!;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!this.before(item, heap[parent]!)) break;
      heap[i] = heap[parent]!;
      heap[i]!.at = i;
      i = parent;
    }
    heap[i] = item;
    item.at = i;
  }

  private siftDown(i: number): void {
    const heap = this.heap;
    const item = heap[i]!;
    const n = heap.length;
    for (;;) {
      const left = 2 * i + 1;
      if (left >= n) break;
      const right = left + 1;
      const child = right < n && this.before(heap[right]!, heap[left]!) ? right : left;
      if (!this.before(heap[child]!, item)) break;
      heap[i] = heap[child]!;
      heap[i]!.at = i;
      i = child;
    }
    heap[i] = item;
    item.at = i;
  }
}
