/**
 * The shipped TS client over gRPC after requests the server refuses for their size (the default
 * RS3GW_MAX_MESSAGE_BYTES, 4 MiB): Node counts the unsent rest of each such body against its HTTP/2
 * session's memory for good, and a connection that had seen about 10 MB of them failed every later
 * call `internal` (ENHANCE_YOUR_CALM). The client leaves such a connection for a new one.
 */
import { Code, ConnectError } from '@connectrpc/connect';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { createObservabilityClient } from '../../clients/ts/client.js';
import { startServer, type RunningServer } from '../support/server.js';
import { failure, within } from './support/rpc-helpers.js';

const test = suite('TS client: oversized requests over gRPC');
let server: RunningServer;

test.before(async () => {
  server = await startServer();
});

test.after(async () => {
  await server.stop();
});

/** About 7.5 MB in binary: over the server's default 4 MiB. */
const oversized = () => ({ samples: Array.from({ length: 300_000 }, () => ({ metric: 'zzzzzzzzzzzz', value: 1 })) });

test('four 7.5 MB requests each fail resource_exhausted, and a small call after each succeeds', async () => {
  const client = createObservabilityClient(server.url, { protocol: 'grpc' });
  try {
    for (let i = 1; i <= 4; i++) {
      const error = await failure(client.anomalies.recordSamples(oversized()), `oversized RecordSamples ${i}`);
      assert.is(error.code, Code.ResourceExhausted, `call ${i}: ${error.message}`);
      await within(client.health.getHealthReport({}), `GetHealthReport after oversized call ${i}`);
    }
  } finally {
    client.close();
  }
});

test('oversized requests at once with small calls: none fails internal, and the client works after them', async () => {
  const client = createObservabilityClient(server.url, { protocol: 'grpc' });
  try {
    const outcome = (e: unknown) => Code[ConnectError.from(e).code];
    const calls = Array.from({ length: 4 }, (_, i) => [
      client.anomalies.recordSamples(oversized()).then(() => 'OK', outcome),
      client.health.getHealthReport({}).then(() => `small ${i} OK`, outcome),
    ]).flat();
    const outcomes = await within(Promise.all(calls), 'the burst');
    // A call in flight on the connection when Node gave up on it broke with the connection.
    assert.ok(outcomes.every((o) => /OK$|^ResourceExhausted$|^Unavailable$/.test(o)), outcomes.join(', '));
    for (let i = 0; i < 3; i++) await within(client.health.getHealthReport({}), 'GetHealthReport after the burst');
  } finally {
    client.close();
  }
});

test('close() still ends a stream on a connection left for a new one', async () => {
  const client = createObservabilityClient(server.url, { protocol: 'grpc' });
  const messages = client.anomalies.watchAnomalies({})[Symbol.asyncIterator]();
  await within(messages.next(), 'the first WatchAnomalies message');
  const error = await failure(client.anomalies.recordSamples(oversized()), 'oversized RecordSamples beside the stream');
  assert.is(error.code, Code.ResourceExhausted, error.message);
  await within(client.health.getHealthReport({}), 'GetHealthReport on the new connection');
  client.close();
  const ended = await failure(messages.next(), 'the stream after close');
  assert.is(ended.code, Code.Unavailable, ended.message);
});

test.run();
