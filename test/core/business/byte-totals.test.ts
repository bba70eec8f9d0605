import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { expectError } from '../../support/errors.js';
import { event, setup } from './setup.js';

const MAX_SAFE = Number.MAX_SAFE_INTEGER;
const MAX_U64 = 2n ** 64n - 1n;

test('byte totals count every byte past 2^53 (8 PiB): uploaded, downloaded, stored and per user', () => {
  const { business } = setup();
  business.ingest([event({ operation: 'put_object', bytesIn: MAX_SAFE, bytesOut: MAX_SAFE })]);
  // 1001 one-byte requests: a double stops counting them at 2^53.
  for (let i = 0; i < 1001; i++) business.ingest([event({ operation: 'put_object', bytesIn: 1, bytesOut: 1 })]);
  const exact = BigInt(MAX_SAFE) + 1001n;
  const r = business.report();
  assert.equal([r.dataTransfer.totalUploadedBytes, r.dataTransfer.totalDownloadedBytes, r.storageUtilization.totalBytes], [exact, exact, exact]);
  const [alice] = r.userActivity.topUsers;
  assert.equal([alice.bytesIn, alice.bytesOut], [exact, exact]);
});

test('byte totals stay at 2^64 - 1 rather than wrap', () => {
  const { business } = setup();
  // 2049 requests of 2^53 - 1 bytes pass 2^64.
  business.ingest(Array.from({ length: 2049 }, () => event({ bytesOut: MAX_SAFE })));
  assert.is(business.report().dataTransfer.totalDownloadedBytes, MAX_U64);
  business.setStorageUsage({ buckets: 1, objects: 1, totalBytes: MAX_U64 - 5n });
  business.ingest([event({ operation: 'put_object', bytesIn: 10 })]);
  assert.is(business.report().storageUtilization.totalBytes, MAX_U64);
});

test('stored bytes may be set to any uint64, and no further', async () => {
  const { business } = setup();
  assert.is(business.setStorageUsage({ buckets: 1, objects: 1, totalBytes: MAX_U64 }).totalBytes, MAX_U64);
  await expectError(() => business.setStorageUsage({ buckets: 1, objects: 1, totalBytes: MAX_U64 + 1n }), 'invalid_argument', 'total_bytes', '2^64 - 1');
  await expectError(() => business.setStorageUsage({ buckets: 1, objects: 1, totalBytes: -1n }), 'invalid_argument', 'total_bytes');
  await expectError(() => business.setStorageUsage({ buckets: 1, objects: 1, totalBytes: 2 ** 53 }), 'invalid_argument', 'total_bytes', 'as a number');
});

test.run();
