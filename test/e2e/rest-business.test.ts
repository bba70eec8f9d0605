/**
 * Business KPIs over REST: a known batch of gateway request events in, and the figures a gateway
 * operator reads back (totals, error rates, latency percentiles, users, costs at the documented
 * default prices), as JSON and as Prometheus text; then storage figures and bad events.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { RunningServer } from '../support/server.js';
import { API, Rest, assertError, assertNear, assertSnakeCase, int, startRestServer, timeMs, type Json } from './support/rest-http.js';

const GIB = 2 ** 30;
const MIB = 2 ** 20;
/** The documented defaults: RS3GW_COST_STORAGE_PER_GIB_MONTH, RS3GW_COST_TRANSFER_OUT_PER_GIB, RS3GW_COST_PER_1000_REQUESTS. */
const PRICES = { storage: 0.023, transferOut: 0.09, perThousand: 0.0004 };

let server: RunningServer;
let rest: Rest;
/** Before the server started: its storage has been held since no earlier. */
let startedMs: number;

test.before(async () => {
  startedMs = Date.now();
  server = await startRestServer();
  rest = new Rest(server.url);
});

test.after(async () => {
  await server.stop();
});

/**
 * 100 requests with latencies 1..100 ms: 64 GETs of 16 MiB by alice (1 GiB out), one 1 GiB PUT by
 * bob, 30 HEADs answered 404 and 5 LISTs answered 503 by anonymous clients.
 */
function knownEvents(): Json[] {
  const events: Json[] = [];
  const at = (i: number) => ({ latency: `${(i + 1) / 1000}s` });
  for (let i = 0; i < 100; i++) {
    if (i < 64) events.push({ operation: 'S3_OPERATION_GET_OBJECT', bucket: 'photos', user: 'alice', status_code: 200, bytes_out: String(16 * MIB), ...at(i) });
    else if (i === 64) events.push({ operation: 'S3_OPERATION_PUT_OBJECT', bucket: 'backups', user: 'bob', status_code: 200, bytes_in: String(GIB), ...at(i) });
    else if (i < 95) events.push({ operation: 'S3_OPERATION_HEAD_OBJECT', bucket: 'photos', status_code: 404, ...at(i) });
    else events.push({ operation: 'S3_OPERATION_LIST_OBJECTS', bucket: 'backups', status_code: 503, ...at(i) });
  }
  return events;
}

test('a batch of request events is accepted whole', async () => {
  const r = await rest.postOk(`${API}/business-metrics/events`, { events: knownEvents() });
  assert.equal(r, { accepted: 100 });
});

test('the KPIs reflect exactly the ingested events', async () => {
  const b = await rest.getOk(`${API}/business-metrics`);
  assertSnakeCase(b);
  assert.equal(b.storage_utilization.buckets, '0');
  assert.is(int(b.storage_utilization.objects), 1, 'one successful PUT stores one object');
  assert.is(int(b.storage_utilization.total_bytes), GIB);

  const t = b.data_transfer;
  assert.is(int(t.total_uploaded_bytes), GIB);
  assert.is(int(t.total_downloaded_bytes), GIB);
  assert.is(t.rate_window, '60s');
  assertNear(t.upload_rate_bytes_per_sec, GIB / 60, 1e-9, 'upload rate over the 60 s window');
  assertNear(t.download_rate_bytes_per_sec, GIB / 60, 1e-9, 'download rate');
  assert.ok(t.peak_download_rate_bytes_per_sec >= t.download_rate_bytes_per_sec);

  const q = b.request_patterns;
  assert.is(q.total_requests, '100');
  assertNear(q.requests_per_sec, 100 / 60, 1e-9, 'requests per second');
  assertNear(q.error_rate, 0.35, 1e-9, 'error rate');
  assertNear(q.client_error_rate, 0.3, 1e-9, '4xx rate');
  assertNear(q.server_error_rate, 0.05, 1e-9, '5xx rate');
  // Nearest-rank percentiles of 1..100 ms, within the documented 1%.
  assertNear(q.p50_latency_ms, 50, 0.01, 'p50');
  assertNear(q.p95_latency_ms, 95, 0.01, 'p95');
  assertNear(q.p99_latency_ms, 99, 0.01, 'p99');
  assert.equal(
    Object.fromEntries(Object.entries(q.requests_by_operation).filter(([, n]) => n !== '0')),
    { get_object: '64', put_object: '1', head_object: '30', list_objects: '5' },
  );
  assert.equal(q.requests_by_bucket, { photos: '94', backups: '6' });

  const u = b.user_activity;
  assert.is(u.active_users_last_hour, 3, 'alice, bob and anonymous');
  assert.is(u.active_users_last_day, 3);
  assert.is(u.tracked_users, 3);
  assert.equal(
    u.top_users.map((x: Json) => [x.user, x.requests, x.bytes_in, x.bytes_out]),
    [
      ['alice', '64', '0', String(GIB)],
      ['anonymous', '35', '0', '0'],
      ['bob', '1', String(GIB), '0'],
    ],
  );
  assert.ok(Math.abs(timeMs(u.top_users[0].last_seen) - Date.now()) < 60_000);
});

