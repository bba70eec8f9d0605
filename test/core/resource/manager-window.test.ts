import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { KneeController } from '../../../src/core/resource/admission/knee-controller.js';
import { LatencyHistogram } from '../../../src/core/resource/latency-histogram.js';
import { ResourceManager } from '../../../src/core/resource/manager.js';
import { SlidingWindowStats } from '../../../src/core/resource/window-stats.js';
import { FakeClock } from '../../support/fake-clock.js';
import { FixturePressure } from './manager-fixtures.js';

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

  // A permit reclaimed after its lease counts the time it was held.
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
  assert.equal([w.completions, w.dropped], [1, 1]);
  assert.ok(Math.abs(w.p50LatencyMs! - 5_000) / 5_000 < 0.05, `p50 ${w.p50LatencyMs}`);
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

test('the latency histogram is within 5 % and bounded in size', () => {
  const h = new LatencyHistogram();
  for (let i = 1; i <= 1000; i++) h.add(i);
  for (const [q, exact] of [[0.5, 500], [0.99, 990], [0.999, 999]] as const) {
    const v = h.quantile(q)!;
    assert.ok(Math.abs(v - exact) / exact < 0.05, `q${q}: ${v} vs ${exact}`);
  }
  h.add(1e12);
  h.add(-5);
  assert.is(h.count, 1002);
  assert.ok(h.quantile(1)! <= 4_000_000, 'huge values land in the last bin');
});

test.run();
