import { cpSync, mkdirSync, readFileSync, rmdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ProcessProfiler } from '../../../../src/core/profiling/process/profiler.js';
import { ProcReader } from '../../../../src/core/procfs/reader.js';
import { FakeClock } from '../../../support/fake-clock.js';
import { WallAndMonotonic } from '../../../support/wall-and-monotonic.js';
import { FixtureRoot, STARTTIME, UTIME } from '../../procfs/fixture-root.js';

test('retention: only the newest maxSnapshots are kept, newest first', () => {
  const root = new FixtureRoot('cgroup-v2-limited');
  try {
    const clock = new WallAndMonotonic(1_000_000);
    const reader = new ProcReader({ root: root.path });
    const profiler = new ProcessProfiler({ clock: clock.wall, intervals: clock.monotonic, reader, pids: [4242], maxSnapshots: 5 });
    for (let i = 0; i < 12; i++) {
      root.setStat(4242, { [UTIME]: 10000 + i * 250 });
      assert.equal(profiler.collect(), { taken: 1, failed: [] });
      clock.advance(60_000);
    }
    const kept = profiler.snapshots(4242);
    assert.is(kept.length, 5);
    assert.equal(kept.map((s) => s.atMs), [7, 8, 9, 10, 11].reverse().map((i) => 1_000_000 + i * 60_000));
    // 250 ticks (1 s) per 60 s interval after the first.
    assert.ok(kept.every((s) => s.cpu.basis === 'interval' && Math.abs(s.cpu.percentOfCore - 100 / 60) < 1e-9));
  } finally {
    root.remove();
  }
});

test('at a 1 s interval each snapshot measures from the one before, also when the timer fires a little early', () => {
  // The timer runs on the event loop's cached clock: readings 999.x ms apart were refused as a
  // baseline, and the next snapshot measured over 2 s, overlapping the one before.
  const root = new FixtureRoot('cgroup-v2-limited');
  try {
    const clock = new WallAndMonotonic(1_000_000);
    const profiler = new ProcessProfiler({ clock: clock.wall, intervals: clock.monotonic, reader: new ProcReader({ root: root.path }), pids: [4242], intervalSeconds: 1 });
    const gapsMs = [999.4, 1000.2, 999.8, 999.9];
    profiler.collect();
    for (const [i, gap] of gapsMs.entries()) {
      clock.advance(gap);
      root.setStat(4242, { [UTIME]: 10000 + (i + 1) * 125 }); // half a second of CPU per snapshot
      profiler.collect();
    }
    const later = profiler.snapshots(4242).reverse().slice(1);
    assert.equal(later.map((s) => s.cpu.basis), gapsMs.map(() => 'interval'));
    for (const [i, s] of later.entries()) {
      const gap = gapsMs[i]!;
      assert.ok(Math.abs(s.cpu.intervalMs - gap) < 1e-6, `snapshot ${i + 1}: window ${s.cpu.intervalMs} ms, the time since the one before is ${gap} ms`);
      assert.ok(Math.abs(s.cpu.percentOfCore - 50_000 / gap) < 1e-6, `snapshot ${i + 1}: ${s.cpu.percentOfCore}%, half a second of CPU in ${gap} ms`);
    }
  } finally {
    root.remove();
  }
});

test('sinceMs and limit select from the retained snapshots', () => {
  const root = new FixtureRoot('cgroup-v2-limited');
  try {
    const clock = new FakeClock(0);
    const profiler = new ProcessProfiler({ clock, reader: new ProcReader({ root: root.path }), pids: [4242] });
    for (let i = 0; i < 6; i++) {
      profiler.collect();
      clock.advance(1000);
    }
    assert.equal(profiler.snapshots(4242, { sinceMs: 3000 }).map((s) => s.atMs), [5000, 4000, 3000]);
    assert.equal(profiler.snapshots(4242, { limit: 2 }).map((s) => s.atMs), [5000, 4000]);
    assert.throws(() => profiler.snapshots(4242, { limit: 0 }), /limit: must be an integer/);
    assert.throws(() => profiler.snapshots(4242, { sinceMs: Number.NaN }), /since_ms/);
  } finally {
    root.remove();
  }
});

test('snapshots carry the recorded I/O operations at the time they were taken', () => {
  const root = new FixtureRoot('cgroup-v2-limited');
  try {
    const profiler = new ProcessProfiler({ clock: new FakeClock(), reader: new ProcReader({ root: root.path }), pids: [4242] });
    profiler.recordIo({ direction: 'read', bytes: 100, latencyUs: 50 });
    profiler.collect();
    profiler.recordIo({ direction: 'write', bytes: 10, latencyUs: 5 });
    const [snapshot] = profiler.snapshots(4242);
    assert.is(snapshot.operations.read.operations, 1);
    assert.is(snapshot.operations.write.operations, 0);
  } finally {
    root.remove();
  }
});

/** A fixture with a second running process, pid 5000 (a copy of 4242), for it to fail. */
function withSecondProcess(): FixtureRoot {
  const root = new FixtureRoot('cgroup-v2-limited');
  cpSync(join(root.path, 'proc/4242'), join(root.path, 'proc/5000'), { recursive: true });
  root.edit('proc/5000/status', (text) => text.replace(/^(Tgid|Pid):\t4242$/gm, '$1:\t5000'));
  return root;
}

