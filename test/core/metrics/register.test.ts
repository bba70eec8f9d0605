import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { MetricsEngine } from '../../../src/core/metrics/index.js';
import { Counter, Gauge } from 'prom-client';
import { Expositions } from '../../../src/core/metrics/expositions.js';
import type { SummarySeries } from '../../../src/core/metrics/types.js';
import { expectError } from '../../support/errors.js';
import { parseExposition } from './exposition-format.js';

const engine = (limits = {}) => new MetricsEngine({ defaultMetrics: false, limits });

test('names and label names follow the Prometheus rules', async () => {
  const e = engine();
  await expectError(() => e.register({ name: '1abc', type: 'gauge', description: 'd' }), 'invalid_argument', 'name', '1abc');
  await expectError(() => e.register({ name: 'a-b', type: 'gauge', description: 'd' }), 'invalid_argument', 'name');
  await expectError(() => e.register({ name: '', type: 'gauge', description: 'd' }), 'invalid_argument', 'name');
  await expectError(() => e.register({ name: 'ok', type: 'meter' as never, description: 'd' }), 'invalid_argument', 'type');
  await expectError(() => e.register({ name: 'ok', type: 'gauge', description: ' ' }), 'invalid_argument', 'description');
  await expectError(
    () => e.register({ name: 'ok', type: 'gauge', description: 'd', labelNames: ['good', 'bad:colon'] }),
    'invalid_argument',
    'label_names[1]',
  );
  await expectError(
    () => e.register({ name: 'ok', type: 'gauge', description: 'd', labelNames: ['__reserved'] }),
    'invalid_argument',
    'label_names[0]',
    '__',
  );
  await expectError(
    () => e.register({ name: 'ok', type: 'gauge', description: 'd', labelNames: ['a', 'a'] }),
    'invalid_argument',
    'label_names[1]',
  );
  await expectError(
    () => e.register({ name: 'ok', type: 'gauge', description: 'd', unit: 'meters per second' }),
    'invalid_argument',
    'unit',
  );
  // Colons are legal in metric names (recording-rule style).
  assert.is(e.register({ name: 'job:ok_ratio', type: 'gauge', description: 'd' }).descriptor.name, 'job:ok_ratio');
});

