import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { MetricsEngine, type MetricsLimits } from '../../../src/core/metrics/index.js';
import type { HistogramSeries, ScalarSeries, SummarySeries } from '../../../src/core/metrics/types.js';
import { expectError } from '../../support/errors.js';
import { parseExposition } from './exposition-format.js';

function setup(limits: Partial<MetricsLimits> = {}) {
  const e = new MetricsEngine({ defaultMetrics: false, limits });
  e.register({ name: 'hits', type: 'counter', description: 'Hits', labelNames: ['method'] });
  e.register({ name: 'temperature', type: 'gauge', description: 'Temp' });
  e.register({ name: 'size_bytes', type: 'histogram', description: 'Sizes', buckets: [10, 100], labelNames: ['bucket'] });
  e.register({ name: 'wait_ms', type: 'summary', description: 'Waits', quantiles: [0.5, 0.9] });
  return e;
}

const scalar = async (e: MetricsEngine, name: string, labels?: Record<string, string>) =>
  ((await e.get(name, labels)).series[0] as ScalarSeries | undefined)?.value;

test('counters increase by non-negative amounts only', async () => {
  const e = setup();
  e.record({ name: 'hits', value: 1, labels: { method: 'GET' } });
  e.record({ name: 'hits', value: 2.5, labels: { method: 'GET' }, op: 'inc' });
  assert.is(await scalar(e, 'hits'), 3.5);
  await expectError(() => e.record({ name: 'hits', value: -1, labels: { method: 'GET' } }), 'invalid_argument', 'value', '>= 0');
  await expectError(() => e.record({ name: 'hits', value: 1, labels: { method: 'GET' }, op: 'set' }), 'invalid_argument', 'operation');
  assert.is(await scalar(e, 'hits'), 3.5, 'refused records change nothing');
});

test('a total over series that adds up past the largest double is a number in the export, not Infinity', async () => {
  const e = setup();
  e.record({ name: 'hits', value: 1e308, labels: { method: 'GET' } });
  e.record({ name: 'hits', value: 1e308, labels: { method: 'PUT' } });
  const hits = (await e.exportJson()).metrics['hits_total'];
  assert.is(hits?.value, Number.MAX_VALUE, 'beyond the range: the largest double');
  const g = new MetricsEngine({ defaultMetrics: false });
  g.register({ name: 'level', type: 'gauge', description: 'Level', labelNames: ['k'] });
  for (const [k, v] of [['a', 1e308], ['b', 1e308], ['c', -1.5e308]] as const) g.record({ name: 'level', value: v, labels: { k } });
  // The plain sum overflows on the way (1e308 + 1e308) although the total, 0.5e308, is in range.
  assert.ok(Math.abs((await g.exportJson()).metrics['level']!.value! / 0.5e308 - 1) < 1e-12);
});

test('a label value may hold 1,024 characters, counted as characters: emoji (two UTF-16 units each) too', async () => {
  const e = setup();
  e.record({ name: 'hits', value: 1, labels: { method: '😀'.repeat(1024) } });
  assert.is(await scalar(e, 'hits', { method: '😀'.repeat(1024) }), 1, 'it was refused at 512 emoji');
  await expectError(() => e.record({ name: 'hits', value: 1, labels: { method: '😀'.repeat(1025) } }), 'invalid_argument', 'labels', 'longer than 1024 characters');
  await expectError(() => e.record({ name: 'hits', value: 1, labels: { method: 'x'.repeat(1025) } }), 'invalid_argument', 'labels', 'longer than 1024 characters');
  e.register({ name: 'smiles', type: 'gauge', description: '😀'.repeat(1024) });
  await expectError(() => e.register({ name: 'frowns', type: 'gauge', description: '😀'.repeat(1025) }), 'invalid_argument', 'description', 'at most 1024 characters');
});

test('gauges set (default), inc and dec', async () => {
  const e = setup();
  e.record({ name: 'temperature', value: 20 });
  e.record({ name: 'temperature', value: 5, op: 'inc' });
  e.record({ name: 'temperature', value: 30, op: 'dec' });
  assert.is(await scalar(e, 'temperature'), -5);
  e.record({ name: 'temperature', value: 12 });
  assert.is(await scalar(e, 'temperature'), 12);
  await expectError(() => e.record({ name: 'temperature', value: 1, op: 'observe' }), 'invalid_argument', 'operation');
});

