/**
 * The shipped TS client's server streams end when the caller leaves the loop reading them: `break`
 * out of `for await` (the README's example) cancels the call on every protocol, rather than
 * leaving it open on the server, and its connection in use, until client.close().
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { createObservabilityClient, type ObservabilityClient, type Protocol } from '../../clients/ts/client.js';
import { startServer, type RunningServer } from '../support/server.js';
import { eventually } from './support/rest-http.js';
import { scrapeMetrics, within } from './support/rpc-helpers.js';

const test = suite('TS client: leaving a stream');
const LOOPS = 10;
let server: RunningServer;

test.before(async () => {
  server = await startServer();
});

test.after(async () => {
  await server.stop();
});

async function subscribers(): Promise<number> {
  const match = /^rs3gw_anomaly_watch_subscribers (\d+)$/m.exec(await scrapeMetrics(server.url));
  if (!match) throw new Error('no rs3gw_anomaly_watch_subscribers on /metrics');
  return Number(match[1]);
}

/** Reads WatchAnomalies up to its caught_up, as a user would, and leaves the loop with `leave`. */
async function watchUntilCaughtUp(client: ObservabilityClient, leave: 'break' | 'throw'): Promise<void> {
  try {
    for await (const message of client.anomalies.watchAnomalies({})) {
      if (message.event.case !== 'caughtUp') continue;
      if (leave === 'break') break;
      throw new Error('left');
    }
  } catch (error) {
    if ((error as Error).message !== 'left') throw error;
  }
}

for (const protocol of ['grpc', 'connect', 'grpc-web'] as Protocol[]) {
  test(`${protocol}: ${LOOPS} WatchAnomalies loops left with break or a throw leave no subscriber on the server`, async () => {
    const client = createObservabilityClient(server.url, { protocol });
    try {
      for (let i = 0; i < LOOPS; i++) await within(watchUntilCaughtUp(client, i % 2 === 0 ? 'break' : 'throw'), `WatchAnomalies loop ${i}`);
      await eventually('no WatchAnomalies subscriber left', async () => ((await subscribers()) === 0 ? true : undefined), 20_000);
      // The client is still usable after it.
      await within(client.health.getHealthReport({}), 'GetHealthReport after the loops');
    } finally {
      client.close();
    }
  });
}

test('a stream left before its first message is cancelled too, and its error reaches no one', async () => {
  const rejections: unknown[] = [];
  const onRejection = (reason: unknown) => rejections.push(reason);
  process.on('unhandledRejection', onRejection);
  const client = createObservabilityClient(server.url, { protocol: 'grpc' });
  try {
    for (let i = 0; i < LOOPS; i++) {
      const done = await within(client.anomalies.watchAnomalies({})[Symbol.asyncIterator]().return!(), 'return() before the first message');
      assert.is(done.done, true);
    }
    await eventually('no WatchAnomalies subscriber left', async () => ((await subscribers()) === 0 ? true : undefined), 20_000);
    await new Promise((resolve) => setTimeout(resolve, 200));
    assert.equal(rejections, []);
  } finally {
    process.off('unhandledRejection', onRejection);
    client.close();
  }
});

test('a stream the caller cancels with its own signal still fails canceled', async () => {
  const client = createObservabilityClient(server.url, { protocol: 'grpc' });
  const controller = new AbortController();
  try {
    const messages = client.anomalies.watchAnomalies({}, { signal: controller.signal })[Symbol.asyncIterator]();
    await within(messages.next(), 'the first WatchAnomalies message');
    controller.abort();
    const error = await within(
      (async () => {
        for (;;) if ((await messages.next()).done) return 'ended';
      })().then(String, (e: Error) => e.message),
      'the cancelled stream',
    );
    assert.match(error, /\[canceled\]/);
  } finally {
    client.close();
  }
});

test.run();