test('names Prometheus writes itself (up, scrape_*, ALERTS, ALERTS_FOR_STATE, __*) are refused for every type', async () => {
  const e = engine();
  const reserved = [
    'up',
    'scrape_duration_seconds',
    'scrape_samples_scraped',
    'scrape_samples_post_metric_relabeling',
    'scrape_series_added',
    'scrape_timeout_seconds',
    'scrape_sample_limit',
    'scrape_body_size_bytes',
    'scrape_anything',
    'ALERTS',
    'ALERTS_FOR_STATE',
    '__rv_internal',
    '__name__',
    '__proto__',
  ];
  for (const type of ['counter', 'gauge', 'histogram', 'summary'] as const) {
    for (const name of reserved) {
      await expectError(() => e.register({ name, type, description: 'd' }), 'invalid_argument', 'name', 'reserved');
    }
  }
  const why = await expectError(() => e.register({ name: 'up', type: 'gauge', description: 'd' }), 'invalid_argument', 'name');
  assert.match(why.message, /Prometheus writes "up" itself/);
  assert.is((await e.list()).length, 0, 'nothing registered');
  assert.not.match((await e.scrape(false)).body, /^(up|scrape_\w+|ALERTS\w*|__\w+)[ {]/m);
  // Names that only start or end like them are ordinary.
  for (const name of ['upstream_latency', 'up_total', 'my_up', 'scraper_runs', 'alerts', 'ALERTS_sent', '_x']) {
    assert.ok(e.register({ name, type: 'gauge', description: 'd' }).created, name);
  }
});

test('le is reserved for histograms and quantile for summaries only', async () => {
  const e = engine();
  await expectError(
    () => e.register({ name: 'h', type: 'histogram', description: 'd', labelNames: ['le'] }),
    'invalid_argument',
    'label_names[0]',
    'reserved',
  );
  await expectError(
    () => e.register({ name: 's', type: 'summary', description: 'd', labelNames: ['quantile'] }),
    'invalid_argument',
    'label_names[0]',
  );
  e.register({ name: 'g', type: 'gauge', description: 'd', labelNames: ['le', 'quantile'] });
});

test('buckets must be finite and strictly increasing; quantiles in (0,1)', async () => {
  const e = engine();
  const h = (buckets: number[]) => () => e.register({ name: 'h', type: 'histogram', description: 'd', buckets });
  await expectError(h([1, 2, 2]), 'invalid_argument', 'buckets[2]', 'strictly increasing');
  await expectError(h([2, 1]), 'invalid_argument', 'buckets[1]');
  await expectError(h([1, Infinity]), 'invalid_argument', 'buckets[1]', 'finite');
  await expectError(h([Number.NaN]), 'invalid_argument', 'buckets[0]');
  await expectError(h(Array.from({ length: 65 }, (_, i) => i)), 'invalid_argument', 'buckets', '64');
  const s = (quantiles: number[]) => () => e.register({ name: 's', type: 'summary', description: 'd', quantiles });
  await expectError(s([0.5, 1]), 'invalid_argument', 'quantiles[1]');
  await expectError(s([0]), 'invalid_argument', 'quantiles[0]');
  await expectError(s([0.5, 0.5]), 'invalid_argument', 'quantiles[1]', 'repeated');

  const hist = e.register({ name: 'h', type: 'histogram', description: 'd' }).descriptor;
  assert.equal(hist.buckets, [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10], 'prom-client defaults');
  const sum = e.register({ name: 's', type: 'summary', description: 'd', quantiles: [0.99, 0.5] }).descriptor;
  assert.equal(sum.quantiles, [0.5, 0.99], 'sorted');
});

test('a counter is named with _total; both spellings reach it', async () => {
  const e = engine();
  const { descriptor, created } = e.register({ name: 'request_count', type: 'counter', description: 'Total requests' });
  assert.is(descriptor.name, 'request_count_total');
  assert.is(descriptor.seriesCount, 1, 'an unlabelled metric has its one series from the start');
  assert.ok(created);
  const again = e.register({ name: 'request_count_total', type: 'counter', description: 'Total requests' });
  assert.is(again.created, false, 'same counter either way');
  e.record({ name: 'request_count', value: 2 });
  e.record({ name: 'request_count_total', value: 3 });
  assert.is(((await e.get('request_count')).series[0] as { value: number }).value, 5);
});

test('registering the same definition again is idempotent; a different one is refused', async () => {
  const e = engine();
  const def = { name: 'queue_depth', type: 'gauge' as const, description: 'Items queued', labelNames: ['queue', 'region'] };
  assert.ok(e.register(def).created);
  e.record({ name: 'queue_depth', value: 7, labels: { queue: 'a', region: 'eu' } });
  const again = e.register({ ...def, labelNames: ['region', 'queue'] });
  assert.is(again.created, false);
  assert.is((await e.get('queue_depth')).series.length, 1, 'the series survive an idempotent register');
  await expectError(() => e.register({ ...def, description: 'other' }), 'already_exists', 'name');
  await expectError(() => e.register({ ...def, labelNames: ['queue'] }), 'already_exists', 'name');
  await expectError(() => e.register({ ...def, type: 'summary' }), 'already_exists', 'name');
  await expectError(() => e.register({ ...def, unit: 'items' }), 'already_exists', 'name');
});

test('names whose exposition would overlap another metric are refused', async () => {
  const e = engine();
  e.register({ name: 'latency', type: 'histogram', description: 'd' });
  await expectError(() => e.register({ name: 'latency_count', type: 'gauge', description: 'd' }), 'already_exists', 'name', 'latency');
  await expectError(() => e.register({ name: 'latency_bucket', type: 'counter', description: 'd' }), 'already_exists', 'name');
  e.register({ name: 'jobs', type: 'counter', description: 'd' });
  // OpenMetrics would show the family `jobs` twice.
  await expectError(() => e.register({ name: 'jobs', type: 'gauge', description: 'd' }), 'already_exists', 'name');
  await expectError(() => e.register({ name: 'jobs_total', type: 'gauge', description: 'd' }), 'already_exists', 'name');
});

test('names of built-in metrics are refused', async () => {
  const e = new MetricsEngine();
  await expectError(
    () => e.register({ name: 'process_cpu_seconds_total', type: 'counter', description: 'd' }),
    'already_exists',
    'name',
  );
  await expectError(() => e.register({ name: 'process_cpu_seconds', type: 'gauge', description: 'd' }), 'already_exists', 'name');
  e.builtin.histogram({ name: 'rpc_duration_seconds', help: 'RPC latency', labelNames: ['method', 'code'] });
  await expectError(() => e.register({ name: 'rpc_duration_seconds', type: 'histogram', description: 'd' }), 'already_exists', 'name');
  await expectError(() => e.register({ name: 'rpc_duration_seconds_sum', type: 'gauge', description: 'd' }), 'already_exists', 'name');
  e.kpi.gauge({ name: 'rs3gw_storage_bytes', help: 'Stored bytes' });
  await expectError(
    () => e.register({ name: 'rs3gw_storage_bytes', type: 'gauge', description: 'Stored bytes' }),
    'already_exists',
    'name',
    'built-in',
  );
});

test('the number of custom metrics is capped', async () => {
  const e = engine({ maxMetrics: 3 });
  for (const n of ['a', 'b', 'c']) e.register({ name: n, type: 'gauge', description: 'd' });
  await expectError(() => e.register({ name: 'd', type: 'gauge', description: 'd' }), 'resource_exhausted', 'name', '3');
  assert.is((await e.list()).length, 3);
  assert.ok(e.register({ name: 'a', type: 'gauge', description: 'd' }), 're-registering an existing one still works');
});

test('list filters by prefix and type, sorted by name, with series counts', async () => {
  const e = engine();
  e.register({ name: 'app_b', type: 'gauge', description: 'd' });
  e.register({ name: 'app_a', type: 'counter', description: 'd' });
  e.register({ name: 'other', type: 'gauge', description: 'd' });
  assert.equal((await e.list()).map((d) => d.name), ['app_a_total', 'app_b', 'other']);
  assert.equal((await e.list({ prefix: 'app_' })).map((d) => d.name), ['app_a_total', 'app_b']);
  assert.equal((await e.list({ prefix: 'app_', type: 'gauge' })).map((d) => d.name), ['app_b']);
  assert.equal(await e.list({ type: 'summary' }), []);
  await expectError(() => e.list({ type: 'meter' as never }), 'invalid_argument', 'type');
  e.register({ name: 'labelled', type: 'gauge', description: 'd', labelNames: ['k'] });
  for (const k of ['x', 'y', 'x']) e.record({ name: 'labelled', value: 1, labels: { k } });
  const [labelled] = await e.list({ prefix: 'labelled' });
  assert.is(labelled.seriesCount, 2);
  assert.is((await e.get('labelled', { k: 'x' })).descriptor.seriesCount, 2, 'get counts all series, not the filtered ones');
});

test('limits must be positive integers', async () => {
  await expectError(() => new MetricsEngine({ defaultMetrics: false, limits: { maxMetrics: 0 } }), 'invalid_argument', 'limits.maxMetrics');
});

test('names that are properties of every JavaScript object are ordinary metric names', async () => {
  // (`__proto__` and `__defineGetter__` begin with `__`, which Prometheus reserves: refused above.)
  const names = ['constructor', 'toString', 'valueOf', 'hasOwnProperty', 'isPrototypeOf', 'propertyIsEnumerable', 'toLocaleString'];
  const types = ['counter', 'gauge', 'histogram', 'summary'] as const;
  for (const type of types) {
    const e = engine();
    for (const name of names) {
      const { descriptor, created } = e.register({ name, type, description: 'd' });
      assert.ok(created, `${type} ${name}`);
      e.record({ name, value: 2 });
      const reading = await e.get(name);
      assert.is(reading.descriptor.name, descriptor.name);
      assert.is(reading.series.length, 1);
    }
    assert.is((await e.list()).length, names.length);
    for (const openMetrics of [false, true]) {
      const x = parseExposition((await e.scrape(openMetrics)).body, openMetrics);
      for (const name of names) {
        const sample = type === 'counter' ? `${name}_total` : type === 'gauge' ? name : `${name}_count`;
        assert.is(x.value(sample), type === 'histogram' || type === 'summary' ? 1 : 2, `${type} ${sample} openMetrics=${openMetrics}`);
      }
    }
    const exported = await e.exportJson();
    assert.is(Object.keys(exported.metrics).length, names.length, `${type}: every metric in the JSON export`);
    assert.ok(Object.prototype.hasOwnProperty.call(exported.metrics, type === 'counter' ? 'constructor_total' : 'constructor'));
    assert.ok(parseExposition(await e.exportPrometheus(), false).samples.length > 0);
  }
});

test('a metric is in both expositions or in neither', async () => {
  const x = new Expositions();
  const counter = new Counter({ name: 'jobs_total', help: 'd', registers: [] });
  x.add('counter', 'jobs_total', counter);
  // Its OpenMetrics family is `jobs`: a gauge `jobs` fits the text registry but not the OpenMetrics one.
  const gauge = new Gauge({ name: 'jobs', help: 'd', registers: [] });
  assert.throws(() => x.add('gauge', 'jobs', gauge));
  assert.not.ok((await x.scrape(false)).body.includes('# TYPE jobs gauge'), 'no gauge left behind in the text registry');
  x.add('gauge', 'other', new Gauge({ name: 'other', help: 'd', registers: [] }));
  assert.ok((await x.scrape(true)).body.includes('# TYPE other gauge'));
});

test('buckets belong to histograms and quantiles to summaries only', async () => {
  const e = engine();
  for (const type of ['counter', 'gauge', 'summary'] as const) {
    await expectError(() => e.register({ name: `x_${type}`, type, description: 'd', buckets: [1] }), 'invalid_argument', 'buckets', type);
  }
  for (const type of ['counter', 'gauge', 'histogram'] as const) {
    await expectError(() => e.register({ name: `y_${type}`, type, description: 'd', quantiles: [0.5] }), 'invalid_argument', 'quantiles', type);
  }
  assert.equal(await e.list(), [], 'nothing registered');
  // Empty lists are what proto3 sends for "not set".
  e.register({ name: 'g', type: 'gauge', description: 'd', buckets: [], quantiles: [] });
});

test('a summary registered without quantiles has 0.5, 0.9 and 0.99', async () => {
  const e = engine();
  assert.equal(e.register({ name: 's', type: 'summary', description: 'd' }).descriptor.quantiles, [0.5, 0.9, 0.99]);
  e.record({ name: 's', value: 1 });
  const [series] = (await e.get('s')).series as SummarySeries[];
  assert.equal(series.quantiles.map((q) => q.quantile), [0.5, 0.9, 0.99]);
});

/**
 * Runs `body` with Date.now under its control (prom-client's summary windows read Date.now), giving
 * it a function that moves the time on; the real clock is put back after.
 */
async function withMovableNow(body: (advanceMs: (ms: number) => void) => Promise<void>): Promise<void> {
  const realNow = Date.now;
  let now = realNow();
  Date.now = () => now;
  try {
    await body((ms) => (now += ms));
  } finally {
    Date.now = realNow;
  }
}

test('summary quantiles slide over the last 10 minutes; count and sum do not', async () => {
  await withMovableNow(async (advance) => {
    const e = engine();
    e.register({ name: 'wait', type: 'summary', description: 'd', quantiles: [0.5] });
    for (let i = 0; i < 100; i++) e.record({ name: 'wait', value: 1000 });
    advance(11 * 60_000);
    for (let i = 0; i < 100; i++) e.record({ name: 'wait', value: 1 });
    const [series] = (await e.get('wait')).series as SummarySeries[];
    assert.equal(series.quantiles, [{ quantile: 0.5, value: 1 }], 'the old observations left the window');
    assert.equal([series.count, series.sum], [200, 100_100]);
    advance(11 * 60_000);
    const [idle] = (await e.get('wait')).series as SummarySeries[];
    assert.equal(idle.quantiles, [{ quantile: 0.5, value: 0 }], 'an empty window reads 0');
  });
});

test('in its first 10 minutes a summary weighs every observation in its window alike', async () => {
  await withMovableNow(async (advance) => {
    const e = engine();
    e.register({ name: 'lag', type: 'summary', description: 'd', quantiles: [0.25, 0.5, 0.75], labelNames: ['k'] });
    e.register({ name: 'plain', type: 'summary', description: 'd', quantiles: [0.5] });
    for (let i = 0; i < 1000; i++) {
      e.record({ name: 'lag', labels: { k: 'a' }, value: i / 1000 });
      e.record({ name: 'plain', value: i / 1000 });
    }
    advance(4.5 * 60_000);
    for (let i = 0; i < 1000; i++) {
      e.record({ name: 'lag', labels: { k: 'a' }, value: 1 + i / 1000 });
      e.record({ name: 'plain', value: 1 + i / 1000 });
    }
    // Both batches are in the window: the median of 0.000..1.999 is 1 (it read 0.80 with the first
    // batch counted once per age bucket still sharing the first digest).
    const [series] = (await e.get('lag')).series as SummarySeries[];
    const near = (q: number) => Math.round(series.quantiles.find((x) => x.quantile === q)!.value * 100) / 100;
    assert.equal([near(0.25), near(0.5), near(0.75)], [0.5, 1, 1.5]);
    const [plain] = (await e.get('plain')).series as SummarySeries[];
    assert.is(Math.round(plain.quantiles[0]!.value * 100) / 100, 1, 'the series made at registration too');
  });
});

test('OpenMetrics _created names are claimed too', async () => {
  const e = engine();
  e.register({ name: 'cc', type: 'counter', description: 'd' });
  await expectError(() => e.register({ name: 'cc_created', type: 'gauge', description: 'd' }), 'already_exists', 'name', 'cc_created');
  e.register({ name: 'h_created', type: 'gauge', description: 'd' });
  await expectError(() => e.register({ name: 'h', type: 'histogram', description: 'd' }), 'already_exists', 'name', 'h_created');
  await expectError(() => e.register({ name: 'h', type: 'summary', description: 'd' }), 'already_exists', 'name');
  await expectError(() => e.register({ name: 'h', type: 'counter', description: 'd' }), 'already_exists', 'name');
  assert.equal((await e.list()).map((d) => d.name), ['cc_total', 'h_created']);
});

test('an unlabelled metric is refused when the total series cap is reached', async () => {
  const e = engine({ maxTotalSeries: 2 });
  e.register({ name: 'a', type: 'gauge', description: 'd' });
  e.register({ name: 'b', type: 'counter', description: 'd' });
  await expectError(() => e.register({ name: 'c', type: 'histogram', description: 'd' }), 'resource_exhausted', 'name', 'capped at 2 series');
  assert.is(e.stats().customSeries, 2, 'the cap holds');
  assert.equal((await e.list()).map((d) => d.name), ['a', 'b_total'], 'nothing of the refused metric');
  // A labelled metric has no series until recorded, so it may still be declared.
  e.register({ name: 'l', type: 'gauge', description: 'd', labelNames: ['k'] });
  await expectError(() => e.record({ name: 'l', value: 1, labels: { k: 'x' } }), 'resource_exhausted', 'labels');
  assert.ok(e.register({ name: 'a', type: 'gauge', description: 'd' }), 'an existing one may be registered again');
});

test.run();
