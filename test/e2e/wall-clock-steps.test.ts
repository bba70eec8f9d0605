/**
 * The server under libfaketime, its wall clock stepped while it runs (the monotonic clock is left
 * alone, as NTP leaves it): what is measured as an interval must not bend. A deadline is told
 * from a cancel, and the shutdown grace is kept, whichever way the wall clock steps.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createObservabilityClient } from '../../clients/ts/client.js';
import { sampleValue, scrapeMetrics } from './support/rpc-helpers.js';
import { startSteppableServer } from './support/wall-clock.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

test('a gRPC deadline is counted as deadline_exceeded, and a cancel as canceled, across wall-clock steps', async () => {
  const server = await startSteppableServer();
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
    setTimeout(() => server.step('-1h'), 500);
    await watch(2000);
    await sleep(300);
    const mid = { deadline: await count('deadline_exceeded'), canceled: await count('canceled') };
    assert.equal({ deadline: mid.deadline - before.deadline, canceled: mid.canceled - before.canceled }, { deadline: 1, canceled: 0 }, 'the deadline, after a step back');

    // A 60 s deadline; the wall clock steps two hours forward, then the client cancels.
    server.step('+0');
    const cancel = new AbortController();
    setTimeout(() => server.step('+2h'), 300);
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
    const server = await startSteppableServer({ RS3GW_SHUTDOWN_GRACE: String(graceS) });
    // A call that would run for 20 s: the grace cuts it.
    const call = fetch(`${server.url}/debug/pprof/profile?seconds=20`).catch(() => undefined);
    await sleep(500);
    const started = performance.now();
    const exited = server.stop();
    await sleep(100);
    server.step(step);
    await exited;
    const seconds = (performance.now() - started) / 1000;
    await call;
    // Before, a step back held the process for the whole call (20 s) and a step forward cut it at once.
    assert.ok(seconds >= graceS - 0.2 && seconds < graceS + 3, `exited ${seconds.toFixed(1)} s after SIGTERM with a ${graceS} s grace`);
  });
}

test.run();
