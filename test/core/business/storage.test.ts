import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { BusinessMetrics } from '../../../src/core/business/index.js';
import { MAX_GROWTH_STEPS, StorageTracker } from '../../../src/core/business/storage-tracker.js';
import { MetricsEngine } from '../../../src/core/metrics/index.js';
import { expectError } from '../../support/errors.js';
import { FakeClock } from '../../support/fake-clock.js';
import { event, setup } from './setup.js';

const HOUR = 3_600_000;
const GIB = 1024 ** 3;

test('default storage deltas follow the documented rules', () => {
  const { business } = setup();
  const usage = () => business.report().storageUtilization;
  business.ingest([event({ operation: 'create_bucket', bucket: 'b' }), event({ operation: 'create_bucket', bucket: 'c', status: 409 })]);
  assert.is(usage().buckets, 1);
  business.ingest([
    event({ operation: 'put_object', bytesIn: 100 }),
    event({ operation: 'multipart_upload', bytesIn: 1000 }),
    event({ operation: 'copy_object', bytesIn: 10 }),
    event({ operation: 'put_object', bytesIn: 5000, status: 500 }),
  ]);
  assert.equal([usage().objects, usage().totalBytes], [3, 1110n]);
  business.ingest([event({ operation: 'delete_object', status: 204 })]);
  assert.equal([usage().objects, usage().totalBytes], [3, 1110n], 'a delete without stored_bytes_delta changes nothing');
  business.ingest([event({ operation: 'delete_object', status: 204, storedBytesDelta: -100 })]);
  assert.equal([usage().objects, usage().totalBytes], [2, 1010n]);
  business.ingest([event({ operation: 'put_object', bytesIn: 50, storedBytesDelta: 20, storedObjectsDelta: 0 })]);
  assert.equal([usage().objects, usage().totalBytes], [2, 1030n], 'explicit deltas win (overwrite)');
  business.ingest([event({ operation: 'delete_object', storedBytesDelta: -1e9, storedObjectsDelta: -50 })]);
  assert.equal([usage().objects, usage().totalBytes], [0, 0n], 'never below zero');
  business.ingest([event({ operation: 'delete_bucket', bucket: 'b', status: 204 })]);
  assert.is(usage().buckets, 0);
});

test('setStorageUsage sets absolute figures that deltas then build on', async () => {
  const { business } = setup();
  assert.equal(business.setStorageUsage({ buckets: 42, objects: 15234, totalBytes: 1073741824 }), {
    buckets: 42,
    objects: 15234,
    totalBytes: 1073741824n,
    growthRateBytesPerDay: null,
    growthWindowMs: 0,
  });
  business.ingest([event({ operation: 'put_object', bytesIn: 1024 })]);
  assert.equal(business.report().storageUtilization, {
    buckets: 42,
    objects: 15235,
    totalBytes: 1073742848n,
    growthRateBytesPerDay: null,
    growthWindowMs: 0,
  });
  await expectError(() => business.setStorageUsage({ buckets: -1, objects: 0, totalBytes: 0 }), 'invalid_argument', 'buckets');
  await expectError(() => business.setStorageUsage({ buckets: 1, objects: 0, totalBytes: 1.5 }), 'invalid_argument', 'total_bytes');
});

test('object and bucket counts stay at 2^53 - 1, the most SetStorageUsage takes, rather than stop counting exactly', () => {
  const { business } = setup();
  const max = Number.MAX_SAFE_INTEGER;
  const usage = () => business.report().storageUtilization;
  business.setStorageUsage({ buckets: max, objects: max - 1, totalBytes: 0 });
  business.ingest([event({ operation: 'put_object', bytesIn: 1 })]);
  assert.is(usage().objects, max);
  // Before, deltas went on past 2^53 - 1, where a double skips: a put then left 2^54 unchanged.
  business.ingest([event({ operation: 'put_object', bytesIn: 1, storedObjectsDelta: max }), event({ operation: 'put_object', bytesIn: 1 })]);
  assert.is(usage().objects, max);
  business.ingest([event({ operation: 'delete_object', storedBytesDelta: -1, storedObjectsDelta: -1 })]);
  assert.is(usage().objects, max - 1, 'a delete from the top counts exactly');
  business.ingest([event({ operation: 'create_bucket', bucket: 'b' })]);
  assert.is(usage().buckets, max);
  business.ingest([event({ operation: 'delete_bucket', bucket: 'b', status: 204 })]);
  assert.is(usage().buckets, max - 1);
});

