import { fileURLToPath } from 'node:url';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { parseCgroupMounts } from '../../../src/core/procfs/cgroup-layout.js';
import { ProcReader } from '../../../src/core/procfs/reader.js';
import { FixtureRoot } from './fixture-root.js';

const fixture = (name: string): string => fileURLToPath(new URL(`../../fixtures/procfs/${name}`, import.meta.url));
const v2 = new ProcReader({ root: fixture('cgroup-v2-limited') });
const v2Open = new ProcReader({ root: fixture('cgroup-v2-unlimited') });
const v1 = new ProcReader({ root: fixture('cgroup-v1-limited') });
const GiB = 1024 ** 3;
const MiB = 1024 ** 2;

test('v2: layout from /proc/self/cgroup and mountinfo', () => {
  const layout = v2.cgroupLayout();
  assert.is(layout.mode, 'v2');
  assert.equal(layout.memory, { version: 2, dir: '/sys/fs/cgroup/system.slice/rs3gw.service', mountPoint: '/sys/fs/cgroup' });
});

test('v2: working set over memory.high when it is below memory.max', () => {
  const memory = v2.cgroupMemory();
  assert.is(memory?.workingSetBytes, 1 * GiB);
  assert.is(memory?.limitBytes, 1.5 * GiB);
  assert.is(memory?.limitSource, 'cgroup2:/sys/fs/cgroup/system.slice/rs3gw.service/memory.high');
  assert.equal(v2.memoryUsage(), {
    usedBytes: 1 * GiB,
    limitBytes: 1.5 * GiB,
    scope: 'cgroup',
    source: 'cgroup2:/sys/fs/cgroup/system.slice/rs3gw.service/memory.current',
    limitSource: 'cgroup2:/sys/fs/cgroup/system.slice/rs3gw.service/memory.high',
  });
});

test('v2: a quota on a parent cgroup limits us even when ours is "max"', () => {
  const cpu = v2.cgroupCpu();
  assert.is(cpu.quotaCores, 2);
  assert.is(cpu.quotaSource, 'cgroup2:/sys/fs/cgroup/system.slice/cpu.max');
  assert.is(cpu.usageUs, 5_000_000);
  // Throttling is counted where the quota is set, not in the leaf (whose cpu.max is max).
  assert.equal(cpu.throttling, { periods: 1000, throttledPeriods: 10, source: 'cgroup2:/sys/fs/cgroup/system.slice/cpu.stat nr_throttled/nr_periods' });
  assert.equal(v2.availableCores(), {
    cores: 2,
    source: 'cgroup2:/sys/fs/cgroup/system.slice/cpu.max',
    limitedByCgroup: true,
    onlineCpus: 8,
  });
});

test('v2 without limits: "max" everywhere means host figures', () => {
  const memory = v2Open.cgroupMemory();
  assert.is(memory?.limitBytes, undefined);
  assert.is(memory?.workingSetBytes, 3.5 * GiB);
  assert.equal(v2Open.memoryUsage(), {
    usedBytes: 6 * GiB,
    limitBytes: 8 * GiB,
    scope: 'host',
    source: '/proc/meminfo',
    limitSource: '/proc/meminfo MemTotal',
  });
  assert.is(v2Open.cgroupCpu().quotaCores, undefined);
  assert.is(v2Open.cgroupCpu().throttling, undefined, 'no quota, no throttling');
  assert.equal(v2Open.availableCores(), { cores: 4, source: '/sys/devices/system/cpu/online', limitedByCgroup: false, onlineCpus: 4 });
});

test('v1: controllers from their own mounts, co-mounted cpu,cpuacct included', () => {
  const layout = v1.cgroupLayout();
  assert.is(layout.mode, 'v1');
  assert.is(layout.memory?.dir, '/sys/fs/cgroup/memory/docker/abc123');
  assert.is(layout.cpu?.dir, '/sys/fs/cgroup/cpu,cpuacct/docker/abc123');
  assert.is(layout.unified, undefined);
});

