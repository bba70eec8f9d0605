import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ObservabilityError } from '../../../src/core/errors.js';
import { AnomalyEngine, type EngineLimits, type StreamItem, type Subscription } from '../../../src/core/anomaly/index.js';
import { expectError } from '../../support/errors.js';
import { FakeClock } from '../../support/fake-clock.js';

function newEngine(limits: Partial<EngineLimits> = {}): AnomalyEngine {
  return new AnomalyEngine({ clock: new FakeClock(), limits });
}

let metricCounter = 0;

/** Raises one anomaly on a fresh metric (steady baseline, then a spike); returns its sequence. */
function emit(e: AnomalyEngine, prefix = 'api_latency'): number {
  const metric = `${prefix}_${metricCounter++}`;
  e.configure(metric, { minSamples: 20 });
  for (let i = 0; i < 40; i++) e.record(metric, i % 2 === 0 ? 99 : 101);
  const a = e.record(metric, 1000);
  assert.ok(a.anomaly, 'spike raised an anomaly');
  return a.anomaly!.sequence;
}

/** Reads the next item, failing if none is ready within a few event-loop turns. */
async function next(sub: Subscription): Promise<StreamItem> {
  const it = sub[Symbol.asyncIterator]();
  const timeout = new Promise<never>((_, reject) => setTimeout(() => reject(new Error('no item ready')), 50));
  const r = await Promise.race([it.next(), timeout]);
  assert.not.ok(r.done, 'stream still open');
  return r.value;
}

/** Subscribes without resume: the first item says the subscription is live. */
async function live(e: AnomalyEngine, ...args: Parameters<AnomalyEngine['subscribe']>): Promise<Subscription> {
  const sub = e.subscribe(...args);
  assert.equal(await next(sub), { kind: 'caught_up', lastSequence: e.lastSequence });
  return sub;
}

async function nextSequence(sub: Subscription): Promise<number> {
  const item = await next(sub);
  assert.is(item.kind, 'anomaly', JSON.stringify(item));
  return (item as { kind: 'anomaly'; event: { sequence: number } }).event.sequence;
}

test('live events reach matching subscribers only', async () => {
  const e = newEngine();
  const all = await live(e);
  const errorsOnly = await live(e, { type: 'error_rate_increase' });
  const oneMetric = await live(e, { metric: 'api_latency_x' });
  const s1 = emit(e, 'api_latency');
  const s2 = emit(e, 'upload_errors');
  assert.is(await nextSequence(all), s1);
  assert.is(await nextSequence(all), s2);
  assert.is(await nextSequence(errorsOnly), s2);
  e.configure('api_latency_x', { minSamples: 20 });
  for (let i = 0; i < 40; i++) e.record('api_latency_x', i % 2 === 0 ? 99 : 101);
  const s3 = e.record('api_latency_x', 1000).anomaly!.sequence;
  assert.is(await nextSequence(oneMetric), s3);
  const critical = await live(e, { minSeverity: 'critical' });
  const s4 = emit(e);
  assert.is(await nextSequence(critical), s4);
});

test('a waiting reader is woken by the next event', async () => {
  const e = newEngine();
  const sub = await live(e);
  const pending = sub[Symbol.asyncIterator]().next();
  const s = emit(e);
  const r = await pending;
  assert.is(r.value.kind, 'anomaly');
  assert.is(r.value.event.sequence, s);
});

test('a stalled subscriber blocks neither ingest nor other subscribers, and learns how many it missed', async () => {
  const e = newEngine();
  const stalled = await live(e, {}, { queueCapacity: 4 });
  const reader = await live(e);
  const sequences: number[] = [];
  for (let k = 0; k < 10; k++) {
    sequences.push(emit(e));
    // The live subscriber gets each event at once, while the stalled one never reads.
    assert.is(await nextSequence(reader), sequences[k]);
  }
  // When it reads again: its 4 queued events, then the gap for the 6 dropped, then live events.
  for (let k = 0; k < 4; k++) assert.is(await nextSequence(stalled), sequences[k]);
  assert.equal(await next(stalled), { kind: 'gap', missed: 6, reason: 'queue_overflow' });
  const after = emit(e);
  assert.is(await nextSequence(stalled), after);
  assert.is(await nextSequence(reader), after);
});

