/**
 * RS3GW_PROFILING_PIDS names processes, not pid numbers: each listed pid is pinned at start-up to
 * the process running under it. A pid whose process exits and whose number the kernel gives to
 * another is not served, nor one that named no running process at start-up (said on stderr then),
 * and nothing of the process now under it (its command, its figures) is said. The service itself
 * is pinned to itself and served.
 */
import { cpSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { FixtureRoot, STARTTIME } from '../core/procfs/fixture-root.js';
import { API, Rest, assertError, eventually, startRestServer, type Json } from './support/rest-http.js';

/** A /proc fixture in which the service is 4242 and, with `pid5000`, pid 5000 runs too (a copy of 4242). */
function fixture(pid5000: boolean): FixtureRoot {
  const root = new FixtureRoot('cgroup-v2-limited');
  root.linkSelf(4242);
  if (pid5000) startProcess5000(root);
  return root;
}

/** Starts a process as pid 5000 (4242's files), under the command `comm`. */
function startProcess5000(root: FixtureRoot, comm = 'rs3gw) (io 2'): void {
  cpSync(join(root.path, 'proc/4242'), join(root.path, 'proc/5000'), { recursive: true, dereference: true });
  root.edit('proc/5000/status', (text) => text.replace(/^(Tgid|Pid):\t4242$/gm, '$1:\t5000'));
  root.edit('proc/5000/stat', (text) => text.replace('(rs3gw) (io 2)', `(${comm})`));
}

const escape = (text: string) => new RegExp(`^${text.replace(/[()[\].]/g, '\\$&')}$`);

test('a listed pid that names no process at start-up is said on stderr and refused, also once a process takes it; the service itself is served', async () => {
  const root = fixture(false);
  const server = await startRestServer({ RS3GW_FS_ROOT: root.path, RS3GW_PROFILING_PIDS: '5000', RS3GW_PROFILING_INTERVAL: '1' });
  try {
    const rest = new Rest(server.url);
    const warning = await eventually('the start-up warning', async () => server.output().split('\n').find((l) => l.includes('pid 5000')));
    assert.is(
      warning,
      'rs3gw-obs: profiling: pid 5000 will not be served: it names no running process now (process 5000 does not exist), and a process that takes it later is not the one meant',
    );
    const refusal =
      'pid: 5000 is not served: at start-up it named no running process (process 5000 does not exist), and a process that takes the pid later is not the one the allowlist meant';
    const listed = async () => (await rest.getOk(`${API}/profiling/processes`)).processes as Json[];
    for (const when of ['before', 'after']) {
      if (when === 'after') startProcess5000(root, 'intruder');
      assertError(await rest.get(`${API}/profiling?pid=5000`), 404, 'not_found', escape(refusal));
      assertError(await rest.get(`${API}/profiling/snapshots?pid=5000`), 404, 'not_found', escape(refusal));
      assert.equal(await listed(), [
        { pid: 4242, command: 'rs3gw) (io 2', self: true, alive: true, error: '' },
        { pid: 5000, command: '', self: false, alive: false, error: refusal },
      ], `${when} a process takes pid 5000`);
    }
    assert.is((await rest.getOk(`${API}/profiling?pid=0`)).pid, 4242, 'the service measures itself');
    await delay(1500);
    assert.equal(
      server.output().split('\n').filter((l) => l.includes('pid 5000')),
      [warning],
      'one line, not another for each periodic snapshot (taken every second here)',
    );
    assert.ok((await rest.getOk(`${API}/profiling/snapshots?pid=4242`)).snapshots.length >= 1, 'the service is snapshotted');
    assert.not.match(server.output(), 'intruder');
  } finally {
    assert.is(await server.stop(), 0, 'exit code after SIGTERM');
    root.remove();
  }
});

test('a watched process that exits and whose pid another process takes is not served, listed as not alive with why, and keeps its snapshots', async () => {
  const root = fixture(true);
  const server = await startRestServer({ RS3GW_FS_ROOT: root.path, RS3GW_PROFILING_PIDS: '5000', RS3GW_PROFILING_INTERVAL: '1' });
  try {
    const rest = new Rest(server.url);
    assert.is((await rest.getOk(`${API}/profiling?pid=5000`)).command, 'rs3gw) (io 2');
    // It exits, and the kernel gives 5000 to another process, started 900 s after boot.
    startProcess5000(root, 'intruder');
    root.setStat(5000, { [STARTTIME]: 225000 });
    const refusal = 'pid: 5000 is not served: the allowlisted process (started 400.00 s after boot) has exited and the pid now belongs to another process, which is not allowlisted';
    assertError(await rest.get(`${API}/profiling?pid=5000`), 404, 'not_found', escape(refusal));
    const listed = (await rest.getOk(`${API}/profiling/processes`)).processes.find((p: Json) => p.pid === 5000);
    assert.equal(listed, { pid: 5000, command: '', self: false, alive: false, error: refusal });
    const { snapshots } = await rest.getOk(`${API}/profiling/snapshots?pid=5000`);
    assert.is(snapshots.length, 1, 'the snapshot of the watched process taken at start-up');
    assert.is(snapshots[0].command, 'rs3gw) (io 2');
    assert.is(snapshots[0].started_after_boot_us, '400000000');
    await eventually('the line saying the pid was reused', async () => server.output().includes('reused') || undefined);
    await delay(1500);
    const logged = server.output().split('\n').filter((l) => l.includes('pid 5000'));
    assert.equal(logged, [
      'rs3gw-obs: profiling: pid 5000: the watched process (started 400.00 s after boot) has exited and the pid was reused by another process, which is not served; the snapshots of the watched process (1) are kept',
    ]);
    assert.not.match(server.output(), 'intruder');
  } finally {
    assert.is(await server.stop(), 0, 'exit code after SIGTERM');
    root.remove();
  }
});

test.run();
