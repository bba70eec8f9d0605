/**
 * Measures what the anomaly engine holds, so the figures in the README (per metric, and in all at
 * the default limits) are ones a reader can rerun: `npx tsx test/core/anomaly/memory.test.ts`
 * prints them. Memory is the JS heap plus array buffers after full collections.
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { AnomalyEngine, DEFAULT_DETECTOR_TUNING, MAX_SEASON_SLOTS, type DetectorTuning } from '../../../src/core/anomaly/index.js';
import { FakeClock } from '../../support/fake-clock.js';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

/** Documented bound on a metric's state besides its seasonal slots (README, anomaly section). */
const METRIC_BYTES = 4 * 1024;
/** Per seasonal slot: expected value and last period (8 bytes each), periods seen (1 byte). */
const SLOT_BYTES = 17;

function used(): number {
  gc();
  gc();
  const m = process.memoryUsage();
  return m.heapUsed + m.arrayBuffers;
}

/** Longest accepted name, distinct per metric, so names cost what they can cost at most. */
const name = (i: number) => `m${String(i).padStart(199, '0')}`;

/** Every window and memory at its largest: none of them may allocate per sample or per window. */
const LARGEST_WINDOWS: Partial<DetectorTuning> = {
  levelWindow: 10_000_000,
  shiftWindow: 10_000_000,
  varianceShortWindow: 9_999_999,
  varianceLongWindow: 10_000_000,
  surpriseMemory: 10_000_000,
  flatMinRun: 10_000_000,
};

/** Bytes per metric of `count` metrics with `slots` seasonal slots and every window at its largest, each fed `samples` samples a minute apart (dated before the clock: later ones are refused). */
function perMetric(count: number, slots: number, samples: number): number {
  const e = new AnomalyEngine({ clock: new FakeClock(), limits: { maxMetrics: count, maxSeasonSlots: Math.max(1, count * slots) } });
  const before = used();
  for (let i = 0; i < count; i++) {
    e.configure(name(i), { windowSize: 10_000_000, minSamples: 10_000_000, restSamples: 10_000_000, detector: { ...LARGEST_WINDOWS, seasonSlots: slots } });
    for (let k = 0; k < samples; k++) e.record(name(i), k % 7, Date.UTC(2025, 0, 1) + k * 60_000);
  }
  const bytes = (used() - before) / count;
  assert.is(e.metricCount, count);
  return bytes;
}

test('a metric holds at most 4 KB plus 17 bytes per seasonal slot, whatever its windows and samples', () => {
  const flat = perMetric(2_000, 0, 1_000);
  const daily = perMetric(2_000, DEFAULT_DETECTOR_TUNING.seasonSlots, 1_000);
  const weekly = perMetric(200, MAX_SEASON_SLOTS, 1_000);
  console.log(`bytes per metric: no profile ${flat.toFixed(0)}, daily (288 slots) ${daily.toFixed(0)}, weekly (10080 slots) ${weekly.toFixed(0)}`);
  assert.ok(flat <= METRIC_BYTES, `no profile: ${flat}`);
  assert.ok(daily <= METRIC_BYTES + DEFAULT_DETECTOR_TUNING.seasonSlots * SLOT_BYTES, `daily: ${daily}`);
  assert.ok(weekly <= METRIC_BYTES + MAX_SEASON_SLOTS * SLOT_BYTES, `weekly: ${weekly}`);
  // Ten times the samples add nothing: the state is fixed by the configuration.
  const longer = perMetric(200, DEFAULT_DETECTOR_TUNING.seasonSlots, 10_000);
  assert.ok(longer <= METRIC_BYTES + DEFAULT_DETECTOR_TUNING.seasonSlots * SLOT_BYTES, `after 10,000 samples: ${longer}`);
});

test('the anomaly history holds what it has raised, not its capacity', () => {
  const before = used();
  const engines = Array.from({ length: 4 }, () => new AnomalyEngine({ clock: new FakeClock(), limits: { historyCapacity: 10_000_000 } }));
  const bytes = (used() - before) / engines.length;
  console.log(`bytes per engine with a history of 10,000,000 and no anomaly: ${bytes.toFixed(0)}`);
  assert.ok(bytes < 100_000, `${bytes} bytes`);
});

test('at the default limits the engine holds at most 10,000 x 4 KB + 2,880,000 slots x 17 bytes, filled the worst way', () => {
  const e = new AnomalyEngine({ clock: new FakeClock() });
  const { maxMetrics, maxSeasonSlots } = e.limits;
  const bound = maxMetrics * METRIC_BYTES + maxSeasonSlots * SLOT_BYTES;
  const before = used();
  // Weekly profiles until the slot budget refuses one, then metrics without a profile up to the
  // metric cap: the most slots and the most metrics at once.
  let weekly = 0;
  for (;;) {
    try {
      e.configure(name(weekly), { detector: { ...LARGEST_WINDOWS, seasonSlots: MAX_SEASON_SLOTS } });
    } catch (error) {
      assert.match(String(error), /^ObservabilityError: config\.detector_parameters\.season_slots: /);
      break;
    }
    weekly++;
    assert.ok(weekly * MAX_SEASON_SLOTS <= maxSeasonSlots, `${weekly} weekly profiles exceed the slot budget`);
  }
  assert.is(weekly, Math.floor(maxSeasonSlots / MAX_SEASON_SLOTS));
  const rest = maxSeasonSlots - e.seasonSlotCount;
  e.configure(name(weekly), { detector: { ...LARGEST_WINDOWS, seasonSlots: rest } });
  for (let i = weekly + 1; i < maxMetrics; i++) e.configure(name(i), { detector: { ...LARGEST_WINDOWS, seasonSlots: 0 } });
  for (let i = 0; i < maxMetrics; i++) e.record(name(i), i, Date.UTC(2026, 0, 1));
  assert.is(e.metricCount, maxMetrics);
  assert.is(e.seasonSlotCount, maxSeasonSlots);
  const total = used() - before;
  const mib = (n: number) => (n / 2 ** 20).toFixed(1);
  console.log(`default limits, filled: ${mib(total)} MiB held (bound ${mib(bound)} MiB)`);
  assert.ok(total <= bound, `${total} > ${bound}`);
});

test.run();
