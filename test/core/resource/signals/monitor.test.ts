import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ObservabilityError } from '../../../../src/core/errors.js';
import { ProcReader } from '../../../../src/core/procfs/reader.js';
import { DEFAULT_MEMORY_PRESSURE_LEVEL, DEFAULT_SHED_THRESHOLDS, LoadShedder } from '../../../../src/core/resource/load-shedder.js';
import { PressureMonitor, type PressureMonitorOptions } from '../../../../src/core/resource/signals/monitor.js';
import type { HeapStats } from '../../../../src/core/resource/signals/providers.js';
import type { EventLoopReading } from '../../../../src/core/resource/signals/types.js';
import { FakeClock } from '../../../support/fake-clock.js';
import { FixtureRoot } from '../../procfs/fixture-root.js';

const GiB = 1024 ** 3;
const MiB = 1024 ** 2;
const LEAF = 'sys/fs/cgroup/system.slice/rs3gw.service';
/** The fixture's CPU quota (2 cores) is set on the parent, system.slice. */
const QUOTA_LEVEL = 'sys/fs/cgroup/system.slice';

/**
 * The heap and event-loop figures are runtime readings the monitor takes through injected providers;
 * these hold fixed values the test sets, as the fixture trees do for /proc.
 */
function setup(name = 'cgroup-v2-limited', options: PressureMonitorOptions = {}) {
  const root = new FixtureRoot(name);
  const clock = new FakeClock();
  const heap: HeapStats = { usedBytes: 100 * MiB, limitBytes: 4 * GiB, source: 'test heap' };
  const loop: EventLoopReading = { delayP99Ms: 1, utilization: 0.2 };
  const monitor = new PressureMonitor({
    clock,
    reader: new ProcReader({ root: root.path }),
    heap: () => heap,
    eventLoop: { sample: () => ({ ...loop }) },
    ...options,
  });
  /** Sets the cgroup working set (memory.current minus the fixture's 256 MiB inactive_file). */
  const setWorkingSet = (bytes: number) => root.write(`${LEAF}/memory.current`, `${Math.round(bytes) + 256 * MiB}\n`);
  let usageUs = 5_000_000;
  /**
   * Adds CPU time to the cgroup (and so to system.slice, whose quota it shares) and moves the clock
   * one second; the other counters of system.slice's cpu.stat are kept.
   */
  const burnCpu = (cpuUs: number) => {
    usageUs += cpuUs;
    root.write(`${LEAF}/cpu.stat`, `usage_usec ${usageUs}\n`);
    root.edit(`${QUOTA_LEVEL}/cpu.stat`, (text) => text.replace(/^usage_usec \d+$/m, () => `usage_usec ${usageUs + 4_000_000}`));
    clock.advance(1000);
  };
  return { root, clock, heap, loop, monitor, setWorkingSet, burnCpu };
}

test('container figures: memory against memory.high, CPU quota, cgroup PSI; first CPU reading has no interval', () => {
  const { root, monitor } = setup();
  try {
    const snap = monitor.snapshot();
    assert.is(snap.memory!.usedBytes, 1 * GiB);
    assert.is(snap.memory!.limitBytes, 1.5 * GiB);
    assert.ok(Math.abs(snap.memory!.utilization - 2 / 3) < 1e-12);
    assert.is(
      snap.memory!.source,
      'cgroup2:/sys/fs/cgroup/system.slice/rs3gw.service/memory.current over cgroup2:/sys/fs/cgroup/system.slice/rs3gw.service/memory.high',
    );
    assert.is(snap.cpu!.availableCores, 2);
    assert.is(snap.cpu!.utilization, 0);
    assert.match(snap.cpu!.source, /first sample: no interval yet/);
    assert.equal(snap.psi, {
      cpuSomeAvg10: 12.5,
      memorySomeAvg10: 3,
      memoryFullAvg10: 1.5,
      ioSomeAvg10: 20,
      ioFullAvg10: 10,
      source: 'cgroup2:/sys/fs/cgroup/system.slice/rs3gw.service',
    });
    assert.is(snap.heap!.source, 'test heap');
    assert.is(snap.memoryPressure, false);
    assert.is(snap.overload, 0);
  } finally {
    root.remove();
  }
});

