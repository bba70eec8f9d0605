import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ProcessProfiler } from '../../../../src/core/profiling/process/profiler.js';
import { ProcReader } from '../../../../src/core/procfs/reader.js';
import { FakeClock } from '../../../support/fake-clock.js';
import { WallAndMonotonic } from '../../../support/wall-and-monotonic.js';
import { FixtureRoot, STARTTIME, STIME, UTIME } from '../../procfs/fixture-root.js';
import { errorOf } from '../../../support/errors.js';

function setup(name = 'cgroup-v2-limited') {
  const root = new FixtureRoot(name);
  const clock = new WallAndMonotonic();
  const logged: string[] = [];
  const profiler = new ProcessProfiler({ clock: clock.wall, intervals: clock.monotonic, reader: new ProcReader({ root: root.path }), pids: [4242], log: (m) => logged.push(m) });
  return { root, clock, profiler, logged };
}

const close = (actual: number, expected: number, what: string) =>
  assert.ok(Math.abs(actual - expected) < 1e-9, `${what}: ${actual} != ${expected}`);

test('first sample is the average since the process started, not inflated', () => {
  const { root, profiler } = setup();
  try {
    // 15000 ticks at 250 Hz = 60 s of CPU; started 400 s after boot, uptime 1000 s: 600 s alive.
    const { cpu } = profiler.sample(4242);
    assert.is(cpu.basis, 'since_start');
    close(cpu.percentOfCore, 10, 'percent of core');
    close(cpu.percentOfMachine, 5, 'percent of machine (2-core quota)');
    assert.is(cpu.availableCores, 2);
    assert.is(cpu.intervalMs, 600_000);
    assert.is(cpu.totalTimeUs, 60_000_000n);
    assert.is(cpu.userTimeUs, 40_000_000n);
    assert.is(cpu.systemTimeUs, 20_000_000n);
  } finally {
    root.remove();
  }
});

/** Four seconds on, with 2 s of CPU more (500 ticks): the sample reads half a core over that interval. */
function assertHalfCoreOverFourSeconds({ root, clock, profiler }: ReturnType<typeof setup>) {
  clock.advance(4000);
  root.setStat(4242, { [UTIME]: 10300, [STIME]: 5200 });
  const { cpu } = profiler.sample(4242);
  assert.is(cpu.basis, 'interval');
  assert.is(cpu.intervalMs, 4000);
  close(cpu.percentOfCore, 50, 'percent of core');
  close(cpu.percentOfMachine, 25, 'percent of machine');
}

test('later samples use the tick delta over the elapsed time', () => {
  const fixture = setup();
  try {
    fixture.profiler.sample(4242);
    assertHalfCoreOverFourSeconds(fixture);
  } finally {
    fixture.root.remove();
  }
});

test('a sample too soon after the last one does not divide by a tiny interval', () => {
  const { root, clock, profiler } = setup();
  try {
    profiler.sample(4242);
    clock.advance(200);
    root.setStat(4242, { [UTIME]: 10025 }); // 0.1 s of CPU in 0.2 s would read as 50%
    root.write('proc/uptime', '1000.20 7601.00\n');
    const soon = profiler.sample(4242).cpu;
    assert.is(soon.basis, 'since_start');
    close(soon.percentOfCore, (15025 / 250 / 600.2) * 100, 'since start');

    // Once a baseline is old enough the interval figure is used, and a quick call after that still
    // measures against a window of at least a second.
    clock.advance(1000);
    root.setStat(4242, { [UTIME]: 10250 }); // 250 ticks = 1 s since the first sample, 1.2 s ago
    const later = profiler.sample(4242).cpu;
    assert.is(later.basis, 'interval');
    assert.is(later.intervalMs, 1200);
    clock.advance(10);
    const quick = profiler.sample(4242).cpu;
    assert.is(quick.basis, 'interval');
    assert.is(quick.intervalMs, 1210);
  } finally {
    root.remove();
  }
});

