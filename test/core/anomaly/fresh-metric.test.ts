import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { AnomalyEngine, type AnomalyEvent } from '../../../src/core/anomaly/index.js';
import { FakeClock } from '../../support/fake-clock.js';
import { normal, timeAt, uniform } from './signals.js';

/** A service user's first experience: a new metric, `noiseSamples` normal values, then an incident. */
function freshMetricThenSpike(next: () => number, noiseSamples: number, spike: number): { falseAlarms: AnomalyEvent[]; spike?: AnomalyEvent } {
  const engine = new AnomalyEngine({ clock: new FakeClock() });
  const falseAlarms: AnomalyEvent[] = [];
  for (let i = 0; i < noiseSamples; i++) {
    const a = engine.record('gateway_latency_ms', next(), timeAt(i));
    if (a.anomaly) falseAlarms.push(a.anomaly);
  }
  return { falseAlarms, spike: engine.record('gateway_latency_ms', spike, timeAt(noiseSamples)).anomaly };
}

test('fresh metric: uniform noise 95..105 raises (almost) no alarm, and a 50x spike right after is critical', () => {
  let falseAlarms = 0;
  for (let seed = 1; seed <= 20; seed++) {
    const u = uniform(seed);
    const run = freshMetricThenSpike(() => 95 + 10 * u(), 300, 5000);
    falseAlarms += run.falseAlarms.length;
    assert.ok(run.spike, `seed ${seed}: spike not reported (false alarms before it: ${run.falseAlarms.map((e) => e.detector)})`);
    assert.is(run.spike!.severity, 'critical', `seed ${seed}`);
    assert.is(run.spike!.direction, 'above');
    assert.is(run.spike!.detector, 'ensemble/spike');
  }
  assert.ok(falseAlarms <= 2, `${falseAlarms} false alarms in 20 runs`);
});

test('fresh metric: Gaussian noise stays quiet after warm-up, and a false alarm does not mute the incident', () => {
  let falseAlarms = 0;
  for (let seed = 1; seed <= 40; seed++) {
    const g = normal(seed);
    const run = freshMetricThenSpike(() => 100 + 5 * g(), 300, 5000);
    falseAlarms += run.falseAlarms.length;
    assert.is(run.spike?.severity, 'critical', `seed ${seed}: false alarms before the spike ${run.falseAlarms.map((e) => e.sequence)}`);
  }
  // 40 x 200 samples after warm-up: at most 2 false alarms per 1,000 samples (gates calibrated on
  // their first samples only raised about five times that).
  assert.ok(falseAlarms <= 16, `${falseAlarms} false alarms in 8,000 samples after warm-up`);
});

test.run();
