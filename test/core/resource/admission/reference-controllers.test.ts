import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { AimdController } from '../../../../bench/admission/controllers/aimd.js';
import { EnvoyGradientController } from '../../../../bench/admission/controllers/envoy.js';
import { Gradient2Controller } from '../../../../bench/admission/controllers/gradient2.js';
import { NoLimitController } from '../../../../bench/admission/controllers/none.js';
import { VegasController } from '../../../../bench/admission/controllers/vegas.js';
import type { AdmissionController, Permit } from '../../../../src/core/resource/admission/types.js';

/** Admits `n` requests at `at` and returns their permits (fails the test if one is refused). */
function admit(c: AdmissionController, at: number, n: number): Permit[] {
  const permits: Permit[] = [];
  for (let i = 0; i < n; i++) {
    const p = c.tryAcquire(at);
    assert.ok(p, `request ${i + 1} of ${n} admitted`);
    permits.push(p!);
  }
  return permits;
}

/** Envoy's minRTT measurement from `t`: 50 requests one after another, each taking `rttMs`; returns the time after. */
function measureMinRtt(c: EnvoyGradientController, t: number, rttMs: number): number {
  for (let i = 0; i < EnvoyGradientController.MIN_RTT_REQUESTS; i++) {
    const [p] = admit(c, t, 1);
    c.release(p!, { nowMs: t + rttMs, dropped: false });
    t += rttMs;
  }
  return t;
}

test('none admits everything and reports an infinite limit', () => {
  const c = new NoLimitController();
  admit(c, 0, 10_000);
  assert.is(c.limit, Infinity);
  assert.is(c.inflight, 10_000);
});

test('AIMD adds one per sample while at least half the limit is in use', () => {
  const c = new AimdController();
  const permits = admit(c, 0, 10); // inflight 10, 10 * 2 >= 20
  c.release(permits[9], { nowMs: 10, dropped: false }); // sample saw inflight 10
  assert.is(c.limit, 21);
  c.release(permits[0], { nowMs: 10, dropped: false }); // sample saw inflight 1: 2 < 21
  assert.is(c.limit, 21);
});

test('AIMD backs off by 0.9 on a drop or an rtt over 5 s, never under 20', () => {
  const c = new AimdController();
  const permits = admit(c, 0, 20);
  for (let i = 19; i >= 15; i--) c.release(permits[i], { nowMs: 10, dropped: false });
  assert.is(c.limit, 25);
  c.release(permits[0], { nowMs: 10, dropped: true });
  assert.is(c.limit, 22); // floor(25 * 0.9)
  c.release(permits[1], { nowMs: 6000, dropped: false });
  assert.is(c.limit, 20); // floor(22 * 0.9) = 19, clamped to 20
  assert.is(c.tryAcquire(6000) !== undefined, true);
});

test('Vegas: first sample sets rttNoLoad; small queue grows by beta, big queue shrinks by lg', () => {
  const c = new VegasController();
  const permits = admit(c, 0, 20);
  c.release(permits[19], { nowMs: 10, dropped: false }); // rttNoLoad = 10, no change
  assert.is(c.limit, 20);
  c.release(permits[18], { nowMs: 10, dropped: false }); // queue = ceil(20 (1 - 10/10)) = 0 <= 1: +6
  assert.is(c.limit, 26);
  c.release(permits[17], { nowMs: 20, dropped: false }); // queue = ceil(26 * 0.5) = 13 > 6: -1
  assert.is(c.limit, 25);
  c.release(permits[16], { nowMs: 12, dropped: true }); // drop: -1
  assert.is(c.limit, 24);
  c.release(permits[0], { nowMs: 20, dropped: false }); // sample saw inflight 1: app-limited, keep
  assert.is(c.limit, 24);
});

test('Vegas keeps the limit when the queue sits between alpha and beta', () => {
  const c = new VegasController();
  const permits = admit(c, 0, 20);
  c.release(permits[19], { nowMs: 10, dropped: false });
  c.release(permits[18], { nowMs: 12.5, dropped: false }); // queue = ceil(20 * 0.2) = 4: 3 <= 4 <= 6
  assert.is(c.limit, 20);
});