test('on-demand measurements between snapshots leave each snapshot the whole time since the one before', () => {
  // A client polling every 1.1 s used to move the one baseline: the snapshot covered the last 1.1 s.
  const { root, clock, profiler } = setup();
  try {
    assert.equal(profiler.collect(), { taken: 1, failed: [] });
    let utime = 10000;
    for (let i = 0; i < 5; i++) {
      clock.advance(1100);
      utime += 25; // 0.1 s of CPU per step
      root.setStat(4242, { [UTIME]: utime });
      const polled = profiler.sample(4242).cpu;
      assert.is(polled.basis, 'interval', `poll ${i + 1}`);
    }
    // In the last half second, a burst of 2.5 s of CPU (625 ticks) over several threads.
    clock.advance(500);
    root.setStat(4242, { [UTIME]: utime + 625 });
    profiler.collect();
    const [latest] = profiler.snapshots(4242, { limit: 1 });
    assert.is(latest.cpu.basis, 'interval');
    assert.is(latest.cpu.intervalMs, 6000, 'the time since the previous snapshot');
    close(latest.cpu.percentOfCore, ((125 + 625) / 250 / 6) * 100, 'the CPU used since the previous snapshot, burst included');

    // An on-demand measurement measures from the latest earlier one a second before, a snapshot too.
    clock.advance(1500);
    const afterSnapshot = profiler.sample(4242).cpu;
    assert.is(afterSnapshot.intervalMs, 1500, 'from the snapshot, the latest measurement a second before');
    close(afterSnapshot.percentOfCore, 0, 'no CPU since the snapshot');
  } finally {
    root.remove();
  }
});

test('a pinned pid whose start time changes is refused not found, saying nothing of the new process, and its history is kept', () => {
  const { root, clock, profiler, logged } = setup();
  try {
    assert.equal(profiler.collect(), { taken: 1, failed: [] });
    clock.advance(5000);
    // Another process, started 900 s after boot, is given pid 4242.
    root.edit('proc/4242/stat', (text) => text.replace('(rs3gw) (io 2)', '(intruder)'));
    root.setStat(4242, { [UTIME]: 250, [STIME]: 0, [STARTTIME]: 225000 });
    const reused = 'pid: 4242 is not served: the allowlisted process (started 400.00 s after boot) has exited and the pid now belongs to another process, which is not allowlisted';
    for (const call of [() => profiler.sample(4242), () => profiler.identify(4242)]) {
      const error = errorOf(call);
      assert.is(error.kind, 'not_found');
      assert.is(error.field, 'pid');
      assert.is(error.message, reused);
    }
    assert.equal(profiler.collect(), { taken: 0, failed: [{ pid: 4242, reason: reused }] });
    const history = profiler.snapshots(4242);
    assert.is(history.length, 1, 'the watched process keeps its history');
    assert.is(history[0]!.startedAfterBootUs, 400_000_000n);
    assert.is(history[0]!.comm, 'rs3gw) (io 2');
    assert.equal(logged, [
      'profiling: pid 4242: the watched process (started 400.00 s after boot) has exited and the pid was reused by another process, which is not served; the snapshots of the watched process (1) are kept',
    ]);
    assert.not.match(logged.join('\n'), 'intruder');
  } finally {
    root.remove();
  }
});

test('a listed pid that names no process at start-up is refused not found, and still refused once a process takes it', () => {
  const root = new FixtureRoot('cgroup-v2-limited');
  try {
    root.linkSelf(4242); // the service itself, pinned to itself and served
    const profiler = new ProcessProfiler({ clock: new FakeClock(), reader: new ProcReader({ root: root.path }), pids: [4242, 5000] });
    const absent = 'pid: 5000 is not served: at start-up it named no running process (process 5000 does not exist), and a process that takes the pid later is not the one the allowlist meant';
    assert.equal(profiler.absentAtStart(), [{ pid: 5000, reason: 'process 5000 does not exist' }]);
    assert.is(errorOf(() => profiler.sample(5000)).message, absent);
    // A process starts and is given pid 5000.
    root.write('proc/5000/stat', '5000 (intruder) S 1 5000 5000 0 -1 4194560 5000 0 10 0 10000 5000 0 0 20 0 9 0 300000 1073741824 65536 18446744073709551615 1 1 0 0 0 0 0 4096 17663 0 0 0 17 1 0 0 0 0 0 0 0 0 0 0 0 0 0\n');
    root.write('proc/5000/status', 'Name:\tintruder\nTgid:\t5000\nPid:\t5000\nThreads:\t9\n');
    for (const call of [() => profiler.sample(5000), () => profiler.identify(5000), () => profiler.snapshots(5000)]) {
      const error = errorOf(call);
      assert.is(error.kind, 'not_found');
      assert.is(error.message, absent);
    }
    assert.equal(profiler.collect(), { taken: 1, failed: [{ pid: 5000, reason: absent }] });
    assert.is(profiler.sample(4242).comm, 'rs3gw) (io 2', 'the service itself is served');
    assert.is(profiler.snapshots(4242).length, 1);
  } finally {
    root.remove();
  }
});

