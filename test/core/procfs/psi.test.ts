import { fileURLToPath } from 'node:url';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { parsePsi } from '../../../src/core/procfs/psi.js';
import { ProcReader } from '../../../src/core/procfs/reader.js';
import { FixtureRoot } from './fixture-root.js';

const fixture = (name: string): string => fileURLToPath(new URL(`../../fixtures/procfs/${name}`, import.meta.url));

test("a v2 cgroup's own pressure files are preferred to the host's", () => {
  const pressure = new ProcReader({ root: fixture('cgroup-v2-limited') }).pressure();
  assert.is(pressure.source, 'cgroup2:/sys/fs/cgroup/system.slice/rs3gw.service');
  assert.equal(pressure.absent, []);
  assert.equal(pressure.cpu?.some, { avg10: 12.5 });
  assert.is(pressure.memory?.full?.avg10, 1.5);
  assert.is(pressure.io?.some.avg10, 20);
});

test('host /proc/pressure; a cpu file without a "full" line (before 5.13) is fine', () => {
  const pressure = new ProcReader({ root: fixture('cgroup-v1-limited') }).pressure();
  assert.is(pressure.source, '/proc/pressure');
  assert.is(pressure.cpu?.some.avg10, 30);
  assert.is(pressure.cpu?.full, undefined);
  assert.is(pressure.memory?.full?.avg10, 2);
});

test("the host's root cgroup is the host: its pressure files are named /proc/pressure, not the cgroup's", () => {
  // As on a hybrid host running the service in a v1 container: the v2 cgroup is the root (0::/).
  const root = new FixtureRoot('cgroup-v1-limited');
  try {
    root.placeInCgroups(['12:memory:/docker/abc123', '0::/'], { '/sys/fs/cgroup/memory': 'memory', '/sys/fs/cgroup/unified': 'cgroup2' });
    for (const resource of ['cpu', 'memory', 'io']) {
      root.write(`sys/fs/cgroup/unified/${resource}.pressure`, 'some avg10=30.00 avg60=0.00 avg300=0.00 total=1\n');
    }
    const host = new ProcReader({ root: root.path }).pressure();
    assert.is(host.source, '/proc/pressure');
    // Read from a v1 container (memory in /docker/abc123), the host's figures are other tenants' too.
    assert.match(host.sharedWith ?? '', /^host-wide, other tenants' stalls included: this process is in the v1 cgroup \/docker\/abc123 /);
    // A container's namespaced root is a cgroup of its own (it has cgroup.type): its files are its own.
    root.write('sys/fs/cgroup/unified/cgroup.type', 'domain\n');
    const own = new ProcReader({ root: root.path }).pressure();
    assert.equal([own.source, own.sharedWith], ['cgroup2:/sys/fs/cgroup/unified', undefined]);
  } finally {
    root.remove();
  }
});

test("a Docker container on a cgroup v1 or hybrid host, its own subtree mounted where the host's root would be, is told by its cgroup path: the host's PSI is other tenants' too", () => {
  const pressure = new ProcReader({ root: fixture('cgroup-v1-docker') }).pressure();
  assert.is(pressure.source, '/proc/pressure');
  assert.is(pressure.cpu?.some.avg10, 55);
  assert.is(pressure.sharedWith, "host-wide, other tenants' stalls included: this process is in the v1 cgroup /docker/abc and its cgroup2 is the host's root");
});

test('no PSI at all is reported as absent, not as an error', () => {
  const pressure = new ProcReader({ root: fixture('cgroup-v2-unlimited') }).pressure();
  assert.equal(pressure.absent, ['cpu', 'memory', 'io']);
  assert.is(pressure.cpu, undefined);
});

test('malformed lines are not taken as readings', () => {
  assert.is(parsePsi('some avg10=abc\n'), undefined);
  assert.is(parsePsi(''), undefined);
  // Number() reads these as 0, 80 and -50: a broken file would have shed traffic or hidden a stall.
  for (const avg10 of ['', '0x50', '-50', '1e2', ' ']) {
    assert.is(parsePsi(`some avg10=${avg10} avg60=0.00 avg300=0.00 total=0\n`), undefined, `avg10=${avg10}`);
  }
  // avg60, avg300 and total go unused, but a line without a valid one is no PSI line.
  for (const broken of ['avg60=-1.00 avg300=1.00 total=1', 'avg60=3.00 total=1', 'avg60=3.00 avg300=0x1 total=1', 'avg60=3.00 avg300=1.00']) {
    assert.is(parsePsi(`some avg10=12.50 ${broken}\n`), undefined, broken);
  }
  assert.equal(parsePsi('some avg10=12.50 avg60=3.00 avg300=1.00 total=123456\n')?.some, { avg10: 12.5 });
});

test.run();
