/**
 * Bounded, sequence-ordered store of anomaly events; the oldest are dropped beyond capacity. What a
 * filter needs of a dropped event (metric, type, severity) is kept a while longer in a ledger of the
 * same capacity (a few bytes and a shared string per entry), so a filtered resume is told how many
 * *matching* events it lost, not how many events of any kind.
 */
import { ANOMALY_TYPES, SEVERITIES, type AnomalyEvent, type AnomalyType, type Severity } from './types.js';

const TYPE_INDEX: Record<string, number> = Object.fromEntries(ANOMALY_TYPES.map((t, i) => [t, i]));
const SEVERITY_INDEX: Record<string, number> = Object.fromEntries(SEVERITIES.map((s, i) => [s, i]));

/** What a subscription filter reads of an event. */
export type EventKeyMatcher = (metric: string, type: AnomalyType, severity: Severity) => boolean;

/**
 * Storage grows with the events up to the capacity rather than being taken at start-up: a history
 * of 10 million (RS3GW_ANOMALY_HISTORY_SIZE) held 180 MB before its first anomaly. Until full,
 * the oldest entry is at index 0 (head and ledgerHead move only once full), so entries are appended.
 */
export class EventHistory {
  private readonly ring: AnomalyEvent[] = [];
  /** Index of the oldest retained event. */
  private head = 0;
  private size = 0;
  /** Ledger of dropped events: the newest `capacity` of them, oldest at `ledgerHead`. */
  private readonly ledgerMetric: string[] = [];
  private ledgerType = new Uint8Array(0);
  private ledgerSeverity = new Uint8Array(0);
  private ledgerHead = 0;
  private ledgerSize = 0;

  constructor(readonly capacity: number) {}

  get length(): number {
    return this.size;
  }

  append(event: AnomalyEvent): void {
    if (this.size < this.capacity) {
      this.ring.push(event);
      this.size++;
    } else {
      this.remember(this.ring[this.head]!);
      this.ring[this.head] = event;
      this.head = (this.head + 1) % this.capacity;
    }
  }

  /**
   * Dropped events with sequence in (`after`, `upTo`] (all below the oldest retained one): how many
   * `match`, and whether some were dropped from the ledger too and so are counted unchecked.
   */
  countDropped(after: number, upTo: number, match: EventKeyMatcher): { count: number; upperBound: boolean } {
    // Sequences are contiguous: the ledger holds sequences [oldestRetained - ledgerSize, oldestRetained).
    const firstInLedger = (this.oldestSequence() ?? 1) - this.ledgerSize;
    let count = 0;
    let upperBound = false;
    if (after + 1 < firstInLedger) {
      count += Math.min(upTo, firstInLedger - 1) - after;
      upperBound = true;
    }
    const from = Math.max(after + 1, firstInLedger);
    for (let seq = from; seq <= upTo; seq++) {
      const i = (this.ledgerHead + (seq - firstInLedger)) % this.capacity;
      if (match(this.ledgerMetric[i]!, ANOMALY_TYPES[this.ledgerType[i]], SEVERITIES[this.ledgerSeverity[i]])) count++;
    }
    return { count, upperBound };
  }

  private remember(e: AnomalyEvent): void {
    let i: number;
    if (this.ledgerSize < this.capacity) {
      i = this.ledgerSize++;
      if (i === this.ledgerType.length) this.growLedger();
    } else {
      i = this.ledgerHead;
      this.ledgerHead = (this.ledgerHead + 1) % this.capacity;
    }
    this.ledgerMetric[i] = e.metric;
    this.ledgerType[i] = TYPE_INDEX[e.anomalyType];
    this.ledgerSeverity[i] = SEVERITY_INDEX[e.severity];
  }

  /** Doubles the ledger's typed arrays, up to the capacity. */
  private growLedger(): void {
    const length = Math.min(this.capacity, Math.max(64, 2 * this.ledgerType.length));
    const type = new Uint8Array(length);
    const severity = new Uint8Array(length);
    type.set(this.ledgerType);
    severity.set(this.ledgerSeverity);
    this.ledgerType = type;
    this.ledgerSeverity = severity;
  }

  /** The i-th retained event, 0 = oldest. */
  at(i: number): AnomalyEvent {
    return this.ring[(this.head + i) % this.capacity]!;
  }

  /** Sequence of the oldest retained event, or undefined when empty. */
  oldestSequence(): number | undefined {
    return this.size > 0 ? this.at(0).sequence : undefined;
  }

  /** Sequence of the newest retained event, or undefined when empty. */
  newestSequence(): number | undefined {
    return this.size > 0 ? this.at(this.size - 1).sequence : undefined;
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

  /** The newest `limit` events passing `keep`, newest first. */
  newest(limit: number, keep: (e: AnomalyEvent) => boolean): AnomalyEvent[] {
    const out: AnomalyEvent[] = [];
    for (let i = this.size - 1; i >= 0 && out.length < limit; i--) {
      const e = this.at(i);
      if (keep(e)) out.push(e);
    }
    return out;
  }

  /**
   * The oldest `limit` events with sequence > `afterSequence` passing `keep`, newest first: paging
   * forward from `afterSequence` skips none.
   */
  oldestAfter(limit: number, keep: (e: AnomalyEvent) => boolean, afterSequence: number): AnomalyEvent[] {
    const out: AnomalyEvent[] = [];
    for (let i = this.indexAfter(afterSequence); i < this.size && out.length < limit; i++) {
      const e = this.at(i);
      if (keep(e)) out.push(e);
    }
    return out.reverse();
  }
}
