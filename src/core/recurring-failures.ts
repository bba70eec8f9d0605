/**
 * Failures that recur at every periodic attempt (a snapshot, a sample), logged once each: when one
 * starts or its reason changes, and when it ends. A /proc file gone would otherwise write a line at
 * every interval.
 */
export class RecurringFailures<K> {
  /** The reason last logged for each key that fails. */
  private readonly logged = new Map<K, string>();

  constructor(
    private readonly log: (message: string) => void,
    private readonly lines: { failing(key: K, why: string): string; recovered(key: K): string },
  ) {}

  /** The failures of this attempt by key; a key logged before and absent here has recovered. */
  update(failing: ReadonlyMap<K, string>): void {
    for (const [key, why] of failing) {
      if (this.logged.get(key) === why) continue;
      this.logged.set(key, why);
      this.log(this.lines.failing(key, why));
    }
    for (const key of this.logged.keys()) {
      if (failing.has(key)) continue;
      this.logged.delete(key);
      this.log(this.lines.recovered(key));
    }
  }
}
