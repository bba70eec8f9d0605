/**
 * Permits a client never releases (it crashed, or leaks them): held far longer than work takes
 * while other work went on past them, or while nothing was released at all, they are presumed lost
 * and stop keeping other work out long before their lease runs out, while a late release still
 * succeeds. Work a slow server is still doing is not presumed lost.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ObservabilityError } from '../../../src/core/errors.js';
import { KneeController } from '../../../src/core/resource/admission/knee-controller.js';
import type { AdmissionController, Permit } from '../../../src/core/resource/admission/types.js';
import { ResourceManager } from '../../../src/core/resource/manager.js';
import { FakeClock } from '../../support/fake-clock.js';
import { FixturePressure } from './manager-fixtures.js';

const LEASE_MS = 60_000;

function setup(limit: number, config = {}, controller?: AdmissionController) {
  const clock = new FakeClock();
  const manager = new ResourceManager({
    clock,
    controller: controller ?? new KneeController(clock.nowMs(), { initialLimit: limit }),
    pressure: new FixturePressure(),
    config: { leaseMs: LEASE_MS, ...config },
  });
  return { clock, manager };
}

function admit(manager: ResourceManager): string {
  const r = manager.acquire();
  assert.ok(r.admitted, `admitted: ${JSON.stringify(r)}`);
  return (r as { permitId: string }).permitId;
}

/** Requests that each hold their permit `ms`, one after the other: what work usually takes. */
function work(manager: ResourceManager, clock: FakeClock, n: number, ms: number): void {
  for (let i = 0; i < n; i++) {
    const id = admit(manager);
    clock.advance(ms);
    manager.release(id, 'success');
  }
}

/** Advances in the service's 100 ms ticks. */
function run(manager: ResourceManager, clock: FakeClock, ms: number): void {
  for (let t = 0; t < ms; t += 100) {
    clock.advance(100);
    manager.tick();
  }
}

const notFound = (e: unknown) => e instanceof ObservabilityError && e.kind === 'not_found' && e.field === 'permit_id';

test('a client that takes every permit and crashes keeps others out for five seconds (a stall), not for its lease', () => {
  const { clock, manager } = setup(4);
  work(manager, clock, 20, 50);
  const crashed = Array.from({ length: 4 }, () => admit(manager));
  assert.is(manager.acquire().admitted, false, 'the crashed client holds the whole limit');

  run(manager, clock, 4900);
  assert.is(manager.acquire().admitted, false, 'nothing released for 4.9 s: a pause, not yet a stall');
  run(manager, clock, 200);
  const s = manager.status();
  assert.is(s.presumedLost, 4);
  assert.is(s.inflight, 0, 'presumed-lost permits are not work in progress');
  assert.is(s.window.completions, 20, 'a presumed-lost permit is no completion');
  const others = Array.from({ length: 4 }, () => admit(manager));
  assert.is(manager.acquire().admitted, false, 'the limit applies again to the work in progress');
  assert.is(manager.status().inflight, 4);
  for (const id of others) manager.release(id, 'success');
  assert.is(crashed.length, 4);
});

test('a presumed-lost permit still releases once, before its lease, without freeing a second slot', () => {
  const { clock, manager } = setup(4);
  work(manager, clock, 20, 50);
  const slow = admit(manager);
  run(manager, clock, 5100);
  assert.is(manager.status().presumedLost, 1);
  const busy = Array.from({ length: 4 }, () => admit(manager));
  assert.is(manager.acquire().admitted, false);

  clock.advance(30_000);
  manager.release(slow, 'error');
  let s = manager.status();
  assert.is(s.presumedLost, 0);
  assert.is(s.window.completions, 21, 'the late release is its completion');
  assert.is(s.window.errors, 1);
  assert.is(manager.acquire().admitted, false, 'its slot was given back already: the limit still holds');
  assert.throws(() => manager.release(slow, 'success'), notFound);
  for (const id of busy) manager.release(id, 'success');
  s = manager.status();
  assert.is(s.inflight, 0);
  assert.is(s.totals.reclaimed, 0);
});