test('costs match the documented default prices on the known ingest', async () => {
  const c = (await rest.getOk(`${API}/business-metrics`)).cost_estimate;
  assert.equal(c.prices, { storage_usd_per_gib_month: PRICES.storage, transfer_out_usd_per_gib: PRICES.transferOut, requests_usd_per_thousand: PRICES.perThousand });
  assertNear(c.storage_usd_per_month, PRICES.storage, 1e-12, '1 GiB stored for a month');
  assertNear(c.transfer_out_usd, PRICES.transferOut, 1e-12, '1 GiB out');
  assertNear(c.requests_usd, (100 / 1000) * PRICES.perThousand, 1e-12, '100 requests');
  // Spending since start: the 1 GiB has been stored for seconds, not a month.
  assertSpentSince(c.total_usd, PRICES.transferOut + 0.1 * PRICES.perThousand, 1, startedMs);
});

const MONTH_MS = 30 * 24 * 3_600_000;

/**
 * `total` is the usage charges plus at most `gib` GiB stored since `sinceMs` (a month = 30 days);
 * a month of storage at the current size added to them is far above.
 */
function assertSpentSince(total: number, usage: number, gib: number, sinceMs: number): void {
  const storedAtMost = (gib * PRICES.storage * (Date.now() - sinceMs)) / MONTH_MS;
  assert.ok(total >= usage - 1e-12 && total <= usage + storedAtMost + 1e-12, `total_usd ${total}: usage ${usage} plus at most ${storedAtMost} of storage`);
}

test('total_usd is spending since start, not a month of storage added to usage so far', async () => {
  const fresh = await startRestServer();
  try {
    const c = new Rest(fresh.url);
    const sinceMs = Date.now();
    await c.postOk(`${API}/business-metrics/storage`, { buckets: '1', objects: '1', total_bytes: String(1024 * GIB) });
    await c.postOk(`${API}/business-metrics/events`, {
      events: [{ operation: 'S3_OPERATION_GET_OBJECT', bucket: 'b', status_code: 200, bytes_out: String(GIB) }],
    });
    const cost = (await c.getOk(`${API}/business-metrics`)).cost_estimate;
    assertNear(cost.storage_usd_per_month, 1024 * PRICES.storage, 1e-12, 'a month of 1 TiB');
    // The sum of the three fields read 23.642 here.
    assertSpentSince(cost.total_usd, PRICES.transferOut + PRICES.perThousand / 1000, 1024, sinceMs);
  } finally {
    await fresh.stop();
  }
});

