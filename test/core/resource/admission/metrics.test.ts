import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { capacityBetween, percentile, phaseMetrics } from '../../../../bench/admission/engine/metrics.js';
import { parseScenario } from '../../../../bench/admission/engine/scenario.js';
import type { RunRecord } from '../../../../bench/admission/engine/simulate.js';
import { quantile, stat } from '../../../../bench/admission/engine/summary.js';

const close = (a: number | null, b: number, msg?: string) => assert.ok(a !== null && Math.abs(a - b) < 1e-9, msg ?? `${a} vs ${b}`);

// One worker, 100 ms mean service: capacity 10 requests/s. Phase 1 is a 2x overload.
const scenario = parseScenario({
  name: 'tiny',
  seeds: [1],
  workers: 1,
  service: { lognormal: { meanMs: 100, sigma: 0 } },
  phases: [
    { seconds: 10, load: 0.5 },
    { seconds: 10, load: 2 },
    { seconds: 10, load: 0.5 },
  ],
});

function record(): RunRecord {
  const successAt: number[] = [];
  const latency: number[] = [];
  // Phase 1: a completion every 100 ms; the first ten took 500 ms, the rest 50 ms.
  for (let k = 0; k < 100; k++) {
    successAt.push(10_050 + 100 * k);
    latency.push(k < 10 ? 500 : 50);
  }
  // Phase 2: a completion every 200 ms at 50 ms.
  for (let k = 0; k < 50; k++) {
    successAt.push(20_050 + 200 * k);
    latency.push(50);
  }
  const rejections = new Uint32Array(300);
  rejections[200] = 3; // three refusals in the first 100 ms after the overload
  const limitSamples = Float64Array.from({ length: 300 }, (_, i) => (i % 2 === 0 ? 10 : 20));
  const unloaded = Float64Array.from({ length: 100 }, (_, i) => i + 1); // p99 = 99 ms
  return {
    endMs: 30_000,
    rejections,
    timeouts: new Uint32Array(300),
    successAtMs: Float64Array.from(successAt),
    successLatencyMs: Float64Array.from(latency),
    successCount: successAt.length,
    unloadedLatencyByPhase: [unloaded, unloaded, unloaded],
    priorityCounts: [
      { arrivals: [0, 50, 0], rejections: [0, 0, 0], successes: [0, 50, 0] },
      { arrivals: [0, 200, 0], rejections: [0, 110, 0], successes: [0, 100, 0] },
      { arrivals: [0, 50, 0], rejections: [0, 3, 0], successes: [0, 50, 0] },
    ],
    timeoutsByPhase: [0, 0, 0],
    limitSamples,
    busyMsByPhase: [5000, 9990, 2500],
  };
}

test('nearest-rank percentiles', () => {
  const sorted = Float64Array.from({ length: 100 }, (_, i) => i + 1);
  assert.is(percentile(sorted, 0.5), 50);
  assert.is(percentile(sorted, 0.99), 99);
  assert.is(percentile(sorted, 1), 100);
  assert.is(percentile(new Float64Array(0), 0.5), null);
});

test('quantiles over seeds treat "never happened" as infinitely late', () => {
  close(quantile([1, 2, 3, 4], 0.5), 2.5);
  assert.is(quantile([1, null, null], 0.5), null);
  close(quantile([1, 2, null], 0.25), 1.5);
  assert.equal(stat([3, 1, 2]), { median: 2, p5: 1.1, p95: 2.9 });
});

test('capacity accounts for capacity events', () => {
  const s = { ...scenario, capacityEvents: [{ atS: 5, seconds: 10, serviceMultiplier: 2 }] };
  close(capacityBetween(s, 0, 10_000), 5 * 10 + 5 * 5);
  close(capacityBetween(scenario, 0, 1000), 10);
});

test('phase metrics on a hand-computed run', () => {
  const [calm, overload, after] = phaseMetrics(scenario, record());
  assert.is(calm.overload, false);
  assert.is(overload.overload, true);
  close(overload.idealRejection, 0.5);
  close(overload.goodput, 1.0, 'goodput = 100 completions / (10 rps x 10 s)');
  close(overload.sloGoodput, 0.9, 'ninety of them within 250 ms');
  assert.is(overload.p50Ms, 50);
  assert.is(overload.p99Ms, 500);
  assert.is(overload.unloadedP99Ms, 99);
  close(overload.rejectionRate, 0.55);
  close(overload.excessRejection, 0.05);
  close(overload.timeoutRate, 0);
  close(overload.convergenceS, 1.0, 'the first 5 s window without the slow ones starts at 11 s');
  close(overload.p99AfterConvergenceRatio, 50 / 99);
  close(overload.recoveryS, 0.1, 'the first window without rejections starts 100 ms after the overload');
  close(overload.limitCv, 5 / 15);
  close(overload.busyShare, 0.999, 'the one worker busy for 9.99 of the 10 s');
  close(after.goodput, 0.5);
  assert.is(after.recoveryS, null, 'recovery is only defined after an overload');
});

test('a window whose completions all timed out has not recovered', () => {
  const rec = record();
  rec.rejections[200] = 0;
  for (let b = 200; b < 300; b++) rec.timeouts[b] = 1;
  const [, overload] = phaseMetrics(scenario, rec);
  assert.is(overload.recoveryS, null);
});

test.run();