for (const stepMs of [3_600_000, -3_600_000]) {
  test(`a wall clock stepped ${stepMs > 0 ? 'forward' : 'back'} an hour neither dilutes nor stalls the CPU figure; samples keep wall time`, () => {
    const fixture = setup();
    try {
      fixture.profiler.sample(4242);
      fixture.clock.wall.advance(stepMs);
      assertHalfCoreOverFourSeconds(fixture);
      assert.is(fixture.profiler.sample(4242).atMs, fixture.clock.wall.nowMs());
    } finally {
      fixture.root.remove();
    }
  });
}

test('CPU times are whole ticks in microseconds, and the total is exactly user + system', () => {
  // 100 Hz (no auxv): 26009 ticks = 260.09 s and 70 ticks = 0.7 s. In floating point 26009 / 100 * 1e6
  // is 260089999.99999997 and 414 / 100 * 1e6 is 4139999.9999999995, one microsecond short once truncated.
  const { root, profiler } = setup('cgroup-v2-unlimited');
  try {
    for (const [utime, stime, user, system] of [
      [26009, 70, 260_090_000n, 700_000n],
      [344, 70, 3_440_000n, 700_000n],
      [2 ** 40 + 1, 3, 10_995_116_277_770_000n, 30_000n], // beyond 2^53 microseconds
    ] as const) {
      root.setStat(4242, { [UTIME]: utime, [STIME]: stime });
      const { cpu } = profiler.sample(4242);
      assert.is(cpu.userTimeUs, user, `user time of ${utime} ticks`);
      assert.is(cpu.systemTimeUs, system, `system time of ${stime} ticks`);
      assert.is(cpu.totalTimeUs, user + system, `total of ${utime} + ${stime} ticks`);
      assert.is(cpu.totalTimeUs % 10_000n, 0n, 'a whole number of 10 ms ticks');
    }
  } finally {
    root.remove();
  }
});

test('at a tick rate that does not divide a second, each time rounds down and the total is still their sum', () => {
  const root = new FixtureRoot('cgroup-v2-unlimited');
  try {
    // AT_CLKTCK = 300: one tick is 3333.33 us.
    const auxv = Buffer.alloc(32);
    auxv.writeBigUInt64LE(17n, 0);
    auxv.writeBigUInt64LE(300n, 8);
    root.write('proc/self/auxv', auxv);
    root.setStat(4242, { [UTIME]: 1, [STIME]: 2 });
    const profiler = new ProcessProfiler({ clock: new FakeClock(), reader: new ProcReader({ root: root.path }), pids: [4242] });
    const { cpu } = profiler.sample(4242);
    assert.equal([cpu.userTimeUs, cpu.systemTimeUs, cpu.totalTimeUs], [3333n, 6666n, 9999n]);
  } finally {
    root.remove();
  }
});

test('memory and I/O counters of the process', () => {
  const { root, profiler } = setup();
  try {
    const sample = profiler.sample(4242);
    assert.is(sample.comm, 'rs3gw) (io 2');
    assert.equal(sample.memory, {
      rssBytes: 256 * 1024 ** 2,
      virtualBytes: 1024 ** 3,
      peakRssBytes: 384 * 1024 ** 2,
      peakVirtualBytes: 1100000 * 1024,
      threads: 9,
    });
    assert.is(sample.io.available, true);
    if (sample.io.available) assert.is(sample.io.readBytes, 4096000);
  } finally {
    root.remove();
  }
});

