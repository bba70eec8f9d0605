/**
 * A kernel file the system refuses to read (EISDIR here, as EMFILE when descriptors run out, or EIO
 * on a damaged /proc) is no bug of ours: a periodic snapshot that hits one is logged once and
 * skipped, a call that needs it answers `unavailable` naming the file, and the health report leaves
 * the part out, naming it, instead of failing.
 */
import { cpSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { REPO_ROOT, startServer } from '../support/server.js';
import { FixtureRoot } from '../core/procfs/fixture-root.js';
import { API, assertError, Rest, startRestServer } from './support/rest-http.js';
import { within } from './support/rpc-helpers.js';

test('a snapshot whose /proc/<pid>/stat cannot be read is logged once and the service keeps answering', async () => {
  const root = mkdtempSync(join(tmpdir(), 'rs3gw-fsroot-'));
  cpSync(join(REPO_ROOT, 'test/fixtures/procfs/cgroup-v2-limited'), root, { recursive: true });
  const server = await startServer({ RS3GW_FS_ROOT: root, RS3GW_PROFILING_PIDS: '4242', RS3GW_PROFILING_INTERVAL: '1' });
  try {
    // A directory where the file should be: the read fails with EISDIR, as it would with EMFILE.
    rmSync(join(root, 'proc/4242/stat'));
    mkdirSync(join(root, 'proc/4242/stat'));
    await sleep(3500); // three periodic snapshots fail meanwhile
    assert.is(server.process.exitCode, null, `the service is still running:\n${server.output()}`);
    const response = await within(fetch(`${server.url}/api/observability/profiling/snapshots?pid=4242`), 'ListSnapshots');
    assert.is(response.status, 200);
    const { snapshots } = (await response.json()) as { snapshots: unknown[] };
    assert.is(snapshots.length, 1, 'the snapshot taken at start-up, and none since');
    const lines = server.output().split('\n').filter((line) => line.includes('snapshots of pid 4242'));
    assert.is(lines.length, 1, `logged once, not at every interval:\n${lines.join('\n')}`);
    assert.match(lines[0]!, /^rs3gw-obs: profiling: periodic snapshots of pid 4242 fail and are skipped \(logged once until this changes\): cannot read \/proc\/4242\/stat: EISDIR$/);
  } finally {
    assert.is(await server.stop(), 0, 'exit code after SIGTERM');
    rmSync(root, { recursive: true, force: true });
  }
});

test('a cgroup file that cannot be read leaves profiling out of the health report, naming the file, and GetProfile answers unavailable', async () => {
  const root = new FixtureRoot('cgroup-v2-limited');
  root.linkSelf(4242);
  const server = await startRestServer({ RS3GW_FS_ROOT: root.path });
  const cpuStat = 'sys/fs/cgroup/system.slice/rs3gw.service/cpu.stat';
  try {
    const rest = new Rest(server.url);
    assert.equal((await rest.getOk(`${API}/health`)).unavailable, [], 'every part readable at first');
    root.removeFile(cpuStat);
    mkdirSync(join(root.path, cpuStat));
    const report = await rest.getOk(`${API}/health`);
    assert.is(report.profiling, undefined, 'no profiling part');
    assert.equal(report.unavailable, [`profiling: cannot read /${cpuStat}: EISDIR`]);
    assert.ok(report.resources && report.business_metrics && report.anomalies, 'the other parts are reported');
    assertError(await rest.get(`${API}/profiling`), 503, 'unavailable', /^cannot read \/sys\/fs\/cgroup\/system\.slice\/rs3gw\.service\/cpu\.stat: EISDIR$/);
    assert.not.match(server.output(), /internal error/, 'nothing logged as a bug');
    rmSync(join(root.path, cpuStat), { recursive: true });
    root.write(cpuStat, 'usage_usec 5000000\nuser_usec 4000000\nsystem_usec 1000000\n');
    assert.equal((await rest.getOk(`${API}/health`)).unavailable, [], 'the part is back once the file reads again');
  } finally {
    assert.is(await server.stop(), 0, 'exit code after SIGTERM');
    root.remove();
  }
});

test.run();
