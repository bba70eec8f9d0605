import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { parseExposition } from '../metrics/exposition-format.js';
import { ActiveUserSketches, SKETCH_SLOTS } from '../../../src/core/business/active-user-sketches.js';
import { HLL_REGISTERS, HLL_RELATIVE_STANDARD_ERROR } from '../../../src/core/business/hyperloglog.js';
import { event, setup } from './setup.js';

const HOUR = 3_600_000;
const GIB = 2 ** 30;

test('requests by operation, and by bucket with overflow into _other', async () => {
  const { business, metrics } = setup({ limits: { maxTrackedBuckets: 2 } });
  business.ingest([
    event({ bucket: 'a' }),
    event({ bucket: 'b', operation: 'head_object' }),
    event({ bucket: 'c' }),
    event({ bucket: 'd', operation: 'list_objects' }),
    event({ bucket: 'a' }),
  ]);
  const r = business.report().requestPatterns;
  assert.equal(r.requestsByBucket, { a: 2, b: 1, _other: 2 });
  assert.is(r.requestsByOperation.get_object, 3);
  assert.is(r.requestsByOperation.head_object, 1);
  assert.is(r.requestsByOperation.list_objects, 1);
  const x = parseExposition((await metrics.scrape(false)).body, false);
  assert.is(x.value('rs3gw_bucket_requests_total', { bucket: '_other' }), 2);
  assert.is(x.samples.filter((s) => s.name === 'rs3gw_bucket_requests_total').length, 3, 'metric cardinality capped too');
});

test('active users in the last hour and day', () => {
  const { business, clock } = setup();
  const now = clock.nowMs();
  business.ingest([
    event({ user: 'old', timeMs: now - 30 * HOUR }),
    event({ user: 'yesterday', timeMs: now - 5 * HOUR }),
    event({ user: 'recent', timeMs: now - 10 * 60_000 }),
    event({ user: '' }),
  ]);
  let u = business.report().userActivity;
  assert.equal([u.activeUsersLastHour, u.activeUsersLastDay, u.trackedUsers], [2, 3, 4]);
  clock.advance(2 * HOUR);
  u = business.report().userActivity;
  assert.equal([u.activeUsersLastHour, u.activeUsersLastDay], [0, 3]);
});

test('top users by requests', () => {
  const { business } = setup({ limits: { topUsers: 2 } });
  business.ingest([
    event({ user: 'many' }),
    event({ user: 'many' }),
    event({ user: 'many' }),
    event({ user: 'big', bytesOut: 10 * GIB }),
    event({ user: 'mid', operation: 'put_object', bytesIn: 1000 }),
    event({ user: 'mid' }),
  ]);
  const u = business.report().userActivity;
  assert.equal(u.topUsers.map((x) => [x.user, x.requests]), [
    ['many', 3],
    ['mid', 2],
  ]);
  assert.equal(u.topUsers.map((x) => x.requestsError), [0, 0], 'exact while the table has room');
});

test('tracked users are capped: a new user replaces the one with the fewest requests and inherits its count', () => {
  const { business, clock } = setup({ limits: { maxTrackedUsers: 3 } });
  for (const user of ['u1', 'u2', 'u3']) {
    business.ingest([event({ user })]);
    clock.advance(1000);
  }
  business.ingest([event({ user: 'u1' })]);
  business.ingest([event({ user: 'u4' })]);
  const u = business.report().userActivity;
  assert.equal([u.trackedUsers, u.maxTrackedUsers, u.evictedUsers], [3, 3, 1]);
  assert.equal(
    u.topUsers.map((x) => [x.user, x.requests, x.requestsError]),
    [
      ['u1', 2, 0],
      ['u4', 2, 1],
      ['u3', 1, 0],
    ],
    'u2 had the fewest requests and was seen least recently; u4 inherits its 1 as the error bound',
  );
});

