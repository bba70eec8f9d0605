/**
 * Snapshot ring: the values of every series at past instants, for trends. Each series owns fixed
 * slots in a table that only grows (series are never removed and their number is capped by the
 * engine), so a snapshot is one Float64Array: 8 bytes per stored value. Series born after a
 * snapshot are simply beyond its length; a slot never filled reads NaN.
 */

export interface SnapshotPoint {
  timestampMs: number;
  value: number;
}

/** A stored value and how long ago its snapshot was taken. */
export interface AgedValue {
  ageMs: number;
  value: number;
}

interface Snapshot {
  /** On the interval clock: ages are differences of its readings, which no wall-clock step bends. */
  atMs: number;
  values: Float64Array;
}

export class SnapshotRing {
  private readonly slots = new Map<string, number>();
  private slotCount = 0;
  private readonly ring: Snapshot[] = [];
  private storedValues = 0;
  /** When the newest dropped snapshot was taken, and how many values it had (the slots it covered). */
  private lastDropped: { atMs: number; length: number } | undefined;

  /**
   * @param maxSnapshots snapshots kept (oldest dropped first)
   * @param maxValues values kept over all snapshots (oldest snapshots dropped first; the newest is always kept)
   */
  constructor(
    private readonly maxSnapshots: number,
    private readonly maxValues: number,
  ) {}

  /** First slot of a series with `width` statistics, allocated on first use. */
  slotFor(seriesId: string, width: number): number {
    let slot = this.slots.get(seriesId);
    if (slot === undefined) {
      slot = this.slotCount;
      this.slotCount += width;
      this.slots.set(seriesId, slot);
    }
    return slot;
  }

  /** A value array for the next snapshot, NaN where a series has no value. */
  newValues(): Float64Array {
    return new Float64Array(this.slotCount).fill(Number.NaN);
  }

  /** `atMs` on a clock that never runs backwards, so the ring stays in the order taken. */
  add(atMs: number, values: Float64Array): void {
    this.ring.push({ atMs, values });
    this.storedValues += values.length;
    while (this.ring.length > 1 && (this.ring.length > this.maxSnapshots || this.storedValues > this.maxValues)) {
      const dropped = this.ring.shift()!;
      this.storedValues -= dropped.values.length;
      this.lastDropped = { atMs: dropped.atMs, length: dropped.values.length };
    }
  }

  /**
   * Stored values of one series statistic taken at most windowMs before nowMs (same clock as
   * `add`), with their ages, oldest first. Compared as ages: nowMs - windowMs would lose the
   * window's sub-microsecond part at the magnitude of epoch milliseconds.
   */
  points(seriesId: string, offset: number, nowMs: number, windowMs: number): AgedValue[] {
    const slot = this.slots.get(seriesId);
    if (slot === undefined) return [];
    const out: AgedValue[] = [];
    for (const { atMs, values } of this.ring) {
      const ageMs = nowMs - atMs;
      if (ageMs > windowMs) continue;
      const value = values[slot + offset];
      if (value !== undefined && !Number.isNaN(value)) out.push({ ageMs, value });
    }
    return out;
  }

  /**
   * Whether a snapshot holding the series, taken at most windowMs before nowMs, was dropped (to
   * stay within maxSnapshots or maxValues): the series' history in the window is then incomplete.
   * The newest dropped snapshot is enough: every older one was dropped before it.
   */
  truncated(seriesId: string, nowMs: number, windowMs: number): boolean {
    const slot = this.slots.get(seriesId);
    const dropped = this.lastDropped;
    return slot !== undefined && dropped !== undefined && slot < dropped.length && nowMs - dropped.atMs <= windowMs;
  }

  get count(): number {
    return this.ring.length;
  }

  get valueCount(): number {
    return this.storedValues;
  }
}
