/**
 * A thread id is not a process: /proc/<tid> answers for any thread with its process's figures, so
 * a thread id in RS3GW_PROFILING_PIDS stops start-up, and a watched pid the kernel later gives to a
 * thread is refused at runtime, each naming the process the thread belongs to.
 */
import { cpSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { CLI, REPO_ROOT, runCommand, startServer } from '../support/server.js';
import { API, Rest, assertError, type Json } from './support/rest-http.js';

test('a thread id of a running process in RS3GW_PROFILING_PIDS stops start-up with exit code 2, naming its process', async () => {
  // This test runner's own threads (V8's and libuv's): ids /proc answers for, none of them a process.
  const tid = readdirSync(`/proc/${process.pid}/task`).map(Number).find((id) => id !== process.pid);
  assert.ok(tid !== undefined, 'node runs more than one thread');
  const run = await runCommand(process.execPath, [CLI, 'serve', '--port', '0'], { env: { RS3GW_PROFILING_PIDS: String(tid) }, timeoutMs: 20_000 });
  assert.is(run.code, 2, `exit code; output:\n${run.stdout}${run.stderr}`);
  assert.is(run.stderr.trim(), `rs3gw-obs: RS3GW_PROFILING_PIDS: ${tid} is not a process but a thread of process ${process.pid}; list ${process.pid} instead`);
});

test('a watched pid that becomes a thread of another process is refused, naming that process, and listed as not alive', async () => {
  const root = mkdtempSync(join(tmpdir(), 'rs3gw-fsroot-'));
  cpSync(join(REPO_ROOT, 'test/fixtures/procfs/cgroup-v2-limited'), root, { recursive: true });
  // At start-up 4250 is a process of its own.
  writeFileSync(join(root, 'proc/4250/status'), 'Name:\tworker\nTgid:\t4250\nPid:\t4250\nThreads:\t1\n');
  const server = await startServer({ RS3GW_FS_ROOT: root, RS3GW_PROFILING_PIDS: '4250' });
  const rest = new Rest(server.url);
  try {
    assert.is((await rest.getOk(`${API}/profiling?pid=4250`)).pid, 4250);
    // It exits and the kernel gives its number to a thread of 4242 (the fixture's 4250 as it comes).
    cpSync(join(REPO_ROOT, 'test/fixtures/procfs/cgroup-v2-limited/proc/4250'), join(root, 'proc/4250'), { recursive: true });
    const message = 'pid: 4250 is not a process but a thread of process 4242; watch 4242 (RS3GW_PROFILING_PIDS takes process ids)';
    assertError(await rest.get(`${API}/profiling?pid=4250`), 404, 'not_found', new RegExp(`^${message.replace(/[()]/g, '\\$&')}$`));
    const listed = (await rest.getOk(`${API}/profiling/processes`)).processes.find((p: Json) => p.pid === 4250);
    assert.equal(listed, { pid: 4250, command: '', self: false, alive: false, error: message });
  } finally {
    assert.is(await server.stop(), 0, 'exit code after SIGTERM');
    rmSync(root, { recursive: true, force: true });
  }
});

test.run();
