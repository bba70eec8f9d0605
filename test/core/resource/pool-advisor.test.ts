import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { KneeController } from '../../../src/core/resource/admission/knee-controller.js';
import { ResourceManager } from '../../../src/core/resource/manager.js';
import { PoolAdvisor, type PoolSettings } from '../../../src/core/resource/pool-advisor.js';
import { startPoolSize } from '../../../src/core/resource/pool.js';
import type { CpuReading } from '../../../src/core/resource/signals/types.js';
import { resourceStatusOut } from '../../../src/server/services/resource.js';
import { FakeClock } from '../../support/fake-clock.js';
import { FixturePressure, pressureSnapshot } from './manager-fixtures.js';

const cpu = (availableCores: number, utilization = 0.2): CpuReading => ({ utilization, availableCores, source: 'test' });

/** RS3GW_MAX_THREADS' default on a 2-core host (4 x cores), RS3GW_MIN_THREADS' default 4. */
const hostDefaults: PoolSettings = { minThreads: 4, maxThreads: 8, targetCpu: 0.75 };

test('under a 0.5-CPU quota the start is minThreads, and says so; the cap applied is 4, not the configured 8', () => {
  const advisor = new PoolAdvisor(hostDefaults, cpu(0.5));
  assert.equal(advisor.current, { size: 4, reason: 'start at 4: minThreads (0.5 available cores)', lower: 4, upper: 4 });
  // The same cap advisePoolSize applies once the advisor updates.
  const next = advisor.update(cpu(0.5, 0.1), 50);
  assert.is(next.upper, 4);
  assert.is(next.reason, 'hold 4: cpu 10% vs target 75% with 50 pending, but at minThreads 4 over cap 2 = 4 x 0.5 cores');
});

test('the start reason names what decided it: one per core, minThreads, or the cap', () => {
  assert.equal(startPoolSize({ availableCores: 2, minThreads: 1, maxThreads: 8 }), { size: 2, reason: 'start at 2: one per available core within [1, max 8]', lower: 1, upper: 8 });
  assert.equal(startPoolSize({ availableCores: 1.5, minThreads: 1, maxThreads: 64 }), { size: 2, reason: 'start at 2: one per available core within [1, cap 6 = 4 x 1.5 cores]', lower: 1, upper: 6 });
  assert.equal(startPoolSize({ availableCores: 16, minThreads: 1, maxThreads: 4 }), { size: 4, reason: 'start at 4: max 4 (16 available cores)', lower: 1, upper: 4 });
  assert.equal(startPoolSize({ availableCores: 0.25, minThreads: 1 }), { size: 1, reason: 'start at 1: minThreads (0.25 available cores)', lower: 1, upper: 1 });
});

test('GetResources reports the cap applied as max_threads: 4 under a 0.5-CPU quota with RS3GW_MAX_THREADS 8', () => {
  const clock = new FakeClock();
  const snapshot = pressureSnapshot(0);
  snapshot.cpu = cpu(0.5);
  const pressure = new FixturePressure(snapshot);
  const manager = new ResourceManager({ clock, wallClock: clock, controller: new KneeController(clock.nowMs()), pressure });
  const pool = new PoolAdvisor(hostDefaults, pressure.snapshot().cpu!);
  const out = resourceStatusOut({ manager, pool, poolSettings: hostDefaults }).pool;
  assert.equal(
    { recommended: out?.recommendedThreads, min: out?.minThreads, max: out?.maxThreads, cores: out?.availableCores, reason: out?.reason },
    { recommended: 4, min: 4, max: 4, cores: 0.5, reason: 'start at 4: minThreads (0.5 available cores)' },
  );
  // A 4-core quota under the same settings: the configured 8 is the cap.
  snapshot.cpu = cpu(4);
  const roomy = new PoolAdvisor(hostDefaults, cpu(4));
  assert.is(resourceStatusOut({ manager, pool: roomy, poolSettings: hostDefaults }).pool?.maxThreads, 8);
  // The quota cut to 0.5 cores before the next adjustment: the advice still reads as sized for 4
  // (it read 0.5 cores beside a cap of 8), until the adjustment resizes it.
  snapshot.cpu = cpu(0.5);
  const stale = resourceStatusOut({ manager, pool: roomy, poolSettings: hostDefaults }).pool;
  assert.equal([stale?.availableCores, stale?.maxThreads], [4, 8]);
  roomy.update(cpu(0.5), 0);
  const resized = resourceStatusOut({ manager, pool: roomy, poolSettings: hostDefaults }).pool;
  assert.equal([resized?.availableCores, resized?.maxThreads], [0.5, 4]);
});

test.run();
