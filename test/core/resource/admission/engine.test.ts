import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { AimdController } from '../../../../bench/admission/controllers/aimd.js';
import { NoLimitController } from '../../../../bench/admission/controllers/none.js';
import { ArrivalProcess } from '../../../../bench/admission/engine/arrivals.js';
import { Rng } from '../../../../bench/admission/engine/prng.js';
import { parseScenario, type Scenario } from '../../../../bench/admission/engine/scenario.js';
import { simulate } from '../../../../bench/admission/engine/simulate.js';
import type { AdmissionController, Permit } from '../../../../src/core/resource/admission/types.js';

const scenario = (extra: Record<string, unknown> = {}): Scenario =>
  parseScenario({
    name: 'engine',
    seeds: [7],
    workers: 4,
    service: { lognormal: { meanMs: 10, sigma: 0.5 } },
    phases: [{ seconds: 2, load: 0.5 }, { seconds: 2, load: 3 }],
    ...extra,
  });

/** Wraps a controller and records the arrival time of every request it is asked about. */
function recording(inner: AdmissionController, log: number[]): AdmissionController {
  return {
    name: inner.name,
    limitUnit: inner.limitUnit,
    get limit() {
      return inner.limit;
    },
    get inflight() {
      return inner.inflight;
    },
    tryAcquire: (nowMs: number) => {
      log.push(nowMs);
      return inner.tryAcquire(nowMs);
    },
    release: (permit: Permit, outcome) => inner.release(permit, outcome),
  };
}

test('the same seed and controller give the same run, bit for bit', () => {
  const a = simulate(scenario(), 7, () => new AimdController());
  const b = simulate(scenario(), 7, () => new AimdController());
  assert.equal(Array.from(a.successLatencyMs), Array.from(b.successLatencyMs));
  assert.equal(Array.from(a.limitSamples), Array.from(b.limitSamples));
  assert.equal(a.priorityCounts, b.priorityCounts);
});

test('every controller meets the same arrivals and the same service time for the n-th request', () => {
  const seenByAimd: number[] = [];
  const seenByNone: number[] = [];
  const a = simulate(scenario(), 7, () => recording(new AimdController(), seenByAimd));
  const b = simulate(scenario(), 7, () => recording(new NoLimitController(), seenByNone));
  assert.ok(seenByAimd.length > 100);
  assert.equal(seenByAimd, seenByNone);
  // Idle-server latencies are recorded per arrival from the service stream: identical across controllers.
  assert.equal(Array.from(a.unloadedLatencyByPhase[1]), Array.from(b.unloadedLatencyByPhase[1]));
  assert.not.equal(Array.from(a.successLatencyMs), Array.from(b.successLatencyMs), 'yet the controllers differ');
});

test('another seed gives other arrivals', () => {
  const a = simulate(scenario(), 1, () => new NoLimitController());
  const b = simulate(scenario(), 2, () => new NoLimitController());
  assert.not.equal(Array.from(a.unloadedLatencyByPhase[0]), Array.from(b.unloadedLatencyByPhase[0]));
});

test('arrivals follow the phase load (Poisson, within a few standard deviations)', () => {
  const s = scenario({ phases: [{ seconds: 20, load: 0.5 }, { seconds: 20, load: 3 }] });
  const rec = simulate(s, 3, () => new NoLimitController());
  const capacity = 400; // 4 workers / 10 ms
  const [low, high] = rec.priorityCounts.map((c) => c.arrivals[1]);
  const within = (n: number, mean: number) => Math.abs(n - mean) < 4 * Math.sqrt(mean);
  assert.ok(within(low, 0.5 * capacity * 20), `low phase ${low}`);
  assert.ok(within(high, 3 * capacity * 20), `high phase ${high}`);
});

test('on/off arrivals are silent during off periods', () => {
  const s = scenario({ arrivals: { onOff: { onS: 0.5, offS: 0.5 } } });
  const process = new ArrivalProcess(s, new Rng(5, 1));
  let n = 0;
  for (let t = process.next(); t !== undefined; t = process.next()) {
    n++;
    assert.ok(t % 1000 < 500, `arrival at ${t} ms falls in an on period`);
  }
  assert.ok(n > 0);
});

test('admitting everything under contention collapses goodput; a limit keeps it', () => {
  const s = scenario({ contention: 0.2, deadlineMs: 500, phases: [{ seconds: 10, load: 3 }] });
  const none = simulate(s, 1, () => new NoLimitController());
  const limited = simulate(s, 1, () => new AimdController());
  assert.ok(limited.successCount > 5 * none.successCount, `${limited.successCount} vs ${none.successCount}`);
});

test('busy share: the load below capacity, all of the workers under overload, none of the rejection work', () => {
  const s = scenario({ phases: [{ seconds: 20, load: 0.5 }, { seconds: 20, load: 3 }], rejectCostMs: 2 });
  const rec = simulate(s, 3, () => new AimdController());
  const [calm, overload] = rec.busyMsByPhase.map((ms, i) => ms / (s.workers * s.phases[i].seconds * 1000));
  assert.ok(Math.abs(calm - 0.5) < 0.03, `calm ${calm}`);
  const free = simulate(scenario({ phases: s.phases }), 3, () => new AimdController());
  const freeShare = free.busyMsByPhase[1] / (s.workers * 20_000);
  assert.ok(freeShare > 0.999, `without rejection cost the workers never idle: ${freeShare}`);
  assert.ok(overload < freeShare - 0.05, `rejection work is not counted as serving: ${overload}`);
});

test('a rejection with a cost takes worker time', () => {
  const base = { phases: [{ seconds: 5, load: 3 }], deadlineMs: 100000 };
  const free = simulate(scenario(base), 2, () => new AimdController());
  const costly = simulate(scenario({ ...base, rejectCostMs: 5 }), 2, () => new AimdController());
  assert.ok(costly.successCount < 0.8 * free.successCount, `${costly.successCount} vs ${free.successCount}`);
});

test.run();
