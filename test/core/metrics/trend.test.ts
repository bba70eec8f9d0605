import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { MetricsEngine, type MetricsLimits } from '../../../src/core/metrics/index.js';
import { FakeClock } from '../../support/fake-clock.js';
import { expectError } from '../../support/errors.js';

const MIN = 60_000;

function setup(limits: Partial<MetricsLimits> = {}) {
  const clock = new FakeClock();
  const e = new MetricsEngine({ clock, intervals: clock, defaultMetrics: false, limits });
  e.register({ name: 'queue', type: 'gauge', description: 'Queue depth', labelNames: ['q'] });
  return { clock, e };
}

test('a trend covers the snapshots in the window plus the current value', async () => {
  const { clock, e } = setup();
  const t0 = clock.nowMs();
  for (const v of [100, 10, 20, 30]) {
    e.record({ name: 'queue', value: v, labels: { q: 'a' } });
    await e.snapshot();
    clock.advance(MIN);
  }
  e.record({ name: 'queue', value: 40, labels: { q: 'a' } });
  // Snapshots at t0..t0+3min; now t0+4min. A 3-minute window starts at t0+1min (value 10).
  const trend = await e.trend('queue', { q: 'a' }, 3 * MIN);
  assert.equal(
    trend.points.map((p) => [p.timestampMs - t0, p.value]),
    [
      [1 * MIN, 10],
      [2 * MIN, 20],
      [3 * MIN, 30],
      [4 * MIN, 40],
    ],
  );
  assert.is(trend.start, 10);
  assert.is(trend.end, 40);
  assert.is(trend.change, 30);
  assert.is(trend.percentChange, 300);
  assert.is(trend.min, 10);
  assert.is(trend.max, 40);
  assert.is(trend.mean, 25);
  assert.ok(Math.abs(trend.slopePerSecond! - 10 / 60) < 1e-12, `slope ${trend.slopePerSecond}`);
  assert.is(trend.samples, 4);
  assert.is(trend.statistic, 'value');

  const all = await e.trend('queue', { q: 'a' }, 60 * MIN);
  assert.is(all.start, 100, 'a wider window reaches the older snapshot');
  assert.is(all.percentChange, -60);
});

test('a window a nanosecond shorter than a snapshot\'s age leaves that snapshot out', async () => {
  const { clock, e } = setup();
  const t0 = clock.nowMs();
  for (const v of [10, 20]) {
    e.record({ name: 'queue', value: v, labels: { q: 'a' } });
    await e.snapshot();
    clock.advance(MIN);
  }
  const times = async (windowMs: number) => (await e.trend('queue', { q: 'a' }, windowMs)).points.map((p) => p.timestampMs - t0);
  // Now t0 + 2 min: the first snapshot is exactly 2 minutes old.
  assert.equal(await times(2 * MIN), [0, MIN, 2 * MIN]);
  assert.equal(await times(2 * MIN - 1e-6), [MIN, 2 * MIN]);
});

/**
 * An engine whose wall clock and monotonic clock are apart (only the wall clock steps), with
 * `take` recording a value, snapshotting it and letting a minute pass on both clocks.
 */
function steppedSetup() {
  const wall = new FakeClock();
  const mono = new FakeClock(1_000_000);
  const e = new MetricsEngine({ clock: wall, intervals: mono, defaultMetrics: false });
  e.register({ name: 'queue', type: 'gauge', description: 'Queue depth' });
  const take = async (...values: number[]) => {
    for (const value of values) {
      e.record({ name: 'queue', value });
      await e.snapshot();
      wall.advance(MIN);
      mono.advance(MIN);
    }
  };
  // Every point as [minutes before the wall clock's now, value].
  const trend = async (windowMs: number) => {
    const t = await e.trend('queue', {}, windowMs);
    return { start: t.start, slope: t.slopePerSecond, points: t.points.map((p) => [(wall.nowMs() - p.timestampMs) / MIN, p.value]) };
  };
  return { wall, e, take, trend };
}

test('after the wall clock steps back, trend points stay in the order taken, as far apart as taken', async () => {
  const { wall, e, take, trend } = steppedSetup();
  await take(10, 20, 30);
  wall.advance(-90_000);
  await take(40, 50);
  e.record({ name: 'queue', value: 60 });
  assert.equal(await trend(60 * MIN), { start: 10, slope: 10 / 60, points: [[5, 10], [4, 20], [3, 30], [2, 40], [1, 50], [0, 60]] });
});

