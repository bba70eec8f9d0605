import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { NoLimitController } from '../../../../bench/admission/controllers/none.js';
import { capacityBetween, percentile, phaseMetrics } from '../../../../bench/admission/engine/metrics.js';
import { parseScenario } from '../../../../bench/admission/engine/scenario.js';
import { simulate, type RunRecord } from '../../../../bench/admission/engine/simulate.js';
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
  const limitSamples = Float64Array.from({ length: 300 }, (_, i) => (i % 2 === 0 ? 10 : 20));
  const unloaded = Float64Array.from({ length: 100 }, (_, i) => i + 1); // p99 = 99 ms
  return {
    endMs: 30_000,
    rejectionAtMs: Float64Array.of(20_000, 20_040, 20_099), // three refusals in the first 100 ms after the overload
    timeoutAtMs: new Float64Array(0),
    idleFromMs: new Float64Array(0),
    idleToMs: new Float64Array(0),
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
  rec.rejectionAtMs = new Float64Array(0);
  rec.timeoutAtMs = Float64Array.from({ length: 100 }, (_, k) => 20_050 + 100 * k);
  const [, overload] = phaseMetrics(scenario, rec);
  assert.is(overload.recoveryS, null);
});

test('a window without completions has recovered only if the server held no request in it', () => {
  const rec = record();
  rec.rejectionAtMs = new Float64Array(0);
  const kept = rec.successAtMs.findIndex((t) => t >= 20_000);
  rec.successAtMs = rec.successAtMs.slice(0, kept);
  rec.successLatencyMs = rec.successLatencyMs.slice(0, kept);
  rec.successCount = kept;
  assert.is(phaseMetrics(scenario, rec)[1].recoveryS, null, 'silent, but holding requests it never finished');
  rec.idleFromMs = Float64Array.of(20_300);
  rec.idleToMs = Float64Array.of(30_000);
  close(phaseMetrics(scenario, rec)[1].recoveryS, 0.3, 'empty from 20.3 s to the end');
});

test('a server jammed by admitting everything under contention has not recovered', () => {
  // Sixteen workers slowed 5 % per request in flight: the 10x overload leaves a queue that the calm
  // phase never drains, and its requests take so long that a 5 s window can pass without any
  // completion. Such a window counted as recovered (at 9.8 s) while nothing succeeded to the end.
  const jam = parseScenario({
    name: 'jam',
    seeds: [1],
    workers: 16,
    service: { lognormal: { meanMs: 20, sigma: 0.5 } },
    contention: 0.05,
    phases: [
      { seconds: 5, load: 0.5 },
      { seconds: 40, load: 10 },
      { seconds: 20, load: 0.5 },
    ],
  });
  const [, overload, calm] = phaseMetrics(jam, simulate(jam, 1, () => new NoLimitController()));
  assert.is(calm.goodput, 0);
  assert.is(overload.recoveryS, null);
});

test('windows count exactly what falls in them when phases end off the 100 ms grid', () => {
  // Overload from 9.95 s to 20.05 s. A timeout at 9.92 s and a refusal at 20.04 s fall before the
  // first windows; counted by 100 ms buckets they moved convergence and recovery to 0.1 s.
  const offGrid = {
    ...scenario,
    phases: [
      { seconds: 9.95, load: 0.5 },
      { seconds: 10.1, load: 2 },
      { seconds: 9.95, load: 0.5 },
    ],
  };
  const successAtMs = Float64Array.from({ length: 200 }, (_, k) => 10_000 + 100 * k);
  const rec: RunRecord = {
    ...record(),
    rejectionAtMs: Float64Array.of(20_040),
    timeoutAtMs: Float64Array.of(9_920),
    successAtMs,
    successLatencyMs: successAtMs.map(() => 50),
    successCount: successAtMs.length,
  };
  const [, overload] = phaseMetrics(offGrid, rec);
  close(overload.convergenceS, 0);
  close(overload.recoveryS, 0);
});

test.run();
