import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { MetricsEngine } from '../../../src/core/metrics/index.js';
import type { HistogramSeries } from '../../../src/core/metrics/types.js';
import { FakeClock } from '../../support/fake-clock.js';
import { expectError } from '../../support/errors.js';
import { parseExposition } from './exposition-format.js';

function populated() {
  const clock = new FakeClock(Date.UTC(2025, 11, 31));
  const e = new MetricsEngine({ clock, defaultMetrics: false });
  e.register({ name: 'request_count', type: 'counter', description: 'Total number of requests' });
  e.register({ name: 'storage_bytes', type: 'gauge', description: 'Total storage used in bytes', unit: 'bytes' });
  e.register({ name: 'op_seconds', type: 'histogram', description: 'Op time', labelNames: ['op'], buckets: [0.1, 1] });
  e.register({ name: 'item_size', type: 'summary', description: 'Item size "quoted"\nsecond line', labelNames: ['kind'] });
  e.record({ name: 'request_count', value: 12345 });
  e.record({ name: 'storage_bytes', value: 1073741824 });
  e.record({ name: 'op_seconds', value: 0.5, labels: { op: 'get' } });
  e.record({ name: 'op_seconds', value: 2, labels: { op: 'put' } });
  e.record({ name: 'item_size', value: 3, labels: { kind: 'a"b\\c\nd' } });
  return { clock, e };
}