test('after the wall clock steps forward 2 h, a 1 h window still holds the last minutes', async () => {
  const { wall, e, take, trend } = steppedSetup();
  await take(10, 20, 30);
  wall.advance(2 * 60 * MIN);
  e.record({ name: 'queue', value: 40 });
  assert.equal(await trend(60 * MIN), { start: 10, slope: 10 / 60, points: [[3, 10], [2, 20], [1, 30], [0, 40]] });
});

test('after the wall clock steps back by more than the window, the window holds what it did', async () => {
  const { wall, take, trend } = steppedSetup();
  await take(10, 20, 30);
  wall.advance(-2 * 60 * MIN);
  assert.equal((await trend(150_000)).points, [[2, 20], [1, 30], [0, 30]]);
});

test('percent change is null from zero, slope null from one point', async () => {
  const { clock, e } = setup();
  e.record({ name: 'queue', value: 0, labels: { q: 'a' } });
  const single = await e.trend('queue', { q: 'a' }, MIN);
  assert.is(single.samples, 1);
  assert.is(single.slopePerSecond, null);
  assert.is(single.percentChange, null);
  await e.snapshot();
  clock.advance(1000);
  e.record({ name: 'queue', value: 5, labels: { q: 'a' } });
  const t = await e.trend('queue', { q: 'a' }, MIN);
  assert.is(t.change, 5);
  assert.is(t.percentChange, null);
  assert.is(t.slopePerSecond, 5);
});

test('a series near the largest double has a number for a slope, not NaN', async () => {
  const { clock, e } = setup();
  for (const v of [1.7e308, 1.7e308, 1.7e308]) {
    e.record({ name: 'queue', value: v, labels: { q: 'huge' } });
    await e.snapshot();
    clock.advance(MIN);
  }
  const flat = await e.trend('queue', { q: 'huge' }, 60 * MIN);
  assert.is(flat.slopePerSecond, 0, 'a constant series is flat');
  assert.equal([flat.min, flat.mean, flat.max], [1.7e308, 1.7e308, 1.7e308]);
  // Ten points: summing each value over the count read 1.6999999999999995e308, below the minimum.
  for (let i = 0; i < 9; i++) {
    e.record({ name: 'queue', value: 1.7e308, labels: { q: 'ten' } });
    await e.snapshot();
    clock.advance(MIN);
  }
  const ten = await e.trend('queue', { q: 'ten' }, 60 * MIN);
  assert.equal([ten.min, ten.mean, ten.max], [1.7e308, 1.7e308, 1.7e308], `mean of a constant series: ${ten.mean}`);
  for (const v of [-1.7e308, 0, 1.7e308]) {
    e.record({ name: 'queue', value: v, labels: { q: 'swing' } });
    await e.snapshot();
    clock.advance(MIN);
  }
  // Points -1, 0, 1 and the current 1 (x 1.7e308) a minute apart: least squares gives 0.7 a minute.
  const slope = (await e.trend('queue', { q: 'swing' }, 60 * MIN)).slopePerSecond!;
  assert.ok(Math.abs(slope / ((0.7 * 1.7e308) / 60) - 1) < 1e-12, `0.7 x 1.7e308 a minute, got ${slope}`);
});

test('a change, percent or slope beyond the largest double reads as the largest double of its sign, and saturated says so', async () => {
  const { clock, e } = setup();
  const moves: Record<string, [number, number]> = { up: [-1.7e308, 1.7e308], down: [1.7e308, -1.7e308], tiny: [5e-324, 1], plain: [10, 20] };
  for (const [q, [from]] of Object.entries(moves)) e.record({ name: 'queue', value: from, labels: { q } });
  await e.snapshot();
  clock.advance(500);
  for (const [q, [, to]] of Object.entries(moves)) e.record({ name: 'queue', value: to, labels: { q } });
  const figures = async (q: string) => {
    const t = await e.trend('queue', { q }, MIN);
    return [t.change, t.percentChange, t.slopePerSecond, t.saturated];
  };
  const MAX = Number.MAX_VALUE;
  // 3.4e308 in half a second; the percent (200) is still a double.
  assert.equal(await figures('up'), [MAX, 200, MAX, true]);
  assert.equal(await figures('down'), [-MAX, -200, -MAX, true]);
  assert.equal(await figures('tiny'), [1, MAX, 2, true], 'a percent of the smallest double');
  assert.equal(await figures('plain'), [10, 100, 20, false]);
});