test('the engine counts what subscribers missed, closed ones included, and the anomalies raised by severity', async () => {
  const e = newEngine();
  // Its own metric names: emit()'s numbering is shared with the tests below.
  let n = 0;
  const raise = () => {
    const metric = `counted_latency_${n++}`;
    e.configure(metric, { minSamples: 20 });
    for (let i = 0; i < 40; i++) e.record(metric, i % 2 === 0 ? 99 : 101);
    assert.ok(e.record(metric, 1000).anomaly, 'spike raised an anomaly');
  };
  const stalled = await live(e, {}, { queueCapacity: 4 });
  const other = await live(e, {}, { queueCapacity: 8 });
  for (let k = 0; k < 10; k++) raise();
  assert.is(e.droppedForSubscribers, 6 + 2);
  stalled.close();
  assert.is(e.droppedForSubscribers, 8, 'a subscriber that leaves takes its count with it no more');
  for (let k = 0; k < 3; k++) raise();
  assert.is(e.droppedForSubscribers, 8 + 3);
  other.close();
  assert.is(e.droppedForSubscribers, 11);
  const detected = e.detectedBySeverity();
  assert.is(Object.values(detected).reduce((n, c) => n + c, 0), 13);
  assert.equal(Object.keys(detected), ['low', 'medium', 'high', 'critical'], 'every severity, 0 included');
  const bySeverity = e.history({ limit: 100 }).reduce<Record<string, number>>((n, a) => ({ ...n, [a.severity]: (n[a.severity] ?? 0) + 1 }), {});
  for (const [severity, count] of Object.entries(bySeverity)) assert.is(detected[severity as keyof typeof detected], count, severity);
  e.reset(e.history({ limit: 1 })[0]!.metric);
  assert.equal(e.detectedBySeverity(), detected, 'a reset takes no anomaly back');
});

test('resume replays exactly what was missed, then says caught_up, then goes live', async () => {
  const e = newEngine();
  const first = await live(e);
  const seen = [emit(e), emit(e), emit(e)];
  for (const s of seen) assert.is(await nextSequence(first), s);
  first.close();
  const missed = [emit(e), emit(e, 'upload_errors'), emit(e), emit(e, 'upload_errors'), emit(e)];
  const resumed = e.subscribe({ resumeAfterSequence: seen[2] });
  for (const s of missed) assert.is(await nextSequence(resumed), s);
  assert.equal(await next(resumed), { kind: 'caught_up', lastSequence: missed[4] });
  const after = emit(e);
  assert.is(await nextSequence(resumed), after);
  // Filters apply to the replay too.
  const errorsOnly = e.subscribe({ resumeAfterSequence: seen[2], type: 'error_rate_increase' });
  assert.is(await nextSequence(errorsOnly), missed[1]);
  assert.is(await nextSequence(errorsOnly), missed[3]);
  assert.equal(await next(errorsOnly), { kind: 'caught_up', lastSequence: after });
});

test('resume past the retained history reports the lost events as a gap', async () => {
  const e = newEngine({ historyCapacity: 3 });
  const all = Array.from({ length: 6 }, () => emit(e));
  const sub = e.subscribe({ resumeAfterSequence: 1 });
  assert.equal(await next(sub), { kind: 'gap', missed: 2, reason: 'history_expired' });
  for (const s of all.slice(3)) assert.is(await nextSequence(sub), s);
  assert.equal(await next(sub), { kind: 'caught_up', lastSequence: all[5] });
});

