/**
 * A service reading another pid namespace's /proc (a container given the host's through
 * RS3GW_FS_ROOT, `unshare -p` without a /proc of its own) is, in that /proc, the pid /proc/self
 * links to, not process.pid: it measures and lists itself under that pid, with its own V8 heap.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { FixtureRoot } from '../core/procfs/fixture-root.js';
import { API, Rest, startRestServer } from './support/rest-http.js';

test('the service measures and lists itself as the pid /proc/self names in the /proc it reads', async () => {
  const root = new FixtureRoot('cgroup-v2-limited');
  root.linkSelf(4242);
  const server = await startRestServer({ RS3GW_FS_ROOT: root.path });
  try {
    const rest = new Rest(server.url);
    assert.ok(server.process.pid !== 4242, 'the service is some other pid in its own namespace');
    const self = await rest.getOk(`${API}/profiling`);
    assert.is(self.pid, 4242);
    assert.is(self.command, 'rs3gw) (io 2');
    assert.is(self.started_after_boot_us, '400000000', 'starttime 100000 ticks at 250 Hz');
    assert.ok(Number(self.memory.heap_used_bytes) > 0, 'with its own V8 heap');
    assert.equal((await rest.getOk(`${API}/profiling/processes`)).processes, [{ pid: 4242, command: 'rs3gw) (io 2', self: true, alive: true, error: '' }]);
    const [snapshot] = (await rest.getOk(`${API}/profiling/snapshots?pid=0`)).snapshots;
    assert.is(snapshot.pid, 4242);
    assert.ok(Number(snapshot.memory.heap_used_bytes) > 0);
  } finally {
    assert.is(await server.stop(), 0, 'exit code after SIGTERM');
    root.remove();
  }
});

test('with only proc/stat and proc/meminfo under RS3GW_FS_ROOT, the health report leaves profiling out and says why, and reports the rest', async () => {
  const root = mkdtempSync(join(tmpdir(), 'rs3gw-minimal-root-'));
  mkdirSync(join(root, 'proc'));
  for (const file of ['stat', 'meminfo']) writeFileSync(join(root, 'proc', file), readFileSync(`/proc/${file}`));
  const server = await startRestServer({ RS3GW_FS_ROOT: root });
  try {
    const report = await new Rest(server.url).getOk(`${API}/health`);
    assert.is(report.profiling, undefined, 'no profiling part');
    const pid = server.process.pid;
    assert.equal(report.unavailable, [`profiling: pid: ${pid} is this service, and its /proc/${pid} could not be read at start-up (process ${pid} does not exist); it is not profiled until the service restarts with it readable`]);
    assert.match(server.output(), new RegExp(`profiling: this service \\(pid ${pid}\\) will not be profiled: its /proc/${pid} cannot be read \\(process ${pid} does not exist\\)`));
    assert.is(report.status, 'HEALTH_STATUS_HEALTHY');
    assert.ok(report.resources.cpu_usage >= 0 && report.business_metrics.request_patterns && report.anomalies.metrics_tracked !== undefined, JSON.stringify(report));
  } finally {
    assert.is(await server.stop(), 0, 'exit code after SIGTERM');
    rmSync(root, { recursive: true });
  }
});

test.run();
