/**
 * The counts of anomalies detected in the last hour, by severity and second: what the health
 * report's hour and 5-minute figures read, whatever the history still holds.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { DETECTION_COUNT_SPAN_MS, DetectionCounts } from '../../../src/core/anomaly/detection-counts.js';

const SECOND = 1_000;
const MINUTE = 60 * SECOND;
const T0 = Date.UTC(2026, 0, 1);

test('a window counts the anomalies detected in it, by severity; one leaves it within the second after its length', () => {
  const counts = new DetectionCounts();
  counts.add('critical', T0 + 400);
  counts.add('critical', T0 + 900);
  counts.add('low', T0 + 30 * SECOND);
  const at = (ms: number, within: number) => counts.within(within, T0 + ms);
  assert.equal(at(30 * SECOND, 5 * MINUTE), { low: 1, medium: 0, high: 0, critical: 2 });
  // Five minutes after the first: both criticals were detected in second 0, which still counts.
  assert.equal(at(5 * MINUTE + 400, 5 * MINUTE), { low: 1, medium: 0, high: 0, critical: 2 });
  assert.equal(at(5 * MINUTE + 999, 5 * MINUTE), { low: 1, medium: 0, high: 0, critical: 2 });
  // A second later the window starts after them.
  assert.equal(at(5 * MINUTE + SECOND, 5 * MINUTE), { low: 1, medium: 0, high: 0, critical: 0 });
  assert.equal(at(5 * MINUTE + SECOND, 60 * MINUTE), { low: 1, medium: 0, high: 0, critical: 2 });
});

test('only the last hour is kept: a second\'s slot is reused an hour later, and what came before is not counted', () => {
  const counts = new DetectionCounts();
  // Three hours of one high anomaly a second, and a burst of 10,000 in one second: far more than
  // any history size, in a fixed 3,601 slots.
  for (let s = 0; s < 3 * 3_600; s++) counts.add('high', T0 + s * SECOND);
  for (let i = 0; i < 10_000; i++) counts.add('medium', T0 + 3 * 3_600 * SECOND);
  const now = T0 + 3 * 3_600 * SECOND;
  assert.equal(counts.within(DETECTION_COUNT_SPAN_MS, now), { low: 0, medium: 10_000, high: 3_600, critical: 0 });
  assert.equal(counts.within(5 * MINUTE, now), { low: 0, medium: 10_000, high: 300, critical: 0 });
  // An hour and a bit later, nothing is left, though every slot still holds an old second.
  assert.equal(counts.within(DETECTION_COUNT_SPAN_MS, now + DETECTION_COUNT_SPAN_MS + SECOND), { low: 0, medium: 0, high: 0, critical: 0 });
});

test.run();
