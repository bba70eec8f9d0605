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
  assert.equal(layout.memory, { version: 2, dir: '/sys/fs/cgroup/system.slice/rs3gw.service', mountPoint: '/sys/fs/cgroup', cgroupPath: '/system.slice/rs3gw.service' });
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
  // The quota is shared by everything in system.slice, so its usage is system.slice's, not ours.
  assert.equal(v2.availableCores(), {
    cores: 2,
    source: 'cgroup2:/sys/fs/cgroup/system.slice/cpu.max',
    limitedByCgroup: true,
    onlineCpus: 8,
    usage: { usageUs: 9_000_000, source: 'cgroup2:/sys/fs/cgroup/system.slice/cpu.stat usage_usec' },
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
    usage: { usageUs: 12_000_000, source: 'cgroup1:/sys/fs/cgroup/cpu,cpuacct/docker/abc123/cpuacct.usage' },
  });
});

test('hybrid: v1 controllers for limits, the unified hierarchy alongside', () => {
  const root = new FixtureRoot('cgroup-v1-limited');
  try {
    root.placeInCgroups(['12:memory:/docker/abc123', '11:cpu,cpuacct:/docker/abc123', '0::/docker/abc123'], {
      '/sys/fs/cgroup/cpu,cpuacct': 'cpu,cpuacct',
      '/sys/fs/cgroup/memory': 'memory',
      '/sys/fs/cgroup/unified': 'cgroup2',
    });
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

/**
 * A v1 tree laid out as on a hybrid host where each controller has its own mount: the service in
 * revp/a/svc, a memory limit and a CPU quota set on revp only, shared with a sibling revp/hog.
 */
function parentLimitedV1(): FixtureRoot {
  const root = new FixtureRoot('cgroup-v1-limited');
  root.placeInCgroups(['4:memory:/revp/a/svc', '2:cpuacct:/revp/a/svc', '1:cpu:/revp/a/svc', '3:cpuset:/', '0::/'], {
    '/sys/fs/cgroup/cpu': 'cpu',
    '/sys/fs/cgroup/cpuacct': 'cpuacct',
    '/sys/fs/cgroup/cpuset': 'cpuset',
    '/sys/fs/cgroup/memory': 'memory',
    '/sys/fs/cgroup/unified': 'cgroup2',
  });
  const unlimited = '9223372036854771712\n';
  for (const level of ['', '/revp', '/revp/a', '/revp/a/svc']) {
    root.write(`sys/fs/cgroup/memory${level}/memory.limit_in_bytes`, level === '/revp' ? `${768 * MiB}\n` : unlimited);
    root.write(`sys/fs/cgroup/cpu${level}/cpu.cfs_quota_us`, level === '/revp' ? '150000\n' : '-1\n');
    root.write(`sys/fs/cgroup/cpu${level}/cpu.cfs_period_us`, '100000\n');
  }
  // Ours: 34 MiB, 2 of it inactive page cache; revp's: 722 MiB (the hog's), 10 MiB inactive.
  root.write('sys/fs/cgroup/memory/revp/a/svc/memory.usage_in_bytes', `${34 * MiB}\n`);
  root.write('sys/fs/cgroup/memory/revp/a/svc/memory.stat', `total_inactive_file ${2 * MiB}\nhierarchical_memory_limit ${768 * MiB}\n`);
  root.write('sys/fs/cgroup/memory/revp/memory.usage_in_bytes', `${732 * MiB}\n`);
  root.write('sys/fs/cgroup/memory/revp/memory.stat', `total_inactive_file ${10 * MiB}\nhierarchical_memory_limit ${768 * MiB}\n`);
  root.write('sys/fs/cgroup/cpuacct/revp/a/svc/cpuacct.usage', '1000000000\n');
  root.write('sys/fs/cgroup/cpuacct/revp/cpuacct.usage', '90000000000\n');
  root.write('sys/fs/cgroup/cpu/revp/cpu.stat', 'nr_periods 100\nnr_throttled 90\nthrottled_time 5000000\n');
  root.write('sys/fs/cgroup/cpuset/cpuset.effective_cpus', '0-7\n');
  return root;
}

test('v1: a memory limit on a parent is compared with the parent\'s usage, which counts its other members', () => {
  const root = parentLimitedV1();
  try {
    const reader = new ProcReader({ root: root.path });
    assert.equal(reader.memoryUsage(), {
      usedBytes: 722 * MiB,
      limitBytes: 768 * MiB,
      scope: 'cgroup',
      source: 'cgroup1:/sys/fs/cgroup/memory/revp/memory.usage_in_bytes',
      limitSource: 'cgroup1:/sys/fs/cgroup/memory/revp/memory.limit_in_bytes',
    });
    // A lower limit of our own that we are further from does not hide the parent's.
    root.write('sys/fs/cgroup/memory/revp/a/svc/memory.limit_in_bytes', `${512 * MiB}\n`);
    assert.is(reader.memoryUsage().limitBytes, 768 * MiB);
    // Once ours is the nearer one, it binds, with our own usage.
    root.write('sys/fs/cgroup/memory/revp/a/svc/memory.limit_in_bytes', `${33 * MiB}\n`);
    assert.equal([reader.memoryUsage().usedBytes, reader.memoryUsage().limitBytes], [32 * MiB, 33 * MiB]);
  } finally {
    root.remove();
  }
});

test('v2: a memory.max on a parent is compared with the parent\'s memory.current', () => {
  const root = new FixtureRoot('cgroup-v2-limited');
  try {
    root.write('sys/fs/cgroup/system.slice/memory.max', `${2 * GiB}\n`);
    root.write('sys/fs/cgroup/system.slice/memory.current', `${1946 * MiB}\n`);
    root.write('sys/fs/cgroup/system.slice/memory.stat', 'inactive_file 0\n');
    const usage = new ProcReader({ root: root.path }).memoryUsage();
    assert.is(usage.limitSource, 'cgroup2:/sys/fs/cgroup/system.slice/memory.max');
    assert.is(usage.source, 'cgroup2:/sys/fs/cgroup/system.slice/memory.current');
    assert.is(usage.usedBytes, 1946 * MiB);
  } finally {
    root.remove();
  }
});

test('v2: a memory limit of 0 or a negative one is no limit: host figures, not 0 % of it', () => {
  const root = new FixtureRoot('cgroup-v2-limited');
  try {
    root.write('sys/fs/cgroup/system.slice/rs3gw.service/memory.max', '0\n');
    root.write('sys/fs/cgroup/system.slice/rs3gw.service/memory.high', '-1\n');
    const usage = new ProcReader({ root: root.path }).memoryUsage();
    assert.is(usage.scope, 'host');
    assert.is(usage.limitSource, '/proc/meminfo MemTotal');
  } finally {
    root.remove();
  }
});

test('v1: a CPU quota on a parent is compared with the parent\'s usage, from cpuacct mounted apart', () => {
  const root = parentLimitedV1();
  try {
    const cores = new ProcReader({ root: root.path }).availableCores();
    assert.is(cores.cores, 1.5);
    assert.is(cores.source, 'cgroup1:/sys/fs/cgroup/cpu/revp/cpu.cfs_quota_us');
    assert.equal(cores.usage, { usageUs: 90_000_000, source: 'cgroup1:/sys/fs/cgroup/cpuacct/revp/cpuacct.usage' });
  } finally {
    root.remove();
  }
});

test('v1: a cpuset without a cpuacct cgroup counts the work on its own CPUs only', () => {
  const root = new FixtureRoot('cgroup-v1-limited');
  try {
    root.placeInCgroups(['3:cpuset:/pinned', '2:cpuacct:/', '1:cpu:/'], {
      '/sys/fs/cgroup/cpu': 'cpu',
      '/sys/fs/cgroup/cpuacct': 'cpuacct',
      '/sys/fs/cgroup/cpuset': 'cpuset',
    });
    root.write('sys/fs/cgroup/cpuset/pinned/cpuset.effective_cpus', '0,2\n');
    // The host's counters: CPUs 1 and 3 busy with work that cannot run on ours.
    root.write('sys/fs/cgroup/cpuacct/cpuacct.usage', '41000000000\n');
    root.write('sys/fs/cgroup/cpuacct/cpuacct.usage_percpu', '300000000 20000000000 200000000 20500000000 \n');
    const cores = new ProcReader({ root: root.path }).availableCores();
    assert.is(cores.cores, 2);
    assert.equal(cores.usage, {
      usageUs: 500_000,
      source: 'cgroup1:/sys/fs/cgroup/cpuacct/cpuacct.usage_percpu of CPUs 0,2',
    });
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