test('values must be finite numbers', async () => {
  const e = setup();
  for (const value of [Number.NaN, Infinity, -Infinity, '3' as unknown as number, undefined as unknown as number]) {
    await expectError(() => e.record({ name: 'temperature', value }), 'invalid_argument', 'value', 'finite');
  }
});

test('histograms and summaries observe values', async () => {
  const e = setup();
  for (const v of [5, 50, 500]) e.record({ name: 'size_bytes', value: v, labels: { bucket: 'b1' } });
  const [h] = (await e.get('size_bytes')).series as HistogramSeries[];
  assert.equal(h, {
    labels: { bucket: 'b1' },
    count: 3,
    sum: 555,
    buckets: [
      { upperBound: 10, cumulativeCount: 1 },
      { upperBound: 100, cumulativeCount: 2 },
    ],
  });
  for (let v = 1; v <= 100; v++) e.record({ name: 'wait_ms', value: v, op: 'observe' });
  const [s] = (await e.get('wait_ms')).series as SummarySeries[];
  assert.is(s.count, 100);
  assert.is(s.sum, 5050);
  assert.equal(s.quantiles.map((q) => q.quantile), [0.5, 0.9]);
  assert.ok(Math.abs(s.quantiles[0].value - 50) <= 1 && Math.abs(s.quantiles[1].value - 90) <= 1, JSON.stringify(s.quantiles));
  await expectError(() => e.record({ name: 'wait_ms', value: 1, op: 'inc' }), 'invalid_argument', 'operation');
});

test('labels must match the registered names exactly', async () => {
  const e = setup();
  await expectError(() => e.record({ name: 'hits', value: 1 }), 'invalid_argument', 'labels', '"method"');
  await expectError(() => e.record({ name: 'hits', value: 1, labels: {} }), 'invalid_argument', 'labels', 'missing label "method"');
  await expectError(
    () => e.record({ name: 'hits', value: 1, labels: { method: 'GET', region: 'eu' } }),
    'invalid_argument',
    'labels',
    'unknown label "region"',
  );
  await expectError(() => e.record({ name: 'temperature', value: 1, labels: { x: 'y' } }), 'invalid_argument', 'labels', '"x"');
  await expectError(
    () => e.record({ name: 'hits', value: 1, labels: { method: 7 as unknown as string } }),
    'invalid_argument',
    'labels',
  );
  await expectError(
    () => e.record({ name: 'hits', value: 1, labels: { method: 'x'.repeat(1025) } }),
    'invalid_argument',
    'labels',
    '1024',
  );
});

test('unknown metrics are not found', async () => {
  const e = setup();
  await expectError(() => e.record({ name: 'nope', value: 1 }), 'not_found', 'name', 'nope');
  await expectError(() => e.get('nope'), 'not_found', 'name');
});

test('labelled series are separate series', async () => {
  const e = setup();
  e.record({ name: 'hits', value: 1, labels: { method: 'GET' } });
  e.record({ name: 'hits', value: 10, labels: { method: 'PUT' } });
  e.record({ name: 'hits', value: 1, labels: { method: 'GET' } });
  const series = (await e.get('hits')).series as ScalarSeries[];
  assert.equal(
    series.sort((a, b) => a.labels.method.localeCompare(b.labels.method)),
    [
      { labels: { method: 'GET' }, value: 2 },
      { labels: { method: 'PUT' }, value: 10 },
    ],
  );
  assert.equal((await e.get('hits', { method: 'PUT' })).series, [{ labels: { method: 'PUT' }, value: 10 }]);
  await expectError(() => e.get('hits', { verb: 'PUT' }), 'invalid_argument', 'labels', 'verb');
});

test('label values that prom-client would merge into one series are refused', async () => {
  const e = new MetricsEngine({ defaultMetrics: false });
  e.register({ name: 'pairs', type: 'gauge', description: 'd', labelNames: ['a', 'b'] });
  e.record({ name: 'pairs', value: 1, labels: { a: 'x', b: 'y,b:z' } });
  // prom-client keys both as "a:x,b:y,b:z,".
  await expectError(() => e.record({ name: 'pairs', value: 2, labels: { a: 'x,b:y', b: 'z' } }), 'invalid_argument', 'labels', 'collide');
  e.record({ name: 'pairs', value: 3, labels: { a: 'host:8080', b: 'ok' } });
  const series = (await e.get('pairs')).series as ScalarSeries[];
  assert.is(series.length, 2);
  assert.is(series.find((s) => s.labels.a === 'x')?.value, 1, 'the first series was not overwritten');
});

