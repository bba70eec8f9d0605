/**
 * The shipped TS client over each protocol, against a server that is SIGKILLed mid-call: a
 * WatchAnomalies stream and an in-flight CaptureProfile fail `unavailable` (connect-node alone says
 * `canceled` over gRPC, `aborted` over Connect and gRPC-Web), while a call the caller cancels
 * still fails `canceled`.
 */
import { Code } from '@connectrpc/connect';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { createObservabilityClient, type Protocol } from '../../clients/ts/client.js';
import { startServer, type RunningServer } from '../support/server.js';
import { failure, within } from './support/rpc-helpers.js';

const test = suite('TS client: a server killed mid-call');
const servers: RunningServer[] = [];

test.after(async () => {
  for (const server of servers) {
    if (server.process.exitCode === null && server.process.signalCode === null) server.process.kill('SIGKILL');
  }
});

async function start(env: Record<string, string> = {}): Promise<RunningServer> {
  const server = await startServer(env);
  servers.push(server);
  return server;
}

/**
 * Opens WatchAnomalies and waits for its caught_up, so that the stream is live on the server; then
 * reads the rest in `drained` (in an object: an async function would adopt the promise).
 */
async function liveStream(client: ReturnType<typeof createObservabilityClient>, signal?: AbortSignal): Promise<{ drained: Promise<void> }> {
  const messages = client.anomalies.watchAnomalies({}, { signal })[Symbol.asyncIterator]();
  for (;;) {
    const first = await within(messages.next(), 'WatchAnomalies caught_up');
    if (first.done) throw new Error('the stream ended before caught_up');
    if (first.value.event.case === 'caughtUp') break;
  }
  const drained = (async () => {
    for (let m = await messages.next(); !m.done; m = await messages.next());
  })();
  return { drained };
}

for (const protocol of ['grpc', 'connect', 'grpc-web'] as Protocol[]) {
  test(`${protocol}: a stream and a unary call in flight fail unavailable when the server is SIGKILLed`, async () => {
    const server = await start();
    const client = createObservabilityClient(server.url, { protocol });
    // The failures are awaited from the start, so that no rejection goes unhandled meanwhile.
    const streamFailure = failure((await liveStream(client)).drained, 'WatchAnomalies after SIGKILL');
    const captureFailure = failure(client.profiling.captureProfile({ duration: { seconds: 10n } }), 'CaptureProfile after SIGKILL');
    await new Promise((resolve) => setTimeout(resolve, 700)); // the capture reaches the server
    const exited = new Promise((resolve) => server.process.once('exit', resolve));
    server.process.kill('SIGKILL');
    await exited;

    const streamError = await streamFailure;
    assert.is(Code[streamError.code], Code[Code.Unavailable], streamError.message);
    assert.ok(streamError.cause, 'the original error is the cause');
    const captureError = await captureFailure;
    assert.is(Code[captureError.code], Code[Code.Unavailable], captureError.message);
  });

  test(`${protocol}: a call still running when the shutdown grace ends fails unavailable`, async () => {
    // Over gRPC the server's GOAWAY closed the session with CANCEL, which connect-node reports as
    // internal ("Session closed with error code 8"), where Connect and gRPC-Web said unavailable.
    const server = await start({ RS3GW_SHUTDOWN_GRACE: '1' });
    const client = createObservabilityClient(server.url, { protocol });
    const captureFailure = failure(client.profiling.captureProfile({ duration: { seconds: 10n } }), 'CaptureProfile cut at the end of the grace');
    await new Promise((resolve) => setTimeout(resolve, 700)); // the capture reaches the server
    const exited = new Promise((resolve) => server.process.once('exit', resolve));
    server.process.kill('SIGTERM');
    const error = await captureFailure;
    assert.is(Code[error.code], Code[Code.Unavailable], error.message);
    client.close();
    await exited;
  });

  if (protocol !== 'grpc') {
    test(`${protocol}: the first call after a drain ended its stream fails unavailable`, async () => {
      // The stream's kept-alive HTTP/1.1 connection goes back to the client's pool as the drain
      // ends it, and the server closes it: the next call was written to the closed socket, which
      // connect-node reports as internal ("write EPIPE", 3 runs in 4), so reconnect logic keyed on
      // unavailable gave up where the Go client's retried. Three servers, as the race varies.
      for (let run = 0; run < 3; run++) {
        const server = await start();
        const client = createObservabilityClient(server.url, { protocol });
        const stream = await liveStream(client);
        server.process.kill('SIGTERM');
        await within(stream.drained, 'WatchAnomalies ended by the drain');
        const error = await failure(client.resources.getResources({}, { timeoutMs: 3000 }), 'GetResources after the drain');
        assert.is(Code[error.code], Code[Code.Unavailable], `run ${run}: ${error.message}`);
        client.close();
      }
    });
  }

  test(`${protocol}: a call the caller cancels still fails canceled`, async () => {
    const server = servers.find((s) => s.process.exitCode === null && s.process.signalCode === null) ?? (await start());
    const client = createObservabilityClient(server.url, { protocol });
    const cancelStream = new AbortController();
    const stream = await liveStream(client, cancelStream.signal);
    cancelStream.abort();
    const streamError = await failure(stream.drained, 'WatchAnomalies cancelled');
    assert.is(Code[streamError.code], Code[Code.Canceled], streamError.message);

    const cancelCapture = new AbortController();
    setTimeout(() => cancelCapture.abort(), 500);
    const captureError = await failure(client.profiling.captureProfile({ duration: { seconds: 10n } }, { signal: cancelCapture.signal }), 'CaptureProfile cancelled');
    assert.is(Code[captureError.code], Code[Code.Canceled], captureError.message);
  });
}

test.run();
