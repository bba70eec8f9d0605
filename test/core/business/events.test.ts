import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { expectError } from '../../support/errors.js';
import { event, setup } from './setup.js';

test('bad events are refused with the field path, and the batch changes nothing', async () => {
  const { business, metrics } = setup();
  const bad = [
    [{ latencyMs: Number.NaN }, 'events[2].latency'],
    [{ latencyMs: -1 }, 'events[2].latency'],
    [{ bytesIn: -5 }, 'events[2].bytes_in'],
    [{ bytesOut: 1.5 }, 'events[2].bytes_out'],
    [{ status: 99 }, 'events[2].status_code'],
    [{ status: 600 }, 'events[2].status_code'],
    [{ status: 200.5 }, 'events[2].status_code'],
    [{ bucket: '' }, 'events[2].bucket'],
    [{ bucket: 'b'.repeat(256) }, 'events[2].bucket'],
    // The name the buckets past the cap are counted under.
    [{ bucket: '_other' }, 'events[2].bucket'],
    [{ operation: 'rename_object' as never }, 'events[2].operation'],
    [{ storedBytesDelta: 0.5 }, 'events[2].stored_bytes_delta'],
    [{ storedObjectsDelta: Number.NaN }, 'events[2].stored_objects_delta'],
  ] as const;
  for (const [override, field] of bad) {
    await expectError(() => business.ingest([event(), event(), event(override)]), 'invalid_argument', field);
  }
  const report = business.report();
  assert.is(report.requestPatterns.totalRequests, 0);
  assert.is(report.userActivity.trackedUsers, 0);
  // Its series are preset at 0 (operation x status class): none moved.
  assert.equal(
    (await metrics.get('rs3gw_requests_total')).series.filter((s) => 'value' in s && s.value !== 0),
    [],
    'no counter moved',
  );
});

test('only bucket operations need a bucket', () => {
  const { business } = setup();
  business.ingest([event({ operation: 'other', bucket: '' })]);
  assert.is(business.report().requestPatterns.requestsByOperation.other, 1);
  assert.equal(business.report().requestPatterns.requestsByBucket, {}, 'no empty bucket name is counted');
});

test('event times: default now, small skew clamped, far future refused', async () => {
  const { business, clock } = setup();
  const now = clock.nowMs();
  await expectError(() => business.ingest([event({ timeMs: now + 61_000 })]), 'invalid_argument', 'events[0].time', 'future');
  // 1969-12-31T23:59:59Z is a valid Timestamp: the refusal names the limit it is under.
  await expectError(() => business.ingest([event({ timeMs: -1000 })]), 'invalid_argument', 'events[0].time', 'must be at or after 1970-01-01T00:00:00Z');
  business.ingest([event({ timeMs: now + 30_000, user: 'skewed' }), event({ user: 'plain' })]);
  const top = business.report().userActivity.topUsers;
  assert.equal(top.map((u) => u.lastSeenMs), [now, now]);
});

test('the batch size is capped', async () => {
  const { business } = setup({ limits: { maxEventsPerBatch: 3 } });
  await expectError(() => business.ingest([event(), event(), event(), event()]), 'invalid_argument', 'events', 'at most 3');
  assert.equal(business.ingest([event(), event(), event()]), { accepted: 3 });
});

test('limits and prices are checked', async () => {
  await expectError(() => setup({ limits: { windowSeconds: 0 } }), 'invalid_argument', 'limits.windowSeconds');
  await expectError(() => setup({ limits: { windowSeconds: 3601 } }), 'invalid_argument', 'limits.windowSeconds');
  await expectError(() => setup({ prices: { transferOutUsdPerGib: -1 } }), 'invalid_argument', 'prices.transferOutUsdPerGib');
});

test.run();