test('the series of one metric are capped; beyond the cap nothing is recorded', async () => {
  const e = setup({ maxSeriesPerMetric: 3 });
  for (const method of ['GET', 'PUT', 'POST']) e.record({ name: 'hits', value: 1, labels: { method } });
  await expectError(
    () => e.record({ name: 'hits', value: 1, labels: { method: 'DELETE' } }),
    'resource_exhausted',
    'labels',
    'cardinality',
  );
  e.record({ name: 'hits', value: 1, labels: { method: 'GET' } });
  const series = (await e.get('hits')).series as ScalarSeries[];
  assert.is(series.length, 3);
  assert.not.ok(series.some((s) => s.labels.method === 'DELETE'));
  assert.is(e.stats().customSeries, 3 + 1 + 0 + 1, 'unlabelled metrics own their single series');
});

test('the series of all custom metrics together are capped', async () => {
  const e = new MetricsEngine({ defaultMetrics: false, limits: { maxTotalSeries: 4 } });
  e.register({ name: 'a', type: 'gauge', description: 'd', labelNames: ['k'] });
  e.register({ name: 'b', type: 'gauge', description: 'd', labelNames: ['k'] });
  e.record({ name: 'a', value: 1, labels: { k: '1' } });
  e.record({ name: 'a', value: 1, labels: { k: '2' } });
  e.record({ name: 'b', value: 1, labels: { k: '1' } });
  e.record({ name: 'b', value: 1, labels: { k: '2' } });
  await expectError(() => e.record({ name: 'b', value: 1, labels: { k: '3' } }), 'resource_exhausted', 'labels');
  assert.is(e.stats().customSeries, 4);
});

test('a batch is validated whole before anything is applied', async () => {
  const e = setup();
  const good = { name: 'hits', value: 1, labels: { method: 'GET' } };
  await expectError(
    () =>
      e.recordBatch([good, { name: 'temperature', value: 3 }, good, { name: 'temperature', value: Number.NaN }]),
    'invalid_argument',
    'records[3].value',
  );
  await expectError(() => e.recordBatch([good, { name: 'missing', value: 1 }]), 'not_found', 'records[1].name');
  await expectError(() => e.recordBatch([good, { name: 'hits', value: 1 }]), 'invalid_argument', 'records[1].labels');
  assert.equal((await e.get('hits')).series, [], 'nothing from the refused batches');
  assert.is(await scalar(e, 'temperature'), 0);

  e.recordBatch([good, { name: 'temperature', value: 3 }, good, { name: 'size_bytes', value: 7, labels: { bucket: 'b' } }]);
  assert.is(await scalar(e, 'hits'), 2);
  assert.is(await scalar(e, 'temperature'), 3);
});

test('the cardinality cap counts the new series of the batch itself', async () => {
  const e = setup({ maxSeriesPerMetric: 2 });
  const rec = (method: string) => ({ name: 'hits', value: 1, labels: { method } });
  await expectError(() => e.recordBatch([rec('a'), rec('b'), rec('a'), rec('c')]), 'resource_exhausted', 'records[3].labels');
  assert.equal((await e.get('hits')).series, []);
  e.recordBatch([rec('a'), rec('b'), rec('a')]);
  assert.is((await e.get('hits')).series.length, 2);
});

test('the batch size is capped', async () => {
  const e = setup({ maxBatchSize: 5 });
  const records = Array.from({ length: 6 }, () => ({ name: 'temperature', value: 1 }));
  await expectError(() => e.recordBatch(records), 'invalid_argument', 'records', 'at most 5');
  e.recordBatch(records.slice(0, 5));
});

