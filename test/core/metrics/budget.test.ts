import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { DEFAULT_METRICS_LIMITS, MetricsEngine, type MetricsLimits } from '../../../src/core/metrics/index.js';
import { expectError } from '../../support/errors.js';

const engine = (limits: Partial<MetricsLimits> = {}) => new MetricsEngine({ defaultMetrics: false, limits });
const bytes = (text: string) => Buffer.byteLength(text, 'utf8');

test('the exposition lines of all custom metrics are capped: a histogram series takes buckets + 3, a summary quantiles + 2', async () => {
  const e = engine({ maxTotalCells: 20 });
  e.register({ name: 'h', type: 'histogram', description: 'd', labelNames: ['k'], buckets: [1, 2] });
  e.register({ name: 's', type: 'summary', description: 'd', labelNames: ['k'], quantiles: [0.5] });
  e.register({ name: 'c', type: 'counter', description: 'd', labelNames: ['k'] });
  e.record({ name: 'h', value: 1, labels: { k: 'a' } });
  e.record({ name: 'h', value: 1, labels: { k: 'b' } });
  e.record({ name: 's', value: 1, labels: { k: 'a' } });
  e.record({ name: 's', value: 1, labels: { k: 'b' } });
  assert.is(e.stats().customCells, 5 + 5 + 3 + 3);
  await expectError(() => e.record({ name: 'h', value: 1, labels: { k: 'c' } }), 'resource_exhausted', 'labels', 'RS3GW_METRICS_MAX_CELLS');
  // Up to the cap exactly: four counter series, one line each.
  for (const k of ['1', '2', '3', '4']) e.record({ name: 'c', value: 1, labels: { k } });
  assert.is(e.stats().customCells, 20);
  await expectError(() => e.record({ name: 'c', value: 1, labels: { k: '5' } }), 'resource_exhausted', 'labels', '20 lines');
  e.record({ name: 'h', value: 2, labels: { k: 'a' } });
  assert.is(e.stats().customCells, 20, 'records to existing series take nothing more');
});

test('a batch counts the lines of the series it creates itself; refused, it changes nothing', async () => {
  const e = engine({ maxTotalCells: 10 });
  e.register({ name: 'h', type: 'histogram', description: 'd', labelNames: ['k'], buckets: [1, 2] });
  const rec = (k: string) => ({ name: 'h', value: 1, labels: { k } });
  await expectError(() => e.recordBatch([rec('a'), rec('b'), rec('a'), rec('c')]), 'resource_exhausted', 'records[3].labels', 'RS3GW_METRICS_MAX_CELLS');
  assert.is(e.stats().customCells, 0);
  assert.equal(e.recordBatch([rec('a'), rec('b'), rec('a')]), { recorded: 3 });
  assert.is(e.stats().customCells, 10);
});

test('an unlabelled metric takes its lines when registered; beyond the cap it is refused naming buckets or quantiles', async () => {
  const e = engine({ maxTotalCells: 8 });
  e.register({ name: 'h', type: 'histogram', description: 'd', buckets: [1, 2, 3] });
  assert.is(e.stats().customCells, 6);
  await expectError(() => e.register({ name: 'h2', type: 'histogram', description: 'd', buckets: [1] }), 'resource_exhausted', 'buckets', 'RS3GW_METRICS_MAX_CELLS');
  await expectError(() => e.register({ name: 's', type: 'summary', description: 'd', quantiles: [0.5] }), 'resource_exhausted', 'quantiles');
  e.register({ name: 'g', type: 'gauge', description: 'd' });
  e.register({ name: 'g2', type: 'gauge', description: 'd' });
  await expectError(() => e.register({ name: 'g3', type: 'gauge', description: 'd' }), 'resource_exhausted', 'name');
  e.register({ name: 'labelled', type: 'histogram', description: 'd', labelNames: ['k'], buckets: [1, 2, 3] });
  assert.is((await e.list()).length, 4, 'a labelled metric takes no lines before its first series');
});

