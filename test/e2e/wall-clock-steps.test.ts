/**
 * The server under libfaketime, its wall clock stepped while it runs (the monotonic clock is left
 * alone, as NTP leaves it): what is measured as an interval must not bend. A deadline is told
 * from a cancel, and the shutdown grace is kept, whichever way the wall clock steps.
 */
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createObservabilityClient } from '../../clients/ts/client.js';
import { startServer, type RunningServer } from '../support/server.js';
import { sampleValue, scrapeMetrics } from './support/rpc-helpers.js';

/** Debian's libfaketime, installed by scripts/test-tools.sh. */
const LIBFAKETIME = '/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1';

const dir = mkdtempSync(join(tmpdir(), 'rs3gw-faketime-'));
const offsetFile = join(dir, 'offset');

/** Sets the server's wall clock to the real one plus `offset` (libfaketime's form: "+0", "-1h", "+2h"). */
function stepWallClock(offset: string): void {
  writeFileSync(offsetFile, `${offset}\n`);
}

function startSteppable(env: Record<string, string> = {}): Promise<RunningServer> {
  stepWallClock('+0');
  return startServer({
    LD_PRELOAD: LIBFAKETIME,
    FAKETIME_TIMESTAMP_FILE: offsetFile,
    FAKETIME_NO_CACHE: '1',
    FAKETIME_DONT_FAKE_MONOTONIC: '1',
    ...env,
  });
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

test.before(() => {
  assert.ok(existsSync(LIBFAKETIME), `${LIBFAKETIME} is missing: run \`bash scripts/test-tools.sh\``);
});

test.after(() => {
  rmSync(dir, { recursive: true, force: true });
});

test('a gRPC deadline is counted as deadline_exceeded, and a cancel as canceled, across wall-clock steps', async () => {
  const server = await startSteppable();
  try {
    const client = createObservabilityClient(server.url, { protocol: 'grpc' });
    const count = async (code: string) =>
      sampleValue(await scrapeMetrics(server.url), 'rs3gw_rpc_server_duration_seconds_count', { method: 'WatchAnomalies', protocol: 'grpc', code });
    const watch = async (timeoutMs: number, signal?: AbortSignal) => {
      try {
        for await (const _ of client.anomalies.watchAnomalies({ metric: 'nothing_here' }, { timeoutMs, signal })) {
          // caught_up only
        }
      } catch {
        // the deadline or the cancel
      }
    };

    const before = { deadline: await count('deadline_exceeded'), canceled: await count('canceled') };
    // A 2 s deadline; the wall clock steps back an hour on the way.
    setTimeout(() => stepWallClock('-1h'), 500);
    await watch(2000);
    await sleep(300);
    const mid = { deadline: await count('deadline_exceeded'), canceled: await count('canceled') };
    assert.equal({ deadline: mid.deadline - before.deadline, canceled: mid.canceled - before.canceled }, { deadline: 1, canceled: 0 }, 'the deadline, after a step back');

    // A 60 s deadline; the wall clock steps two hours forward, then the client cancels.
    stepWallClock('+0');
    const cancel = new AbortController();
    setTimeout(() => stepWallClock('+2h'), 300);
    setTimeout(() => cancel.abort(), 800);
    await watch(60_000, cancel.signal);
    await sleep(300);
    const after = { deadline: await count('deadline_exceeded'), canceled: await count('canceled') };
    assert.equal({ deadline: after.deadline - mid.deadline, canceled: after.canceled - mid.canceled }, { deadline: 0, canceled: 1 }, 'the cancel, after a step forward');
  } finally {
    await server.stop();
  }
});

for (const step of ['-1h', '+1h']) {
  test(`RS3GW_SHUTDOWN_GRACE is kept when the wall clock steps ${step} during the drain`, async () => {
    const graceS = 2;
    const server = await startSteppable({ RS3GW_SHUTDOWN_GRACE: String(graceS) });
    // A call that would run for 20 s: the grace cuts it.
    const call = fetch(`${server.url}/debug/pprof/profile?seconds=20`).catch(() => undefined);
    await sleep(500);
    const started = performance.now();
    const exited = server.stop();
    await sleep(100);
    stepWallClock(step);
    await exited;
    const seconds = (performance.now() - started) / 1000;
    await call;
    // Before, a step back held the process for the whole call (20 s) and a step forward cut it at once.
    assert.ok(seconds >= graceS - 0.2 && seconds < graceS + 3, `exited ${seconds.toFixed(1)} s after SIGTERM with a ${graceS} s grace`);
  });
}

test.run();
