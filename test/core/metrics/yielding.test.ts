import { Counter, Histogram, Registry, Summary } from 'prom-client';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { MetricsEngine } from '../../../src/core/metrics/index.js';
import { CHUNK_SERIES } from '../../../src/core/metrics/engine.js';
import { NameMapRegistry } from '../../../src/core/metrics/registry.js';
import type { HistogramSeries, ScalarSeries, SummarySeries } from '../../../src/core/metrics/types.js';
import { FakeClock } from '../../support/fake-clock.js';

/** Runs `work` with an immediate queued first: reports whether it ran before `work` finished. */
async function otherWorkRunsDuring(work: () => Promise<unknown>): Promise<boolean> {
  let ran = false;
  setImmediate(() => (ran = true));
  await work();
  return ran;
}

test('a snapshot of many series lets other work run while it is taken', async () => {
  const e = new MetricsEngine({ defaultMetrics: false, limits: { maxSeriesPerMetric: 3 * CHUNK_SERIES } });
  e.register({ name: 'many', type: 'gauge', description: 'd', labelNames: ['k'] });
  const series = 2 * CHUNK_SERIES + 1;
  for (let start = 0; start < series; start += 1000) {
    const records = [];
    for (let k = start; k < Math.min(series, start + 1000); k++) records.push({ name: 'many', value: k, labels: { k: String(k) } });
    e.recordBatch(records);
  }
  assert.ok(await otherWorkRunsDuring(() => e.snapshot()), 'an immediate ran during the snapshot');
  assert.is(e.stats().snapshotValues, series, 'and the snapshot holds every series');
});

test('a snapshot of a few series is taken in one go', async () => {
  const e = new MetricsEngine({ defaultMetrics: false });
  e.register({ name: 'few', type: 'gauge', description: 'd' });
  assert.not.ok(await otherWorkRunsDuring(() => e.snapshot()));
});

test("snapshots store each kind's statistics as read from the metric", async () => {
  const clock = new FakeClock();
  const e = new MetricsEngine({ clock, intervals: clock, defaultMetrics: false });
  e.register({ name: 'c', type: 'counter', description: 'd', labelNames: ['k'] });
  e.register({ name: 'g', type: 'gauge', description: 'd' });
  e.register({ name: 'h', type: 'histogram', description: 'd', labelNames: ['k'], buckets: [1] });
  e.register({ name: 's', type: 'summary', description: 'd' });
  e.record({ name: 'c', value: 0.1, labels: { k: 'a' } });
  e.record({ name: 'c', value: 0.2, labels: { k: 'a' } });
  e.record({ name: 'g', value: 5 });
  e.record({ name: 'g', value: 0.3, op: 'dec' });
  e.record({ name: 'g', value: 0.1, op: 'inc' });
  for (const v of [0.5, 3, -2]) e.record({ name: 'h', value: v, labels: { k: 'b' } });
  for (const v of [1, 2]) e.record({ name: 's', value: v });
  await e.snapshot();
  clock.advance(1000);
  const snapshotted = async (name: string, statistic: 'value' | 'count' | 'sum', labels?: Record<string, string>) =>
    (await e.trend(name, labels, 5000, statistic)).points[0].value;
  const [c] = (await e.get('c')).series as ScalarSeries[];
  const [g] = (await e.get('g')).series as ScalarSeries[];
  const [h] = (await e.get('h')).series as HistogramSeries[];
  const [s] = (await e.get('s')).series as SummarySeries[];
  assert.is(await snapshotted('c', 'value', { k: 'a' }), c.value);
  assert.is(await snapshotted('g', 'value'), g.value);
  assert.is(await snapshotted('h', 'count', { k: 'b' }), h.count);
  assert.is(await snapshotted('h', 'sum', { k: 'b' }), h.sum);
  assert.is(await snapshotted('s', 'count'), s.count);
  assert.is(await snapshotted('s', 'sum'), s.sum);
  assert.is(h.count, 3);
});

/** Runs `work` while counting turns of the event loop (immediates that ran before it finished). */
async function turnsDuring(work: () => Promise<unknown>): Promise<number> {
  let turns = 0;
  let done = false;
  const tick = (): void => {
    if (done) return;
    turns++;
    setImmediate(tick);
  };
  setImmediate(tick);
  await work();
  done = true;
  return turns;
}