test('costs compute from the documented prices', () => {
  const { business } = setup();
  business.setStorageUsage({ buckets: 1, objects: 1, totalBytes: 100 * GIB });
  for (let batch = 0; batch < 2; batch++) business.ingest(Array.from({ length: 5_120 }, () => event({ bytesOut: GIB / 1024 })));
  const c = business.report().costEstimate;
  const near = (a: number, b: number) => Math.abs(a - b) < 1e-9;
  assert.ok(near(c.storageUsdPerMonth, 2.3), `${c.storageUsdPerMonth}`);
  assert.ok(near(c.transferOutUsd, 0.9), `${c.transferOutUsd}`);
  assert.ok(near(c.requestsUsd, 0.004096), `${c.requestsUsd}`);
  // No time has passed on the clock: nothing stored has cost anything yet.
  assert.ok(near(c.totalUsd, 0.904096), `${c.totalUsd}`);
});

test('total_usd is spending since start: storage as held over time, plus transfer and requests', () => {
  const { business, clock } = setup();
  const MONTH_MS = 30 * 24 * 3_600_000;
  const TIB = 1024 * GIB;
  business.setStorageUsage({ buckets: 1, objects: 1, totalBytes: TIB });
  clock.advance(60_000);
  business.ingest([event({ bytesOut: GIB })]);
  const minute = business.report().costEstimate;
  const usage = 0.09 + 0.0000004;
  // The sum of the three fields read 23.642: a month of 1 TiB though a minute had passed.
  assert.ok(Math.abs(minute.storageUsdPerMonth - 1024 * 0.023) < 1e-9, `${minute.storageUsdPerMonth}`);
  assert.ok(Math.abs(minute.totalUsd - (1024 * 0.023 * 60_000) / MONTH_MS - usage) < 1e-12, `${minute.totalUsd}`);
  // Half a month at 1 TiB, then 3 TiB (a 2 TiB upload) for half a month: 1 TiB-month and a half
  // at 3 TiB, as held, not a month at the size now.
  clock.advance(MONTH_MS / 2 - 60_000);
  business.ingest([event({ operation: 'put_object', bytesIn: 2 * TIB, bytesOut: 0 })]);
  clock.advance(MONTH_MS / 2);
  const month = business.report().costEstimate;
  assert.ok(Math.abs(month.storageUsdPerMonth - 3 * 1024 * 0.023) < 1e-9, `${month.storageUsdPerMonth}`);
  assert.ok(Math.abs(month.totalUsd - (0.5 * 1024 + 0.5 * 3072) * 0.023 - usage - 0.0000004) < 1e-9, `${month.totalUsd}`);
});

test('prices are configurable', () => {
  const { business } = setup({ prices: { storageUsdPerGibMonth: 0.01, requestsUsdPerThousand: 1 } });
  business.setStorageUsage({ buckets: 0, objects: 0, totalBytes: 3 * GIB });
  business.ingest([event(), event()]);
  const c = business.report().costEstimate;
  assert.ok(Math.abs(c.storageUsdPerMonth - 0.03) < 1e-12);
  assert.is(c.requestsUsd, 0.002);
  assert.is(c.prices.transferOutUsdPerGib, 0.09, 'unset prices keep their defaults');
});