test("a presumed-lost permit's late release teaches only the hold it was presumed lost at: a client that then takes every permit and crashes keeps others out for a stall, not a lease", () => {
  const { clock, manager } = setup(4);
  const late = admit(manager);
  // 200 requests of 10 ms go past it: it is presumed lost.
  for (let i = 0; i < 200; i++) {
    work(manager, clock, 1, 10);
    run(manager, clock, 100);
  }
  assert.is(manager.status().presumedLost, 1);
  manager.release(late, 'success'); // 22 s after its Acquire
  while (manager.acquire().admitted);
  const crashedMs = clock.nowMs();
  while (!manager.acquire().admitted && clock.nowMs() - crashedMs <= LEASE_MS) run(manager, clock, 100);
  const waitedMs = clock.nowMs() - crashedMs;
  assert.ok(waitedMs <= 5200, `the next request was admitted ${waitedMs} ms after the crash`);
});

test('long work that is real, 3 s requests among 10 ms ones, is presumed lost once or twice, not every time: its late releases raise the bound', () => {
  const { clock, manager } = setup(50);
  const long: Array<{ id: string; endMs: number }> = [];
  let presumedAtRelease = 0;
  let longReleased = 0;
  for (let t = 0; t < 120_000; t += 100) {
    if (t % 2000 === 0) long.push({ id: admit(manager), endMs: clock.nowMs() + 3000 });
    while (long.length > 0 && long[0].endMs <= clock.nowMs()) {
      const lostBefore = manager.status().presumedLost;
      manager.release(long.shift()!.id, 'success');
      if (manager.status().presumedLost < lostBefore) presumedAtRelease += 1;
      longReleased += 1;
    }
    work(manager, clock, 10, 10); // 10 ms each, one after the other: 100 ms
    manager.tick();
  }
  assert.ok(longReleased >= 55, `${longReleased} long requests released`);
  assert.ok(presumedAtRelease <= 2, `${presumedAtRelease} of ${longReleased} long requests were presumed lost`);
});

test('a presumed-lost permit never released ends at its lease, dropped once', () => {
  const { clock, manager } = setup(4);
  work(manager, clock, 20, 50);
  const gone = admit(manager);
  run(manager, clock, 5100);
  assert.is(manager.status().presumedLost, 1);
  run(manager, clock, LEASE_MS);
  const s = manager.status();
  assert.is(s.presumedLost, 0);
  assert.is(s.totals.reclaimed, 1);
  assert.equal([s.window.completions, s.window.dropped], [1, 1], 'the window has moved past the work before');
  assert.throws(() => manager.release(gone, 'success'), notFound);
  assert.ok(manager.acquire().admitted);
});

test('a permit presumed lost after a younger one still ends at its own lease', () => {
  const { clock, manager } = setup(20);
  work(manager, clock, 1, 10);
  for (let i = 0; i < 10; i++) admit(manager); // a client takes ten permits and crashes
  run(manager, clock, 4000);
  const older = admit(manager); // another crashes, ten permits ahead of it
  const olderMs = clock.nowMs();
  run(manager, clock, 1500);
  assert.is(manager.status().presumedLost, 10, 'the ten, after a stall; not yet the one behind them');
  const younger = admit(manager); // a third crashes, with one permit ahead
  for (let i = 0; i < 40; i++) {
    work(manager, clock, 1, 10);
    run(manager, clock, 100);
  }
  assert.is(manager.status().presumedLost, 12, 'both overtaken, the younger first');
  run(manager, clock, olderMs + LEASE_MS - clock.nowMs());
  const s = manager.status();
  assert.equal([s.presumedLost, s.totals.reclaimed], [1, 11], 'the older permit is reclaimed at its lease');
  assert.throws(() => manager.release(older, 'success'), notFound);
  manager.release(younger, 'success');
});

