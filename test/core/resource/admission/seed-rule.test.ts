import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ObservabilityError } from '../../../../src/core/errors.js';
import { createAdmissionController } from '../../../../src/core/resource/admission/factory.js';
import { SeedRuleController } from '../../../../src/core/resource/admission/seed-rule.js';
import type { AdmissionController, Priority } from '../../../../src/core/resource/admission/types.js';

/** Completes `n` requests admitted at `start`, each taking `latency` ms; `failures` of them dropped. */
function window(c: AdmissionController, start: number, n: number, latency: number, failures = 0): void {
  for (let i = 0; i < n; i++) {
    const t = start + i;
    const permit = c.tryAcquire(t);
    assert.ok(permit, 'the bucket admits the test traffic');
    c.release(permit!, { nowMs: t + latency, dropped: i < failures });
  }
}

test('starts at the initial rate with a burst of 0.1 s of it', () => {
  const c = new SeedRuleController(0, { initialRps: 1000 });
  assert.is(c.limit, 1000);
  assert.is(c.limitUnit, 'rps');
  let admitted = 0;
  while (c.tryAcquire(0)) admitted++;
  assert.is(admitted, 100);
});

test('priorities meet the bucket as the adaptive limit: sheddable work leaves tokens for the rest, critical work may borrow some', () => {
  const c = new SeedRuleController(0, { initialRps: 100, adaptive: false });
  const admitted = (priority: Priority, nowMs: number): number => {
    let n = 0;
    while (c.tryAcquire(nowMs, priority)) n++;
    return n;
  };
  assert.is(admitted('sheddable', 0), 8, 'of a burst of 10, 2 are left');
  assert.is(admitted('normal', 0), 2);
  assert.is(admitted('critical', 0), 5, 'half the burst borrowed');
  assert.is(admitted('normal', 50), 0, 'the debt is paid back first');
  assert.is(admitted('normal', 60), 1);
  // Over a second of critical work alone, the rate holds: the burst, what it borrowed, the rate.
  const fresh = new SeedRuleController(0, { initialRps: 100, adaptive: false });
  let critical = 0;
  for (let t = 0; t <= 1000; t += 10) while (fresh.tryAcquire(t, 'critical')) critical++;
  assert.is(critical, 10 + 5 + 100);
});

test('grows x1.1 after a window with success > 99 % and latency < 100 ms', () => {
  const c = new SeedRuleController(0, { initialRps: 1000 });
  const reported: number[] = [];
  for (let k = 0; k < 4; k++) {
    window(c, k * 5000, 50, 20);
    c.tick((k + 1) * 5000);
    reported.push(c.limit);
  }
  // Reported as a person would write them, without binary floating-point residue.
  assert.equal(reported, [1100, 1210, 1331, 1464.1]);
});

test('a held limit does not grow, though it may shrink; released, it grows again', () => {
  const c = new SeedRuleController(0, { initialRps: 1000 });
  c.holdLimit(true);
  window(c, 0, 50, 20);
  c.tick(5000);
  assert.is(c.limit, 1000);
  window(c, 5000, 100, 20, 10);
  c.tick(10_000);
  assert.is(Math.round(c.limit), 900);
  c.holdLimit(false);
  window(c, 10_000, 50, 20);
  c.tick(15_000);
  assert.is(Math.round(c.limit), 990);
});

test('shrinks x0.9 after a window with success < 95 %', () => {
  const c = new SeedRuleController(0, { initialRps: 1000 });
  window(c, 0, 100, 20, 10);
  c.tick(5000);
  assert.is(Math.round(c.limit), 900);
});

test('shrinks x0.95 when successes are fine but mean latency is over 1 s', () => {
  const c = new SeedRuleController(0, { initialRps: 1000 });
  window(c, 0, 50, 1500);
  c.tick(5000);
  assert.is(Math.round(c.limit), 950);
});

test('holds between the thresholds and when nothing completed', () => {
  const c = new SeedRuleController(0, { initialRps: 1000 });
  window(c, 0, 100, 20, 3); // 97 % success: neither rule applies
  c.tick(5000);
  assert.is(c.limit, 1000);
  c.tick(10_000);
  assert.is(c.limit, 1000);
});

test('stays within [min, max]', () => {
  const c = new SeedRuleController(0, { initialRps: 105, minRps: 100, maxRps: 115 });
  window(c, 0, 10, 20, 10);
  c.tick(5000);
  assert.is(c.limit, 100);
  for (let k = 1; k <= 3; k++) {
    window(c, k * 5000 + 1, 10, 20);
    c.tick((k + 1) * 5000);
  }
  assert.is(c.limit, 115);
});

test('the factory builds the seed rule from explicit options', () => {
  const c = createAdmissionController('seed', 0, { initialRps: 200, minRps: 50, maxRps: 400 });
  assert.is(c.name, 'seed');
  assert.is(c.limitUnit, 'rps');
  assert.is(c.limit, 200);
  window(c, 0, 10, 20, 10);
  c.tick?.(5000);
  assert.is(Math.round(c.limit), 180);
});

test('a fixed rate (adaptive: false) is a token bucket at the initial rate, whatever the kind', () => {
  for (const kind of ['seed', 'adaptive'] as const) {
    const c = createAdmissionController(kind, 0, { adaptive: false, initialRps: 500 });
    assert.is(c.name, 'seed', kind);
    window(c, 0, 40, 20, 40);
    c.tick?.(5000);
    assert.is(c.limit, 500, kind);
  }
});

test('the adaptive kind is the concurrency limit and ignores the seed rule\'s rates', () => {
  const c = createAdmissionController('adaptive', 0, { initialRps: 500, adaptive: true });
  assert.is(c.limitUnit, 'concurrency');
});

test('rejects bad options and kinds by name', () => {
  const named = (field: string) => (e: unknown) => e instanceof ObservabilityError && e.message.startsWith(`${field}:`);
  assert.throws(() => createAdmissionController('seed', 0, { initialRps: 50, minRps: 100 }), named('initialRps'));
  assert.throws(() => createAdmissionController('seed', 0, { maxRps: Number.NaN }), named('maxRps'));
  assert.throws(() => createAdmissionController('magic' as 'seed', 0), named('admission_controller'));
});

test.run();