test('the KPIs are Prometheus metrics in /metrics (both formats) and in the exports', async () => {
  const { business, metrics } = setup();
  business.setStorageUsage({ buckets: 2, objects: 10, totalBytes: 5000 });
  business.ingest([
    event({ operation: 'put_object', bytesIn: 600, latencyMs: 7 }),
    event({ bytesOut: 1200, latencyMs: 30 }),
    event({ status: 503, latencyMs: 900 }),
    event({ user: 'bob' }),
  ]);
  for (const openMetrics of [false, true]) {
    const x = parseExposition((await metrics.scrape(openMetrics)).body, openMetrics);
    assert.is(x.value('rs3gw_storage_bytes'), 5600);
    assert.is(x.value('rs3gw_storage_objects'), 11);
    assert.is(x.value('rs3gw_storage_buckets'), 2);
    assert.is(x.value('rs3gw_requests_total', { operation: 'get_object', status_class: '2xx' }), 2);
    assert.is(x.value('rs3gw_requests_total', { operation: 'get_object', status_class: '5xx' }), 1);
    assert.is(x.value('rs3gw_transfer_bytes_total', { direction: 'in' }), 600);
    assert.is(x.value('rs3gw_transfer_bytes_total', { direction: 'out' }), 1200);
    assert.is(x.value('rs3gw_transfer_rate_bytes_per_second', { direction: 'out' }), 20);
    assert.is(x.value('rs3gw_request_duration_seconds_bucket', { operation: 'get_object', le: '0.05' }), 2);
    assert.is(x.value('rs3gw_request_duration_seconds_count', { operation: 'get_object' }), 3);
    assert.is(x.value('rs3gw_active_users', { window: '1h' }), 2);
    assert.ok(x.value('rs3gw_estimated_cost_usd', { component: 'requests' })! > 0);
  }
  const text = parseExposition(await metrics.exportPrometheus(), false);
  assert.is(text.value('rs3gw_storage_bytes'), 5600);
  const json = await metrics.exportJson();
  assert.equal(
    { type: json.metrics.rs3gw_storage_bytes.type, value: json.metrics.rs3gw_storage_bytes.value },
    { type: 'gauge', value: 5600 },
  );
  assert.is(json.metrics.rs3gw_requests_total.value, 4);
  const kpis = await metrics.list({ prefix: 'rs3gw_' });
  assert.ok(kpis.length >= 11 && kpis.every((d) => d.origin === 'kpi'));
  assert.is(kpis.find((d) => d.name === 'rs3gw_transfer_bytes_total')?.seriesCount, 2);
});

test('the business Prometheus export holds the KPIs only', async () => {
  const { business, metrics } = setup();
  metrics.register({ name: 'user_gauge', type: 'gauge', description: 'A user metric' });
  business.ingest([event({ bytesOut: 10 })]);
  const x = parseExposition(await business.exportPrometheus(), false);
  assert.ok([...x.families.keys()].every((name) => name.startsWith('rs3gw_')), [...x.families.keys()].join());
  assert.is(x.value('rs3gw_transfer_bytes_total', { direction: 'out' }), 10);
  assert.ok((await metrics.exportPrometheus()).includes('user_gauge'), 'the metrics export has both');
});

test('among the users with the fewest requests, the one seen least recently goes; ties against the user tracked first', () => {
  const { business, clock } = setup({ limits: { maxTrackedUsers: 3 } });
  const now = clock.nowMs();
  business.ingest([
    event({ user: 'a', timeMs: now - 3 * HOUR }),
    event({ user: 'b', timeMs: now - 3 * HOUR }),
    event({ user: 'c', timeMs: now - 2 * HOUR }),
  ]);
  business.ingest([event({ user: 'd', timeMs: now - 1000 })]);
  let users = business.report().userActivity.topUsers.map((x) => x.user).sort();
  assert.equal(users, ['b', 'c', 'd'], 'a and b were seen at the same time; a was tracked first');
  // d holds 2 requests (1 inherited from a); b and c get to 3, b without being seen more recently.
  business.ingest([event({ user: 'b', timeMs: now - 5 * HOUR }), event({ user: 'b', timeMs: now - 5 * HOUR }), event({ user: 'c' }), event({ user: 'c' })]);
  business.ingest([event({ user: 'e' })]);
  users = business.report().userActivity.topUsers.map((x) => x.user).sort();
  assert.equal(users, ['b', 'c', 'e'], 'd had the fewest requests, though seen more recently than b');
});

test('a heavy user stays in top users through a flood of one-off users (Space-Saving)', () => {
  const { business } = setup();
  business.ingest(Array.from({ length: 2_350 }, () => event({ user: 'heavy' })));
  business.ingest(Array.from({ length: 5 }, () => event({ user: 'medium' })));
  // A credential-stuffing scan: 30,000 access keys, one refused request each.
  for (let batch = 0; batch < 3; batch++) {
    business.ingest(Array.from({ length: 10_000 }, (_, i) => event({ user: `AKIASCAN${batch}-${i}`, status: 403, operation: 'list_objects' })));
  }
  let u = business.report().userActivity;
  assert.equal([u.trackedUsers, u.evictedUsers], [10_000, 20_002]);
  assert.equal([u.topUsers[0]!.user, u.topUsers[0]!.requests, u.topUsers[0]!.requestsError], ['heavy', 2_350, 0]);
  // The guarantee: every user with more than N / capacity requests (here 3.2) is in the table, so
  // `medium` (5) is too, with its exact count; the scan's keys show their error bounds.
  assert.equal([u.topUsers[1]!.user, u.topUsers[1]!.requests, u.topUsers[1]!.requestsError], ['medium', 5, 0]);
  for (const x of u.topUsers.slice(2)) assert.is(x.requests - x.requestsError, 1, `${x.user}: ${x.requests} - ${x.requestsError}`);
  business.ingest([event({ user: 'heavy' })]);
  u = business.report().userActivity;
  assert.equal([u.topUsers[0]!.user, u.topUsers[0]!.requests], ['heavy', 2_351], 'its count goes on rather than restarting at 1');
});