test('how long is too long follows how long work takes: 4 x the p99.9 of the hold times', () => {
  const { clock, manager } = setup(4);
  work(manager, clock, 20, 2000);
  admit(manager);
  run(manager, clock, 7500);
  assert.is(manager.status().presumedLost, 0, 'held 7.5 s where work takes 2 s');
  run(manager, clock, 600);
  assert.is(manager.status().presumedLost, 1, 'held 8.1 s');
});

/**
 * Permits released in the order acquired, `ms` apart: a server of one worker, busy throughout, each
 * release followed by the next request. Returns the most permits presumed lost after any release.
 */
function serveInOrder(manager: ResourceManager, clock: FakeClock, queue: string[], ms: number, count: number): number {
  let most = 0;
  for (let i = 0; i < count; i++) {
    for (let t = 0; t < ms; t += 100) {
      clock.advance(Math.min(100, ms - t));
      manager.tick();
      most = Math.max(most, manager.status().presumedLost);
    }
    manager.release(queue.shift()!, 'success');
    queue.push(admit(manager));
  }
  return most;
}

test('a server twenty times slower keeps its work: permits held long but served in order are not presumed lost', () => {
  // A fixed limit of 8, so that only the presumption decides which permits are outstanding.
  const { clock, manager } = setup(8, {}, new FixedCapacity(8, 1));
  const queue = Array.from({ length: 8 }, () => admit(manager));
  serveInOrder(manager, clock, queue, 50, 400); // each permit held 8 x 50 ms = 0.4 s
  const most = serveInOrder(manager, clock, queue, 1000, 30); // held 8 s now, 20 times 0.4 s, for 30 s
  assert.is(most, 0, 'work the slow server still does keeps its slot');
  assert.is(manager.status().inflight, 8);
  assert.is(manager.acquire().admitted, false, 'and the limit still holds more work back');
});

test('permits other work has gone past are presumed lost within seconds, while the rest keep working', () => {
  const { clock, manager } = setup(8, {}, new FixedCapacity(8, 1));
  const queue = Array.from({ length: 6 }, () => admit(manager));
  const crashed = [admit(manager), admit(manager)];
  serveInOrder(manager, clock, queue, 50, 100);
  const s = manager.status();
  assert.is(s.presumedLost, 2, `after ${100 * 50} ms, 100 releases of later work`);
  assert.is(s.inflight, 6);
  assert.is(crashed.length, 2);
});

test('a quiet spell before work arrives is no stall of that work', () => {
  const { clock, manager } = setup(4, {}, new FixedCapacity(4, 4));
  work(manager, clock, 20, 50);
  run(manager, clock, 10_000);
  // A burst on a cold server: four requests of 1.5 s, live work.
  const burst = Array.from({ length: 4 }, () => admit(manager));
  run(manager, clock, 1100);
  assert.is(manager.status().presumedLost, 0, 'nothing released since they were taken, but only for 1.1 s');
  assert.is(manager.acquire().admitted, false, 'the limit still holds more work back');
  for (const id of burst) manager.release(id, 'success');
});

test('a tail rarer than one request in a hundred is work, not a lost permit', () => {
  const { clock, manager } = setup(8);
  // One request in 200 holds its permit 3 s, the rest 50 ms.
  for (let i = 0; i < 4000; i++) {
    const id = admit(manager);
    clock.advance(i % 200 === 0 ? 3000 : 50);
    manager.release(id, 'success');
  }
  const slow = admit(manager);
  let most = 0;
  for (let i = 0; i < 60; i++) {
    work(manager, clock, 1, 50);
    manager.tick();
    most = Math.max(most, manager.status().presumedLost);
  }
  assert.is(most, 0, 'held 3 s among 60 faster requests');
  manager.release(slow, 'success');
});

test('before any release nothing tells how long work takes, and only the lease applies', () => {
  const { clock, manager } = setup(2);
  admit(manager);
  admit(manager);
  run(manager, clock, LEASE_MS - 100);
  assert.is(manager.status().presumedLost, 0);
  assert.is(manager.acquire().admitted, false);
  run(manager, clock, 100);
  assert.is(manager.status().totals.reclaimed, 2);
  assert.ok(manager.acquire().admitted);
});

