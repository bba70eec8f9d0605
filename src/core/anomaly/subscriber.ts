/**
 * One live subscriber: a bounded queue filled synchronously by the publisher (never awaited), read
 * through an async iterator. When the queue is full new events are dropped and counted; the count is
 * delivered as a `gap` item in the place where they would have been. A resume first replays retained
 * history lazily, one event per read, so a long replay costs no queue space. The replay's end moves:
 * each read goes up to the newest event the history holds, and the subscriber goes live only once it
 * has read them all. Events raised meanwhile are read from the history rather than queued (the
 * engine appends an event to the history before offering it), so a replay longer than the queue
 * loses none the history still holds. A replay that reads slower than anomalies come, and so finds
 * its place gone from the history, goes on with the newest a queue would hold, as a live subscriber
 * of its speed does, and is told it read too slowly (`queue_overflow`).
 */
import { SEVERITIES, type AnomalyEvent, type AnomalyType, type Severity, type StreamItem, type Subscription, type SubscriptionFilter } from './types.js';
import type { EventHistory } from './event-history.js';

const SEVERITY_RANK: Record<string, number> = Object.fromEntries(SEVERITIES.map((s, i) => [s, i]));


export class Subscriber implements Subscription {
  private readonly items: StreamItem[] = [];
  private head = 0;
  private queuedEvents = 0;
  private readonly waiters: Array<(r: IteratorResult<StreamItem>) => void> = [];
  private closed = false;
  private readonly minRank: number;
  /** Last sequence replayed (or counted as lost) while `replaying`. */
  private replayCursor: number;
  /** Whether the replay has been read from: a place gone from the history after that was outrun. */
  private replayStarted = false;
  private replaying: boolean;
  /** Events this subscriber lost to queue overflow, in total. */
  dropped = 0;

  constructor(
    readonly filter: SubscriptionFilter,
    private readonly capacity: number,
    private readonly history: EventHistory,
    lastSequence: number,
    private readonly onClose: (s: Subscriber) => void,
  ) {
    this.minRank = filter.minSeverity === undefined ? 0 : SEVERITY_RANK[filter.minSeverity];
    // Every subscription starts with a (possibly empty) replay, so `caught_up` always tells the
    // client it is live, resumed or not.
    this.replaying = true;
    this.replayCursor = filter.resumeAfterSequence ?? lastSequence;
  }

  matches(e: AnomalyEvent): boolean {
    return this.matchesKey(e.metric, e.anomalyType, e.severity);
  }

  private readonly matchesKey = (metric: string, type: AnomalyType, severity: Severity): boolean =>
    (this.filter.metric === undefined || this.filter.metric === metric) &&
    (this.filter.type === undefined || this.filter.type === type) &&
    SEVERITY_RANK[severity] >= this.minRank;

  /** Called by the publisher for a matching event; O(1), never blocks. */
  offer(event: AnomalyEvent): void {
    if (this.closed) return;
    // The event is in the history already: the replay reads it there (or counts it as lost if it
    // leaves first), so queueing it too would duplicate it, or overflow a queue it never needed.
    if (this.replaying) return;
    if (this.waiters.length > 0) {
      this.waiters.shift()!({ value: { kind: 'anomaly', event }, done: false });
      return;
    }
    if (this.queuedEvents >= this.capacity) {
      this.dropped++;
      const tail = this.items.length > this.head ? this.items[this.items.length - 1] : undefined;
      if (tail !== undefined && tail.kind === 'gap') tail.missed++;
      else this.items.push({ kind: 'gap', missed: 1, reason: 'queue_overflow' });
      return;
    }
    this.items.push({ kind: 'anomaly', event });
    this.queuedEvents++;
  }

