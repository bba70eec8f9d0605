/**
 * Custom metrics over REST: register, record, batch, get, list, trend and export, the bad inputs a
 * user can send, and the caps (RS3GW_METRICS_MAX_SERIES, RS3GW_METRICS_MAX_METRICS,
 * RS3GW_METRICS_MAX_TOTAL_SERIES, RS3GW_METRICS_SNAPSHOT_RETENTION, RS3GW_METRICS_SNAPSHOT_MAX_VALUES)
 * as a user meets them.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { toJson } from '@bufbuild/protobuf';
import { createObservabilityClient } from '../../clients/ts/client.js';
import { ExportMetricsResponseSchema } from '../../gen/ts/rs3gw/observability/v1/metrics_pb.js';
import type { RunningServer } from '../support/server.js';
import { scrapeMetrics } from './support/rpc-helpers.js';
import { API, Rest, assertError, assertSnakeCase, durationMs, eventually, startRestServer, timeMs, type Json } from './support/rest-http.js';

let server: RunningServer;
let rest: Rest;

test.before(async () => {
  // Snapshots every second, three kept: trends get points quickly and the retention cap shows.
  server = await startRestServer({ RS3GW_METRICS_SNAPSHOT_INTERVAL: '1', RS3GW_METRICS_SNAPSHOT_RETENTION: '3' });
  rest = new Rest(server.url);
});

test.after(async () => {
  await server.stop();
});

const register = (body: Json) => rest.post(`${API}/metrics`, body);
const record = (body: Json) => rest.post(`${API}/metrics/record`, body);

test('registering a counter gives its canonical _total name; the same definition again is a no-op', async () => {
  const def = { name: 'uploads', type: 'METRIC_TYPE_COUNTER', description: 'Uploads by method', label_names: ['method'], unit: 'requests' };
  const first = (await register(def)).json;
  assertSnakeCase(first);
  assert.is(first.created, true);
  assert.is(first.metric.name, 'uploads_total');
  assert.is(first.metric.type, 'METRIC_TYPE_COUNTER');
  assert.equal(first.metric.label_names, ['method']);
  assert.is(first.metric.series_count, 0);
  assert.ok(Math.abs(timeMs(first.metric.create_time) - Date.now()) < 60_000);
  const again = await rest.postOk(`${API}/metrics`, def);
  assert.is(again.created, false);
  assert.is(again.metric.create_time, first.metric.create_time);
  assertError(await register({ ...def, description: 'something else' }), 409, 'already_exists', 'name');
  assertError(await register({ ...def, name: 'rs3gw_requests_total' }), 409, 'already_exists', 'name');
});

test('a counter counts what is recorded, per label set, and is read by either name', async () => {
  const a = await rest.postOk(`${API}/metrics/record`, { name: 'uploads', value: 2, labels: { method: 'PUT' } });
  assert.equal(a.series, { labels: { method: 'PUT' }, value: 2, count: '0', sum: 0, buckets: [], quantiles: [] });
  const b = await rest.postOk(`${API}/metrics/record`, { name: 'uploads_total', value: 3, labels: { method: 'PUT' }, operation: 'RECORD_OPERATION_INC' });
  assert.is(b.series.value, 5);
  await rest.postOk(`${API}/metrics/record`, { name: 'uploads_total', value: 1, labels: { method: 'POST' } });
  const got = await rest.getOk(`${API}/metrics/uploads`);
  assertSnakeCase(got);
  assert.is(got.metric.series_count, 2);
  const byMethod = Object.fromEntries(got.series.map((s: Json) => [s.labels.method, s.value]));
  assert.equal(byMethod, { PUT: 5, POST: 1 });
  const filtered = await rest.getOk(`${API}/metrics/uploads_total?labels.method=POST`);
  assert.equal(filtered.series.map((s: Json) => s.labels), [{ method: 'POST' }]);
  // An empty label value is a value: `labels.method=` selects its series (an empty text field is refused).
  await rest.postOk(`${API}/metrics`, { name: 'deletes_total', type: 'METRIC_TYPE_COUNTER', description: 'Deletes by method', label_names: ['method'] });
  await rest.postOk(`${API}/metrics/record`, { name: 'deletes_total', value: 4, labels: { method: '' } });
  await rest.postOk(`${API}/metrics/record`, { name: 'deletes_total', value: 1, labels: { method: 'DELETE' } });
  const empty = await rest.getOk(`${API}/metrics/deletes_total?labels.method=`);
  assert.equal(empty.series.map((s: Json) => [s.labels.method ?? '', s.value]), [['', 4]]);
});

test('gauges set, add and subtract; histograms bucket; summaries estimate quantiles', async () => {
  await rest.postOk(`${API}/metrics`, { name: 'queue_depth', type: 'METRIC_TYPE_GAUGE', description: 'Queue depth' });
  assert.is((await rest.postOk(`${API}/metrics/record`, { name: 'queue_depth', value: 10 })).series.value, 10);
  assert.is((await rest.postOk(`${API}/metrics/record`, { name: 'queue_depth', value: 3, operation: 'RECORD_OPERATION_DEC' })).series.value, 7);
  assert.is((await rest.postOk(`${API}/metrics/record`, { name: 'queue_depth', value: 5, operation: 'RECORD_OPERATION_INC' })).series.value, 12);
  assert.is((await rest.postOk(`${API}/metrics/record`, { name: 'queue_depth', value: 4, operation: 'RECORD_OPERATION_SET' })).series.value, 4);

  await rest.postOk(`${API}/metrics`, { name: 'put_seconds', type: 'METRIC_TYPE_HISTOGRAM', description: 'PUT time', buckets: [0.1, 0.5, 1] });
  const batch = await rest.postOk(`${API}/metrics/batch`, {
    records: [0.05, 0.3, 0.7, 3].map((value) => ({ name: 'put_seconds', value })),
  });
  assert.equal(batch, { recorded: 4 });
  const h = (await rest.getOk(`${API}/metrics/put_seconds`)).series[0];
  assert.is(h.count, '4');
  assert.is(h.sum, 4.05);
  assert.equal(
    h.buckets.slice(0, 3),
    [
      { upper_bound: 0.1, cumulative_count: '1' },
      { upper_bound: 0.5, cumulative_count: '2' },
      { upper_bound: 1, cumulative_count: '3' },
    ],
  );

  await rest.postOk(`${API}/metrics`, { name: 'object_kib', type: 'METRIC_TYPE_SUMMARY', description: 'Object sizes', quantiles: [0.5, 0.9] });
  await rest.postOk(`${API}/metrics/batch`, { records: Array.from({ length: 100 }, (_, i) => ({ name: 'object_kib', value: i + 1 })) });
  const s = (await rest.getOk(`${API}/metrics/object_kib`)).series[0];
  assert.is(s.count, '100');
  assert.is(s.sum, 5050);
  assert.equal(s.quantiles.map((q: Json) => q.quantile), [0.5, 0.9]);
  assert.ok(Math.abs(s.quantiles[0].value - 50) <= 1, `median ${s.quantiles[0].value}`);
  assert.ok(Math.abs(s.quantiles[1].value - 90) <= 1, `p90 ${s.quantiles[1].value}`);
});

test('the contract: a histogram series ends with the +Inf bucket, holding every observation', async () => {
  // metrics.proto, HistogramBucket.upper_bound: "Upper bound (le); +Inf for the last bucket."
  const h = (await rest.getOk(`${API}/metrics/put_seconds`)).series[0];
  const last = h.buckets[h.buckets.length - 1];
  assert.equal(last, { upper_bound: 'Infinity', cumulative_count: h.count }, `buckets: ${JSON.stringify(h.buckets)}`);
});

test('GET /metrics filters by prefix and by type in proto or short form', async () => {
  const names = async (q: string) => (await rest.getOk(`${API}/metrics?${q}`)).metrics.map((m: Json) => m.name);
  assert.equal(await names('prefix=upl'), ['uploads_total']);
  assert.equal(await names('prefix=put_&type=histogram'), ['put_seconds']);
  assert.equal(await names('prefix=put_&type=METRIC_TYPE_HISTOGRAM'), ['put_seconds']);
  assert.equal(await names('prefix=put_&type=Histogram'), ['put_seconds']);
  assert.equal(await names('prefix=put_&type=gauge'), []);
  const gauges = await names('type=gauge');
  assert.ok(gauges.includes('queue_depth') && !gauges.includes('uploads_total'), gauges.join(', '));
});

test('a trend follows a series through the periodic snapshots', async () => {
  await rest.postOk(`${API}/metrics`, { name: 'disk_used_gib', type: 'METRIC_TYPE_GAUGE', description: 'Disk used', label_names: ['disk'] });
  await rest.postOk(`${API}/metrics/record`, { name: 'disk_used_gib', value: 10, labels: { disk: 'sda' } });
  // A snapshot (RS3GW_METRICS_SNAPSHOT_INTERVAL=1) must hold the 10 before the value changes.
  await eventually('a snapshot of the series', async () => {
    const t = await rest.getOk(`${API}/metrics/disk_used_gib/trend?labels.disk=sda`);
    return t.points.length >= 2 ? t : undefined;
  });
  await rest.postOk(`${API}/metrics/record`, { name: 'disk_used_gib', value: 20, labels: { disk: 'sda' } });
  const t = await rest.getOk(`${API}/metrics/disk_used_gib/trend?labels.disk=sda&window=3600s`);
  assertSnakeCase(t);
  assert.is(t.name, 'disk_used_gib');
  assert.equal(t.labels, { disk: 'sda' });
  assert.is(t.window, '3600s');
  assert.is(t.start_value, 10);
  assert.is(t.end_value, 20);
  assert.is(t.change, 10);
  assert.is(t.change_percent, 100);
  assert.is(t.min_value, 10);
  assert.is(t.max_value, 20);
  assert.ok(t.mean_value > 10 && t.mean_value < 20, `mean ${t.mean_value}`);
  assert.ok(t.slope_per_second > 0, `slope ${t.slope_per_second}`);
  const times = t.points.map((p: Json) => timeMs(p.time));
  assert.equal([...times].sort((a, b) => a - b), times, 'points oldest first');
  assert.is(t.points[t.points.length - 1].value, 20);
  // Other spellings of the window.
  assert.is((await rest.getOk(`${API}/metrics/disk_used_gib/trend?labels.disk=sda&window=1h`)).window, '3600s');
  assert.is(durationMs((await rest.getOk(`${API}/metrics/disk_used_gib/trend?labels.disk=sda&window=90`)).window), 90_000);
  assert.is((await rest.getOk(`${API}/metrics/disk_used_gib/trend?labels.disk=sda`)).window, '3600s', 'default window 1 h');
});

test('a trend across more than the double range answers numbers, the largest double, and saturated', async () => {
  await rest.postOk(`${API}/metrics`, { name: 'temp', type: 'METRIC_TYPE_GAUGE', description: 'Temperature' });
  await rest.postOk(`${API}/metrics/record`, { name: 'temp', value: -1.7e308 });
  await eventually('a snapshot of the series', async () => ((await rest.getOk(`${API}/metrics/temp/trend`)).points.length >= 2 ? true : undefined));
  await rest.postOk(`${API}/metrics/record`, { name: 'temp', value: 1.7e308 });
  const t = await rest.getOk(`${API}/metrics/temp/trend`);
  assert.equal([t.start_value, t.end_value], [-1.7e308, 1.7e308]);
  assert.is(t.change, Number.MAX_VALUE, 'not "Infinity"');
  assert.is(t.change_percent, 200);
  assert.is(typeof t.slope_per_second, 'number');
  assert.ok(t.slope_per_second > 0, `slope ${t.slope_per_second}`);
  assert.is(t.saturated, true);
});

test('RS3GW_METRICS_SNAPSHOT_RETENTION caps the points a trend can show', async () => {
  // Three snapshots are kept; with one per second, wait until more than three were taken.
  const before = Date.now();
  const t = await eventually('snapshots beyond the retention', async () => {
    const trend = await rest.getOk(`${API}/metrics/disk_used_gib/trend?labels.disk=sda`);
    return Date.now() - before > 4_500 ? trend : undefined;
  }, 20_000, 500);
  // Three snapshots plus the current value.
  assert.ok(t.points.length <= 4, `points: ${t.points.length}`);
  // The trend says the hour it was asked for is not what it covers.
  assert.is(t.window, '3600s');
  assert.is(t.history_truncated, true);
  assert.ok(durationMs(t.covered) <= 4_000, `covered ${t.covered}`);
});

test('a JSON export carries every custom metric with its series', async () => {
  const e = await rest.getOk(`${API}/metrics-export?format=json`);
  assertSnakeCase(e);
  assert.is(e.metrics.uploads_total.type, 'METRIC_TYPE_COUNTER');
  assert.is(e.metrics.uploads_total.value, 6, 'sum over the series');
  assert.is(e.metrics.uploads_total.description, 'Uploads by method');
  assert.is(e.metrics.put_seconds.value, 4, 'histogram: observation count');
  await rest.postOk(`${API}/metrics`, { name: 'idle_gauge_bytes', type: 'METRIC_TYPE_GAUGE', description: 'Nothing set yet', label_names: ['disk'] });
  await rest.postOk(`${API}/metrics`, { name: 'idle_total', type: 'METRIC_TYPE_COUNTER', description: 'Nothing counted yet', label_names: ['disk'] });
  const idle = (await rest.getOk(`${API}/metrics-export?format=json`)).metrics;
  assert.equal(idle.idle_gauge_bytes.series, []);
  assert.not.ok('value' in idle.idle_gauge_bytes, `a gauge without data has no value, not 0: ${JSON.stringify(idle.idle_gauge_bytes)}`);
  assert.is(idle.idle_total.value, 0, 'a counter that counted nothing is at 0');
  const prom = await fetch(`${server.url}${API}/metrics-export?format=PROMETHEUS`);
  assert.is(prom.status, 200);
  assert.match(prom.headers.get('content-type')!, /^text\/plain; version=0\.0\.4/);
  const text = await prom.text();
  assert.match(text, /^uploads_total\{method="PUT"\} 5$/m);
  assert.match(text, /^put_seconds_bucket\{le="\+Inf"\} 4$/m);
  assert.match(text, /^queue_depth 4$/m);
});

test('bad values and names are refused with 400 naming the field', async () => {
  assertError(await record({ name: 'queue_depth', value: 'NaN' }), 400, 'invalid_argument', 'value');
  assertError(await record({ name: 'queue_depth', value: 'Infinity' }), 400, 'invalid_argument', 'value');
  assertError(await record({ name: 'queue_depth', value: '-Infinity' }), 400, 'invalid_argument', 'value');
  assertError(await record({ name: 'uploads', value: -1, labels: { method: 'PUT' } }), 400, 'invalid_argument', 'value');
  assertError(
    await record({ name: 'uploads', value: 1, labels: { method: 'PUT' }, operation: 'RECORD_OPERATION_DEC' }),
    400,
    'invalid_argument',
    'operation',
  );
  assertError(await record({ name: 'queue_depth', value: 1, operation: 'RECORD_OPERATION_OBSERVE' }), 400, 'invalid_argument', 'operation');
  assertError(await record({ name: 'queue_depth', value: 1, operation: 17 }), 400, 'invalid_argument', 'operation');
  assertError(await record({ name: 'rs3gw_requests_total', value: 1, labels: { operation: 'x', status_class: '2xx' } }), 400, 'failed_precondition', 'name');
  assertError(await register({ name: '', type: 'METRIC_TYPE_GAUGE', description: 'd' }), 400, 'invalid_argument', 'name');
  assertError(await register({ name: 'bad-name', type: 'METRIC_TYPE_GAUGE', description: 'd' }), 400, 'invalid_argument', 'name');
  assertError(await register({ name: '1st', type: 'METRIC_TYPE_GAUGE', description: 'd' }), 400, 'invalid_argument', 'name');
  assertError(await register({ name: 'ok_name', description: 'd' }), 400, 'invalid_argument', 'type');
  assertError(await register({ name: 'ok_name', type: 9, description: 'd' }), 400, 'invalid_argument', 'type');
  assertError(await register({ name: 'ok_name', type: 'METRIC_TYPE_GAUGE', description: '' }), 400, 'invalid_argument', 'description');
  assertError(
    await register({ name: 'ok_name', type: 'METRIC_TYPE_GAUGE', description: 'd', label_names: ['__reserved'] }),
    400,
    'invalid_argument',
    'label_names[0]',
  );
  assertError(
    await register({ name: 'ok_hist', type: 'METRIC_TYPE_HISTOGRAM', description: 'd', buckets: [1, 0.5] }),
    400,
    'invalid_argument',
    'buckets[1]',
  );
});

test('a missing enum is refused with the names a JSON body takes, and the first of them is then taken', async () => {
  const missing = await register({ name: 'enum_named', description: 'd' });
  assertError(missing, 400, 'invalid_argument', 'type');
  assert.is(missing.json.message, 'type: required: METRIC_TYPE_COUNTER, METRIC_TYPE_GAUGE, METRIC_TYPE_HISTOGRAM or METRIC_TYPE_SUMMARY');
  const named = /required: (\w+),/.exec(missing.json.message)![1];
  assert.is((await rest.postOk(`${API}/metrics`, { name: 'enum_named', description: 'd', type: named })).metric.type, named);
  const io = await rest.post(`${API}/profiling/io`, { operations: [{ bytes: '1' }] });
  assertError(io, 400, 'invalid_argument', 'operations[0].direction');
  assert.match(io.json.message, /required: IO_DIRECTION_READ or IO_DIRECTION_WRITE$/);
  const event = await rest.post(`${API}/business-metrics/events`, { events: [{ bucket: 'b', status_code: 200 }] });
  assertError(event, 400, 'invalid_argument', /operation: required: S3_OPERATION_\w+, /);
});

test('labels must be exactly the registered ones', async () => {
  assertError(await record({ name: 'uploads', value: 1 }), 400, 'invalid_argument', 'labels');
  assertError(await record({ name: 'uploads', value: 1, labels: { verb: 'PUT' } }), 400, 'invalid_argument', 'labels');
  assertError(await record({ name: 'uploads', value: 1, labels: { method: 'PUT', extra: 'x' } }), 400, 'invalid_argument', 'labels');
  assertError(await record({ name: 'queue_depth', value: 1, labels: { disk: 'sda' } }), 400, 'invalid_argument', 'labels');
  assertError(await rest.get(`${API}/metrics/uploads?labels.verb=PUT`), 400, 'invalid_argument', 'labels');
  assertError(await rest.get(`${API}/metrics/disk_used_gib/trend`), 400, 'invalid_argument', 'labels');
  assertError(await rest.get(`${API}/metrics/disk_used_gib/trend?labels.disk=sdz`), 404, 'not_found', 'labels');
});

test('a label named like a property of every JavaScript object in the query is a label like any other: refused when unknown', async () => {
  // `labels.__proto__=a` was dropped without a word: 200 with every series (`labels.constructor=a` was refused).
  for (const key of ['__proto__', 'constructor', 'toString']) {
    for (const path of [`${API}/metrics/uploads?labels.${key}=a`, `${API}/metrics/uploads/trend?labels.method=PUT&labels.${key}=a`]) {
      const r = await rest.get(path);
      assertError(r, 400, 'invalid_argument', 'labels');
      assert.match(r.json.message, `unknown label "${key}"`, path);
    }
  }
});

test('unknown metrics are 404 on every path that names one', async () => {
  assertError(await record({ name: 'no_such_metric', value: 1 }), 404, 'not_found', 'name');
  assertError(await rest.get(`${API}/metrics/no_such_metric`), 404, 'not_found', 'name');
  assertError(await rest.get(`${API}/metrics/no_such_metric/trend`), 404, 'not_found', 'name');
  assertError(await rest.post(`${API}/metrics/batch`, { records: [{ name: 'no_such_metric', value: 1 }] }), 404, 'not_found', 'records[0].name');
});

test('query parameters of the read paths are checked', async () => {
  assertError(await rest.get(`${API}/metrics?type=bogus`), 400, 'invalid_argument', 'type');
  assertError(await rest.get(`${API}/metrics?sort=name`), 400, 'invalid_argument', 'sort');
  assertError(await rest.get(`${API}/metrics/uploads/trend?labels.method=PUT&window=-5s`), 400, 'invalid_argument', 'window');
  assertError(await rest.get(`${API}/metrics/uploads/trend?labels.method=PUT&window=0s`), 400, 'invalid_argument', 'window');
  assertError(await rest.get(`${API}/metrics/uploads/trend?labels.method=PUT&window=soon`), 400, 'invalid_argument', 'window');
  assertError(await rest.get(`${API}/metrics/uploads/trend?labels=PUT`), 400, 'invalid_argument', 'labels');
});

test('a batch with one bad record records nothing', async () => {
  const before = await rest.getOk(`${API}/metrics/uploads`);
  const bad = await rest.post(`${API}/metrics/batch`, {
    records: [
      { name: 'uploads', value: 100, labels: { method: 'PUT' } },
      { name: 'queue_depth', value: 100 },
      { name: 'uploads', value: -1, labels: { method: 'PUT' } },
    ],
  });
  assertError(bad, 400, 'invalid_argument', 'records[2].value');
  const nan = await rest.post(`${API}/metrics/batch`, { records: [{ name: 'queue_depth', value: 1 }, { name: 'queue_depth', value: 'NaN' }] });
  assertError(nan, 400, 'invalid_argument', 'records[1].value');
  const newSeries = await rest.post(`${API}/metrics/batch`, {
    records: [
      { name: 'uploads', value: 1, labels: { method: 'DELETE' } },
      { name: 'uploads', value: 1, labels: { nope: 'x' } },
    ],
  });
  assertError(newSeries, 400, 'invalid_argument', 'records[1].labels');
  assert.equal(await rest.getOk(`${API}/metrics/uploads`), before, 'counter and series unchanged');
  assert.is((await rest.getOk(`${API}/metrics/queue_depth`)).series[0].value, 4, 'gauge unchanged');
});

test('names Prometheus writes itself are refused: a gauge "up" never reaches /metrics to turn healthy targets to up == 0', async () => {
  const reserved: Array<[string, string, RegExp]> = [
    ['up', 'METRIC_TYPE_GAUGE', /^name: "up" is reserved: Prometheus writes "up" itself/],
    ['up', 'METRIC_TYPE_COUNTER', /^name: "up" is reserved/],
    ['scrape_duration_seconds', 'METRIC_TYPE_GAUGE', /^name: "scrape_duration_seconds" is reserved: Prometheus writes the scrape_\* series/],
    ['scrape_samples_scraped', 'METRIC_TYPE_SUMMARY', /^name: .* is reserved/],
    ['scrape_series_added', 'METRIC_TYPE_HISTOGRAM', /^name: .* is reserved/],
    ['ALERTS', 'METRIC_TYPE_GAUGE', /^name: "ALERTS" is reserved: Prometheus writes "ALERTS" itself/],
    ['ALERTS_FOR_STATE', 'METRIC_TYPE_GAUGE', /^name: "ALERTS_FOR_STATE" is reserved/],
    ['__rv_internal', 'METRIC_TYPE_GAUGE', /^name: "__rv_internal" is reserved: Prometheus keeps names beginning "__" for its internal use$/],
    // A counter's OpenMetrics family is its name without _total: `up_total` would be the family `up`.
    ['up_total', 'METRIC_TYPE_COUNTER', /^name: "up_total" is reserved: a counter named so is exposed as "up", and Prometheus writes "up" itself/],
    ['ALERTS_total', 'METRIC_TYPE_COUNTER', /^name: "ALERTS_total" is reserved: a counter named so is exposed as "ALERTS"/],
    ['scrape', 'METRIC_TYPE_HISTOGRAM', /^name: "scrape" is reserved: a histogram named so is exposed as "scrape_bucket"/],
  ];
  for (const [name, type, why] of reserved) {
    assertError(await register({ name, type, description: 'client metric' }), 400, 'invalid_argument', why);
    assert.is((await rest.get(`${API}/metrics/${name}`)).status, 404, `${name} not registered`);
  }
  for (const accept of ['text/plain', 'application/openmetrics-text; version=1.0.0']) {
    const text = await (await fetch(`${server.url}/metrics`, { headers: { accept } })).text();
    assert.not.match(text, /^(up|scrape_\w+|ALERTS(_FOR_STATE)?|__\w+)[ {]/m, `no Prometheus-owned name in /metrics (${accept})`);
    assert.not.match(text, /^# (TYPE|HELP) (up|scrape_\w+|ALERTS(_FOR_STATE)?|__\w+) /m, `no Prometheus-owned family (${accept})`);
  }
});

test('names that are properties of every JavaScript object register, record, read and scrape', async () => {
  // (`__proto__` and `__defineGetter__` begin with `__`, which Prometheus reserves: refused above.)
  const names = ['constructor', 'toString', 'valueOf', 'hasOwnProperty'];
  for (const name of names) {
    const r = await rest.postOk(`${API}/metrics`, { name, type: 'METRIC_TYPE_COUNTER', description: `Counter ${name}` });
    assert.is(r.metric.name, `${name}_total`);
    assert.is((await rest.postOk(`${API}/metrics/record`, { name, value: 3 })).series.value, 3);
    assert.is((await rest.getOk(`${API}/metrics/${name}`)).series[0].value, 3);
  }
  const gauge = await rest.postOk(`${API}/metrics`, { name: 'isPrototypeOf', type: 'METRIC_TYPE_GAUGE', description: 'Gauge' });
  assert.is(gauge.created, true);
  const exported = (await rest.getOk(`${API}/metrics-export`)).metrics;
  for (const name of names) assert.is(exported[`${name}_total`]?.value, 3, `${name}_total in the JSON export`);
  for (const accept of ['text/plain', 'application/openmetrics-text; version=1.0.0']) {
    const text = await (await fetch(`${server.url}/metrics`, { headers: { accept } })).text();
    for (const name of names) assert.match(text, new RegExp(`^${name}_total 3$`, 'm'), `${name}_total in /metrics (${accept})`);
  }
});

test('a histogram with the bound -1 counts every value in its bucket', async () => {
  await rest.postOk(`${API}/metrics`, { name: 'skew', type: 'METRIC_TYPE_HISTOGRAM', description: 'Skew', buckets: [-1, 0, 0.5, 1] });
  await rest.postOk(`${API}/metrics/batch`, { records: [-5, 0, 0.5, 0.5, 1, 2, 100].map((value) => ({ name: 'skew', value })) });
  const h = (await rest.getOk(`${API}/metrics/skew`)).series[0];
  assert.equal(
    h.buckets.map((b: Json) => [b.upper_bound, b.cumulative_count]),
    [
      [-1, '1'],
      [0, '2'],
      [0.5, '4'],
      [1, '5'],
      ['Infinity', '7'],
    ],
  );
  const text = await (await fetch(`${server.url}/metrics`)).text();
  assert.equal(
    [...text.matchAll(/^skew_bucket\{le="([^"]+)"\} (\d+)$/gm)].map((m) => [m[1], Number(m[2])]),
    [
      ['-1', 1],
      ['0', 2],
      ['0.5', 4],
      ['1', 5],
      ['+Inf', 7],
    ],
  );
});

test('options of another metric type, overflowing records and the _created name are refused', async () => {
  assertError(await register({ name: 'opt_gauge', type: 'METRIC_TYPE_GAUGE', description: 'd', buckets: [1] }), 400, 'invalid_argument', 'buckets');
  assertError(await register({ name: 'opt_counter', type: 'METRIC_TYPE_COUNTER', description: 'd', quantiles: [0.5] }), 400, 'invalid_argument', 'quantiles');
  assertError(await register({ name: 'opt_hist', type: 'METRIC_TYPE_HISTOGRAM', description: 'd', quantiles: [0.5] }), 400, 'invalid_argument', 'quantiles');
  assert.is((await rest.get(`${API}/metrics/opt_gauge`)).status, 404);

  await rest.postOk(`${API}/metrics`, { name: 'huge', type: 'METRIC_TYPE_COUNTER', description: 'd' });
  await record({ name: 'huge', value: 1e308 });
  assertError(await record({ name: 'huge', value: 1e308 }), 400, 'invalid_argument', 'value');
  assert.is((await rest.getOk(`${API}/metrics/huge`)).series[0].value, 1e308);
  const trend = await rest.getOk(`${API}/metrics/huge/trend`);
  assert.is(trend.change, 0);

  assertError(await register({ name: 'huge_created', type: 'METRIC_TYPE_GAUGE', description: 'd' }), 409, 'already_exists', 'name');

  const summary = await rest.postOk(`${API}/metrics`, { name: 'plain_summary', type: 'METRIC_TYPE_SUMMARY', description: 'd' });
  assert.equal(summary.metric.quantiles, [0.5, 0.9, 0.99]);
});

test('RS3GW_METRICS_MAX_SERIES and RS3GW_METRICS_MAX_METRICS are caps a user meets as 429', async () => {
  const capped = await startRestServer({ RS3GW_METRICS_MAX_SERIES: '2', RS3GW_METRICS_MAX_METRICS: '2' });
  try {
    const c = new Rest(capped.url);
    await c.postOk(`${API}/metrics`, { name: 'hits', type: 'METRIC_TYPE_COUNTER', description: 'Hits', label_names: ['path'] });
    await c.postOk(`${API}/metrics/record`, { name: 'hits', value: 1, labels: { path: '/a' } });
    await c.postOk(`${API}/metrics/record`, { name: 'hits', value: 1, labels: { path: '/b' } });
    assertError(await c.post(`${API}/metrics/record`, { name: 'hits', value: 1, labels: { path: '/c' } }), 429, 'resource_exhausted', 'labels');
    // A known label set still records at the cap.
    assert.is((await c.postOk(`${API}/metrics/record`, { name: 'hits', value: 1, labels: { path: '/a' } })).series.value, 2);
    const batch = await c.post(`${API}/metrics/batch`, {
      records: [
        { name: 'hits', value: 1, labels: { path: '/a' } },
        { name: 'hits', value: 1, labels: { path: '/z' } },
      ],
    });
    assertError(batch, 429, 'resource_exhausted', 'records[1].labels');
    const hits = await c.getOk(`${API}/metrics/hits`);
    assert.is(hits.metric.series_count, 2);
    assert.equal(Object.fromEntries(hits.series.map((s: Json) => [s.labels.path, s.value])), { '/a': 2, '/b': 1 }, 'the refused batch applied nothing');

    await c.postOk(`${API}/metrics`, { name: 'second', type: 'METRIC_TYPE_GAUGE', description: 'Second' });
    assertError(await c.post(`${API}/metrics`, { name: 'third', type: 'METRIC_TYPE_GAUGE', description: 'Third' }), 429, 'resource_exhausted', 'name');
    const custom = (await c.getOk(`${API}/metrics`)).metrics.filter((m: Json) => !m.name.startsWith('rs3gw_'));
    assert.equal(custom.map((m: Json) => m.name), ['hits_total', 'second']);
    assert.is((await c.getOk(`${API}/metrics-export`)).metrics.hits_total.series.length, 2);
  } finally {
    await capped.stop();
  }
});

test('RS3GW_METRICS_MAX_TOTAL_SERIES caps the series of all custom metrics together; the refusal names it, and raising it admits more', async () => {
  const fill = async (c: Rest) => {
    await c.postOk(`${API}/metrics`, { name: 'a', type: 'METRIC_TYPE_GAUGE', description: 'd', label_names: ['k'] });
    await c.postOk(`${API}/metrics`, { name: 'b', type: 'METRIC_TYPE_GAUGE', description: 'd', label_names: ['k'] });
    await c.postOk(`${API}/metrics/batch`, { records: ['1', '2'].map((k) => ({ name: 'a', value: 1, labels: { k } })) });
    await c.postOk(`${API}/metrics/record`, { name: 'b', value: 1, labels: { k: '1' } });
  };
  const capped = await startRestServer({ RS3GW_METRICS_MAX_TOTAL_SERIES: '3' });
  try {
    const c = new Rest(capped.url);
    await fill(c);
    // Each metric is far below RS3GW_METRICS_MAX_SERIES (1,000); together they hold 3.
    const refused = await c.post(`${API}/metrics/record`, { name: 'b', value: 1, labels: { k: '2' } });
    assertError(refused, 429, 'resource_exhausted', 'labels');
    assert.match(refused.text, 'RS3GW_METRICS_MAX_TOTAL_SERIES');
    const batch = await c.post(`${API}/metrics/batch`, { records: [{ name: 'a', value: 2, labels: { k: '1' } }, { name: 'a', value: 1, labels: { k: '3' } }] });
    assertError(batch, 429, 'resource_exhausted', 'records[1].labels');
    assert.match(batch.text, 'RS3GW_METRICS_MAX_TOTAL_SERIES');
    // An unlabelled metric has its series from the start: refused at registration.
    const unlabelled = await c.post(`${API}/metrics`, { name: 'u', type: 'METRIC_TYPE_GAUGE', description: 'd' });
    assertError(unlabelled, 429, 'resource_exhausted', 'name');
    assert.match(unlabelled.text, 'RS3GW_METRICS_MAX_TOTAL_SERIES');
  } finally {
    await capped.stop();
  }
  const raised = await startRestServer({ RS3GW_METRICS_MAX_TOTAL_SERIES: '5' });
  try {
    const c = new Rest(raised.url);
    await fill(c);
    await c.postOk(`${API}/metrics/record`, { name: 'b', value: 1, labels: { k: '2' } });
    await c.postOk(`${API}/metrics`, { name: 'u', type: 'METRIC_TYPE_GAUGE', description: 'd' });
    assertError(await c.post(`${API}/metrics/record`, { name: 'a', value: 1, labels: { k: '3' } }), 429, 'resource_exhausted', 'labels');
  } finally {
    await raised.stop();
  }
});

test('a trend whose window reaches past the snapshots RS3GW_METRICS_SNAPSHOT_MAX_VALUES holds says how far it reaches', async () => {
  // A budget of one value keeps only the newest snapshot, whatever RS3GW_METRICS_SNAPSHOT_RETENTION (1,440 by default) allows.
  const small = await startRestServer({ RS3GW_METRICS_SNAPSHOT_INTERVAL: '1', RS3GW_METRICS_SNAPSHOT_MAX_VALUES: '1' });
  try {
    const c = new Rest(small.url);
    await c.postOk(`${API}/metrics`, { name: 'free_bytes', type: 'METRIC_TYPE_GAUGE', description: 'd' });
    await c.postOk(`${API}/metrics/record`, { name: 'free_bytes', value: 100 });
    const gauge = async (name: string) => Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(await scrapeMetrics(small.url))?.[1]);
    // Wait until the 100 was snapshotted and that snapshot dropped for a later one.
    const started = Date.now();
    await eventually('a later snapshot', async () => (Date.now() - started > 2_500 ? true : undefined), 10_000, 250);
    await c.postOk(`${API}/metrics/record`, { name: 'free_bytes', value: 200 });
    const t = await eventually('the 200 in a snapshot', async () => {
      const trend = await c.getOk(`${API}/metrics/free_bytes/trend?window=24h`);
      return trend.points.length === 2 && trend.start_value === 200 ? trend : undefined;
    });
    assert.is(t.window, '86400s', 'the window asked for');
    assert.is(t.history_truncated, true);
    assert.ok(durationMs(t.covered) > 0 && durationMs(t.covered) < 3_000, `covered ${t.covered}`);
    assert.is(t.min_value, 200, 'the 100 is no longer held');
    assert.is(await gauge('rs3gw_metrics_snapshots'), 1, 'one snapshot held');
    assert.ok((await gauge('rs3gw_metrics_snapshot_values')) >= 1);
  } finally {
    await small.stop();
  }
  // With the default budget the same history is held, and the trend says it is whole.
  const whole = await startRestServer({ RS3GW_METRICS_SNAPSHOT_INTERVAL: '1' });
  try {
    const c = new Rest(whole.url);
    await c.postOk(`${API}/metrics`, { name: 'free_bytes', type: 'METRIC_TYPE_GAUGE', description: 'd' });
    await c.postOk(`${API}/metrics/record`, { name: 'free_bytes', value: 100 });
    await eventually('two snapshots', async () => ((await c.getOk(`${API}/metrics/free_bytes/trend`)).points.length >= 3 ? true : undefined));
    await c.postOk(`${API}/metrics/record`, { name: 'free_bytes', value: 200 });
    const t = await c.getOk(`${API}/metrics/free_bytes/trend?window=24h`);
    assert.is(t.start_value, 100);
    assert.is(t.history_truncated, false);
    assert.ok(durationMs(t.covered) >= 1_000 && durationMs(t.covered) < 86_400_000, `covered ${t.covered}`);
  } finally {
    await whole.stop();
  }
});

test('the JSON export over REST, written in chunks, is the one-shot proto3 JSON of the same message (Connect binary)', async () => {
  const c = new Rest(server.url);
  // Enough series that the answer is written in many chunks, with names and labels JSON escapes.
  await c.postOk(`${API}/metrics`, { name: 'export_seconds', type: 'METRIC_TYPE_HISTOGRAM', description: 'q"uote\\ ünï \u2028', label_names: ['k'], buckets: [1, 2] });
  for (let b = 0; b < 4; b++) {
    const records = Array.from({ length: 250 }, (_, i) => ({ name: 'export_seconds', value: i % 3, labels: { k: `${b * 250 + i}-"é\n${'v'.repeat(400)}` } }));
    await c.postOk(`${API}/metrics/batch`, { records });
  }
  const client = createObservabilityClient(server.url, { protocol: 'connect' });
  const rest = await (await fetch(`${server.url}${API}/metrics-export?format=json`)).text();
  const binary = await client.metrics.exportMetrics({});
  assert.ok(rest.length > 4 * 128 * 1024, `${rest.length} characters`);
  // The two calls were taken at different times; everything else must be the same, byte for byte.
  const oneShot = JSON.stringify(toJson(ExportMetricsResponseSchema, binary, { useProtoFieldName: true, alwaysEmitImplicit: true }));
  const withoutTime = (text: string) => text.replace(/^\{"timestamp":"[^"]*"/, '{"timestamp":""');
  assert.ok(withoutTime(rest) === withoutTime(oneShot), 'REST and one-shot JSON differ');
});

test('RS3GW_METRICS_MAX_CELLS and RS3GW_METRICS_MAX_EXPOSITION_BYTES bound the exposition; /metrics keeps answering', async () => {
  // 3 histogram series of 2 buckets (5 lines each) and 3 gauge series fit in 18 lines; 16 KiB of labels fit the byte cap twice, not thrice.
  const capped = await startRestServer({ RS3GW_METRICS_MAX_CELLS: '18', RS3GW_METRICS_MAX_EXPOSITION_BYTES: String(40 * 1024) });
  try {
    const c = new Rest(capped.url);
    await c.postOk(`${API}/metrics`, { name: 'lat', type: 'METRIC_TYPE_HISTOGRAM', description: 'd', label_names: ['k'], buckets: [1, 2] });
    for (const k of ['a', 'b', 'c']) await c.postOk(`${API}/metrics/record`, { name: 'lat', value: 1, labels: { k } });
    const lines = await c.post(`${API}/metrics/record`, { name: 'lat', value: 1, labels: { k: 'd' } });
    assertError(lines, 429, 'resource_exhausted', 'labels');
    assert.match(lines.text, 'RS3GW_METRICS_MAX_CELLS');
    assertError(
      await c.post(`${API}/metrics`, { name: 'unlabelled', type: 'METRIC_TYPE_HISTOGRAM', description: 'd', buckets: [1, 2] }),
      429,
      'resource_exhausted',
      'buckets',
    );

    const labelNames = Array.from({ length: 16 }, (_, i) => `l${i}`);
    await c.postOk(`${API}/metrics`, { name: 'wide', type: 'METRIC_TYPE_GAUGE', description: 'd', label_names: labelNames });
    const wide = (i: number) => ({ name: 'wide', value: 1, labels: Object.fromEntries(labelNames.map((l) => [l, String(i).repeat(1024)])) });
    await c.postOk(`${API}/metrics/batch`, { records: [wide(1), wide(2)] });
    const bytes = await c.post(`${API}/metrics/batch`, { records: [wide(1), wide(3)] });
    assertError(bytes, 429, 'resource_exhausted', 'records[1].labels');
    assert.match(bytes.text, 'RS3GW_METRICS_MAX_EXPOSITION_BYTES');

    const scrape = await fetch(`${capped.url}/metrics`);
    assert.is(scrape.status, 200);
    const text = await scrape.text();
    assert.ok(text.includes('lat_bucket{k="c",le="+Inf"} 1'));
    // An operator sees how close the custom metrics are to each cap before a refusal reaches a caller.
    const budget = (family: string) =>
      Object.fromEntries([...text.matchAll(new RegExp(`^${family}\\{budget="(\\w+)"\\} (\\S+)$`, 'gm'))].map((m) => [m[1], Number(m[2])]));
    const used = budget('rs3gw_metrics_custom_budget_used');
    assert.equal(budget('rs3gw_metrics_custom_budget_limit'), { metrics: 1000, series: 100000, lines: 18, bytes: 40 * 1024 });
    assert.equal({ ...used, bytes: 0 }, { metrics: 2, series: 5, lines: 3 * 5 + 2, bytes: 0 });
    const custom = text.split('\n').filter((line) => /^(# (HELP|TYPE) )?(lat|wide)[_{ ]/.test(line));
    assert.is(custom.length, 2 + 3 * 5 + 2 + 2, 'the HELP, TYPE and sample lines of lat and wide');
    assert.ok(used.bytes >= Buffer.byteLength(custom.join('\n') + '\n'), `${used.bytes} bytes counted`);
    assert.ok(used.bytes > 32 * 1024 && used.bytes <= 40 * 1024, `${used.bytes} bytes counted: two series of 16 KiB of labels, under the cap`);
  } finally {
    await capped.stop();
  }
});

test.run();
