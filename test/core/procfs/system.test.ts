import { fileURLToPath } from 'node:url';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { countCpuList } from '../../../src/core/procfs/cpu-list.js';
import { busyFraction } from '../../../src/core/procfs/cpu-times.js';
import { parseMeminfo } from '../../../src/core/procfs/meminfo.js';
import { ProcReader } from '../../../src/core/procfs/reader.js';

const fixture = (name: string): string => fileURLToPath(new URL(`../../fixtures/procfs/${name}`, import.meta.url));
const v2 = new ProcReader({ root: fixture('cgroup-v2-limited') });
const v1 = new ProcReader({ root: fixture('cgroup-v1-limited') });
const bare = new ProcReader({ root: fixture('cgroup-v2-unlimited') });

test('clock ticks and page size come from auxv', () => {
  assert.equal(v2.systemConstants(), {
    clockTicksPerSecond: 250,
    pageSizeBytes: 4096,
  });
  assert.is(v1.systemConstants().pageSizeBytes, 65536);
});

test('without auxv the defaults are used', () => {
  const constants = bare.systemConstants();
  assert.is(constants.clockTicksPerSecond, 100);
  assert.is(constants.pageSizeBytes, 4096);
});

test('the real auxv gives the real page size', () => {
  const constants = new ProcReader().systemConstants();
  assert.ok([4096, 16384, 65536].includes(constants.pageSizeBytes));
});

test('meminfo: bytes, with MemAvailable', () => {
  const meminfo = v2.meminfo();
  assert.is(meminfo.totalBytes, 16 * 1024 ** 3);
  assert.is(meminfo.availableBytes, 12 * 1024 ** 3);
});

test('meminfo: old kernels without MemAvailable use free + buffers + cached', () => {
  const meminfo = parseMeminfo('MemTotal: 1000 kB\nMemFree: 100 kB\nBuffers: 20 kB\nCached: 300 kB\n');
  assert.is(meminfo.availableBytes, 420 * 1024);
});

test('/proc/stat aggregate line and busy fraction between readings', () => {
  const times = v2.cpuTimes();
  assert.is(times.user, 400000);
  assert.is(times.idleTicks, 7500000 + 20000);
  const later = { ...times, user: times.user + 300, idle: times.idle + 100, totalTicks: times.totalTicks + 400, idleTicks: times.idleTicks + 100 };
  assert.is(busyFraction(times, later), 0.75);
  assert.is(busyFraction(times, times), undefined);
  // Niced time is CPU a default-priority task still gets: counted as idle.
  const niced = { ...times, user: times.user + 100, nice: times.nice + 200, idle: times.idle + 100, totalTicks: times.totalTicks + 400, idleTicks: times.idleTicks + 100 };
  assert.is(busyFraction(times, niced), 0.25);
});

test('uptime and online CPUs', () => {
  assert.equal(v2.uptime(), { uptimeSeconds: 1000 });
  assert.equal(v2.onlineCpus(), { count: 8, source: '/sys/devices/system/cpu/online' });
  assert.is(countCpuList('0-3,8,10-11\n'), 7);
  assert.is(countCpuList('garbage'), undefined);
});

test.run();