test('the exposition bytes are capped; the count is an upper bound whatever the label values hold', async () => {
  const e = engine();
  e.register({ name: 'h', type: 'histogram', description: 'with "quotes", \\ and\na newline', labelNames: ['a', 'b'], buckets: [-1.2345678901234567e-300, 0, 1e21] });
  e.register({ name: 'q', type: 'summary', description: 'd', labelNames: ['a'], quantiles: [0.123456789, 0.5] });
  e.register({ name: 'c', type: 'counter', description: 'd', labelNames: ['a'] });
  const odd = ['\\\\\\', '"""', '\n\n\n', '€𝄞é', 'x'.repeat(1024), '\\"\n'.repeat(300)];
  odd.forEach((a, i) => {
    e.record({ name: 'h', value: -1.2345678901234567e300, labels: { a, b: odd[(i + 1) % odd.length] } });
    e.record({ name: 'q', value: -1.2345678901234567e-300, labels: { a } });
    e.record({ name: 'c', value: 1.2345678901234567e300, labels: { a } });
  });
  const counted = e.stats().customExpositionBytes;
  assert.ok(bytes(await e.exportPrometheus('custom')) <= counted, 'Prometheus text within the count');
  assert.ok(bytes((await e.scrape(true)).body) <= counted, 'OpenMetrics within the count');
  assert.ok(bytes((await e.scrape(false)).body) <= counted, '/metrics within the count');
});

test('a series beyond the byte cap is refused, naming the field and the setting', async () => {
  const probe = engine();
  probe.register({ name: 'g', type: 'gauge', description: 'd', labelNames: ['k'] });
  const header = probe.stats().customExpositionBytes;
  probe.record({ name: 'g', value: 1, labels: { k: 'a'.repeat(100) } });
  const series = probe.stats().customExpositionBytes - header;

  // Room for the header and one such series, and one byte short of a second.
  const e = engine({ maxExpositionBytes: header + 2 * series - 1 });
  e.register({ name: 'g', type: 'gauge', description: 'd', labelNames: ['k'] });
  e.record({ name: 'g', value: 1, labels: { k: 'a'.repeat(100) } });
  await expectError(
    () => e.recordBatch([{ name: 'g', value: 2, labels: { k: 'a'.repeat(100) } }, { name: 'g', value: 1, labels: { k: 'b'.repeat(100) } }]),
    'resource_exhausted',
    'records[1].labels',
    'RS3GW_METRICS_MAX_EXPOSITION_BYTES',
  );
  e.record({ name: 'g', value: 1, labels: { k: 'b'.repeat(99) } });
  assert.is(e.stats().customExpositionBytes, header + 2 * series - 1, 'up to the cap exactly');
  await expectError(
    () => e.register({ name: 'long', type: 'gauge', description: 'd'.repeat(1000), labelNames: ['k'] }),
    'resource_exhausted',
    'description',
    'RS3GW_METRICS_MAX_EXPOSITION_BYTES',
  );
});

test('with the default caps, 16 labels of 1,024 characters on a 64-bucket histogram stop within the byte budget', async () => {
  const e = engine();
  const labelNames = Array.from({ length: 16 }, (_, i) => `l${i}`);
  e.register({ name: 'bomb', type: 'histogram', description: 'd', labelNames, buckets: Array.from({ length: 64 }, (_, i) => i + 1) });
  const pad = 'x'.repeat(1020);
  const records = Array.from({ length: 100 }, (_, s) => ({
    name: 'bomb',
    value: 1,
    labels: Object.fromEntries(labelNames.map((l) => [l, pad + String(s).padStart(4, '0')])),
  }));
  let accepted = 0;
  for (const record of records) {
    try {
      e.record(record);
      accepted += 1;
    } catch {
      break;
    }
  }
  assert.ok(accepted > 0 && accepted < records.length, `stopped after ${accepted} series`);
  await expectError(() => e.record(records[accepted]), 'resource_exhausted', 'labels', 'RS3GW_METRICS_MAX_EXPOSITION_BYTES');
  const body = (await e.scrape(false)).body;
  assert.ok(bytes(body) <= DEFAULT_METRICS_LIMITS.maxExpositionBytes, `exposition of ${bytes(body)} bytes`);
});

test.run();
