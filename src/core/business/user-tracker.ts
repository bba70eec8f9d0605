/**
 * Per-user activity, for at most `maxUsers` users: when a new user arrives at the cap, the user seen
 * least recently is forgotten (a Map keeps insertion order; touching a user moves it to the end).
 * Counts are cumulative from when the user was (last) first tracked.
 */

export interface UserUsage {
  user: string;
  requests: number;
  bytesIn: number;
  bytesOut: number;
  lastSeenMs: number;
}

export class UserTracker {
  private readonly users = new Map<string, UserUsage>();
  private evictedCount = 0;

  constructor(private readonly maxUsers: number) {}

  record(user: string, timeMs: number, bytesIn: number, bytesOut: number): void {
    const known = this.users.get(user);
    const usage = known ?? { user, requests: 0, bytesIn: 0, bytesOut: 0, lastSeenMs: timeMs };
    usage.requests += 1;
    usage.bytesIn += bytesIn;
    usage.bytesOut += bytesOut;
    usage.lastSeenMs = Math.max(usage.lastSeenMs, timeMs);
    this.users.delete(user);
    this.users.set(user, usage);
    if (!known && this.users.size > this.maxUsers) {
      this.users.delete(this.users.keys().next().value as string);
      this.evictedCount += 1;
    }
  }

  /** Tracked users seen at or after `sinceMs`. */
  activeSince(sinceMs: number): number {
    let active = 0;
    for (const usage of this.users.values()) if (usage.lastSeenMs >= sinceMs) active += 1;
    return active;
  }

  top(count: number, by: (u: UserUsage) => number): UserUsage[] {
    return [...this.users.values()]
      .sort((a, b) => by(b) - by(a) || (a.user < b.user ? -1 : 1))
      .slice(0, count)
      .map((u) => ({ ...u }));
  }

  get tracked(): number {
    return this.users.size;
  }

  get evicted(): number {
    return this.evictedCount;
  }
}
