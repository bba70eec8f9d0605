import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { parseExposition } from '../metrics/exposition-format.js';
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

test('top users by requests and by bytes', () => {
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
  assert.equal(u.topUsersByBytes.map((x) => x.user), ['big', 'mid']);
});

test('tracked users are capped, forgetting the least recently seen', () => {
  const { business, clock } = setup({ limits: { maxTrackedUsers: 3 } });
  for (const user of ['u1', 'u2', 'u3']) {
    business.ingest([event({ user })]);
    clock.advance(1000);
  }
  business.ingest([event({ user: 'u1' })]);
  business.ingest([event({ user: 'u4' })]);
  const u = business.report().userActivity;
  assert.is(u.trackedUsers, 3);
  assert.is(u.evictedUsers, 1);
  assert.equal(u.topUsers.map((x) => x.user).sort(), ['u1', 'u3', 'u4'], 'u2 was seen least recently');
  assert.is(u.topUsers[0].user, 'u1');
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
  assert.ok(near(c.totalUsd, 3.204096), `${c.totalUsd}`);
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

test('at the cap, the users forgotten are those seen least recently by event time, not by arrival', () => {
  const { business, clock } = setup();
  const now = clock.nowMs();
  business.ingest([event({ user: 'recent' })]);
  business.ingest(Array.from({ length: 10_000 }, (_, i) => event({ user: `old${i}`, timeMs: now - 72 * HOUR })));
  let u = business.report().userActivity;
  assert.equal([u.activeUsersLastHour, u.activeUsersLastDay, u.trackedUsers, u.evictedUsers], [1, 1, 10_000, 1]);

  // A newcomer older than every tracked user is the least recently seen: it is the one not kept.
  business.ingest([event({ user: 'ancient', timeMs: now - 100 * HOUR })]);
  u = business.report().userActivity;
  assert.equal([u.activeUsersLastHour, u.trackedUsers, u.evictedUsers], [1, 10_000, 2]);
});

test('a user seen again moves away from eviction; ties go against the user tracked first', () => {
  const { business, clock } = setup({ limits: { maxTrackedUsers: 3 } });
  const now = clock.nowMs();
  business.ingest([
    event({ user: 'a', timeMs: now - 3 * HOUR }),
    event({ user: 'b', timeMs: now - 3 * HOUR }),
    event({ user: 'c', timeMs: now - 2 * HOUR }),
    // An event of `a` that arrives late but happened recently.
    event({ user: 'a', timeMs: now - 1000 }),
    // An older event of `c` does not make it older.
    event({ user: 'c', timeMs: now - 5 * HOUR }),
  ]);
  business.ingest([event({ user: 'd', timeMs: now - 2 * HOUR })]);
  let users = business.report().userActivity.topUsers.map((x) => x.user).sort();
  assert.equal(users, ['a', 'c', 'd'], 'b was seen least recently');
  business.ingest([event({ user: 'e', timeMs: now - 2 * HOUR })]);
  users = business.report().userActivity.topUsers.map((x) => x.user).sort();
  assert.equal(users, ['a', 'd', 'e'], 'c and d were seen at the same time; c was tracked first');
});

test.run();