test('format=prometheus gives the same KPIs as Prometheus text', async () => {
  for (const format of ['prometheus', 'Prometheus', 'EXPORT_FORMAT_PROMETHEUS']) {
    const r = await fetch(`${server.url}${API}/business-metrics?format=${format}`);
    assert.is(r.status, 200, format);
    assert.is(r.headers.get('content-type'), 'text/plain; version=0.0.4; charset=utf-8');
    const text = await r.text();
    assert.match(text, /^# TYPE rs3gw_requests_total counter$/m);
    assert.match(text, /^rs3gw_requests_total\{operation="get_object",status_class="2xx"\} 64$/m);
    assert.match(text, /^rs3gw_requests_total\{operation="head_object",status_class="4xx"\} 30$/m);
    assert.match(text, /^rs3gw_requests_total\{operation="list_objects",status_class="5xx"\} 5$/m);
    assert.match(text, /^rs3gw_bucket_requests_total\{bucket="photos"\} 94$/m);
    assert.match(text, new RegExp(`^rs3gw_transfer_bytes_total\\{direction="out"\\} ${GIB}$`, 'm'));
    assert.match(text, /^rs3gw_estimated_cost_usd\{component="transfer_out"\} 0\.09$/m);
    assert.match(text, /^rs3gw_request_duration_seconds_count\{operation="get_object"\} 64$/m);
    // The KPIs only: no process or RPC metrics in this export.
    assert.not.match(text, /rs3gw_rpc_server_duration_seconds|process_cpu/);
  }
  const json = await rest.getOk(`${API}/business-metrics?format=json`);
  assert.is(json.request_patterns.total_requests, '100');
});

test('the health report carries the same business figures', async () => {
  const h = await rest.getOk(`${API}/health`);
  assert.is(h.business_metrics.request_patterns.total_requests, '100');
  assert.is(int(h.business_metrics.storage_utilization.total_bytes), GIB);
  assertNear(h.business_metrics.cost_estimate.transfer_out_usd, PRICES.transferOut, 1e-12, 'transfer cost');
});

test('sub-millisecond latencies keep their precision (S3 HEADs on a local disk take ~0.3 ms)', async () => {
  const fresh = await startRestServer();
  try {
    const c = new Rest(fresh.url);
    const events = Array.from({ length: 10 }, () => ({ operation: 'S3_OPERATION_HEAD_OBJECT', bucket: 'b', status_code: 200, latency: '0.000300s' }));
    await c.postOk(`${API}/business-metrics/events`, { events });
    const q = (await c.getOk(`${API}/business-metrics`)).request_patterns;
    assertNear(q.p50_latency_ms, 0.3, 0.01, 'p50 of ten 0.3 ms requests');
    assertNear(q.p99_latency_ms, 0.3, 0.01, 'p99 of ten 0.3 ms requests');
    // Requests whose latency was not measured are requests, not requests of no time.
    const unmeasured = Array.from({ length: 11 }, () => ({ operation: 'S3_OPERATION_HEAD_OBJECT', bucket: 'b', status_code: 200 }));
    await c.postOk(`${API}/business-metrics/events`, { events: unmeasured });
    const after = (await c.getOk(`${API}/business-metrics`)).request_patterns;
    assert.is(int(after.total_requests), 21);
    assertNear(after.p50_latency_ms, 0.3, 0.01, 'p50 of the measured ones');
  } finally {
    await fresh.stop();
  }
});

test("a request's bytes are spread over its latency: a one-hour upload's rate is its minute in the window", async () => {
  const fresh = await startRestServer();
  try {
    const c = new Rest(fresh.url);
    const upload = { operation: 'S3_OPERATION_MULTIPART_UPLOAD', bucket: 'b', status_code: 200, bytes_in: String(100 * GIB), latency: '3600s' };
    await c.postOk(`${API}/business-metrics/events`, { events: [upload] });
    const t = (await c.getOk(`${API}/business-metrics`)).data_transfer;
    // All of it in the second it completed read 100 GiB / 60 s, 60 times too much. The window moves
    // on while the report is asked for: a second of it is under 2%.
    assertNear(t.upload_rate_bytes_per_sec, (100 * GIB) / 3600, 0.02, 'upload rate');
    assertNear(t.peak_upload_rate_bytes_per_sec, (100 * GIB) / 3600, 0.02, 'peak upload rate');
  } finally {
    await fresh.stop();
  }
});

test('SetStorageUsage sets absolute figures that the report and costs then use', async () => {
  const r = await rest.postOk(`${API}/business-metrics/storage`, { buckets: '3', objects: '1000', total_bytes: String(5 * GIB) });
  assertSnakeCase(r);
  assert.is(r.storage_utilization.buckets, '3');
  assert.is(r.storage_utilization.objects, '1000');
  assert.is(int(r.storage_utilization.total_bytes), 5 * GIB);
  // A server up for seconds has no growth rate per day, only the span it has seen so far.
  assert.not.ok('growth_rate_bytes_per_day' in r.storage_utilization, JSON.stringify(r.storage_utilization));
  assert.match(r.storage_utilization.growth_rate_window, /^\d+(\.\d+)?s$/);
  const b = await rest.getOk(`${API}/business-metrics`);
  assert.is(int(b.storage_utilization.total_bytes), 5 * GIB);
  assertNear(b.cost_estimate.storage_usd_per_month, 5 * PRICES.storage, 1e-12, '5 GiB stored for a month');
  // Request deltas apply on top of the absolute figures.
  await rest.postOk(`${API}/business-metrics/events`, {
    events: [{ operation: 'S3_OPERATION_PUT_OBJECT', bucket: 'backups', status_code: 201, bytes_in: String(GIB), latency: '0.010s' }],
  });
  const after = (await rest.getOk(`${API}/business-metrics`)).storage_utilization;
  assert.is(int(after.total_bytes), 6 * GIB);
  assert.is(after.objects, '1001');
  // Extrapolated from seconds to a day, this 1 GiB read as terabytes a day.
  assert.not.ok('growth_rate_bytes_per_day' in after, `no rate per day from seconds of history: ${JSON.stringify(after)}`);
  const windowS = parseFloat(after.growth_rate_window);
  assert.ok(windowS > 0 && windowS < 600, `the span seen since start: ${after.growth_rate_window}`);
  const text = await (await fetch(`${server.url}${API}/business-metrics?format=prometheus`)).text();
  assert.match(text, /^# TYPE rs3gw_storage_growth_bytes_per_day gauge$/m);
  assert.not.match(text, /^rs3gw_storage_growth_bytes_per_day /m, 'no sample rather than a made-up rate');
  const exported = (await rest.getOk(`${API}/metrics-export?format=json`)).metrics;
  const growth = exported.rs3gw_storage_growth_bytes_per_day;
  assert.equal(growth.series, []);
  assert.not.ok('value' in growth, `no value rather than a made-up 0 in the JSON export: ${JSON.stringify(growth)}`);
  // Windows and cost components are views of one figure: a sum over them would mean nothing.
  for (const name of ['rs3gw_active_users', 'rs3gw_estimated_cost_usd']) {
    assert.ok(exported[name].series.length > 1, name);
    assert.not.ok('value' in exported[name], `no sum over ${name}'s series: ${JSON.stringify(exported[name])}`);
  }
  const rates = exported.rs3gw_transfer_rate_bytes_per_second;
  assert.is(rates.value, rates.series.reduce((sum: number, s: Json) => sum + s.value, 0), 'rates in and out add up to the total rate');
  assert.is(exported.rs3gw_storage_bytes.value, 6 * GIB);
});

test('every KPI metric says its unit in ListMetrics and GetMetric', async () => {
  const listed = (await rest.getOk(`${API}/metrics?prefix=rs3gw_`)).metrics as Json[];
  // MetricDescriptor.unit is "Unit of the values": it was empty for every one of them.
  assert.equal(Object.fromEntries(listed.map((m) => [m.name, m.unit])), {
    rs3gw_active_users: 'users',
    rs3gw_bucket_requests_total: 'requests',
    rs3gw_estimated_cost_usd: 'usd',
    rs3gw_evicted_users_total: 'users',
    rs3gw_request_duration_seconds: 'seconds',
    rs3gw_requests_total: 'requests',
    rs3gw_storage_buckets: 'buckets',
    rs3gw_storage_bytes: 'bytes',
    rs3gw_storage_growth_bytes_per_day: 'bytes_per_day',
    rs3gw_storage_objects: 'objects',
    rs3gw_tracked_users: 'users',
    rs3gw_transfer_bytes_total: 'bytes',
    rs3gw_transfer_rate_bytes_per_second: 'bytes_per_second',
  });
  assert.is((await rest.getOk(`${API}/metrics/rs3gw_estimated_cost_usd`)).metric.unit, 'usd');
});

test('bad events are refused naming the event and field, and a bad batch ingests nothing', async () => {
  const before = (await rest.getOk(`${API}/business-metrics`)).request_patterns.total_requests;
  const ok = { operation: 'S3_OPERATION_GET_OBJECT', bucket: 'photos', status_code: 200, latency: '0.005s' };
  const post = (events: Json[]) => rest.post(`${API}/business-metrics/events`, { events });
  assertError(await post([ok, { ...ok, status_code: 700 }]), 400, 'invalid_argument', 'events[1].status_code');
  assertError(await post([ok, { ...ok, latency: '-1s' }]), 400, 'invalid_argument', 'events[1].latency');
  assertError(await post([ok, ok, { ...ok, bucket: '' }]), 400, 'invalid_argument', 'events[2].bucket');
  // The name requests_by_bucket counts the buckets past the cap under: a bucket of that name would be merged with them.
  assertError(await post([ok, { ...ok, bucket: '_other' }]), 400, 'invalid_argument', /^events\[1\]\.bucket: "_other" is reserved: requests_by_bucket and rs3gw_bucket_requests_total count the buckets past the first ones seen under it$/);
  assertError(await post([{ ...ok, operation: undefined }]), 400, 'invalid_argument', 'events[0].operation');
  assertError(await post([{ ...ok, operation: 42 }]), 400, 'invalid_argument', 'events[0].operation');
  assertError(await post([{ ...ok, time: new Date(Date.now() + 3_600_000).toISOString() }]), 400, 'invalid_argument', 'events[0].time');
  assertError(await post([{ ...ok, bytes_out: -5 }]), 400, 'invalid_argument', /bytes_out/);
  // Past 2^53 - 1 a count is not exact as a number: refused with the value as sent.
  assertError(await post([{ ...ok, bytes_out: '9007199254740992' }]), 400, 'invalid_argument', /^events\[0\]\.bytes_out: must be at most 9007199254740991 \(2\^53 - 1\), got 9007199254740992$/);
  const storage = await rest.post(`${API}/business-metrics/storage`, { buckets: '9007199254740992', objects: '1', total_bytes: '1' });
  assertError(storage, 400, 'invalid_argument', /^buckets: must be at most 9007199254740991 \(2\^53 - 1\), got 9007199254740992$/);
  // A delta may be negative: its range is said both ways.
  assertError(await post([{ ...ok, stored_objects_delta: '-9007199254740992' }]), 400, 'invalid_argument', /^events\[0\]\.stored_objects_delta: must be within ±9007199254740991 \(2\^53 - 1\), got -9007199254740992$/);
  // 1969-12-31T23:59:59Z is a valid Timestamp; the refusal names the limit it is under.
  assertError(await post([{ ...ok, time: '1969-12-31T23:59:59Z' }]), 400, 'invalid_argument', /^events\[0\]\.time: must be at or after 1970-01-01T00:00:00Z$/);
  assert.is((await rest.getOk(`${API}/business-metrics`)).request_patterns.total_requests, before, 'nothing ingested');
});

test('byte totals past 2^53 (8 PiB) count every byte, and stored bytes take any uint64', async () => {
  const fresh = await startRestServer();
  try {
    const c = new Rest(fresh.url);
    const put = (bytes: string) => ({ operation: 'S3_OPERATION_PUT_OBJECT', bucket: 'b', user: 'u', status_code: 200, bytes_in: bytes, bytes_out: bytes });
    await c.postOk(`${API}/business-metrics/events`, { events: [put('9007199254740991')] });
    await c.postOk(`${API}/business-metrics/events`, { events: Array.from({ length: 1001 }, () => put('1')) });
    const b = await c.getOk(`${API}/business-metrics`);
    const exact = '9007199254741992';
    assert.equal([b.data_transfer.total_uploaded_bytes, b.data_transfer.total_downloaded_bytes, b.storage_utilization.total_bytes], [exact, exact, exact]);
    assert.equal([b.user_activity.top_users[0].bytes_in, b.user_activity.top_users[0].bytes_out], [exact, exact]);
    const max = '18446744073709551615';
    const set = await c.postOk(`${API}/business-metrics/storage`, { buckets: '1', objects: '1', total_bytes: max });
    assert.is(set.storage_utilization.total_bytes, max);
    await c.postOk(`${API}/business-metrics/events`, { events: [put('1')] });
    assert.is((await c.getOk(`${API}/business-metrics`)).storage_utilization.total_bytes, max, 'stays at 2^64 - 1 rather than wrap');
  } finally {
    await fresh.stop();
  }
});

test('a bucket named __proto__ is in the JSON report like any other, on REST and Connect', async () => {
  await rest.postOk(`${API}/business-metrics/events`, {
    events: ['__proto__', '__proto__', 'constructor'].map((bucket) => ({ operation: 'S3_OPERATION_GET_OBJECT', bucket, user: 'carol', status_code: 200 })),
  });
  const byBucket = (await rest.getOk(`${API}/business-metrics`)).request_patterns.requests_by_bucket;
  assert.ok(Object.prototype.hasOwnProperty.call(byBucket, '__proto__'), JSON.stringify(byBucket));
  assert.is(byBucket['__proto__'], '2');
  assert.is(byBucket.constructor, '1');
  assert.is(Object.getPrototypeOf(byBucket), Object.prototype, 'the entry is a key, not a prototype');
  // The same over the Connect protocol's JSON, which connect-node writes itself.
  const connect = await fetch(`${server.url}/rs3gw.observability.v1.MetricsService/GetBusinessMetrics`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: '{}',
  });
  assert.is(connect.status, 200);
  const connectByBucket = ((await connect.json()) as { report: { requestPatterns: { requestsByBucket: Record<string, string> } } }).report.requestPatterns.requestsByBucket;
  assert.ok(Object.prototype.hasOwnProperty.call(connectByBucket, '__proto__'), JSON.stringify(connectByBucket));
  assert.is(connectByBucket['__proto__'], '2');
});

test.run();