test('growth rate is the linear trend of the last 24 h', () => {
  const { business, clock } = setup();
  business.setStorageUsage({ buckets: 1, objects: 0, totalBytes: 0 });
  for (let h = 1; h <= 24; h++) {
    clock.advance(HOUR);
    business.ingest([event({ operation: 'put_object', bytesIn: 1000 })]);
  }
  // A staircase of 1000 bytes an hour: the line through the level at every instant rises 24,000 a
  // day, less a fraction of a percent for the steps' shape.
  const rate = business.report().storageUtilization.growthRateBytesPerDay!;
  assert.ok(Math.abs(rate - 24_000) < 0.01 * 24_000, `rate ${rate}`);
  assert.is(business.report().storageUtilization.growthWindowMs, 24 * HOUR);
  clock.advance(25 * HOUR);
  assert.is(business.report().storageUtilization.growthRateBytesPerDay, 0, 'a level flat for the last 24 h does not grow');
  assert.is(business.report().storageUtilization.growthWindowMs, 24 * HOUR, 'the fit covers a day at most');
});

test('no growth rate until the history covers an hour: one upload after a start is no rate per day', () => {
  const { business, clock } = setup();
  business.setStorageUsage({ buckets: 10, objects: 1_000_000, totalBytes: 2 ** 40 });
  clock.advance(10_000);
  business.ingest([event({ operation: 'put_object', bytesIn: GIB })]);
  clock.advance(1_000);
  let s = business.report().storageUtilization;
  // Extrapolated to a day, this was 3.1e12 bytes a day.
  assert.equal([s.growthRateBytesPerDay, s.growthWindowMs], [null, 11_000]);
  clock.advance(HOUR - 11_001);
  assert.is(business.report().storageUtilization.growthRateBytesPerDay, null, 'a millisecond short of an hour');
  clock.advance(1);
  s = business.report().storageUtilization;
  assert.is(s.growthWindowMs, HOUR);
  // The line through an hour holding 1 TiB for 10 s then 1 TiB + 1 GiB: 6 f (1 - f) GiB an hour,
  // f = 10 s / 1 h, about 0.4 GiB a day.
  const expected = 6 * (10 / 3600) * (1 - 10 / 3600) * GIB * 24;
  assert.ok(Math.abs(s.growthRateBytesPerDay! - expected) < 0.01 * expected, `${s.growthRateBytesPerDay} bytes a day`);
});

test('a step of the wall clock, back or forward, does not bend the growth rate', () => {
  // GB a day, every 2 h for 12 h after a step, for each step.
  const after = (stepMs: number) => {
    // The wall clock and the monotonic one, apart: only the wall clock steps.
    const wall = new FakeClock();
    const mono = new FakeClock(1_000_000);
    const business = new BusinessMetrics({ metrics: new MetricsEngine({ clock: wall, intervals: mono, defaultMetrics: false }), clock: wall, intervals: mono });
    business.setStorageUsage({ buckets: 1, objects: 1, totalBytes: 1e12 });
    // 1 GB written every 10 minutes, for a day before the step and half a day after: 144 GB a day.
    const write = () => {
      wall.advance(10 * 60_000);
      mono.advance(10 * 60_000);
      business.ingest([event({ operation: 'put_object', bytesIn: 1e9 })]);
    };
    for (let i = 0; i < 144; i++) write();
    wall.advance(stepMs);
    const rates: number[] = [];
    for (let i = 1; i <= 72; i++) {
      write();
      if (i % 12 === 0) rates.push(Math.round(business.report().storageUtilization.growthRateBytesPerDay! / 1e9));
    }
    return rates;
  };
  const steady = [144, 144, 144, 144, 144, 144];
  assert.equal([after(-12 * HOUR), after(-6 * HOUR), after(12 * HOUR)], [steady, steady, steady]);
});

const T0 = Date.UTC(2026, 0, 1, 12, 0, 5);

