import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { ObservabilityError } from '../../../../src/core/errors.js';
import { capacityRps, loadScenario, parseScenario } from '../../../../bench/admission/engine/scenario.js';

const minimal = () => ({
  name: 't',
  seeds: [1],
  workers: 4,
  service: { lognormal: { meanMs: 10, sigma: 0.5 } },
  phases: [{ seconds: 1, load: 2 }],
});

const rejects = (input: unknown, field: RegExp): void => {
  assert.throws(
    () => parseScenario(input),
    (e: unknown) => e instanceof ObservabilityError && e.kind === 'invalid_argument' && field.test(e.message),
  );
};

test('fills the documented defaults', () => {
  const s = parseScenario(minimal());
  assert.is(s.contention, 0);
  assert.is(s.deadlineMs, 1000);
  assert.is(s.rejectCostMs, 0);
  assert.equal(s.arrivals, { kind: 'poisson' });
  assert.equal(s.capacityEvents, []);
  assert.equal(s.priorities, { critical: 0, normal: 1, sheddable: 0 });
  assert.is(capacityRps(s), 400);
});

test('reads the spec example, bimodal service and on/off arrivals', () => {
  const s = parseScenario({
    ...minimal(),
    service: { bimodal: { p: 0.9, fastMs: 10, slowMs: 200 } },
    arrivals: { onOff: { onS: 2, offS: 3 } },
    capacityEvents: [{ atS: 0, seconds: 1, serviceMultiplier: 2 }],
    priorities: { critical: 0.2, sheddable: 0.8 },
  });
  assert.equal(s.service, { kind: 'bimodal', p: 0.9, fastMs: 10, slowMs: 200 });
  assert.equal(s.arrivals, { kind: 'onOff', onS: 2, offS: 3 });
  assert.is(capacityRps(s), (4 * 1000) / 29);
});

test('unknown keys are errors that name the key, at any depth', () => {
  rejects({ ...minimal(), warmup: 5 }, /^warmup: unknown key/);
  rejects({ ...minimal(), service: { lognormal: { meanMs: 10, sigma: 0.5, median: 3 } } }, /^service\.lognormal\.median: unknown key/);
  rejects({ ...minimal(), phases: [{ seconds: 1, load: 1 }, { seconds: 1, lod: 2 }] }, /^phases\[1\]\.lod: unknown key/);
  rejects({ ...minimal(), arrivals: { onOff: { onS: 1, offS: 1, jitter: 1 } } }, /^arrivals\.onOff\.jitter: unknown key/);
  rejects({ ...minimal(), capacityEvents: [{ atS: 1, seconds: 1, multiplier: 2 }] }, /^capacityEvents\[0\]\.multiplier: unknown key/);
});

test('bad values are errors that name the field', () => {
  rejects({ ...minimal(), workers: 0 }, /^workers:/);
  rejects({ ...minimal(), workers: 2.5 }, /^workers: must be an integer/);
  rejects({ ...minimal(), seeds: [] }, /^seeds: must not be empty/);
  rejects({ ...minimal(), phases: [{ seconds: -1, load: 1 }] }, /^phases\[0\]\.seconds:/);
  rejects({ ...minimal(), service: {} }, /^service: must have exactly one/);
  rejects({ ...minimal(), arrivals: 'bursty' }, /^arrivals:/);
  rejects({ ...minimal(), priorities: { critical: 0.5, normal: 0.2 } }, /^priorities: shares must add up to 1/);
  rejects({ ...minimal(), name: '' }, /^name:/);
  const { name: _omit, ...nameless } = minimal();
  rejects(nameless, /^name:/);
});

test('on/off periods shorter than a millisecond are refused; no off period means never off', () => {
  rejects({ ...minimal(), arrivals: { onOff: { onS: 1e-9, offS: 1 } } }, /^arrivals\.onOff\.onS: must be >= 0\.001/);
  rejects({ ...minimal(), arrivals: { onOff: { onS: 1, offS: 1e-9 } } }, /^arrivals\.onOff\.offS: must be 0 or >= 0\.001/);
  assert.equal(parseScenario({ ...minimal(), arrivals: { onOff: { onS: 0.001, offS: 0 } } }).arrivals, { kind: 'onOff', onS: 0.001, offS: 0 });
});

test('a scenario too large to simulate is refused, which bounds the memory of a run', () => {
  // 4 workers at 0.01 ms: 400,000 requests/s; at load 10 for 10 s that is 40 million arrivals.
  rejects(
    { ...minimal(), service: { lognormal: { meanMs: 0.01, sigma: 0 } }, phases: [{ seconds: 10, load: 10 }] },
    /^phases: would bring about 40000000 arrivals/,
  );
});

test('every shipped scenario file parses', () => {
  const root = join(process.cwd(), 'bench/admission/scenarios');
  const files = ['', 'extra', 'more-seeds', 'near-capacity'].flatMap((dir) =>
    readdirSync(join(root, dir))
      .filter((f) => f.endsWith('.json'))
      .map((f) => join(root, dir, f)),
  );
  assert.ok(files.length >= 7);
  for (const f of files) loadScenario(f);
});

test.run();