test('a watched pid that exits is listed as failed and the others are still taken', () => {
  const root = withSecondProcess();
  try {
    const profiler = new ProcessProfiler({ clock: new FakeClock(), reader: new ProcReader({ root: root.path }), pids: [4242, 5000] });
    rmSync(join(root.path, 'proc/5000'), { recursive: true });
    assert.equal(profiler.collect(), { taken: 1, failed: [{ pid: 5000, reason: 'pid: process 5000 does not exist' }] });
    assert.is(profiler.snapshots(5000).length, 0);
  } finally {
    root.remove();
  }
});

test('a watched pid whose /proc files cannot be read (not a not-found) is listed as failed, not thrown', () => {
  const root = withSecondProcess();
  try {
    const profiler = new ProcessProfiler({ clock: new FakeClock(), reader: new ProcReader({ root: root.path }), pids: [4242, 5000] });
    root.removeFile('proc/5000/stat');
    mkdirSync(join(root.path, 'proc/5000/stat')); // EISDIR, as EMFILE or EIO would be: no ObservabilityError
    const { taken, failed } = profiler.collect();
    assert.is(taken, 1);
    assert.equal(failed.map((f) => f.pid), [5000]);
    assert.match(failed[0]!.reason, 'EISDIR');
  } finally {
    root.remove();
  }
});

test('periodic snapshots that fail are logged once per failure and once when they work again', async () => {
  const root = new FixtureRoot('cgroup-v2-limited');
  const logged: string[] = [];
  const profiler = new ProcessProfiler({ reader: new ProcReader({ root: root.path }), pids: [4242], intervalSeconds: 0.02, log: (m) => logged.push(m) });
  /** Waits for the nth line, then five intervals more, in which nothing else may be logged. */
  const settle = async (n: number) => {
    for (let waited = 0; logged.length < n && waited < 2000; waited += 10) await sleep(10);
    await sleep(100);
    assert.is(logged.length, n, logged.join('\n'));
  };
  const stat = readFileSync(join(root.path, 'proc/4242/stat'));
  try {
    root.removeFile('proc/4242/stat');
    mkdirSync(join(root.path, 'proc/4242/stat'));
    profiler.start();
    await settle(1);
    assert.match(logged[0]!, /^profiling: periodic snapshots of pid 4242 fail .*EISDIR/);
    rmdirSync(join(root.path, 'proc/4242/stat'));
    await settle(2); // a different failure is logged too
    assert.match(logged[1]!, 'process 4242 does not exist');
    root.write('proc/4242/stat', stat);
    await settle(3);
    assert.is(logged[2], 'profiling: periodic snapshots of pid 4242 are taken again');
    assert.ok(profiler.snapshots(4242).length >= 1);
  } finally {
    profiler.stop();
    root.remove();
  }
});

test('a pid the kernel hands to another process is not served: the watched process keeps its history, and the log says so once', () => {
  const root = new FixtureRoot('cgroup-v2-limited');
  try {
    const clock = new FakeClock(0);
    const logged: string[] = [];
    const profiler = new ProcessProfiler({ clock, reader: new ProcReader({ root: root.path }), pids: [4242], log: (m) => logged.push(m) });
    const stat = readFileSync(join(root.path, 'proc/4242/stat'), 'utf8');
    for (let i = 0; i < 2; i++, clock.advance(1000)) profiler.collect();
    // The process exits (one snapshot fails), then another one is given pid 4242, 900 s after boot.
    root.removeFile('proc/4242/stat');
    assert.is(profiler.collect().taken, 0);
    clock.advance(1000);
    root.write('proc/4242/stat', stat.replace('(rs3gw) (io 2)', '(intruder)'));
    root.setStat(4242, { [STARTTIME]: 225000 });
    for (let i = 0; i < 2; i++, clock.advance(1000)) {
      assert.equal(profiler.collect(), {
        taken: 0,
        failed: [{ pid: 4242, reason: 'pid: 4242 is not served: the allowlisted process (started 400.00 s after boot) has exited and the pid now belongs to another process, which is not allowlisted' }],
      });
    }
    const history = profiler.snapshots(4242);
    assert.equal(history.map((s) => s.atMs), [1000, 0], "the watched process's snapshots, none of the new one's");
    // Fixture clock ticks are 250 Hz: the watched process started at 100000 ticks = 400 s.
    assert.ok(history.every((s) => s.startedAfterBootUs === 400_000_000n && s.comm === 'rs3gw) (io 2'));
    assert.equal(logged, [
      'profiling: pid 4242: the watched process (started 400.00 s after boot) has exited and the pid was reused by another process, which is not served; the snapshots of the watched process (2) are kept',
    ]);
  } finally {
    root.remove();
  }
});

test('start() snapshots at once and then every interval; stop() ends it', async () => {
  const root = new FixtureRoot('cgroup-v2-limited');
  const profiler = new ProcessProfiler({ reader: new ProcReader({ root: root.path }), pids: [4242], intervalSeconds: 0.02 });
  try {
    profiler.start();
    profiler.start(); // a second start must not add a second timer
    assert.is(profiler.snapshots(4242).length, 1);
    await sleep(110);
    profiler.stop();
    const taken = profiler.snapshots(4242).length;
    assert.ok(taken >= 2 && taken <= 7, `expected about 6 snapshots from one timer, got ${taken}`);
    assert.is(profiler.running, false);
    await sleep(60);
    assert.is(profiler.snapshots(4242).length, taken);
  } finally {
    profiler.stop();
    root.remove();
  }
});

test.run();