  next(): Promise<IteratorResult<StreamItem>> {
    if (this.closed) return Promise.resolve({ value: undefined, done: true });
    const item = this.replaying ? this.nextReplayed() : this.dequeue();
    if (item !== undefined) return Promise.resolve({ value: item, done: false });
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  return(): Promise<IteratorResult<StreamItem>> {
    this.close();
    return Promise.resolve({ value: undefined, done: true });
  }

  [Symbol.asyncIterator](): AsyncIterator<StreamItem> {
    return this;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.items.length = 0;
    this.head = 0;
    this.queuedEvents = 0;
    for (const w of this.waiters.splice(0)) w({ value: undefined, done: true });
    this.onClose(this);
  }

  private dequeue(): StreamItem | undefined {
    if (this.head >= this.items.length) return undefined;
    const item = this.items[this.head++];
    if (item.kind === 'anomaly') this.queuedEvents--;
    // Compact now and then so the array does not grow with the number of items ever queued.
    if (this.head === this.items.length) {
      this.items.length = 0;
      this.head = 0;
    } else if (this.head > 1024 && this.head * 2 > this.items.length) {
      this.items.splice(0, this.head);
      this.head = 0;
    }
    return item;
  }

  /**
   * Where an outrun replay goes on from: the sequence before the newest `capacity` matching events
   * the history holds, as a full queue would keep them, but no further back than the newer half of
   * the history, so that its next reads find their place still there even with a queue as large as
   * the history.
   */
  private queueStart(): number {
    const half = Math.floor(this.history.length / 2);
    let kept = 0;
    let from = this.history.length;
    while (from > half && kept < this.capacity) {
      from--;
      if (this.matches(this.history.at(from))) kept++;
    }
    return this.history.at(from).sequence - 1;
  }

  /** Matching events the history holds after `after`, up to `upTo`. */
  private countHeld(after: number, upTo: number): number {
    let count = 0;
    for (let i = this.history.indexAfter(after); i < this.history.length; i++) {
      const e = this.history.at(i);
      if (e.sequence > upTo) break;
      if (this.matches(e)) count++;
    }
    return count;
  }

  /**
   * Next replayed item: a gap for matching events gone from history, a matching event, or, once
   * every event the history holds has been read, `caught_up` (and the subscriber is live).
   */
  private nextReplayed(): StreamItem {
    const newest = this.history.newestSequence() ?? this.replayCursor;
    const firstRetained = this.history.oldestSequence() ?? newest + 1;
    const firstRead = !this.replayStarted;
    this.replayStarted = true;
    if (firstRetained > this.replayCursor + 1 && this.replayCursor < newest) {
      let upTo = Math.min(firstRetained - 1, newest);
      const dropped = this.history.countDropped(this.replayCursor, upTo, this.matchesKey);
      let missed = dropped.count;
      // Gone before the replay began: the resume asked for more than the history holds. Gone
      // since: the subscriber reads slower than anomalies come, and from the oldest end of the
      // history its next read would find its place gone again, every time. Like a live subscriber
      // whose queue is full, it goes on with the newest a queue holds, the rest read too slowly.
      const reason = firstRead ? 'history_expired' : 'queue_overflow';
      if (!firstRead) {
        const goOnAfter = this.queueStart();
        if (goOnAfter > upTo) {
          missed += this.countHeld(upTo, goOnAfter);
          upTo = goOnAfter;
        }
      }
      this.replayCursor = upTo;
      if (reason === 'queue_overflow') this.dropped += missed;
      // No matching event was lost: nothing to report. Without a filter every event matches, so
      // the count is exact however long ago they were dropped.
      const filtered = this.filter.metric !== undefined || this.filter.type !== undefined || this.minRank > 0;
      if (missed > 0) {
        return dropped.upperBound && filtered ? { kind: 'gap', missed, reason, upperBound: true } : { kind: 'gap', missed, reason };
      }
    }
    for (let i = this.history.indexAfter(this.replayCursor); i < this.history.length; i++) {
      const e = this.history.at(i);
      this.replayCursor = e.sequence;
      if (this.matches(e)) return { kind: 'anomaly', event: e };
    }
    this.replaying = false;
    return { kind: 'caught_up', lastSequence: newest };
  }
}