test('active users stay exact while the table lost no user of the window, then are estimated within the stated error', () => {
  const { business, clock } = setup({ limits: { maxTrackedUsers: 1_000 } });
  const now = clock.nowMs();
  // 900 users two hours ago, then 50,000 in the last hour.
  business.ingest(Array.from({ length: 900 }, (_, i) => event({ user: `old${i}`, timeMs: now - 2 * HOUR })));
  let u = business.report().userActivity;
  assert.equal([u.activeUsersLastHour, u.activeUsersLastDay, u.activeUsersLastHourEstimated, u.activeUsersLastDayEstimated], [0, 900, false, false]);
  for (let batch = 0; batch < 5; batch++) {
    business.ingest(Array.from({ length: 10_000 }, (_, i) => event({ user: `u${batch}-${i}`, timeMs: now - 30 * 60_000 })));
  }
  u = business.report().userActivity;
  assert.equal([u.activeUsersLastHourEstimated, u.activeUsersLastDayEstimated, u.trackedUsers], [true, true, 1_000]);
  // Relative standard error 1.625%; 3 of it bounds 99.7% of estimates.
  const within = (got: number, want: number) => Math.abs(got / want - 1) <= 3 * HLL_RELATIVE_STANDARD_ERROR;
  assert.ok(within(u.activeUsersLastHour, 50_000), `last hour: ${u.activeUsersLastHour}`);
  assert.ok(within(u.activeUsersLastDay, 50_900), `last day: ${u.activeUsersLastDay}`);
  // A day and a slot later nobody seen in the window was replaced: exact again.
  clock.advance(24 * HOUR + 5 * 60_000);
  business.ingest([event({ user: 'fresh' })]);
  u = business.report().userActivity;
  assert.equal([u.activeUsersLastHour, u.activeUsersLastDay, u.activeUsersLastHourEstimated, u.activeUsersLastDayEstimated], [1, 1, false, false]);
});

test('the active-user sketches are bounded: one per five-minute slot of a day, 4 KiB each', () => {
  const sketches = new ActiveUserSketches();
  const now = Date.UTC(2026, 0, 2);
  for (let minute = 0; minute < 3 * 24 * 60; minute += 1) sketches.add(`u${minute}`, now - minute * 60_000, now);
  assert.is(sketches.allocated, SKETCH_SLOTS);
  assert.is(SKETCH_SLOTS, 289);
  assert.is(HLL_REGISTERS, 4096);
  // Only the day counts: 24 h and the start of the slot it begins in.
  const day = sketches.estimateSince(now - 24 * HOUR, now);
  assert.ok(Math.abs(day / (24 * 60 + 1) - 1) < 0.05, `${day}`);
});

test('users replaced and tracked are on /metrics; the active-user help states the cap and the error', async () => {
  const { business, metrics } = setup({ limits: { maxTrackedUsers: 2 } });
  business.ingest([event({ user: 'a' }), event({ user: 'b' }), event({ user: 'c' }), event({ user: 'd' })]);
  const text = (await metrics.scrape(false)).body;
  const x = parseExposition(text, false);
  assert.is(x.value('rs3gw_tracked_users'), 2);
  assert.is(x.value('rs3gw_evicted_users_total'), 2);
  assert.match(text, /# HELP rs3gw_active_users .*\(2 users\).*HyperLogLog.*1\.6%/);
});

test.run();
