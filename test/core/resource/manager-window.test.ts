import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { KneeController } from '../../../src/core/resource/admission/knee-controller.js';
import { LatencyHistogram } from '../../../src/core/resource/latency-histogram.js';
import { ResourceManager } from '../../../src/core/resource/manager.js';
import { SlidingWindowStats } from '../../../src/core/resource/window-stats.js';
import { FakeClock } from '../../support/fake-clock.js';
import { FixturePressure } from './manager-fixtures.js';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
/** The longest google.protobuf.Duration Release accepts, 315,576,000,000.999999999 s, in ms. */
const LONGEST_DURATION_MS = 315_576_000_000_999.999999999;

function manager(clock: FakeClock) {
  return new ResourceManager({
    clock,
    controller: new KneeController(clock.nowMs(), { initialLimit: 1000 }),
    pressure: new FixturePressure(),
    config: { windowMs: 60_000 },
  });
}

/** Runs `n` requests of `latency` ms each, one after the other. */
function serve(m: ResourceManager, clock: FakeClock, n: number, latency: number, outcome: 'success' | 'error' = 'success'): void {
  for (let i = 0; i < n; i++) {
    const r = m.acquire();
    assert.ok(r.admitted);
    clock.advance(latency);
    m.release((r as { permitId: string }).permitId, outcome);
  }
}

test('a window of a second or so slides: it does not empty at each second, as one 1 s bucket did', () => {
  const clock = new FakeClock();
  const m = new ResourceManager({
    clock,
    controller: new KneeController(clock.nowMs(), { initialLimit: 1000 }),
    pressure: new FixturePressure(),
    config: { windowMs: 1000 },
  });
  // A steady 100 completions a second, each 10 ms; read every 50 ms for three seconds.
  const seen: number[] = [];
  for (let step = 0; step < 60; step++) {
    serve(m, clock, 5, 10);
    seen.push(m.status().window.completions);
  }
  const settled = seen.slice(20);
  assert.ok(Math.min(...settled) >= 90, `completions in the last second never fell far: ${settled.join(' ')}`);
  assert.ok(Math.max(...settled) <= 100, `and never counted more than a second's: ${settled.join(' ')}`);
});

test('success rate and latency percentiles over the window', () => {
  const clock = new FakeClock();
  const m = manager(clock);
  serve(m, clock, 98, 10);
  serve(m, clock, 2, 500, 'error');
  const w = m.status().window;
  assert.is(w.completions, 100);
  assert.is(w.errors, 2);
  assert.is(w.successRate, 0.98);
  assert.ok(Math.abs(w.p50LatencyMs! - 10) <= 0.5, `p50 ${w.p50LatencyMs}`);
  // Every completion counts, failures too: the p99 by nearest rank is the 99th of 100, a slow error.
  assert.ok(Math.abs(w.p99LatencyMs! - 500) / 500 < 0.05, `p99 ${w.p99LatencyMs}`);
});

test('completions that all failed or were dropped still have latency percentiles', () => {
  const clock = new FakeClock();
  const m = manager(clock);
  serve(m, clock, 4, 250, 'error');
  let w = m.status().window;
  assert.is(w.completions, 4);
  assert.ok(Math.abs(w.p50LatencyMs! - 250) / 250 < 0.05, `p50 ${w.p50LatencyMs}`);
  assert.ok(Math.abs(w.p99LatencyMs! - 250) / 250 < 0.05, `p99 ${w.p99LatencyMs}`);

  // A permit reclaimed after its lease counts as dropped, without a latency: the lease is not how
  // long work takes (it set every retry hint to the lease).
  const leased = new ResourceManager({
    clock,
    controller: new KneeController(clock.nowMs(), { initialLimit: 1000 }),
    pressure: new FixturePressure(),
    config: { windowMs: 60_000, leaseMs: 5_000 },
  });
  assert.ok(leased.acquire().admitted);
  clock.advance(5_000);
  leased.tick();
  w = leased.status().window;
  assert.equal([w.completions, w.dropped, w.p50LatencyMs], [1, 1, undefined]);
});