test('a series born after a snapshot has no point in it', async () => {
  const { clock, e } = setup();
  e.record({ name: 'queue', value: 1, labels: { q: 'a' } });
  await e.snapshot();
  clock.advance(MIN);
  e.record({ name: 'queue', value: 2, labels: { q: 'b' } });
  await e.snapshot();
  clock.advance(MIN);
  assert.is((await e.trend('queue', { q: 'a' }, 10 * MIN)).samples, 3);
  assert.is((await e.trend('queue', { q: 'b' }, 10 * MIN)).samples, 2);
});

test('histogram trends follow count (default) or sum', async () => {
  const { clock, e } = setup();
  e.register({ name: 'obj_bytes', type: 'histogram', description: 'd', buckets: [1] });
  e.record({ name: 'obj_bytes', value: 10 });
  await e.snapshot();
  clock.advance(10_000);
  e.record({ name: 'obj_bytes', value: 30 });
  const count = await e.trend('obj_bytes', {}, MIN);
  assert.is(count.statistic, 'count');
  assert.equal([count.start, count.end], [1, 2]);
  const sum = await e.trend('obj_bytes', undefined, MIN, 'sum');
  assert.equal([sum.start, sum.end], [10, 40]);
  await expectError(() => e.trend('obj_bytes', {}, MIN, 'value'), 'invalid_argument', 'statistic');
  await expectError(() => e.trend('queue', { q: 'a' }, MIN, 'sum'), 'invalid_argument', 'statistic');
});

test('unknown metric or series is not found; bad window refused', async () => {
  const { e } = setup();
  e.record({ name: 'queue', value: 1, labels: { q: 'a' } });
  await expectError(() => e.trend('nope', {}, MIN), 'not_found', 'name');
  await expectError(() => e.trend('queue', { q: 'zzz' }, MIN), 'not_found', 'labels');
  await expectError(() => e.trend('queue', {}, MIN), 'invalid_argument', 'labels', 'missing label "q"');
  await expectError(() => e.trend('queue', { q: 'a' }, 0), 'invalid_argument', 'window');
  await expectError(() => e.trend('queue', { q: 'a' }, Number.NaN), 'invalid_argument', 'window');
});

test('the snapshot ring keeps at most maxSnapshots, dropping the oldest', async () => {
  const { clock, e } = setup({ maxSnapshots: 3 });
  for (let v = 1; v <= 5; v++) {
    e.record({ name: 'queue', value: v, labels: { q: 'a' } });
    await e.snapshot();
    clock.advance(MIN);
  }
  assert.is(e.stats().snapshots, 3);
  const t = await e.trend('queue', { q: 'a' }, 24 * 60 * MIN);
  assert.equal(t.points.map((p) => p.value), [3, 4, 5, 5]);
});

test('the snapshot ring keeps at most maxSnapshotValues values', async () => {
  const { e } = setup({ maxSnapshotValues: 10 });
  for (let i = 0; i < 4; i++) e.record({ name: 'queue', value: i, labels: { q: String(i) } });
  for (let i = 0; i < 5; i++) await e.snapshot();
  // 4 values per snapshot: only two snapshots fit in 10 values.
  assert.equal([e.stats().snapshots, e.stats().snapshotValues], [2, 8]);
});

test('KPI metrics are snapshotted and trended like custom ones', async () => {
  const { clock, e } = setup();
  const bytes = e.kpi.gauge({ name: 'rs3gw_storage_bytes', help: 'Stored bytes' });
  bytes.set(1000);
  await e.snapshot();
  clock.advance(MIN);
  bytes.set(1500);
  const t = await e.trend('rs3gw_storage_bytes', {}, 10 * MIN);
  assert.equal([t.start, t.end, t.percentChange], [1000, 1500, 50]);
});

test('start/stop drive periodic snapshots', async () => {
  const { e } = setup();
  await expectError(() => e.start(10), 'invalid_argument', 'interval_ms');
  await expectError(() => e.start(1500.5), 'invalid_argument', 'interval_ms');
  e.start(1000);
  assert.ok(e.running);
  await new Promise((resolve) => setTimeout(resolve, 1150));
  e.stop();
  assert.not.ok(e.running);
  assert.is(e.stats().snapshots, 1);
  assert.is(e.stats().lastSnapshotError, undefined);
  e.stop();
});

test.run();
