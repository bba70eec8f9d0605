import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ObservabilityError } from '../../../src/core/errors.js';
import { KneeController } from '../../../src/core/resource/admission/knee-controller.js';
import { SeedRuleController } from '../../../src/core/resource/admission/seed-rule.js';
import { ResourceManager } from '../../../src/core/resource/manager.js';
import { FakeClock } from '../../support/fake-clock.js';
import { WallAndMonotonic } from '../../support/wall-and-monotonic.js';
import { FixturePressure, pressureSnapshot } from './manager-fixtures.js';

function setup(config = {}, limit = 20) {
  const clock = new FakeClock();
  const controller = new KneeController(clock.nowMs(), { initialLimit: limit });
  const manager = new ResourceManager({ clock, controller, pressure: new FixturePressure(), config });
  return { clock, manager };
}

const isKind = (kind: string, field: string) => (e: unknown) =>
  e instanceof ObservabilityError && e.kind === kind && e.field === field;

function admit(manager: ResourceManager, priority?: 'critical' | 'normal' | 'sheddable'): string {
  const r = manager.acquire(priority);
  assert.ok(r.admitted, 'admitted');
  return (r as { permitId: string }).permitId;
}

test('acquire then release: inflight follows, the window counts the completion', () => {
  const { clock, manager } = setup();
  const id = admit(manager);
  assert.is(manager.status().inflight, 1);
  clock.advance(25);
  manager.release(id, 'success');
  const s = manager.status();
  assert.is(s.inflight, 0);
  assert.is(s.window.completions, 1);
  assert.is(s.window.successRate, 1);
  assert.ok(Math.abs(s.window.p50LatencyMs! - 25) / 25 < 0.05, `p50 ${s.window.p50LatencyMs}`);
  assert.is(s.totals.admitted.normal, 1);
});

test('a latency longer than the permit was held counts as the time held: one caller cannot set the median', () => {
  const { clock, manager } = setup();
  const id = admit(manager);
  clock.advance(30);
  manager.release(id, 'success', 315_576_000_000_000);
  const p50 = manager.status().window.p50LatencyMs!;
  assert.ok(Math.abs(p50 - 30) / 30 < 0.05, `p50 ${p50}`);
});

test('permit ids are random 128-bit tokens', () => {
  const { manager } = setup();
  const ids = new Set(Array.from({ length: 15 }, () => admit(manager)));
  assert.is(ids.size, 15);
  for (const id of ids) assert.match(id, /^[A-Za-z0-9_-]{22}$/);
});

test('an unknown or already released permit is not_found on permit_id', () => {
  const { manager } = setup();
  assert.throws(() => manager.release('nope', 'success'), isKind('not_found', 'permit_id'));
  const id = admit(manager);
  manager.release(id, 'error');
  assert.throws(() => manager.release(id, 'success'), isKind('not_found', 'permit_id'));
});

test('bad outcome, latency or priority are invalid_argument naming the field', () => {
  const { manager } = setup();
  const id = admit(manager);
  assert.throws(() => manager.release(id, 'fine' as never), isKind('invalid_argument', 'outcome'));
  assert.throws(() => manager.release(id, 'success', -3), isKind('invalid_argument', 'latency_ms'));
  assert.throws(() => manager.release(id, 'success', Number.NaN), isKind('invalid_argument', 'latency_ms'));
  assert.throws(() => manager.acquire('urgent' as never), isKind('invalid_argument', 'priority'));
  manager.release(id, 'success', 12);
  assert.is(manager.status().window.completions, 1);
});

test('permits not released within the lease are reclaimed as dropped on tick', () => {
  const { clock, manager } = setup({ leaseMs: 60_000 });
  const early = admit(manager);
  clock.advance(30_000);
  const late = admit(manager);
  clock.advance(30_000);
  manager.tick();
  let s = manager.status();
  assert.is(s.inflight, 1, 'only the permit past its lease is reclaimed');
  assert.is(s.totals.reclaimed, 1);
  assert.is(s.window.dropped, 1);
  assert.throws(() => manager.release(early, 'success'), isKind('not_found', 'permit_id'));
  manager.release(late, 'success');
  s = manager.status();
  assert.is(s.inflight, 0);
});

test('outstanding permits are capped; further acquires are refused with a reason', () => {
  const { manager } = setup({ maxOutstanding: 5 }, 100);
  for (let i = 0; i < 5; i++) admit(manager);
  const r = manager.acquire();
  assert.is(r.admitted, false);
  assert.match((r as { reason: string }).reason, /outstanding permits \(cap 5\)/);
  assert.is(manager.status().inflight, 5, 'the cap holds');
  assert.is(manager.status().totals.rejected.normal, 1);
});

test('the cap frees up once expired leases are reclaimed', () => {
  const { clock, manager } = setup({ maxOutstanding: 2, leaseMs: 1000 }, 100);
  admit(manager);
  admit(manager);
  assert.is(manager.acquire().admitted, false);
  clock.advance(1000);
  assert.is(manager.acquire().admitted, true, 'acquire reclaims expired leases when at the cap');
});

test('the controller limit refuses with a reason and a retry hint', () => {
  const { clock, manager } = setup({}, 2);
  const a = admit(manager);
  clock.advance(40);
  manager.release(a, 'success');
  const a2 = admit(manager);
  admit(manager);
  const r = manager.acquire();
  assert.is(r.admitted, false);
  const refusal = r as { reason: string; retryAfterMs?: number };
  assert.is(refusal.reason, 'concurrency limit reached (2 in flight, limit 2, adaptive)');
  assert.ok(refusal.retryAfterMs !== undefined && refusal.retryAfterMs >= 38 && refusal.retryAfterMs <= 42);
  // Sheddable traffic is refused below the limit, and the reason says so rather than call it full.
  manager.release(a2, 'success');
  const shed = manager.acquire('sheddable') as { admitted: boolean; reason: string };
  assert.is(shed.admitted, false);
  assert.is(shed.reason, 'concurrency limit reached (1 in flight, limit 2 less a reserve for higher priorities, adaptive)');
});