test('a permit reclaimed at its lease sets neither the latency figures nor the retry hint', () => {
  const { clock, manager } = setup(2);
  // Clients that crash at start-up: nothing released, only the lease frees their slots.
  admit(manager);
  admit(manager);
  run(manager, clock, LEASE_MS);
  assert.is(manager.status().totals.reclaimed, 2);
  work(manager, clock, 5, 10);
  const s = manager.status();
  assert.equal([s.window.dropped, s.window.p50LatencyMs], [2, 10], 'the reclaimed count as dropped, without a latency');
  admit(manager);
  admit(manager);
  const refused = manager.acquire();
  assert.is(refused.admitted, false);
  const hint = (refused as { retryAfterMs?: number }).retryAfterMs;
  assert.ok(hint !== undefined && hint <= 100, `retry after ${hint} ms where work takes 10 ms`);
});

test('a client that leaks every permit it gets stays within RS3GW_MAX_PERMITS and locks no one out for long', () => {
  const cap = 50;
  const { clock, manager } = setup(10, { maxOutstanding: cap });
  work(manager, clock, 20, 50);
  const leaked: string[] = [];
  let lastOtherMs = clock.nowMs();
  let longestWaitMs = 0;
  for (let t = 0; t < 2 * LEASE_MS; t += 100) {
    // Every tick another client asks for one permit (and releases it at once); the leaky client
    // then takes every permit it can.
    const other = manager.acquire();
    if (other.admitted) {
      manager.release(other.permitId, 'success');
      longestWaitMs = Math.max(longestWaitMs, clock.nowMs() - lastOtherMs);
      lastOtherMs = clock.nowMs();
    }
    for (let r = manager.acquire(); r.admitted; r = manager.acquire()) leaked.push(r.permitId);
    const s = manager.status();
    assert.ok(s.inflight + s.presumedLost <= cap, `outstanding ${s.inflight} + ${s.presumedLost} within the cap at ${t} ms`);
    clock.advance(100);
    manager.tick();
  }
  // Nothing is released while the leaky client holds every slot: the stall bound frees them.
  assert.ok(longestWaitMs <= 5200, `the other client waited at most ${longestWaitMs} ms for a permit`);
  const s = manager.status();
  assert.ok(leaked.length > 10 * cap, `the leaky client got ${leaked.length} permits`);
  assert.ok(s.totals.reclaimed >= leaked.length - cap, `all but the last ${cap} were forgotten: ${s.totals.reclaimed} of ${leaked.length}`);
  assert.throws(() => manager.release(leaked[0]!, 'success'), notFound);
});

/** A controller whose capacity estimate the test sets: the knee's comes only from a real overload. */
class FixedCapacity implements AdmissionController {
  inflight = 0;
  readonly name = 'fixed';
  readonly limitUnit = 'concurrency';
  constructor(
    readonly limit: number,
    readonly estimatedCapacity: number,
  ) {}
  tryAcquire(nowMs: number): Permit | undefined {
    if (this.inflight >= this.limit) return undefined;
    this.inflight += 1;
    return { startMs: nowMs, priority: 'normal', inflight: this.inflight };
  }
  release(): void {
    this.inflight -= 1;
  }
}

test('pending requests, which the pool advice grows on, leave presumed-lost permits out', () => {
  const controller = new FixedCapacity(10, 2);
  const { clock, manager } = setup(10, {}, controller);
  work(manager, clock, 20, 50);
  for (let i = 0; i < 6; i++) admit(manager);
  assert.is(manager.status().pending, 4, 'six held, two running');
  run(manager, clock, 5100);
  const s = manager.status();
  assert.equal([s.inflight, s.pending, s.presumedLost, controller.inflight], [0, 0, 6, 0]);
});

test.run();