test('Gradient2: L = 0.8 L + 0.2 (L g + 4) with g = clamp(1.5 long / short, 0.5, 1)', () => {
  const c = new Gradient2Controller();
  const permits = admit(c, 0, 20);
  c.release(permits[19], { nowMs: 10, dropped: false }); // long = 10, g = 1: 0.8*20 + 0.2*24
  assert.ok(Math.abs(c.limit - 20.8) < 1e-9);
  c.release(permits[18], { nowMs: 100, dropped: false }); // long = 55, short 100: g = 0.825
  const expected = 0.8 * 20.8 + 0.2 * (20.8 * 0.825 + 4);
  assert.ok(Math.abs(c.limit - expected) < 1e-9, `${c.limit} vs ${expected}`);
  c.release(permits[0], { nowMs: 100, dropped: false }); // inflight 1 < L / 2: skipped
  assert.ok(Math.abs(c.limit - expected) < 1e-9);
});

test('Envoy starts pinned at 3 until 50 samples measure minRTT, then applies the gradient', () => {
  const c = new EnvoyGradientController(0);
  assert.is(c.limit, 3);
  let t = 0;
  for (let i = 0; i < 50; i++) {
    const [p] = admit(c, t, 1);
    t += 10;
    c.release(p, { nowMs: t, dropped: false }); // every rtt 10 ms
  }
  assert.is(c.limit, 3, 'the deferred limit (3) comes back after sampling');
  const permits = admit(c, t, 3);
  for (const p of permits) c.release(p, { nowMs: t + 10, dropped: false });
  c.tick(t + 100);
  // gradient = clamp(1.25 * 10 / 10, 0.5, 2) = 1.25; floor(3.75 + sqrt(3.75)) = 5
  assert.is(c.limit, 5);
  const slow = admit(c, t + 100, 5);
  for (const p of slow) c.release(p, { nowMs: t + 140, dropped: false });
  c.tick(t + 200);
  // gradient = max(0.5, 12.5 / 40) = 0.5; floor(2.5 + sqrt(2.5)) = 4
  assert.is(c.limit, 4);
});

test('Envoy re-measures minRTT after five windows at the minimum', () => {
  const c = new EnvoyGradientController(0);
  let t = measureMinRtt(c, 0, 10);
  for (let w = 0; w < 5; w++) {
    const [p] = admit(c, t, 1);
    c.release(p, { nowMs: t + 1000, dropped: false }); // far slower than minRTT: gradient 0.5
    t += 1000;
    c.tick(t);
  }
  assert.is(c.limit, 3);
  // Sampling again: 50 fresh samples at 40 ms set minRTT to 40.
  t = measureMinRtt(c, t, 40);
  const permits = admit(c, t, 3);
  for (const p of permits) c.release(p, { nowMs: t + 40, dropped: false });
  c.tick(t + 100);
  assert.is(c.limit, 5, 'with minRTT 40 a 40 ms sample grows the limit again');
});

test('Envoy measures minRTT only on requests sent since the measurement began, not those queued before', () => {
  const c = new EnvoyGradientController(0);
  let t = measureMinRtt(c, 0, 10);
  // Grow the limit, then fill it: 60 requests in flight when the 60 s re-measure pins it to 3.
  for (let w = 0; w < 20; w++) {
    for (const p of admit(c, t, c.limit)) c.release(p, { nowMs: t + 10, dropped: false });
    t += 100;
    c.tick(t);
  }
  assert.ok(c.limit >= 60, `limit grew to ${c.limit}`);
  const queued = admit(c, t, 60);
  t = 61_000;
  c.tick(t);
  assert.is(c.limit, 3, 'pinned for the re-measure');
  // The queued requests finish slowly, as a queue does: none of them is a minRTT sample.
  queued.forEach((p, i) => c.release(p, { nowMs: t + 100 * (i + 1), dropped: false }));
  t += 6_000;
  assert.is(c.limit, 3, 'still measuring: the requests sent before it do not count');
  t = measureMinRtt(c, t, 12);
  const permits = admit(c, t, c.limit);
  for (const p of permits) c.release(p, { nowMs: t + 12, dropped: false });
  c.tick(t + 100);
  assert.ok(c.limit > 60, `minRTT is 12 ms, not the queue's seconds: a 12 ms sample keeps the limit up (${c.limit})`);
});

test('Envoy keeps a bounded sample buffer even if ticks stop', () => {
  const c = new EnvoyGradientController(0);
  let t = 0;
  for (let i = 0; i < 50; i++) {
    const [p] = admit(c, t, 1);
    c.release(p, { nowMs: t + 1, dropped: false });
    t += 1;
  }
  for (let i = 0; i < EnvoyGradientController.MAX_SAMPLES + 1000; i++) {
    const [p] = admit(c, t, 1);
    c.release(p, { nowMs: t, dropped: false });
  }
  const kept = (c as unknown as { samples: number[] }).samples.length;
  assert.is(kept, EnvoyGradientController.MAX_SAMPLES);
});

test.run();