test('CPU utilisation is the cgroup usage delta over elapsed time x quota cores', () => {
  const { root, monitor, burnCpu } = setup();
  try {
    burnCpu(1_200_000); // 1.2 s of CPU in 1 s on a 2-core quota
    const snap = monitor.sample();
    assert.ok(Math.abs(snap.cpu!.utilization - 0.6) < 1e-12);
    assert.is(
      snap.cpu!.source,
      'cgroup2:/sys/fs/cgroup/system.slice/cpu.stat usage_usec over cgroup2:/sys/fs/cgroup/system.slice/cpu.max',
    );
  } finally {
    root.remove();
  }
});

test('memory pressure: on at the threshold, held until below threshold minus margin', () => {
  const { root, monitor, setWorkingSet } = setup();
  try {
    const limit = 1.5 * GiB;
    const steps: [number, boolean][] = [
      [0.84, false],
      [0.86, true],
      [0.82, true], // between 0.80 and 0.85: stays on
      [0.81, true],
      [0.79, false],
      [0.84, false], // below 0.85 again: stays off
    ];
    for (const [fraction, expected] of steps) {
      setWorkingSet(fraction * limit);
      assert.is(monitor.sample().memoryPressure, expected, `at ${fraction}`);
    }
    setWorkingSet(0.9 * limit);
    monitor.sample();
    assert.equal(monitor.detail().memoryPressureCauses, ['memory']);
  } finally {
    root.remove();
  }
});

test('memory pressure also from PSI memory full and from a heap near its limit', () => {
  const { root, monitor, heap } = setup();
  try {
    root.write(`${LEAF}/memory.pressure`, 'some avg10=30.00 avg60=10.00 avg300=5.00 total=1\nfull avg10=15.00 avg60=5.00 avg300=2.00 total=1\n');
    assert.is(monitor.sample().memoryPressure, true);
    assert.equal(monitor.detail().memoryPressureCauses, ['psi_memory_full']);
    root.write(`${LEAF}/memory.pressure`, 'some avg10=1.00 avg60=1.00 avg300=1.00 total=1\nfull avg10=1.00 avg60=1.00 avg300=1.00 total=1\n');
    assert.is(monitor.sample().memoryPressure, false);

    heap.usedBytes = 0.92 * heap.limitBytes;
    const snap = monitor.sample();
    assert.is(snap.memoryPressure, true);
    assert.ok(Math.abs(snap.heap!.utilization - 0.92) < 1e-12);
    assert.equal(monitor.detail().memoryPressureCauses, ['heap']);
  } finally {
    root.remove();
  }
});

/** Removes PSI for CPU (cgroup and host), as on a kernel without it, keeping the others. */
function withoutCpuPsi(root: FixtureRoot): void {
  root.removeFile(`${LEAF}/cpu.pressure`);
  root.removeFile('proc/pressure/cpu');
}

test('without PSI for CPU: overload enters at the load-shedding threshold, scales to 1, leaves below threshold minus margin', () => {
  const { root, monitor, burnCpu } = setup();
  try {
    withoutCpuPsi(root);
    burnCpu(1_800_000); // 0.90
    assert.is(monitor.sample().overload, 0);
    burnCpu(1_960_000); // 0.98: (0.98 - 0.95) / (1 - 0.95)
    let snap = monitor.sample();
    assert.ok(Math.abs(snap.overload - 0.6) < 1e-9, `overload ${snap.overload}`);
    assert.ok(Math.abs(snap.resourceOverload - 0.6) < 1e-9, `resource overload ${snap.resourceOverload}`);
    assert.equal(monitor.detail().overloadCauses, ['cpu']);
    burnCpu(2_200_000); // 1.1: capped at 1
    assert.is(monitor.sample().overload, 1);
    burnCpu(1_860_000); // 0.93: below the threshold but not below 0.90, so still on, at the floor
    snap = monitor.sample();
    assert.is(snap.overload, 0.01);
    burnCpu(1_780_000); // 0.89: off
    assert.is(monitor.sample().overload, 0);
  } finally {
    root.remove();
  }
});