test('the retry hint grows with the refusals per admission of the last second or two, and is bounded', () => {
  const { clock, manager } = setup({}, 2);
  const a = admit(manager);
  clock.advance(40);
  manager.release(a, 'success');
  const held = [admit(manager), admit(manager)];
  const hint = () => (manager.acquire() as { retryAfterMs?: number }).retryAfterMs!;
  const near = (ms: number, expected: number, what: string) => assert.ok(Math.abs(ms - expected) <= 0.05 * expected + 1, `${what}: ${ms} ms, expected ${expected}`);
  near(hint(), 40, 'nothing refused yet: one median');
  for (let i = 1; i < 6; i++) hint();
  // 3 admitted, 6 refused: a load three times what is admitted.
  near(hint(), 3 * 40, 'two refusals per admission: three medians');
  for (let i = 0; i < 100; i++) hint();
  near(hint(), 10 * 40, 'at most ten medians');

  // Two seconds on, the overload has passed: the hint is one median again.
  clock.advance(2000);
  for (const id of held) manager.release(id, 'success', 40);
  admit(manager);
  admit(manager);
  near(hint(), 40, 'after the overload');
});

test('a rate limit hints the time between tokens, times the same competition', () => {
  const clock = new FakeClock();
  const manager = new ResourceManager({
    clock,
    controller: new SeedRuleController(clock.nowMs(), { initialRps: 100 }),
    pressure: new FixturePressure(),
  });
  while (manager.acquire().admitted);
  // 10 admitted (a burst of 0.1 s), then 20 refused.
  for (let i = 0; i < 19; i++) manager.acquire();
  assert.is((manager.acquire() as { retryAfterMs?: number }).retryAfterMs, 30, 'two refusals per admission, 10 ms between tokens');
});

test('status reports the seed rule as a rate limit in requests per second', () => {
  const clock = new FakeClock();
  const manager = new ResourceManager({
    clock,
    controller: new SeedRuleController(clock.nowMs(), { initialRps: 100 }),
    pressure: new FixturePressure(),
  });
  let admitted = 0;
  while (manager.acquire().admitted) admitted++;
  const s = manager.status();
  assert.is(admitted, 10, 'burst of 0.1 s at 100 rps');
  assert.is(s.controller, 'seed');
  assert.is(s.limitUnit, 'rps');
  assert.is(s.rateLimitRps, 100);
  assert.is(s.inflight, 10);
});

test('the status is stamped by the wall clock across its steps, while leases and latencies keep to the monotonic one', () => {
  const clocks = new WallAndMonotonic();
  const manager = new ResourceManager({
    clock: clocks.monotonic,
    wallClock: clocks.wall,
    controller: new KneeController(clocks.monotonic.nowMs(), { initialLimit: 20 }),
    pressure: new FixturePressure(),
    config: { leaseMs: 60_000 },
  });
  const id = admit(manager);
  for (const stepMs of [2 * 3_600_000, -30 * 60_000]) {
    clocks.wall.advance(stepMs);
    clocks.advance(10);
    manager.tick();
    const s = manager.status();
    assert.is(s.atMs, clocks.wall.nowMs(), `after a step of ${stepMs} ms`);
    assert.is(s.inflight, 1, 'the lease did not run out with the step');
  }
  manager.release(id, 'success');
  assert.ok(Math.abs(manager.status().window.p50LatencyMs! - 20) <= 0.5, `p50 ${manager.status().window.p50LatencyMs}`);
});

test('invalid configuration is refused by field', () => {
  const clock = new FakeClock();
  const make = (config: object) => () =>
    new ResourceManager({ clock, controller: new KneeController(0), pressure: new FixturePressure(), config });
  assert.throws(make({ leaseMs: 0 }), isKind('invalid_argument', 'lease_ms'));
  assert.throws(make({ maxOutstanding: 0.5 }), isKind('invalid_argument', 'max_outstanding'));
  assert.throws(make({ windowMs: 10_000_000, bucketMs: 1 }), isKind('invalid_argument', 'window_ms'));
  assert.throws(
    make({ shedThresholds: { critical: { enter: 0.5, exit: 0.9 }, normal: { enter: 0.8, exit: 0.7 }, sheddable: { enter: 0.5, exit: 0.4 } } }),
    isKind('invalid_argument', 'shed_thresholds.critical'),
  );
});

test('the retry hint counts refusals at the limit, not requests shed, which compete for no slot', () => {
  const hint = (shedFlood: boolean): number | undefined => {
    const clock = new FakeClock();
    // Memory pressure sheds sheddable work only.
    const manager = new ResourceManager({ clock, controller: new KneeController(clock.nowMs(), { initialLimit: 4 }), pressure: new FixturePressure(pressureSnapshot(0, true)) });
    for (let i = 0; i < 20; i++) {
      const r = manager.acquire('normal');
      clock.advance(50);
      if (r.admitted) manager.release(r.permitId, 'success');
    }
    for (let i = 0; i < 4; i++) assert.ok(manager.acquire('normal').admitted);
    if (shedFlood) for (let i = 0; i < 100; i++) assert.is(manager.acquire('sheddable').admitted, false);
    const refused = manager.acquire('normal');
    assert.is(refused.admitted, false);
    return refused.admitted ? undefined : refused.retryAfterMs;
  };
  assert.is(hint(true), hint(false));
});

test.run();