test('the sliding window forgets data older than the window', () => {
  const clock = new FakeClock();
  const m = manager(clock);
  serve(m, clock, 50, 1000, 'error'); // 50 s of failures
  clock.advance(15_000);
  serve(m, clock, 10, 100);
  let w = m.status().window;
  assert.ok(w.errors > 0 && w.errors < 50, `old failures are leaving the window: ${w.errors}`);
  clock.advance(61_000);
  w = m.status().window;
  assert.is(w.completions, 0);
  assert.is(w.successRate, undefined);
  assert.is(w.p99LatencyMs, undefined);
  assert.is(m.status().totals.admitted.normal, 60, 'totals since start-up are kept');
});

test('memory is a fixed ring: an hour of traffic still reports one window', () => {
  const stats = new SlidingWindowStats(10_000, 1000);
  for (let t = 0; t < 3_600_000; t += 50) stats.recordCompletion(t, 'success', 5);
  const totals = stats.totals(3_600_000 - 1);
  assert.is(totals.completions, 200, 'ten 1 s buckets of 20 completions');
});

test('the latency histogram is within 2.5 % from a fraction of a millisecond to the longest Duration', () => {
  const h = new LatencyHistogram();
  for (let i = 1; i <= 1000; i++) h.add(i);
  for (const [q, exact] of [[0.5, 500], [0.99, 990], [0.999, 999]] as const) {
    const v = h.quantile(q)!;
    assert.ok(Math.abs(v - exact) / exact < 0.025, `q${q}: ${v} vs ${exact}`);
  }
  // One value per decade from 0.2 ms to ten thousand years: each quantile lands on its own value.
  const wide = new LatencyHistogram();
  const values = Array.from({ length: 16 }, (_, i) => 0.2 * 10 ** i).concat(LONGEST_DURATION_MS);
  for (const v of values) wide.add(v);
  values.forEach((exact, i) => {
    const v = wide.quantile((i + 1) / values.length)!;
    assert.ok(Math.abs(v - exact) / exact < 0.025, `value ${i + 1} of ${values.length}: ${v} vs ${exact}`);
  });
  assert.is(wide.quantile(1), LONGEST_DURATION_MS, 'the largest value is never overstated');
});

test('latencies of hours and days read as they were; a permit reclaimed after a lease of two hours adds none', () => {
  const clock = new FakeClock();
  const m = manager(clock);
  // Held as long as they report (a latency counts at most as the time held); each is the window's
  // one completion, the one before having left it.
  for (const latencyMs of [2 * HOUR, DAY]) {
    const r = m.acquire();
    assert.ok(r.admitted);
    clock.advance(latencyMs);
    m.release((r as { permitId: string }).permitId, 'success', latencyMs);
    const w = m.status().window;
    assert.is(w.completions, 1);
    assert.ok(Math.abs(w.p50LatencyMs! - latencyMs) / latencyMs < 0.025, `p50 ${w.p50LatencyMs} for ${latencyMs}`);
    assert.ok(Math.abs(w.p99LatencyMs! - latencyMs) / latencyMs < 0.025, `p99 ${w.p99LatencyMs} for ${latencyMs}`);
  }

  const leased = new ResourceManager({
    clock,
    controller: new KneeController(clock.nowMs(), { initialLimit: 1000 }),
    pressure: new FixturePressure(),
    config: { windowMs: 60_000, leaseMs: 2 * HOUR },
  });
  assert.ok(leased.acquire().admitted);
  clock.advance(2 * HOUR);
  leased.tick();
  const reclaimed = leased.status();
  assert.is(reclaimed.totals.reclaimed, 1);
  assert.equal([reclaimed.window.dropped, reclaimed.window.p50LatencyMs, reclaimed.window.p99LatencyMs], [1, undefined, undefined]);
});

test.run();