test('no auxv: 100 Hz default is used; missing io is reported with a reason', () => {
  const { root, profiler } = setup('cgroup-v2-unlimited');
  try {
    const sample = profiler.sample(4242);
    // 3000 ticks = 30 s over 300 s alive; no quota, so the machine is the 4 online CPUs.
    close(sample.cpu.percentOfCore, 10, 'percent of core');
    close(sample.cpu.percentOfMachine, 2.5, 'percent of machine');
    assert.equal(sample.io, { available: false, reason: 'this kernel has no per-process I/O accounting (/proc/<pid>/io)' });
  } finally {
    root.remove();
  }
});

test('a pid outside the allowlist is permissionDenied naming RS3GW_PROFILING_PIDS', () => {
  const { root, profiler } = setup();
  try {
    const error = errorOf(() => profiler.sample(1));
    assert.is(error.kind, 'permission_denied');
    assert.is(error.field, 'pid');
    assert.match(error.message, /RS3GW_PROFILING_PIDS/);
    assert.is(errorOf(() => profiler.snapshots(1)).kind, 'permission_denied');
    assert.is(errorOf(() => profiler.sample(-3)).kind, 'invalid_argument');
  } finally {
    root.remove();
  }
});

test('an allowlisted pid that has exited is notFound', () => {
  const root = new FixtureRoot('cgroup-v2-limited');
  try {
    const profiler = new ProcessProfiler({ clock: new FakeClock(), reader: new ProcReader({ root: root.path }), pids: [4242] });
    rmSync(join(root.path, 'proc/4242'), { recursive: true });
    const error = errorOf(() => profiler.sample(4242));
    assert.is(error.kind, 'not_found');
    assert.is(error.message, 'pid: process 4242 does not exist');
  } finally {
    root.remove();
  }
});

test('an allowlisted zombie (exited, not yet reaped) is notFound, not measured as an idle process', () => {
  // proc/4343 in the fixture: state Z, no Vm* lines in status, 0 vsize and rss, as the kernel shows a zombie.
  const root = new FixtureRoot('cgroup-v2-limited');
  try {
    // Running when the profiler starts, so that the pid is pinned to it.
    const zombie = readFileSync(join(root.path, 'proc/4343/stat'), 'utf8');
    root.write('proc/4343/stat', zombie.replace(' Z ', ' S '));
    const profiler = new ProcessProfiler({ clock: new FakeClock(), reader: new ProcReader({ root: root.path }), pids: [4242, 4343] });
    root.write('proc/4343/stat', zombie);
    const error = errorOf(() => profiler.sample(4343));
    assert.is(error.kind, 'not_found');
    assert.is(error.field, 'pid');
    assert.is(error.message, 'pid: process 4343 has exited (zombie, not yet reaped by its parent 4242)');
    // Periodic snapshots list it as failed and keep nothing for it.
    assert.equal(profiler.collect(), { taken: 1, failed: [{ pid: 4343, reason: error.message }] });
    assert.is(profiler.snapshots(4343).length, 0);

    // Reaped but still being torn down: state X.
    root.write('proc/4343/stat', '4343 (worker) X 4242 4242 4242 0 -1 4227084 97 0 0 0 120 30 0 0 20 0 1 0 150000 0 0 18446744073709551615 0 0 0 0 0 0 0 6 0 1 0 0 17 1 0 0 0 0 0 0 0 0 0 0 0 0 0\n');
    assert.is(errorOf(() => profiler.sample(4343)).message, 'pid: process 4343 has exited (state X, dead)');
  } finally {
    root.remove();
  }
});

test('a thread id is not a process: refused naming the process it belongs to, with no figures under its id', () => {
  // proc/4250 in the fixture: a thread of 4242, whose /proc entry shows 4242's figures.
  const root = new FixtureRoot('cgroup-v2-limited');
  try {
    const logged: string[] = [];
    const threads = new ProcessProfiler({ clock: new FakeClock(), reader: new ProcReader({ root: root.path }), pids: [4242, 4250], log: (m) => logged.push(m) });
    const error = errorOf(() => threads.sample(4250));
    assert.is(error.kind, 'not_found');
    assert.is(
      error.message,
      'pid: 4250 is not served: at start-up it named no running process (4250 is not a process but a thread of process 4242; watch 4242 (RS3GW_PROFILING_PIDS takes process ids)), and a process that takes the pid later is not the one the allowlist meant',
    );
    assert.equal(threads.collect(), { taken: 1, failed: [{ pid: 4250, reason: error.message }] });
    assert.is(errorOf(() => threads.snapshots(4250)).message, error.message, 'it has no history, nor ever will');
    assert.is(threads.threadOf(4250), 4242);
    assert.is(threads.threadOf(4242), undefined, 'a process is its own first thread');
    assert.is(threads.threadOf(999), undefined, 'a pid that does not exist is no thread');
    assert.is(logged.length, 0);
  } finally {
    root.remove();
  }
});