test('a filtered resume past the retained history counts only the matching lost events', async () => {
  // History of 50: of 100 events, 1-50 have left it; the errors are events 20, 30 and 70.
  const e = newEngine({ historyCapacity: 50 });
  const all = Array.from({ length: 100 }, (_, i) => emit(e, [19, 29, 69].includes(i) ? 'upload_errors' : 'api_latency'));
  assert.equal([all[0], all[99]], [1, 100]);
  const errors = e.subscribe({ resumeAfterSequence: 10, type: 'error_rate_increase' });
  assert.equal(await next(errors), { kind: 'gap', missed: 2, reason: 'history_expired' }, 'events 20 and 30, not all 40 lost events');
  assert.is(await nextSequence(errors), 70);
  assert.equal(await next(errors), { kind: 'caught_up', lastSequence: 100 });
  // No matching event was lost: no gap at all.
  const late = e.subscribe({ resumeAfterSequence: 30, type: 'error_rate_increase' });
  assert.is(await nextSequence(late), 70);
  assert.equal(await next(late), { kind: 'caught_up', lastSequence: 100 });
  const metric = e.subscribe({ resumeAfterSequence: 10, metric: 'never_alarmed' });
  assert.equal(await next(metric), { kind: 'caught_up', lastSequence: 100 });
  const one = e.subscribe({ resumeAfterSequence: 10, metric: 'api_latency_40' });
  assert.equal(await next(one), { kind: 'gap', missed: 1, reason: 'history_expired' }, 'the 41st event, on metric api_latency_40');
  // Unfiltered: every lost event.
  const every = e.subscribe({ resumeAfterSequence: 10 });
  assert.equal(await next(every), { kind: 'gap', missed: 40, reason: 'history_expired' });
  assert.is(await nextSequence(every), 51);
  // Events dropped longer ago than the history size can no longer be checked: an upper bound.
  const small = newEngine({ historyCapacity: 3 });
  const ten = Array.from({ length: 10 }, (_, i) => emit(small, i === 5 ? 'upload_errors' : 'api_latency'));
  // Retained 8-10; 5-7 checkable (6 is the error); 1-4 counted unchecked.
  const older = small.subscribe({ resumeAfterSequence: 0, type: 'error_rate_increase' });
  assert.equal(await next(older), { kind: 'gap', missed: 5, reason: 'history_expired', upperBound: true });
  assert.equal(await next(older), { kind: 'caught_up', lastSequence: ten[9] });
  const recent = small.subscribe({ resumeAfterSequence: 4, type: 'error_rate_increase' });
  assert.equal(await next(recent), { kind: 'gap', missed: 1, reason: 'history_expired' }, 'exact from the ledger');
});

test('a long replay does not overflow a small queue', async () => {
  const e = newEngine();
  const all = Array.from({ length: 20 }, () => emit(e));
  const sub = e.subscribe({ resumeAfterSequence: 0 }, { queueCapacity: 2 });
  for (const s of all) assert.is(await nextSequence(sub), s);
  assert.equal(await next(sub), { kind: 'caught_up', lastSequence: all[19] });
});

test('a resume whose replay outlasts its queue gets every event raised meanwhile, none missed', async () => {
  const e = newEngine();
  const before = Array.from({ length: 20 }, () => emit(e));
  const sub = e.subscribe({ resumeAfterSequence: 0 }, { queueCapacity: 4 });
  const received: number[] = [];
  for (let k = 0; k < 5; k++) received.push(await nextSequence(sub));
  // Three times the queue's capacity raised while it replays, and more between its reads.
  const during = Array.from({ length: 12 }, () => emit(e));
  for (let k = 0; k < 20; k++) {
    received.push(await nextSequence(sub));
    if (k % 4 === 0) during.push(emit(e));
  }
  let item = await next(sub);
  while (item.kind === 'anomaly') {
    received.push(item.event.sequence);
    item = await next(sub);
  }
  assert.equal(received, [...before, ...during], 'every event, in order, no gap');
  assert.equal(item, { kind: 'caught_up', lastSequence: during[during.length - 1] });
  const live = emit(e);
  assert.is(await nextSequence(sub), live);
  assert.is(e.droppedForSubscribers, 0);
});

/**
 * A subscriber reading once for every two matching anomalies raised (every third is on an error
 * metric), from a resume after 0 or live; what it got and was told it missed.
 */
async function slowReader(resume: boolean, historyCapacity: number, queueCapacity: number, filter: { type?: 'error_rate_increase' } = {}) {
  const e = newEngine({ historyCapacity });
  const raise = (i: number) => emit(e, i % 3 === 0 ? 'upload_errors' : 'api_latency');
  let raised = 0;
  for (let i = 0; i < 30; i++) raise(raised++);
  const sub = resume ? e.subscribe({ ...filter, resumeAfterSequence: 0 }, { queueCapacity }) : await live(e, filter, { queueCapacity });
  const got = { anomalies: 0, missed: 0, reasons: new Set<string>() };
  const perRead = filter.type === undefined ? 2 : 6;
  for (let read = 0; read < 400; read++) {
    for (let k = 0; k < perRead; k++) raise(raised++);
    const item = await next(sub);
    if (item.kind === 'anomaly') got.anomalies++;
    if (item.kind === 'gap') {
      got.missed += item.missed;
      got.reasons.add(item.reason);
    }
  }
  sub.close();
  const matching = filter.type === undefined ? raised : Math.ceil(raised / 3);
  return { ...got, matching, countedOnMetrics: e.droppedForSubscribers };
}