function manySeries(): MetricsEngine {
  const e = new MetricsEngine({ defaultMetrics: false, limits: { maxSeriesPerMetric: 3 * CHUNK_SERIES } });
  e.register({ name: 'many', type: 'gauge', description: 'd', labelNames: ['k'] });
  for (let start = 0; start < 2 * CHUNK_SERIES + 1; start += 1000) {
    const records = [];
    for (let k = start; k < Math.min(2 * CHUNK_SERIES + 1, start + 1000); k++) records.push({ name: 'many', value: k, labels: { k: String(k) } });
    e.recordBatch(records);
  }
  // The JSON export reads a metric's series at once (at most RS3GW_METRICS_MAX_SERIES)
  // and turns between metrics.
  e.register({ name: 'more', type: 'gauge', description: 'd' });
  return e;
}

test('a scrape and the exports of many series let other work run while they are written', async () => {
  const e = manySeries();
  assert.ok(await otherWorkRunsDuring(() => e.scrape(false)), 'Prometheus text');
  assert.ok(await otherWorkRunsDuring(() => e.scrape(true)), 'OpenMetrics');
  assert.ok(await otherWorkRunsDuring(() => e.exportPrometheus()), 'ExportMetrics, Prometheus');
  assert.ok(await otherWorkRunsDuring(() => e.exportJson()), 'ExportMetrics, JSON');
});

test('a scrape and the exports of many small metrics take a few turns, not one a metric', async () => {
  // A turn a metric made each wait behind every other caller's chunk once per metric: 10-20 s for a
  // scrape of a thousand metrics beside a few other scrapes and exports.
  const e = new MetricsEngine({ defaultMetrics: false });
  for (let i = 0; i < 1000; i++) {
    e.register({ name: `small_${i}`, type: 'gauge', description: 'd' });
    e.record({ name: `small_${i}`, value: i });
  }
  for (const [what, work] of [
    ['Prometheus text', () => e.scrape(false)],
    ['OpenMetrics', () => e.scrape(true)],
    ['ExportMetrics, Prometheus', () => e.exportPrometheus()],
    ['ExportMetrics, JSON', () => e.exportJson()],
  ] as const) {
    const turns = await turnsDuring(work);
    assert.ok(turns <= 10, `${what}: ${turns} turns for 1,000 metrics of one series`);
  }
});

test("the registry's exposition is prom-client's, in both formats, but for \" escaped in OpenMetrics HELP", async () => {
  for (const contentType of [Registry.PROMETHEUS_CONTENT_TYPE, Registry.OPENMETRICS_CONTENT_TYPE] as const) {
    const registry = new NameMapRegistry<typeof contentType>();
    registry.setContentType(contentType);
    const hits = new Counter({ name: 'hits_total', help: 'Hits "all"\nkinds', labelNames: ['k'], registers: [registry] });
    const sizes = new Histogram({ name: 'sizes', help: 'd', labelNames: ['k'], buckets: [1, 2], registers: [registry] });
    new Summary({ name: 'waits', help: 'd', registers: [registry] }).observe(1);
    hits.inc({ k: 'a\\"\n' }, 2);
    sizes.observe({ k: 'b' }, 1.5);
    const ours = await registry.metrics();
    const theirs = await Registry.prototype.metrics.call(registry);
    // prom-client leaves a " in HELP as it is, which OpenMetrics (not the text format) forbids.
    const openMetrics = contentType === Registry.OPENMETRICS_CONTENT_TYPE;
    assert.is(ours, openMetrics ? theirs.replace('# HELP hits Hits "all"', '# HELP hits Hits \\"all\\"') : theirs, contentType);
    assert.ok(ours.includes(openMetrics ? '# HELP hits Hits \\"all\\"\\nkinds\n' : '# HELP hits_total Hits "all"\\nkinds\n'), contentType);
    assert.ok(ours.includes('sizes_bucket{le="2",k="b"} 1'));
  }
});

test('a metric of many lines is written in chunks, with other work between them, as prom-client writes it', async () => {
  for (const contentType of [Registry.PROMETHEUS_CONTENT_TYPE, Registry.OPENMETRICS_CONTENT_TYPE] as const) {
    const registry = new NameMapRegistry<typeof contentType>();
    registry.setContentType(contentType);
    const sizes = new Histogram({ name: 'sizes', help: 'd', labelNames: ['k'], buckets: [1, 2], registers: [registry] });
    // 5 lines per series, 4,000 series: several chunks.
    for (let k = 0; k < 4000; k++) sizes.observe({ k: `series-${k}` }, k % 3);
    let turns = 0;
    let done = false;
    const tick = () => {
      turns += 1;
      if (!done) setImmediate(tick);
    };
    setImmediate(tick);
    const ours = await registry.metrics();
    done = true;
    assert.ok(turns >= 3, `${turns} turns of the event loop during the exposition`);
    assert.is(ours, await Registry.prototype.metrics.call(registry), contentType);
  }
});

test.run();
