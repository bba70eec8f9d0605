import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { addRoundTrip, newCohort, readCohort, type Cohort } from '../../../../src/core/resource/admission/base-cohort.js';

const close = (a: number, b: number, msg?: string) => assert.ok(Math.abs(a - b) < 1e-9, msg ?? `${a} vs ${b}`);

/** A finished cohort whose round trips alternate between the given values. */
function cohort(n: number, ...values: number[]): Cohort {
  const c = newCohort(1, 0, n);
  for (let i = 0; i < n; i++) addRoundTrip(c, values[i % values.length]);
  return c;
}

test('a cohort that agrees with the base refines it by its share of the samples', () => {
  const after = readCohort(cohort(100, 21), { base: 20, samples: 300, cv2: 0.25 });
  close(after.base, (20 * 300 + 21 * 100) / 400);
  assert.is(after.samples, 400);
  assert.is(after.serviceChanged, false);
});

test('a drifted knee with a base that moved against it is a slower service, not fewer servers', () => {
  // The windows read 12 busy servers with base 20 where 16 were confirmed: if the servers are the
  // same, the base is now 20 x 16 / 12 = 26.7. The cohort says 26.5.
  const after = readCohort(cohort(100, 26.5), { base: 20, samples: 300, cv2: 0.25, estimate: 12, reference: 16 });
  close(after.base, ((20 * 16) / 12 * 300 + 26.5 * 100) / 400);
  assert.is(after.serviceChanged, true);
});

test('a moved estimate with an unchanged base means the servers changed', () => {
  const after = readCohort(cohort(100, 20.5), { base: 20, samples: 300, cv2: 0.25, estimate: 12, reference: 16 });
  close(after.base, (20 * 300 + 20.5 * 100) / 400);
  assert.is(after.serviceChanged, false);
});

test('a cohort that fits no explanation replaces the base', () => {
  const after = readCohort(cohort(50, 40), { base: 20, samples: 300, cv2: 0.25 });
  assert.is(after.base, 40);
  assert.is(after.samples, 50);
  assert.is(after.serviceChanged, true);
});

test('a widely spread cohort needs a larger difference to replace the base', () => {
  // Mean 16 (20 % below the base) from round trips of 0 and 32: squared CV 1, so 90 of them do not
  // show a change; with a narrow spread the same mean does.
  const spread = readCohort(cohort(90, 0, 32), { base: 20, samples: 300, cv2: 0.25 });
  assert.is(spread.serviceChanged, false);
  close(spread.base, (20 * 300 + 16 * 90) / 390);
  const narrow = readCohort(cohort(90, 16), { base: 20, samples: 300, cv2: 0.01 });
  assert.is(narrow.serviceChanged, true);
  assert.is(narrow.base, 16);
});

test.run();