test('a resume slower than anomalies come fares as a live subscriber of its speed: it gets events, not only gaps', async () => {
  // History of 50: two anomalies raised before each read, so it can never catch up. Queues
  // smaller than the history, as large, and larger; and a filter that matches a third of them.
  for (const [queue, filter] of [[4, {}], [49, {}], [64, {}], [4, { type: 'error_rate_increase' as const }]] as const) {
    const what = `queue ${queue}${filter.type ? ', filtered' : ''}`;
    const resumed = await slowReader(true, 50, queue, filter);
    const livened = await slowReader(false, 50, queue, filter);
    assert.ok(resumed.anomalies >= 0.9 * livened.anomalies, `${what}: resumed got ${resumed.anomalies} anomalies, a live subscriber ${livened.anomalies}`);
    assert.ok(resumed.reasons.has('queue_overflow'), `${what}: read too slowly, and told so`);
    // Nothing lost without a word: what it got, what it was told it missed, and what it has yet
    // to read (in the history still, at most all of it) add up.
    const unread = resumed.matching - resumed.anomalies - resumed.missed;
    assert.ok(unread >= 0 && unread <= 50, `${what}: unread ${unread}`);
    assert.ok(resumed.countedOnMetrics > 0, `${what}: counted on /metrics as read too slowly`);
  }
});

test('the number of subscribers is capped; closing frees a slot and ends iteration', async () => {
  const e = newEngine({ maxSubscribers: 2 });
  const a = await live(e);
  e.subscribe();
  try {
    e.subscribe();
    assert.unreachable('third subscriber accepted');
  } catch (err) {
    assert.instance(err, ObservabilityError);
    assert.is((err as ObservabilityError).kind, 'resource_exhausted');
  }
  const pending = a[Symbol.asyncIterator]().next();
  a.close();
  assert.is((await pending).done, true);
  assert.is(e.subscriberCount, 1);
  e.subscribe();
  let items = 0;
  for await (const _ of a) items++;
  assert.is(items, 0);
});

test('queue capacity and filters are validated', () => {
  const e = newEngine({ defaultQueueCapacity: 100, maxQueueCapacity: 100 });
  for (const [fn, field] of [
    [() => e.subscribe({}, { queueCapacity: 0 }), 'queue_capacity'],
    [() => e.subscribe({}, { queueCapacity: 101 }), 'queue_capacity'],
    [() => e.subscribe({ resumeAfterSequence: -1 }), 'resume_after_sequence'],
    [() => e.subscribe({ minSeverity: 'extreme' as never }), 'min_severity'],
    [() => e.subscribe({ type: 'weird' as never }), 'type'],
    [() => e.subscribe({ metric: '' }), 'metric'],
  ] as Array<[() => unknown, string]>) {
    try {
      fn();
      assert.unreachable(field);
    } catch (err) {
      assert.instance(err, ObservabilityError);
      assert.is((err as ObservabilityError).field, field);
    }
  }
});

test('1,000 concurrent subscribers each get every event', async () => {
  const e = newEngine();
  const subs = await Promise.all(Array.from({ length: 1000 }, () => live(e)));
  const sequences = [emit(e), emit(e), emit(e)];
  for (const sub of subs) for (const s of sequences) assert.is(await nextSequence(sub), s);
  for (const sub of subs) sub.close();
  assert.is(e.subscriberCount, 0);
});

test('a resume after a sequence never issued (from before a restart) is out_of_range, naming the last one', async () => {
  const e = newEngine();
  const all = Array.from({ length: 3 }, () => emit(e));
  assert.ok(e.subscribe({ resumeAfterSequence: all[2] }), 'the last sequence itself is a valid resume point');
  await expectError(() => e.subscribe({ resumeAfterSequence: all[2]! + 1 }), 'out_of_range', 'resume_after_sequence', `beyond the last sequence issued, ${all[2]}`);
});

test.run();