test('growth within the minute of the level it grew from counts (the level before a change is kept)', () => {
  const storage = new StorageTracker(T0);
  storage.set({ buckets: 1, objects: 100, totalBytes: 10 * GIB }, T0);
  storage.change(0, 1, GIB, T0 + 20_000);
  // The line through 10 GiB for 20 s and 11 GiB for 1 s: cov(t, level) / var(t) over [0, 21 s]
  // is (20.5 / 21 - 0.5) / (21^2 / 12) = 0.012957 GiB/s.
  const rate = storage.growthRatePerDay(T0 + 21_000) / (GIB * 86_400);
  assert.ok(Math.abs(rate - 0.012957) < 1e-5, `${rate} GiB/s`);
});

test('deltas from a service just started are growth from nothing', () => {
  const storage = new StorageTracker(T0);
  storage.change(0, 10, 10 * 1024 * 1024, T0 + 20_000);
  assert.ok(storage.growthRatePerDay(T0 + 21_000) > 0);
});

test('the first absolute figures set the base the deltas counted from; later ones are growth', () => {
  const storage = new StorageTracker(T0);
  storage.change(0, 1, 1000, T0 + HOUR);
  const beforeBase = storage.growthRatePerDay(T0 + 2 * HOUR);
  storage.set({ buckets: 1, objects: 1, totalBytes: 10 * GIB }, T0 + 2 * HOUR);
  assert.ok(Math.abs(storage.growthRatePerDay(T0 + 2 * HOUR) - beforeBase) < 1e-6 * Math.abs(beforeBase), 'rebasing is no growth');
  storage.set({ buckets: 1, objects: 1, totalBytes: 11 * GIB }, T0 + 3 * HOUR);
  assert.ok(storage.growthRatePerDay(T0 + 4 * HOUR) > 1000 * beforeBase, 'a later absolute figure that rose is growth');
});

test('after a restart, a delete clamped at 0 before SetStorageUsage still counts in the growth rate', () => {
  const { business, clock } = setup();
  const MIN = 60_000;
  // 100 GiB stored before the restart: the service starts from nothing.
  clock.advance(20 * MIN);
  business.ingest([event({ operation: 'delete_object', status: 204, storedBytesDelta: -10 * GIB })]);
  assert.is(business.report().storageUtilization.totalBytes, 0n, 'the level stops at 0, as documented');
  clock.advance(20 * MIN);
  business.ingest([event({ operation: 'put_object', bytesIn: 10 * GIB })]);
  clock.advance(MIN);
  business.setStorageUsage({ buckets: 1, objects: 1000, totalBytes: 100 * GIB });
  clock.advance(79 * MIN);
  // The line through 100 GiB for 20 min, 90 GiB for 20 min and 100 GiB for 80 min: cov(t, level) /
  // var(t) = 50 GiB min / 1200 min^2, 60 GiB a day (the clamped history, 90 GiB until 40 min then
  // 100 GiB, gave 160).
  const rate = business.report().storageUtilization.growthRateBytesPerDay! / GIB;
  assert.ok(Math.abs(rate - 60) < 1e-6, `${rate} GiB a day`);
});

test('growth history keeps at most two steps per minute, a day of them', () => {
  const storage = new StorageTracker(T0);
  for (let i = 0; i < 10; i++) storage.change(0, 1, 10, T0 + i * 1000);
  assert.is(storage.historyLength, 3, 'the start, and the first and last change of the minute');
  assert.is(storage.current.totalBytes, 100n);

  let now = T0;
  for (let m = 0; m < 3 * 24 * 60; m++) storage.change(0, 1, 10, (now += 60_000));
  assert.ok(storage.historyLength <= MAX_GROWTH_STEPS, `${storage.historyLength}`);
  const rate = storage.growthRatePerDay(now);
  assert.ok(Math.abs(rate - 10 * 24 * 60) < 0.01 * 10 * 24 * 60, `10 bytes a minute is ${rate} a day`);
  for (let i = 0; i < 3 * 24 * 60 * 10; i++) storage.change(0, 1, 1, (now += 6_000));
  assert.ok(storage.historyLength <= MAX_GROWTH_STEPS, `ten changes a minute for three days: ${storage.historyLength} steps`);
});

test.run();