test('without PSI for CPU, a threshold near 1 still reaches the top at 100 % busy; at 1, busy CPU sheds nothing', () => {
  for (const [threshold, busyUs, expected] of [
    [0.98, 2_000_000, 1], // 100 % of 2 cores: the top (it was 0.4, under sheddable work's 0.5)
    [0.98, 1_980_000, 0.5], // 99 %: halfway from 0.98 to 1
    [1, 2_000_000, 0.01], // at the threshold: the overload state at its floor, nothing shed
  ] as const) {
    const { root, monitor, burnCpu } = setup('cgroup-v2-limited', { loadSheddingThreshold: threshold });
    try {
      withoutCpuPsi(root);
      burnCpu(busyUs);
      const overload = monitor.sample().overload;
      assert.ok(Math.abs(overload - expected) < 1e-9, `threshold ${threshold}, ${busyUs / 20_000} % busy: overload ${overload}, expected ${expected}`);
    } finally {
      root.remove();
    }
  }
});

test('with PSI, a CPU busy to the last cycle is no overload; tasks waiting for it are', () => {
  const { root, monitor, burnCpu } = setup();
  try {
    burnCpu(2_000_000); // the whole 2-core quota, PSI cpu some 12.5 %
    let snap = monitor.sample();
    assert.is(snap.cpu!.utilization, 1);
    assert.is(snap.overload, 0);
    root.write(`${LEAF}/cpu.pressure`, 'some avg10=70.00 avg60=50.00 avg300=20.00 total=1\nfull avg10=10.00 avg60=5.00 avg300=1.00 total=1\n');
    burnCpu(2_000_000);
    snap = monitor.sample();
    assert.ok(Math.abs(snap.overload - 0.5) < 1e-12, `overload ${snap.overload}`); // (70 - 40) / (100 - 40)
    assert.is(snap.resourceOverload, snap.overload);
    assert.equal(monitor.detail().overloadCauses, ['psi_cpu_some']);
  } finally {
    root.remove();
  }
});

test('a PSI threshold of 10 or less still lets go: at half of it', () => {
  const { root, monitor, burnCpu } = setup('cgroup-v2-limited', { psiSomeThreshold: 8 });
  const psi = (some: number) => root.write(`${LEAF}/cpu.pressure`, `some avg10=${some.toFixed(2)} avg60=0.00 avg300=0.00 total=1\nfull avg10=0.00 avg60=0.00 avg300=0.00 total=1\n`);
  root.write(`${LEAF}/io.pressure`, 'some avg10=0.00 avg60=0.00 avg300=0.00 total=1\nfull avg10=0.00 avg60=0.00 avg300=0.00 total=1\n');
  try {
    psi(9);
    burnCpu(1_000_000);
    assert.ok(monitor.sample().overload > 0, 'on at 9 %');
    psi(4.5);
    burnCpu(1_000_000);
    assert.ok(monitor.sample().overload > 0, 'held at 4.5 %, half the threshold');
    psi(0);
    burnCpu(1_000_000);
    assert.is(monitor.sample().overload, 0, 'off once tasks wait no more');
  } finally {
    root.remove();
  }
});

