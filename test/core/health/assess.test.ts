import { mkdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { AnomalyEngine } from '../../../src/core/anomaly/index.js';
import { currentHealth } from '../../../src/core/health/assess.js';
import { ProcReader } from '../../../src/core/procfs/reader.js';
import { KneeController } from '../../../src/core/resource/admission/knee-controller.js';
import { ResourceManager } from '../../../src/core/resource/manager.js';
import { PressureMonitor } from '../../../src/core/resource/signals/monitor.js';
import type { HeapStats } from '../../../src/core/resource/signals/providers.js';
import { FakeClock } from '../../support/fake-clock.js';
import { FixtureRoot } from '../procfs/fixture-root.js';

const GiB = 1024 ** 3;
const MiB = 1024 ** 2;
const LEAF = 'sys/fs/cgroup/system.slice/rs3gw.service';
/** memory.high of the fixture's cgroup. */
const LIMIT = 1.5 * GiB;

/**
 * The verdict as the service builds it: a real pressure monitor over a fixture tree (files the test
 * rewrites or makes unreadable), the resource manager acting on it, the anomaly engine empty.
 */
function setup() {
  const root = new FixtureRoot('cgroup-v2-limited');
  const clock = new FakeClock();
  const heap: HeapStats = { usedBytes: 100 * MiB, limitBytes: 4 * GiB, source: 'test heap' };
  const logged: string[] = [];
  const monitor = new PressureMonitor({
    clock,
    reader: new ProcReader({ root: root.path }),
    heap: () => heap,
    eventLoop: { sample: () => ({ delayP99Ms: 1, utilization: 0.1 }) },
    log: (line) => logged.push(line),
  });
  const manager = new ResourceManager({ clock, wallClock: clock, controller: new KneeController(clock.nowMs()), pressure: monitor });
  const anomalies = new AnomalyEngine({ clock, intervals: clock });
  /** Memory used as a share of memory.high (the fixture counts 256 MiB of memory.current as inactive_file). */
  const setMemory = (share: number) => root.write(`${LEAF}/memory.current`, `${Math.round(share * LIMIT) + 256 * MiB}\n`);
  const setPsiCpu = (avg10: number) =>
    root.write(`${LEAF}/cpu.pressure`, `some avg10=${avg10.toFixed(2)} avg60=10.00 avg300=5.00 total=1000\nfull avg10=0.00 avg60=0.00 avg300=0.00 total=0\n`);
  /** Replaces a file by a directory, which the kernel files' reader fails on with EISDIR. */
  const makeUnreadable = (file: string) => {
    const text = readFileSync(join(root.path, file));
    root.removeFile(file);
    mkdirSync(join(root.path, file));
    return () => {
      rmdirSync(join(root.path, file));
      writeFileSync(join(root.path, file), text);
    };
  };
  /** One periodic sample a second later, then the verdict as a health report reads it. */
  const next = () => {
    clock.advance(1000);
    monitor.sample();
    const status = manager.status();
    return { status, health: currentHealth(status, anomalies) };
  };
  return { root, heap, logged, monitor, manager, setMemory, setPsiCpu, makeUnreadable, next };
}

test('an unreadable CPU file leaves memory deciding: no memory headroom, then headroom again, with cpu named unavailable', () => {
  const t = setup();
  try {
    t.setMemory(0.99);
    let { status, health } = t.next();
    assert.is(health.status, 'unhealthy');
    assert.equal(health.reasons[0], 'memory 99.0% of its limit');
    assert.is(status.pressure.memoryPressure, true);
    assert.is(t.manager.acquire('sheddable').admitted, false);

    t.makeUnreadable('sys/fs/cgroup/system.slice/cpu.stat');
    t.setMemory(0.5);
    ({ status, health } = t.next());
    // Memory was read afresh: the verdict and shedding follow it, not the sample before the failure.
    assert.equal(health, { status: 'healthy', reasons: [] });
    assert.is(status.pressure.memoryPressure, false);
    assert.ok(Math.abs(status.pressure.memory!.utilization - 0.5) < 1e-9);
    assert.is(status.pressure.cpu, undefined);
    assert.match(status.pressure.unavailable?.cpu ?? '', /^cannot read \/sys\/fs\/cgroup\/system\.slice\/cpu\.stat: EISDIR$/);
    assert.is(t.manager.acquire('sheddable').admitted, true);
    // Said once on stderr, not at every sample.
    t.next();
    t.next();
    assert.is(t.logged.filter((l) => l.includes('cpu reading fails')).length, 1);
    assert.match(t.logged[0]!, /EISDIR/);
  } finally {
    t.root.remove();
  }
});

test('an unreadable memory file leaves PSI deciding: overload sheds, memory is unknown, not its last value', () => {
  const t = setup();
  try {
    t.setMemory(0.99);
    assert.is(t.next().health.status, 'unhealthy');
    const restore = t.makeUnreadable(`${LEAF}/memory.stat`);
    t.setPsiCpu(100);
    const { status, health } = t.next();
    assert.is(status.pressure.psi?.cpuSomeAvg10, 100);
    assert.is(status.pressure.memory, undefined);
    assert.match(status.pressure.unavailable?.memory ?? '', /memory\.stat: EISDIR/);
    // Not "memory 99.0%": unknown memory is no reason either way; the CPU stall is.
    assert.is(health.status, 'degraded');
    assert.equal(health.reasons, ['overloaded (level 1.00)', 'shedding sheddable requests']);
    assert.is(status.pressure.memoryPressure, false);
    assert.is(t.manager.acquire('sheddable').admitted, false);

    // Readable again: named no more, and the log says so.
    restore();
    const again = t.next().status;
    assert.is(again.pressure.unavailable, undefined);
    assert.ok(Math.abs(again.pressure.memory!.utilization - 0.99) < 1e-9);
    assert.match(t.logged[t.logged.length - 1]!, /memory reading is taken again/);
  } finally {
    t.root.remove();
  }
});

test('a V8 old generation at 98 % of its limit is no memory headroom: UNHEALTHY, naming the heap', () => {
  const t = setup();
  try {
    t.heap.usedBytes = Math.round(0.956 * t.heap.limitBytes);
    let { status, health } = t.next();
    assert.is(status.pressure.memoryPressure, true);
    assert.equal(health, { status: 'degraded', reasons: ['under memory pressure', 'shedding sheddable requests'] });
    t.heap.usedBytes = Math.round(0.987 * t.heap.limitBytes);
    ({ status, health } = t.next());
    assert.is(health.status, 'unhealthy');
    assert.equal(health.reasons, ['V8 old generation 98.7% of its limit', 'under memory pressure', 'shedding sheddable requests']);
    // The cgroup's memory is far from its limit: the heap alone says so.
    assert.ok(status.pressure.memory!.utilization < 0.9);
  } finally {
    t.root.remove();
  }
});

test('the success rate counts from 20 completions in the window: one error alone leaves the verdict HEALTHY, two in 21 do not', () => {
  const t = setup();
  try {
    const complete = (outcome: 'success' | 'error') => {
      const permit = t.manager.acquire('normal');
      assert.ok(permit.admitted);
      if (permit.admitted) t.manager.release(permit.permitId, outcome, 5);
    };
    complete('error');
    let { status, health } = t.next();
    assert.is(status.window.completions, 1);
    assert.is(status.window.successRate, 0);
    assert.equal(health, { status: 'healthy', reasons: [] });
    // 19 more, all successful: one error in 20 is 95 %, not under.
    for (let i = 0; i < 19; i++) complete('success');
    ({ status, health } = t.next());
    assert.is(status.window.completions, 20);
    assert.equal(health, { status: 'healthy', reasons: [] });
    complete('error');
    ({ status, health } = t.next());
    assert.equal(health, { status: 'degraded', reasons: [`success rate ${((19 / 21) * 100).toFixed(1)}%`] });
  } finally {
    t.root.remove();
  }
});

test('critical requests refused at the concurrency limit make the verdict DEGRADED, saying how many; refused normal work adds no reason', () => {
  const t = setup();
  try {
    // Critical work may go 50 % beyond the initial limit of 20: the 31st is refused at the limit.
    for (let i = 0; i < 30; i++) assert.ok(t.manager.acquire('critical').admitted);
    assert.equal(t.next().health, { status: 'healthy', reasons: [] });
    assert.is(t.manager.acquire('critical').admitted, false);
    assert.is(t.manager.acquire('critical').admitted, false);
    const { status, health } = t.next();
    assert.is(status.totals.rejectedByReason.controller_limit.critical, 2);
    assert.equal(health, { status: 'degraded', reasons: ['2 critical requests refused at the concurrency limit or permit cap in the last 60 s'] });
    // Refused normal work at the limit is the limit doing its job: no reason of its own.
    assert.is(t.manager.acquire('normal').admitted, false);
    assert.equal(t.next().health.reasons, ['2 critical requests refused at the concurrency limit or permit cap in the last 60 s']);
  } finally {
    t.root.remove();
  }
});

test.run();