test('a watched pid the kernel later gives to a thread of another process is refused, and its history is kept', () => {
  const root = new FixtureRoot('cgroup-v2-limited');
  try {
    const logged: string[] = [];
    // 4250 starts as a process of its own...
    root.write('proc/4250/status', 'Name:\tworker\nTgid:\t4250\nPid:\t4250\nThreads:\t1\n');
    const profiler = new ProcessProfiler({ clock: new FakeClock(), reader: new ProcReader({ root: root.path }), pids: [4250], log: (m) => logged.push(m) });
    assert.equal(profiler.collect(), { taken: 1, failed: [] });
    // ...exits, and the kernel hands its number to a new thread of 4242.
    root.write('proc/4250/status', 'Name:\tlibuv-worker\nTgid:\t4242\nPid:\t4250\nThreads:\t9\n');
    root.setStat(4250, { [STARTTIME]: 200000 });
    assert.match(errorOf(() => profiler.sample(4250)).message, /^pid: 4250 is not a process but a thread of process 4242/);
    assert.is(profiler.snapshots(4250).length, 1, 'the process watched before keeps its history');
    assert.equal(logged, [], 'not reported as a different process taking the pid');
  } finally {
    root.remove();
  }
});

test("the service is the process /proc/self links to in the /proc read (another pid namespace's), not process.pid", () => {
  const root = new FixtureRoot('cgroup-v2-limited');
  try {
    // Read from a namespace where we are pid 4242, as when a container reads the host's /proc.
    root.linkSelf(4242);
    const heap = { usedBytes: 7, limitBytes: 8 };
    const profiler = new ProcessProfiler({ clock: new FakeClock(), reader: new ProcReader({ root: root.path }), selfHeap: () => heap });
    assert.equal(profiler.watchedPids(), [4242]);
    assert.is(profiler.selfPid, 4242);
    const sample = profiler.sample(4242);
    assert.is(sample.comm, 'rs3gw) (io 2');
    assert.equal(sample.memory.heap, heap, 'our own V8 heap goes with our own process figures');
  } finally {
    root.remove();
  }
});

test('a /proc whose self is no link (a fixture tree) leaves the service at process.pid', () => {
  const { root, profiler } = setup();
  try {
    assert.is(profiler.selfPid, process.pid);
  } finally {
    root.remove();
  }
});

test('by default the service profiles itself, from the real /proc', () => {
  const profiler = new ProcessProfiler();
  assert.is(profiler.selfPid, process.pid);
  assert.equal(profiler.watchedPids(), [process.pid]);
  const sample = profiler.sample(process.pid);
  assert.is(sample.cpu.basis, 'since_start');
  assert.ok(sample.cpu.percentOfCore >= 0 && Number.isFinite(sample.cpu.percentOfCore));
  assert.ok(sample.memory.rssBytes > 0 && sample.memory.peakRssBytes >= sample.memory.rssBytes);
});

test('configuration is validated and the watched-pid list is capped', () => {
  const kinds = [
    () => new ProcessProfiler({ pids: [] }),
    () => new ProcessProfiler({ pids: Array.from({ length: 65 }, (_, i) => i + 1) }),
    () => new ProcessProfiler({ pids: [1, 0] }),
    () => new ProcessProfiler({ intervalSeconds: 0 }),
    () => new ProcessProfiler({ maxSnapshots: 2.5 }),
  ].map((make) => errorOf(make));
  assert.equal(kinds.map((e) => e.field), ['pids', 'pids', 'pids[1]', 'intervalSeconds', 'maxSnapshots']);
  assert.ok(kinds.every((e) => e.kind === 'invalid_argument'));
  assert.is(new ProcessProfiler({ pids: Array.from({ length: 64 }, (_, i) => i + 1) }).watchedPids().length, 64);
});

test.run();