test('v1: usage minus total_inactive_file over the lowest limit; huge root value is no limit', () => {
  const memory = v1.cgroupMemory();
  assert.is(memory?.workingSetBytes, 500 * MiB);
  assert.is(memory?.limitBytes, 768 * MiB);
  assert.is(memory?.limitSource, 'cgroup1:/sys/fs/cgroup/memory/docker/abc123/memory.limit_in_bytes');
  assert.is(v1.memoryUsage().scope, 'cgroup');
});

test('v1: CFS quota/period gives fractional cores; cpuacct.usage ns becomes us', () => {
  const cpu = v1.cgroupCpu();
  assert.is(cpu.quotaCores, 1.5);
  assert.is(cpu.usageUs, 12_000_000);
  assert.is(cpu.cpusetCpus, 4);
  assert.equal(cpu.throttling, { periods: 500, throttledPeriods: 20, source: 'cgroup1:/sys/fs/cgroup/cpu,cpuacct/docker/abc123/cpu.stat nr_throttled/nr_periods' });
  assert.equal(v1.availableCores(), {
    cores: 1.5,
    source: 'cgroup1:/sys/fs/cgroup/cpu,cpuacct/docker/abc123/cpu.cfs_quota_us',
    limitedByCgroup: true,
    onlineCpus: 8,
  });
});

test('hybrid: v1 controllers for limits, the unified hierarchy alongside', () => {
  const root = new FixtureRoot('cgroup-v1-limited');
  try {
    root.write('proc/self/cgroup', '12:memory:/docker/abc123\n11:cpu,cpuacct:/docker/abc123\n0::/docker/abc123\n');
    root.write('proc/self/mountinfo', [
      '33 25 0:30 / /sys/fs/cgroup/cpu,cpuacct rw - cgroup cgroup rw,cpu,cpuacct',
      '35 25 0:32 / /sys/fs/cgroup/memory rw - cgroup cgroup rw,memory',
      '41 25 0:38 / /sys/fs/cgroup/unified rw - cgroup2 cgroup2 rw',
    ].join('\n'));
    const reader = new ProcReader({ root: root.path });
    const layout = reader.cgroupLayout();
    assert.is(layout.mode, 'hybrid');
    assert.is(layout.memory?.version, 1);
    assert.is(layout.unified?.version, 2);
    // cpuset is not mounted in v1 here, so it falls to the unified hierarchy.
    assert.is(layout.cpuset?.version, 2);
    assert.is(reader.cgroupMemory()?.limitBytes, 768 * MiB);
    assert.is(reader.availableCores().cores, 1.5);
  } finally {
    root.remove();
  }
});

test('no mountinfo: no cgroup is assumed and host figures are used', () => {
  const root = new FixtureRoot('cgroup-v2-limited');
  try {
    root.removeFile('proc/self/mountinfo');
    const reader = new ProcReader({ root: root.path });
    assert.is(reader.cgroupLayout().mode, 'none');
    assert.is(reader.memoryUsage().scope, 'host');
    assert.is(reader.availableCores().cores, 8);
  } finally {
    root.remove();
  }
});

test('mountinfo paths with escaped spaces are decoded', () => {
  const [mount] = parseCgroupMounts('41 25 0:38 /a\\040b /sys/fs/cgroup/my\\040mount rw shared:1 - cgroup2 cgroup2 rw\n');
  assert.equal([mount.root, mount.mountPoint, mount.fsType], ['/a b', '/sys/fs/cgroup/my mount', 'cgroup2']);
});

test('the real host: readings come back with sources', () => {
  const reader = new ProcReader();
  const usage = reader.memoryUsage();
  assert.ok(usage.usedBytes > 0 && usage.usedBytes <= usage.limitBytes);
  assert.ok(reader.availableCores().cores > 0);
});

test.run();
