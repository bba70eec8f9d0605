import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { MAX_GROWTH_POINTS, StorageTracker } from '../../../src/core/business/storage-tracker.js';
import { expectError } from '../../support/errors.js';
import { event, setup } from './setup.js';

const HOUR = 3_600_000;

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
  assert.equal([usage().objects, usage().totalBytes], [3, 1110]);
  business.ingest([event({ operation: 'delete_object', status: 204 })]);
  assert.equal([usage().objects, usage().totalBytes], [3, 1110], 'a delete without stored_bytes_delta changes nothing');
  business.ingest([event({ operation: 'delete_object', status: 204, storedBytesDelta: -100 })]);
  assert.equal([usage().objects, usage().totalBytes], [2, 1010]);
  business.ingest([event({ operation: 'put_object', bytesIn: 50, storedBytesDelta: 20, storedObjectsDelta: 0 })]);
  assert.equal([usage().objects, usage().totalBytes], [2, 1030], 'explicit deltas win (overwrite)');
  business.ingest([event({ operation: 'delete_object', storedBytesDelta: -1e9, storedObjectsDelta: -50 })]);
  assert.equal([usage().objects, usage().totalBytes], [0, 0], 'never below zero');
  business.ingest([event({ operation: 'delete_bucket', bucket: 'b', status: 204 })]);
  assert.is(usage().buckets, 0);
});

test('setStorageUsage sets absolute figures that deltas then build on', async () => {
  const { business } = setup();
  assert.equal(business.setStorageUsage({ buckets: 42, objects: 15234, totalBytes: 1073741824 }), {
    buckets: 42,
    objects: 15234,
    totalBytes: 1073741824,
    growthRateBytesPerDay: 0,
  });
  business.ingest([event({ operation: 'put_object', bytesIn: 1024 })]);
  assert.equal(business.report().storageUtilization, {
    buckets: 42,
    objects: 15235,
    totalBytes: 1073742848,
    growthRateBytesPerDay: 0,
  });
  await expectError(() => business.setStorageUsage({ buckets: -1, objects: 0, totalBytes: 0 }), 'invalid_argument', 'buckets');
  await expectError(() => business.setStorageUsage({ buckets: 1, objects: 0, totalBytes: 1.5 }), 'invalid_argument', 'total_bytes');
});

test('growth rate is the linear trend of the last 24 h', () => {
  const { business, clock } = setup();
  business.setStorageUsage({ buckets: 1, objects: 0, totalBytes: 0 });
  for (let h = 1; h <= 24; h++) {
    clock.advance(HOUR);
    business.ingest([event({ operation: 'put_object', bytesIn: 1000 })]);
  }
  const rate = business.report().storageUtilization.growthRateBytesPerDay;
  assert.ok(Math.abs(rate - 24_000) < 1e-6, `rate ${rate}`);
  clock.advance(25 * HOUR);
  assert.is(business.report().storageUtilization.growthRateBytesPerDay, 0, 'points older than 24 h are forgotten');
});

test('growth history keeps one point per minute, at most a day of them', () => {
  const storage = new StorageTracker();
  let now = Date.UTC(2026, 0, 1);
  for (let i = 0; i < 10; i++) storage.change(0, 1, 10, now + i * 1000);
  assert.is(storage.historyLength, 1, 'one point for changes within a minute');
  for (let m = 0; m < 3 * 24 * 60; m++) storage.change(0, 1, 10, (now += 60_000));
  assert.ok(storage.historyLength <= MAX_GROWTH_POINTS, `${storage.historyLength}`);
  assert.is(storage.historyLength, 24 * 60);
  const rate = storage.growthRatePerDay(now);
  assert.ok(Math.abs(rate - 10 * 24 * 60) < 1e-6, `10 bytes a minute is ${rate} a day`);
});

test.run();
