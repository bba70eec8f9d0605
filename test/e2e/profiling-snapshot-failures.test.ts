/**
 * A periodic process snapshot that fails for a reason other than a missing process (descriptors
 * exhausted, a damaged /proc) is logged once and skipped: the service keeps running and answering.
 */
import { cpSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { REPO_ROOT, startServer } from '../support/server.js';
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
    assert.match(lines[0]!, /^rs3gw-obs: profiling: periodic snapshots of pid 4242 fail and are skipped \(logged once until this changes\): EISDIR/);
  } finally {
    assert.is(await server.stop(), 0, 'exit code after SIGTERM');
    rmSync(root, { recursive: true, force: true });
  }
});

test.run();
