import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ObservabilityError } from '../../../../src/core/errors.js';
import { SeedRuleController, seedRuleOptionsFromEnv } from '../../../../src/core/resource/admission/seed-rule.js';

/** Completes `n` requests admitted at `start`, each taking `latency` ms; `failures` of them dropped. */
function window(c: SeedRuleController, start: number, n: number, latency: number, failures = 0): void {
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

test('grows x1.1 after a window with success > 99 % and latency < 100 ms', () => {
  const c = new SeedRuleController(0, { initialRps: 1000 });
  window(c, 0, 50, 20);
  c.tick(5000);
  assert.is(Math.round(c.limit), 1100);
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

test('RS3GW_ADAPTIVE_RATE_LIMIT=false keeps the rate fixed', () => {
  const c = new SeedRuleController(0, seedRuleOptionsFromEnv({ RS3GW_ADAPTIVE_RATE_LIMIT: 'false', RS3GW_INITIAL_RATE_LIMIT: '500' }));
  window(c, 0, 40, 20, 40);
  c.tick(5000);
  assert.is(c.limit, 500);
});

test('reads rs3gw environment variables and rejects bad ones by name', () => {
  assert.equal(seedRuleOptionsFromEnv({ RS3GW_INITIAL_RATE_LIMIT: '200', RS3GW_MIN_RATE_LIMIT: '50', RS3GW_MAX_RATE_LIMIT: '400' }), {
    initialRps: 200,
    minRps: 50,
    maxRps: 400,
  });
  assert.throws(() => seedRuleOptionsFromEnv({ RS3GW_MIN_RATE_LIMIT: 'lots' }), /RS3GW_MIN_RATE_LIMIT/);
  assert.throws(() => seedRuleOptionsFromEnv({ RS3GW_ADAPTIVE_RATE_LIMIT: 'maybe' }), /RS3GW_ADAPTIVE_RATE_LIMIT/);
  assert.throws(
    () => new SeedRuleController(0, { initialRps: 50, minRps: 100 }),
    (e: unknown) => e instanceof ObservabilityError && /initialRps/.test(e.message),
  );
});

test.run();