test('service-maintained KPI metrics cannot be recorded by users', async () => {
  const e = new MetricsEngine({ defaultMetrics: false });
  const g = e.kpi.gauge({ name: 'rs3gw_storage_bytes', help: 'Stored bytes' });
  g.set(42);
  await expectError(() => e.record({ name: 'rs3gw_storage_bytes', value: 1 }), 'failed_precondition', 'name');
  assert.equal((await e.get('rs3gw_storage_bytes')).series, [{ labels: {}, value: 42 }]);
  assert.is((await e.get('rs3gw_storage_bytes')).descriptor.origin, 'kpi');
});

test('histogram buckets count exactly whatever the bounds, -1 included', async () => {
  const e = new MetricsEngine({ defaultMetrics: false });
  e.register({ name: 'delta', type: 'histogram', description: 'd', buckets: [-1, 0, 0.5, 1] });
  for (const v of [-5, 0, 0.5, 0.5, 1, 2, 100]) e.record({ name: 'delta', value: v });
  const [h] = (await e.get('delta')).series as HistogramSeries[];
  assert.equal(
    h.buckets.map((b) => [b.upperBound, b.cumulativeCount]),
    [
      [-1, 1],
      [0, 2],
      [0.5, 4],
      [1, 5],
    ],
  );
  assert.equal([h.count, h.sum], [7, 99]);
  for (const openMetrics of [false, true]) {
    const x = parseExposition((await e.scrape(openMetrics)).body, openMetrics);
    const counts = ['-1', '0', '0.5', '1', '+Inf'].map((le) => x.value('delta_bucket', { le }));
    assert.equal(counts, [1, 2, 4, 5, 7], `openMetrics=${openMetrics}`);
  }

  e.register({ name: 'above', type: 'histogram', description: 'd', buckets: [-1, 10], labelNames: ['k'] });
  e.record({ name: 'above', value: 100, labels: { k: 'a' } });
  const [a] = (await e.get('above')).series as HistogramSeries[];
  assert.equal(a.buckets.map((b) => b.cumulativeCount), [0, 0], 'a value above every bound is in +Inf only');
  assert.is(a.count, 1);
});

test('a record that would take a value or a sum beyond the largest finite number is refused', async () => {
  const e = setup();
  e.register({ name: 'big', type: 'counter', description: 'd' });
  e.record({ name: 'big', value: 1e308 });
  await expectError(() => e.record({ name: 'big', value: 1e308 }), 'invalid_argument', 'value', 'finite');
  assert.is(await scalar(e, 'big'), 1e308, 'the counter is unchanged');
  const trend = await e.trend('big', undefined, 60_000);
  assert.ok(Number.isFinite(trend.change) && Number.isFinite(trend.mean), `${trend.change} ${trend.mean}`);

  e.record({ name: 'temperature', value: -1.5e308 });
  await expectError(() => e.record({ name: 'temperature', value: 1e308, op: 'dec' }), 'invalid_argument', 'value');
  e.record({ name: 'temperature', value: 1e308, op: 'inc' });
  assert.is(await scalar(e, 'temperature'), -1.5e308 + 1e308);
  e.record({ name: 'temperature', value: 1.5e308 });
  await expectError(() => e.record({ name: 'temperature', value: 1e308, op: 'inc' }), 'invalid_argument', 'value');
  assert.is(await scalar(e, 'temperature'), 1.5e308);

  e.record({ name: 'size_bytes', value: 1e308, labels: { bucket: 'b' } });
  await expectError(() => e.record({ name: 'size_bytes', value: 1e308, labels: { bucket: 'b' } }), 'invalid_argument', 'value', 'sum');
  e.record({ name: 'wait_ms', value: -1e308 });
  await expectError(() => e.record({ name: 'wait_ms', value: -1e308 }), 'invalid_argument', 'value', 'sum');
  const [h] = (await e.get('size_bytes')).series as HistogramSeries[];
  const [s] = (await e.get('wait_ms')).series as SummarySeries[];
  assert.equal([h.count, h.sum, s.count, s.sum], [1, 1e308, 1, -1e308]);

  // Within a batch, the records before count: this one overflows only together.
  await expectError(
    () => e.recordBatch([{ name: 'hits', value: 1e308, labels: { method: 'GET' } }, { name: 'hits', value: 1e308, labels: { method: 'GET' } }]),
    'invalid_argument',
    'records[1].value',
  );
  assert.equal((await e.get('hits')).series, [], 'nothing of the refused batch');
});

test.run();
