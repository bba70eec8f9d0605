/** Counts by name for at most `maxNames` names; further names are counted under `_other`. */

export const OTHER = '_other';

export class CappedCounts {
  private readonly counts = new Map<string, number>();

  constructor(private readonly maxNames: number) {}

  /** The key `name` is counted under: itself while there is room (or it is known), else `_other`. */
  keyFor(name: string): string {
    if (this.counts.has(name)) return name;
    const named = this.counts.size - (this.counts.has(OTHER) ? 1 : 0);
    return named < this.maxNames ? name : OTHER;
  }

  add(name: string, amount: number): string {
    const key = this.keyFor(name);
    this.counts.set(key, (this.counts.get(key) ?? 0) + amount);
    return key;
  }

  toRecord(): Record<string, number> {
    return Object.fromEntries(this.counts);
  }
}