test("host-wide PSI read from a v1 container is reported, not acted on: other tenants' stalls refuse nothing", () => {
  // As on a hybrid host: the memory controller places us in a container, our cgroup2 is the host's root.
  const root = new FixtureRoot('cgroup-v2-unlimited');
  try {
    root.placeInCgroups(['4:memory:/process_api/abc', '0::/'], { '/sys/fs/cgroup/memory': 'memory', '/sys/fs/cgroup/unified': 'cgroup2' });
    root.write('sys/fs/cgroup/memory/process_api/abc/memory.usage_in_bytes', `${100 * MiB}\n`);
    const stalled = 'some avg10=90.00 avg60=80.00 avg300=50.00 total=1\nfull avg10=40.00 avg60=30.00 avg300=10.00 total=1\n';
    for (const resource of ['cpu', 'memory', 'io']) {
      root.write(`proc/pressure/${resource}`, stalled);
      root.write(`sys/fs/cgroup/unified/${resource}.pressure`, stalled);
    }
    const clock = new FakeClock();
    const monitor = new PressureMonitor({
      clock,
      reader: new ProcReader({ root: root.path }),
      heap: () => ({ usedBytes: 100 * MiB, limitBytes: 4 * GiB, source: 'test heap' }),
      eventLoop: { sample: () => ({ delayP99Ms: 1, utilization: 0.2 }) },
    });
    // Niced batch work of other tenants: the host stalls, this service does not wait.
    root.write('proc/stat', 'cpu  300010 390 100000 600000 0 0 10 0 0 0\n');
    clock.advance(1000);
    let snap = monitor.sample();
    assert.is(snap.psi?.cpuSomeAvg10, 90);
    assert.is(snap.psi?.notActedOn, true);
    assert.match(snap.psi!.source, /^\/proc\/pressure \(host-wide, other tenants' stalls included: this process is in the v1 cgroup \/process_api\/abc .*: reported, not acted on\)$/);
    assert.is(snap.overload, 0);
    assert.is(snap.memoryPressure, false, 'PSI memory full 40 % of the host is not ours');
    // Busy CPU stands in, as without PSI: work at the default priority saturating the CPUs is overload.
    root.write('proc/stat', 'cpu  300410 390 100000 600000 0 0 10 0 0 0\n');
    clock.advance(1000);
    snap = monitor.sample();
    assert.is(snap.overload, 1);
    assert.equal(monitor.detail().overloadCauses, ['cpu']);
    monitor.close();
  } finally {
    root.remove();
  }
});

test('without PSI, time at a positive nice value counts as idle: background jobs yield to the service', () => {
  const { root, monitor, clock } = setup('cgroup-v2-unlimited');
  try {
    // 400 ticks pass: 390 of them niced (a nice-19 batch job on every core), 10 ours.
    root.write('proc/stat', 'cpu  300010 390 100000 600000 0 0 10 0 0 0\n');
    clock.advance(1000);
    let snap = monitor.sample();
    assert.is(snap.cpu!.utilization, 10 / 400);
    assert.is(snap.overload, 0);
    // The same 390 ticks at the default priority: that is saturation.
    root.write('proc/stat', 'cpu  300410 390 100000 600000 0 0 10 0 0 0\n');
    clock.advance(1000);
    snap = monitor.sample();
    assert.is(snap.cpu!.utilization, 1);
    assert.is(snap.overload, 1);
  } finally {
    root.remove();
  }
});

test('a CPU quota used up is overload: throttled periods over periods of the last 10 s, from the cpu.stat beside the quota', () => {
  const { root, clock, monitor, burnCpu } = setup();
  const stat = 'sys/fs/cgroup/system.slice/cpu.stat';
  try {
    root.write(stat, 'usage_usec 9000000\nnr_periods 1010\nnr_throttled 13\nthrottled_usec 60000\n');
    burnCpu(1_000_000);
    let snap = monitor.sample();
    assert.is(snap.cpu!.throttledPercent, 30); // 3 of 10 periods since the fixture's 10 of 1,000 (less than 10 s of history)
    assert.is(snap.cpu!.throttlingSource, 'cgroup2:/sys/fs/cgroup/system.slice/cpu.stat nr_throttled/nr_periods');
    assert.is(snap.overload, 0, 'below 40 % (PSI cpu some 12.5 %)');
    root.write(stat, 'usage_usec 11000000\nnr_periods 1020\nnr_throttled 21\nthrottled_usec 90000\n');
    clock.advance(9000);
    burnCpu(2_000_000);
    snap = monitor.sample();
    assert.is(snap.cpu!.throttledPercent, 80); // 8 of 10 since the reading 10 s ago, not 11 of 20 since the first
    assert.ok(Math.abs(snap.overload - 2 / 3) < 1e-12, `overload ${snap.overload}`); // (80 - 40) / (100 - 40)
    assert.is(snap.resourceOverload, snap.overload);
    assert.equal(monitor.detail().overloadCauses, ['cpu_throttled']);
    clock.advance(9000);
    burnCpu(0); // no period ran in the last 10 s: nothing was throttled
    assert.is(monitor.sample().cpu!.throttledPercent, 0);
  } finally {
    root.remove();
  }
});

/**
 * The reviewer's machine: cgroup v1, a 1.5-CPU quota (cfs 150000/100000), sampled once a second.
 * `throttle(throttled, periods)` adds one second's worth to the quota's cpu.stat and samples.
 */
function v1Quota() {
  const env = setup('cgroup-v1-limited');
  const stat = 'sys/fs/cgroup/cpu,cpuacct/docker/abc123/cpu.stat';
  // Only the throttling moves here: PSI cpu some calm (the fixture's 30 % would hold an overload on).
  env.root.write('proc/pressure/cpu', 'some avg10=5.00 avg60=5.00 avg300=5.00 total=1234567\n');
  let periods = 500; // the fixture's counters
  let throttledPeriods = 20;
  const shedder = new LoadShedder(DEFAULT_SHED_THRESHOLDS, DEFAULT_MEMORY_PRESSURE_LEVEL);
  const throttle = (throttled: number, ran: number) => {
    periods += ran;
    throttledPeriods += throttled;
    env.root.write(stat, `nr_periods ${periods}\nnr_throttled ${throttledPeriods}\nthrottled_time 0\n`);
    env.clock.advance(1000);
    const snap = env.monitor.sample();
    shedder.update(snap, snap.atMs);
    return snap;
  };
  return { ...env, throttle, shedder };
}

test('a steadily saturated quota does not flap critical shedding: the throttled share is taken over 10 s', () => {
  const { root, throttle, shedder } = v1Quota();
  try {
    // Per second the kernel counts about ten 100 ms periods, all or nearly all throttled, give or take one.
    const seconds: [number, number][] = [[10, 10], [8, 10], [11, 10], [9, 11]];
    const levels: number[] = [];
    let criticalChanges = 0;
    let critical = false;
    for (let i = 0; i < 60; i++) {
      const [throttled, ran] = seconds[i % seconds.length]!;
      const snap = throttle(throttled, ran);
      if (i >= 10) levels.push(snap.resourceOverload); // once there are 10 s of history
      const now = shedder.states().critical.active;
      if (now !== critical) criticalChanges++;
      critical = now;
    }
    const low = Math.min(...levels);
    const high = Math.max(...levels);
    // 38 of 41 periods throttled, about 92.7 %: level (92.7 - 40) / 60, about 0.88.
    assert.ok(low >= 0.86 && high <= 0.9, `level between ${low} and ${high}`);
    assert.ok(criticalChanges <= 1, `critical shedding changed ${criticalChanges} times in 60 s`);
    assert.is(shedder.states().normal.active, true, 'the saturated quota is still overload');
  } finally {
    root.remove();
  }
});

test('a step in throttling shows within 10 s, and so does its end', () => {
  const { root, throttle } = v1Quota();
  try {
    for (let i = 0; i < 20; i++) assert.is(throttle(0, 10).resourceOverload, 0);
    // The quota becomes saturated: the share climbs 10 points a second as the window fills.
    const up = Array.from({ length: 12 }, () => throttle(10, 10));
    assert.equal(up.map((s) => s.cpu!.throttledPercent), [10, 20, 30, 40, 50, 60, 70, 80, 90, 100, 100, 100]);
    assert.is(up.findIndex((s) => s.overload > 0) + 1, 4, 'overload from 40 % after 4 s');
    assert.is(up.findIndex((s) => s.resourceOverload >= 0.97) + 1, 10, 'the critical level after 10 s');
    // And it ends: below the critical exit at once, no overload within 10 s.
    const down = Array.from({ length: 12 }, () => throttle(0, 10));
    assert.equal(down.map((s) => s.cpu!.throttledPercent), [90, 80, 70, 60, 50, 40, 30, 20, 10, 0, 0, 0]);
    assert.ok(down[0]!.resourceOverload < 0.85, `level ${down[0]!.resourceOverload} a second after`);
    assert.is(down.findIndex((s) => s.overload === 0) + 1, 8, 'overload gone below 30 %, after 8 s');
    assert.equal(down.slice(7).map((s) => s.overload), [0, 0, 0, 0, 0]);
  } finally {
    root.remove();
  }
});

test('the event loop busy serving is no overload; late, it is, but not a resource one', () => {
  const { root, monitor, loop } = setup();
  try {
    loop.utilization = 1; // e.g. a flood of Acquires it refuses as fast as it would admit them
    let snap = monitor.sample();
    assert.is(snap.eventLoop.utilization, 1);
    assert.is(snap.overload, 0);
    loop.delayP99Ms = 1000;
    snap = monitor.sample();
    assert.is(snap.overload, 1);
    assert.is(snap.resourceOverload, 0);
    assert.equal(monitor.detail().overloadCauses, ['event_loop_delay']);
  } finally {
    root.remove();
  }
});

test('overload from event-loop delay and from PSI io some', () => {
  const { root, monitor, loop } = setup();
  try {
    loop.delayP99Ms = 300; // (300 - 200) / (1000 - 200)
    let snap = monitor.sample();
    assert.ok(Math.abs(snap.overload - 0.125) < 1e-12);
    assert.is(snap.eventLoop.delayP99Ms, 300);
    loop.delayP99Ms = 150; // above half the threshold: held
    assert.is(monitor.sample().overload, 0.01);
    loop.delayP99Ms = 50;
    assert.is(monitor.sample().overload, 0);

    root.write(`${LEAF}/io.pressure`, 'some avg10=70.00 avg60=50.00 avg300=20.00 total=1\nfull avg10=40.00 avg60=30.00 avg300=10.00 total=1\n');
    snap = monitor.sample();
    assert.ok(Math.abs(snap.overload - 0.5) < 1e-12); // (70 - 40) / (100 - 40)
    assert.equal(monitor.detail().overloadCauses, ['psi_io_some']);
  } finally {
    root.remove();
  }
});

test('no cgroup limit and no PSI: host /proc/meminfo and /proc/stat, psi absent', () => {
  const { root, monitor, clock } = setup('cgroup-v2-unlimited');
  try {
    let snap = monitor.snapshot();
    assert.is(snap.psi, undefined);
    assert.is(snap.memory!.utilization, 0.75);
    assert.is(snap.memory!.source, '/proc/meminfo over /proc/meminfo MemTotal');
    assert.is(snap.cpu!.availableCores, 4);
    // 300 busy + 100 idle ticks since the last reading.
    root.write('proc/stat', 'cpu  300300 0 100000 600100 0 0 10 0 0 0\n');
    clock.advance(1000);
    snap = monitor.sample();
    assert.is(snap.cpu!.utilization, 0.75);
    assert.is(snap.cpu!.source, '/proc/stat');
  } finally {
    root.remove();
  }
});

test('a kernel file not in its format is one reading unavailable, named, not a failed sample: the others stay current', () => {
  const { root, monitor, clock } = setup('cgroup-v2-unlimited');
  try {
    root.write('proc/stat', 'cpu x\n');
    root.edit('proc/meminfo', (text) => text.replace(/MemAvailable:\s+\d+/, 'MemAvailable: 1048576'));
    clock.advance(1000);
    let snap = monitor.sample();
    assert.is(snap.cpu, undefined);
    assert.equal(snap.unavailable, { cpu: '/proc/stat: malformed cpu line' });
    assert.is(snap.memory!.usedBytes, 7 * GiB, 'memory read in the same sample');

    root.write('proc/meminfo', 'MemFree: 1 kB\n');
    clock.advance(1000);
    snap = monitor.sample();
    assert.is(snap.memory, undefined);
    assert.equal(snap.unavailable, { cpu: '/proc/stat: malformed cpu line', memory: '/proc/meminfo: no MemTotal line' });
  } finally {
    root.remove();
  }
});

test('cgroup v1: memory against the v1 limit, CPU from cpuacct over 1.5 cores', () => {
  const { root, monitor, clock } = setup('cgroup-v1-limited');
  try {
    const first = monitor.snapshot();
    assert.ok(Math.abs(first.memory!.utilization - 500 / 768) < 1e-12);
    assert.is(first.cpu!.availableCores, 1.5);
    root.write('sys/fs/cgroup/cpu,cpuacct/docker/abc123/cpuacct.usage', `${12_000_000_000 + 750_000_000}\n`);
    clock.advance(1000);
    assert.is(monitor.sample().cpu!.utilization, 0.5); // 0.75 s over 1 s x 1.5 cores
    // A v1 container without a cgroup2 of its own reads only the host's PSI: reported, no signal.
    assert.match(first.psi!.source, /^\/proc\/pressure \(host-wide, .* in the v1 cgroup \/docker\/abc123 and there is no cgroup2 to read its own from: reported, not acted on\)$/);
    assert.is(first.psi?.notActedOn, true);
  } finally {
    root.remove();
  }
});

test('tick() samples only once the interval has passed; snapshot() never reads', () => {
  const { root, monitor, clock, setWorkingSet } = setup();
  try {
    const first = monitor.snapshot();
    setWorkingSet(0.9 * 1.5 * GiB);
    clock.advance(400);
    assert.is(monitor.tick(), first);
    assert.is(monitor.snapshot(), first);
    clock.advance(600);
    const next = monitor.tick();
    assert.is.not(next, first);
    assert.is(next.memoryPressure, true);
    assert.is(next.atMs, first.atMs + 1000);
  } finally {
    root.remove();
  }
});

test('options are validated, naming the option', () => {
  const bad: [PressureMonitorOptions, string][] = [
    [{ memoryThreshold: 1.5 }, 'memoryThreshold'],
    [{ memoryThreshold: 0.5, memoryMargin: 0.6 }, 'memoryMargin'],
    [{ loadSheddingThreshold: Number.NaN }, 'loadSheddingThreshold'],
    [{ psiSomeThreshold: 0 }, 'psiSomeThreshold'],
    [{ intervalMs: -1 }, 'intervalMs'],
  ];
  for (const [options, field] of bad) {
    try {
      new PressureMonitor({ eventLoop: { sample: () => ({ delayP99Ms: 0, utilization: 0 }) }, ...options });
      assert.unreachable(field);
    } catch (error) {
      assert.instance(error, ObservabilityError);
      assert.is((error as ObservabilityError).field, field);
    }
  }
});

test('the real machine, real heap and event loop: a sane snapshot', async () => {
  const monitor = new PressureMonitor();
  try {
    await new Promise((resolve) => setTimeout(resolve, 50));
    const snap = monitor.sample();
    assert.ok(snap.memory!.utilization > 0 && snap.memory!.utilization < 1);
    assert.ok(snap.heap!.usedBytes > 0 && snap.heap!.usedBytes < snap.heap!.limitBytes);
    assert.match(snap.heap!.source, /^v8 old generation /);
    assert.ok(snap.eventLoop.delayP99Ms >= 0 && snap.eventLoop.utilization >= 0 && snap.eventLoop.utilization <= 1);
    assert.ok(snap.cpu!.availableCores > 0);
  } finally {
    monitor.close();
  }
});

test.run();
