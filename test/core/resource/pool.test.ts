import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ObservabilityError } from '../../../src/core/errors.js';
import { advisePoolSize, type PoolAdviceInput } from '../../../src/core/resource/pool.js';

const base: PoolAdviceInput = { currentSize: 8, availableCores: 4, cpuUtilization: 0.5, pendingWork: 0 };

test('grows when CPU is below target and work is pending, limited by the CPU headroom', () => {
  const advice = advisePoolSize({ ...base, cpuUtilization: 0.5, pendingWork: 100 });
  assert.is(advice.size, 12); // 8 x 0.75 / 0.5
  assert.is(advice.reason, 'grow 8 -> 12: cpu 50% vs target 75% with 100 pending (max 16)');
});

test('grows by no more than the work pending, nor more than double', () => {
  assert.is(advisePoolSize({ ...base, cpuUtilization: 0.5, pendingWork: 2 }).size, 10);
  assert.is(advisePoolSize({ ...base, currentSize: 2, cpuUtilization: 0.05, pendingWork: 50 }).size, 4);
  assert.is(advisePoolSize({ ...base, currentSize: 2, cpuUtilization: 0, pendingWork: 50 }).size, 4);
});

test('holds when CPU is low but nothing is waiting, or when CPU is near target', () => {
  assert.equal(advisePoolSize({ ...base, cpuUtilization: 0.2, pendingWork: 0 }).size, 8);
  assert.match(advisePoolSize({ ...base, cpuUtilization: 0.2, pendingWork: 0 }).reason, /no work pending/);
  assert.is(advisePoolSize({ ...base, cpuUtilization: 0.78, pendingWork: 40 }).size, 8);
});

test('shrinks in proportion when CPU is above target, at least by one, never below min', () => {
  assert.is(advisePoolSize({ ...base, cpuUtilization: 1.0, pendingWork: 40 }).size, 6); // 8 x 0.75 / 1
  assert.is(advisePoolSize({ ...base, cpuUtilization: 0.85 }).size, 7);
  const atMin = advisePoolSize({ ...base, currentSize: 4, minThreads: 4, cpuUtilization: 1 });
  assert.is(atMin.size, 4);
  assert.match(atMin.reason, /already at minThreads 4/);
});

test('never more threads than the quota makes useful, even with a larger configured max', () => {
  // A 1.5-core quota on a big host: 4 x 1.5 = 6 threads, whatever RS3GW_MAX_THREADS says.
  const advice = advisePoolSize({ currentSize: 6, availableCores: 1.5, maxThreads: 64, cpuUtilization: 0.1, pendingWork: 500 });
  assert.is(advice.size, 6);
  assert.is(advice.upper, 6);
  assert.match(advice.reason, /cap 6 = 4 x 1.5 cores/);
  const over = advisePoolSize({ currentSize: 40, availableCores: 1.5, maxThreads: 64, cpuUtilization: 0.5, pendingWork: 0 });
  assert.is(over.size, 6);
  assert.is(over.reason, 'lower 40 -> 6: above cap 6 = 4 x 1.5 cores');
});

test('default max is 4 x available cores; min is honoured over the cap', () => {
  assert.is(advisePoolSize({ ...base, currentSize: 16, cpuUtilization: 0.1, pendingWork: 9 }).upper, 16);
  const lifted = advisePoolSize({ currentSize: 1, availableCores: 0.5, minThreads: 4, cpuUtilization: 0.1, pendingWork: 3 });
  assert.is(lifted.size, 4);
  assert.is(lifted.reason, 'raise 1 -> 4: below minThreads');
});

test('the result always lies in [min, max] across a sweep of inputs', () => {
  for (const cores of [0.25, 1, 1.5, 4, 32]) {
    for (const current of [0, 1, 3, 9, 50, 300]) {
      for (const cpu of [0, 0.3, 0.74, 0.9, 1.4]) {
        for (const pending of [0, 1, 1000]) {
          const advice = advisePoolSize({ currentSize: current, availableCores: cores, minThreads: 2, maxThreads: 100, cpuUtilization: cpu, pendingWork: pending });
          assert.ok(advice.size >= 2 && advice.size <= Math.max(2, Math.min(100, Math.ceil(cores * 4))), JSON.stringify({ cores, current, cpu, pending, advice }));
        }
      }
    }
  }
});

test('a target below twice the tolerance gets a band of half the target, so it still advises', () => {
  for (const targetCpu of [0.01, 0.05, 0.08]) {
    assert.is(advisePoolSize({ ...base, targetCpu, cpuUtilization: targetCpu }).size, 8, `hold at ${targetCpu}`);
    assert.ok(advisePoolSize({ ...base, targetCpu, cpuUtilization: 0.5 }).size < 8, `shrink at ${targetCpu}`);
    assert.ok(advisePoolSize({ ...base, targetCpu, cpuUtilization: 0, pendingWork: 5 }).size > 8, `grow at ${targetCpu}`);
  }
  // 0.08 lies outside the band of 0.025 around 0.05: 8 x 0.05 / 0.08 = 5.
  assert.is(advisePoolSize({ ...base, targetCpu: 0.05, cpuUtilization: 0.08 }).size, 5);
});

test('bad input names the field', () => {
  const cases: [Partial<PoolAdviceInput>, string][] = [
    [{ availableCores: 0 }, 'availableCores'],
    [{ currentSize: -1 }, 'currentSize'],
    [{ minThreads: 10, maxThreads: 5 }, 'minThreads'],
    [{ targetCpu: 1.2 }, 'targetCpu'],
    [{ cpuUtilization: Number.NaN }, 'cpuUtilization'],
    [{ pendingWork: 2.5 }, 'pendingWork'],
  ];
  for (const [patch, field] of cases) {
    try {
      advisePoolSize({ ...base, ...patch });
      assert.unreachable(field);
    } catch (error) {
      assert.instance(error, ObservabilityError);
      assert.is((error as ObservabilityError).field, field);
    }
  }
});

test.run();
