import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ProcReader } from '../../../../src/core/procfs/reader.js';
import { CpuUtilization, THROTTLING_HISTORY_CAP } from '../../../../src/core/resource/signals/cpu-utilization.js';
import { FixtureRoot } from '../../procfs/fixture-root.js';

const STAT = 'sys/fs/cgroup/cpu,cpuacct/docker/abc123/cpu.stat';
const T0 = Date.UTC(2026, 0, 1);

/** A 1.5-CPU cgroup v1 quota whose cpu.stat the test sets before each read. */
function setup() {
  const root = new FixtureRoot('cgroup-v1-limited');
  const cpu = new CpuUtilization(new ProcReader({ root: root.path }));
  const read = (atMs: number, periods: number, throttled: number) => {
    root.write(STAT, `nr_periods ${periods}\nnr_throttled ${throttled}\nthrottled_time 0\n`);
    return cpu.read(atMs);
  };
  return { root, cpu, read };
}

test('the throttled share: undefined at the first reading, then over the readings so far, then over the last 10 s', () => {
  const { root, read } = setup();
  try {
    assert.is(read(T0, 0, 0).throttledPercent, undefined);
    assert.is(read(T0 + 1000, 10, 10).throttledPercent, 100);
    assert.is(read(T0 + 2000, 20, 10).throttledPercent, 50); // since the first reading: 10 of 20
    for (let s = 3; s <= 12; s++) read(T0 + s * 1000, s * 10, 10); // ten seconds with nothing throttled
    const reading = read(T0 + 13_000, 130, 10);
    assert.is(reading.throttledPercent, 0, 'the throttling of the first two seconds is over 10 s ago');
    assert.is(reading.throttlingSource, 'cgroup1:/sys/fs/cgroup/cpu,cpuacct/docker/abc123/cpu.stat nr_throttled/nr_periods');
    assert.is(read(T0 + 14_000, 140, 20).throttledPercent, 10, '10 of the 100 periods since the reading 10 s before');
    assert.is(read(T0 + 40_000, 140, 20).throttledPercent, 0, 'no period ran in the last 10 s');
  } finally {
    root.remove();
  }
});

test('counters going back (a reset, a new cgroup) start the history over', () => {
  const { root, read } = setup();
  try {
    read(T0, 1000, 500);
    assert.is(read(T0 + 1000, 1010, 510).throttledPercent, 100);
    assert.is(read(T0 + 2000, 5, 0).throttledPercent, undefined, 'periods went back');
    assert.is(read(T0 + 3000, 15, 5).throttledPercent, 50, 'from the reading after the reset');
    assert.is(read(T0 + 4000, 25, 4).throttledPercent, undefined, 'throttled periods went back');
    assert.is(read(T0 + 5000, 35, 4).throttledPercent, 0);
  } finally {
    root.remove();
  }
});

test('the history is capped: pruned to one reading beyond 10 s when sampled often, and at the cap when the clock steps back', () => {
  const { root, cpu, read } = setup();
  try {
    read(T0, 0, 0);
    for (let i = 1; i <= 1000; i++) read(T0 + i * 100, i, i); // ten readings a second
    assert.ok(cpu.throttlingHistorySize <= 22, `kept ${cpu.throttlingHistorySize}`);
    assert.is(read(T0 + 100_100, 1001, 1001).throttledPercent, 100);
    for (let i = 1; i <= 200; i++) read(T0 + 100_000 - i * 1000, 1001 + i, 1001); // a clock stepping back
    assert.is(cpu.throttlingHistorySize, THROTTLING_HISTORY_CAP);
  } finally {
    root.remove();
  }
});

test.run();