test('/metrics in Prometheus text and OpenMetrics parse, with the right content types', async () => {
  const { e } = populated();
  const text = await e.scrape(false);
  assert.is(text.contentType, 'text/plain; version=0.0.4; charset=utf-8');
  const om = await e.scrape(true);
  assert.is(om.contentType, 'application/openmetrics-text; version=1.0.0; charset=utf-8');
  const t = parseExposition(text.body, false);
  const o = parseExposition(om.body, true);
  for (const x of [t, o]) {
    assert.is(x.value('request_count_total'), 12345);
    assert.is(x.value('storage_bytes'), 1073741824);
    assert.is(x.value('op_seconds_bucket', { op: 'get', le: '1' }), 1);
    assert.is(x.value('op_seconds_bucket', { op: 'put', le: '+Inf' }), 1);
    assert.is(x.value('item_size_count', { kind: 'a"b\\c\nd' }), 1, 'label values are escaped and read back');
  }
  assert.is(t.families.get('request_count_total')?.type, 'counter');
  assert.is(o.families.get('request_count')?.type, 'counter', 'OpenMetrics family drops _total');
  // HELP is escaped as each format requires (the parser refuses a raw " in OpenMetrics HELP).
  for (const x of [t, o]) assert.is(x.families.get('item_size')?.help, 'Item size "quoted"\nsecond line');
  assert.match(text.body, /^# HELP item_size Item size "quoted"\\nsecond line$/m);
  assert.match(om.body, /^# HELP item_size Item size \\"quoted\\"\\nsecond line$/m);
});

test('the text exposition keeps _total after OpenMetrics scrapes', async () => {
  const { e } = populated();
  const first = await e.scrape(false);
  await e.scrape(true);
  await e.scrape(true);
  const second = await e.scrape(false);
  assert.is(second.body, first.body);
  assert.ok(second.body.includes('\nrequest_count_total 12345'));
});

test('default process metrics are collected, without prefix, in both formats', async () => {
  const e = new MetricsEngine({ defaultMetrics: true });
  const t = parseExposition((await e.scrape(false)).body, false);
  const o = parseExposition((await e.scrape(true)).body, true);
  for (const name of ['process_cpu_seconds_total', 'process_resident_memory_bytes', 'nodejs_heap_size_total_bytes']) {
    assert.ok(t.samples.some((s) => s.name === name), `${name} in text`);
    assert.ok(o.samples.some((s) => s.name === name), `${name} in OpenMetrics`);
  }
  assert.ok(o.families.has('process_cpu_seconds'));
  assert.equal(await e.list(), [], 'process metrics are not user metrics');
});

test('process CPU counters are the CPU time since the process started, not since they were registered', async () => {
  // process.cpuUsage() counts from process start, as /proc/<pid>/stat does.
  let usage = { user: 1_500_000, system: 250_000 };
  const e = new MetricsEngine({ cpuUsage: () => usage });
  for (const [user, system] of [[1.5, 0.25], [2, 0.5]]) {
    const t = parseExposition((await e.scrape(false)).body, false);
    const o = parseExposition((await e.scrape(true)).body, true);
    for (const x of [t, o]) {
      assert.is(x.value('process_cpu_user_seconds_total'), user);
      assert.is(x.value('process_cpu_system_seconds_total'), system);
      assert.is(x.value('process_cpu_seconds_total'), user + system);
    }
    assert.equal(
      ['process_cpu_user_seconds_total', 'process_cpu_system_seconds_total', 'process_cpu_seconds_total'].map((n) => [t.families.get(n)?.type, t.families.get(n)?.help]),
      [
        ['counter', 'Total user CPU time spent in seconds.'],
        ['counter', 'Total system CPU time spent in seconds.'],
        ['counter', 'Total user and system CPU time spent in seconds.'],
      ],
    );
    usage = { user: 2_000_000, system: 500_000 };
  }
});

test('NaN gauge values are written as NaN, as OpenMetrics requires', async () => {
  const e = new MetricsEngine({ defaultMetrics: false });
  e.builtin.gauge({ name: 'lag_seconds', help: 'Lag' }).set(Number.NaN);
  for (const openMetrics of [false, true]) {
    const { body } = await e.scrape(openMetrics);
    assert.ok(body.includes('\nlag_seconds NaN\n'), body);
    assert.ok(Number.isNaN(parseExposition(body, openMetrics).value('lag_seconds')!));
  }
});

test('the server creates its own instruments in both registries', async () => {
  const e = new MetricsEngine({ defaultMetrics: false });
  const rpcs = e.builtin.counter({ name: 'rs3gw_obs_rpc_requests_total', help: 'RPCs', labelNames: ['method', 'code'] });
  const latency = e.builtin.histogram({
    name: 'rs3gw_obs_rpc_duration_seconds',
    help: 'RPC latency',
    labelNames: ['method', 'code'],
    buckets: [0.01, 0.1, 1],
  });
  rpcs.inc({ method: 'Get', code: 'OK' });
  latency.observe({ method: 'Get', code: 'OK' }, 0.05);
  for (const openMetrics of [false, true]) {
    const x = parseExposition((await e.scrape(openMetrics)).body, openMetrics);
    assert.is(x.value('rs3gw_obs_rpc_requests_total', { method: 'Get', code: 'OK' }), 1);
    assert.is(x.value('rs3gw_obs_rpc_duration_seconds_bucket', { method: 'Get', code: 'OK', le: '0.1' }), 1);
  }
  await expectError(() => e.builtin.gauge({ name: 'rs3gw_obs_rpc_requests', help: 'x' }), 'already_exists', 'name');
  await expectError(() => e.builtin.gauge({ name: 'bad name', help: 'x' }), 'invalid_argument', 'name');
  await expectError(() => e.builtin.histogram({ name: 'h', help: 'x', labelNames: ['le'] }), 'invalid_argument', 'label_names[0]');
  e.register({ name: 'user_metric', type: 'gauge', description: 'd' });
  await expectError(() => e.builtin.gauge({ name: 'user_metric', help: 'x' }), 'already_exists', 'name');
  assert.not.ok((await e.exportPrometheus()).includes('rs3gw_obs_rpc'), 'server instruments stay out of the export');
  assert.not.ok('rs3gw_obs_rpc_requests_total' in (await e.exportJson()).metrics);
});

test('exportPrometheus prints the user and KPI metrics, well formed', async () => {
  const { e } = populated();
  e.kpi.gauge({ name: 'rs3gw_storage_objects', help: 'Objects stored' }).set(15234);
  const body = await e.exportPrometheus();
  const x = parseExposition(body, false);
  assert.ok(body.includes('# HELP request_count_total Total number of requests\n# TYPE request_count_total counter\nrequest_count_total 12345'));
  assert.is(x.value('rs3gw_storage_objects'), 15234);
  assert.equal([...x.families.keys()].sort(), ['item_size', 'op_seconds', 'request_count_total', 'rs3gw_storage_objects', 'storage_bytes']);
});

test('exportJson has the seed shape, with every series', async () => {
  const { e } = populated();
  const json = await e.exportJson();
  assert.is(json.timestamp, '2025-12-31T00:00:00.000Z');
  assert.equal(json.metrics.request_count_total, {
    type: 'counter',
    value: 12345,
    description: 'Total number of requests',
    series: [{ labels: {}, value: 12345 }],
  });
  assert.equal(json.metrics.storage_bytes.unit, 'bytes');
  assert.is((await e.get('storage_bytes')).descriptor.createdMs, Date.UTC(2025, 11, 31), 'registration time from the engine clock');
  assert.is(json.metrics.op_seconds.value, 2, 'histogram value = observations over all series');
  assert.is(json.metrics.op_seconds.series.length, 2);
  assert.is(json.metrics.item_size.type, 'summary');
  assert.ok(JSON.parse(JSON.stringify(json)), 'plain JSON (no Infinity, no undefined)');
});

test('exportJson sums labelled series into value', async () => {
  const e = new MetricsEngine({ defaultMetrics: false });
  e.register({ name: 'bytes', type: 'counter', description: 'd', labelNames: ['dir'] });
  e.record({ name: 'bytes', value: 5, labels: { dir: 'in' } });
  e.record({ name: 'bytes', value: 7, labels: { dir: 'out' } });
  assert.is((await e.exportJson()).metrics.bytes_total.value, 12);
});

test('OpenMetrics leaves out _sum and _count of a histogram with a negative bound; the text format keeps them', async () => {
  const e = new MetricsEngine({ defaultMetrics: false });
  e.register({ name: 'drift', type: 'histogram', description: 'd', buckets: [-1, 1], labelNames: ['k'] });
  e.register({ name: 'size', type: 'histogram', description: 'd', buckets: [0, 1] });
  for (const v of [-3, 0.5, 7]) e.record({ name: 'drift', value: v, labels: { k: 'a' } });
  e.record({ name: 'size', value: 2 });
  const om = parseExposition((await e.scrape(true)).body, true);
  assert.not.ok(om.samples.some((s) => s.name === 'drift_sum' || s.name === 'drift_count'), 'no _sum/_count beside negative buckets');
  assert.is(om.value('drift_bucket', { k: 'a', le: '+Inf' }), 3, 'the count is the +Inf bucket');
  assert.is(om.value('drift_bucket', { k: 'a', le: '-1' }), 1);
  assert.is(om.value('size_sum'), 2, 'histograms without negative bounds keep _sum');
  assert.is(om.value('size_count'), 1);
  const text = parseExposition((await e.scrape(false)).body, false);
  assert.is(text.value('drift_sum', { k: 'a' }), 4.5);
  assert.is(text.value('drift_count', { k: 'a' }), 3);
  const [series] = (await e.get('drift')).series as HistogramSeries[];
  assert.equal([series.count, series.sum], [3, 4.5], 'GetMetric keeps them');
});

test.run();
