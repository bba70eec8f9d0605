/**
 * The monotonic clock that admission and pressure time their intervals with: epoch milliseconds
 * that never run backwards and resolve a fast request's round trip.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { monotonicClock, systemClock } from '../../src/core/clock.js';

test('the monotonic clock reads milliseconds since the epoch, as the wall clock does', () => {
  const wall = systemClock.nowMs();
  const monotonic = monotonicClock.nowMs();
  assert.ok(Math.abs(monotonic - wall) < 1000, `monotonic ${monotonic} against wall ${wall}`);
});

test('the monotonic clock never runs backwards', () => {
  let last = monotonicClock.nowMs();
  for (let i = 0; i < 100_000; i++) {
    const now = monotonicClock.nowMs();
    if (now < last) assert.unreachable(`read ${now} after ${last}`);
    last = now;
  }
});

test('the monotonic clock tells apart intervals shorter than a millisecond', () => {
  // The smallest step over many: one read may be delayed by the scheduler, not all of them.
  let smallest = Infinity;
  let last = monotonicClock.nowMs();
  for (let steps = 0; steps < 1000; ) {
    const now = monotonicClock.nowMs();
    if (now > last) {
      smallest = Math.min(smallest, now - last);
      steps++;
    }
    last = now;
  }
  assert.ok(smallest < 0.1, `smallest step ${smallest} ms`);
});

test.run();
