/**
 * The shipped TS client's connections: close() ends them on every protocol (later calls fail
 * `canceled`), and over gRPC a client holding as many streams as the server allows on one
 * connection opens another for its next calls instead of queueing them behind the streams.
 */
import { get } from 'node:http';
import { createServer as createHttp2Server } from 'node:http2';
import type { AddressInfo } from 'node:net';
import { Code, ConnectError } from '@connectrpc/connect';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { createObservabilityClient, Http2SessionPool, type ObservabilityClient, type Protocol } from '../../clients/ts/client.js';
import { startServer, type RunningServer } from '../support/server.js';
import { eventually } from './support/rest-http.js';
import { failure, within } from './support/rpc-helpers.js';

const test = suite('TS client: close and the stream limit');
const MAX_STREAMS = 3;
let server: RunningServer;

test.before(async () => {
  server = await startServer({ RS3GW_MAX_STREAMS_PER_CONNECTION: String(MAX_STREAMS) });
});

test.after(async () => {
  await server.stop();
});

/**
 * The server's open connections, the scrape's own included, read over a connection of its own that
 * closes after it (fetch's pool keeps connections, and may open a second one, counted too).
 */
async function openConnections(): Promise<number> {
  const text = await within(
    new Promise<string>((resolve, reject) => {
      get(`${server.url}/metrics`, { agent: false }, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (body += chunk));
        res.on('end', () => resolve(body));
      }).on('error', reject);
    }),
    'GET /metrics',
  );
  const match = /^rs3gw_connections_open (\d+)$/m.exec(text);
  if (!match) throw new Error('no rs3gw_connections_open on /metrics');
  return Number(match[1]);
}

/** Opens WatchAnomalies and waits for its caught_up; the stream stays open until `signal` aborts. */
async function liveStream(client: ObservabilityClient, signal: AbortSignal): Promise<void> {
  const messages = client.anomalies.watchAnomalies({}, { signal })[Symbol.asyncIterator]();
  for (;;) {
    const next = await within(messages.next(), 'WatchAnomalies caught_up');
    if (next.done) throw new Error('the stream ended before caught_up');
    if (next.value.event.case === 'caughtUp') break;
  }
  void (async () => {
    try {
      for (;;) if ((await messages.next()).done) return;
    } catch {
      // Ended by the signal.
    }
  })();
}

test('close() ends the client connections on every protocol; later calls fail canceled', async () => {
  const before = await openConnections();
  const protocols: Protocol[] = ['grpc', 'connect', 'grpc-web'];
  const clients = protocols.flatMap((protocol) => [1, 2].map(() => createObservabilityClient(server.url, { protocol })));
  await Promise.all(clients.map((c) => within(c.health.getHealthReport({}), 'GetHealthReport')));
  assert.ok((await openConnections()) >= before + clients.length, 'a connection per client');
  for (const c of clients) c.close();
  await eventually('the closed clients\' connections gone', async () => ((await openConnections()) <= before ? true : undefined), 10_000);
  for (const [i, c] of clients.entries()) {
    const error = await failure(c.health.getHealthReport({}), `GetHealthReport after close (${protocols[Math.floor(i / 2)]})`);
    assert.is(error.code, Code.Canceled, error.message);
    assert.match(error.rawMessage, /the client is closed/);
  }
});

test('a stream in progress when its client is closed fails unavailable, as on a broken connection', async () => {
  for (const protocol of ['grpc', 'connect', 'grpc-web'] as const) {
    const client = createObservabilityClient(server.url, { protocol });
    const messages = client.anomalies.watchAnomalies({})[Symbol.asyncIterator]();
    for (;;) {
      const next = await within(messages.next(), `WatchAnomalies caught_up over ${protocol}`);
      if (next.done) throw new Error('the stream ended before caught_up');
      if (next.value.event.case === 'caughtUp') break;
    }
    client.close();
    const error = await failure(messages.next(), `the stream after close over ${protocol}`);
    assert.is(error.code, Code.Unavailable, `${protocol}: ${error.message}`);
  }
});

test('a unary call in progress when its client is closed fails unavailable, and leaves no connection', async () => {
  for (const protocol of ['grpc', 'connect', 'grpc-web'] as const) {
    const before = await openConnections();
    const client = createObservabilityClient(server.url, { protocol });
    await within(client.anomalies.listAnomalies({}), `ListAnomalies over ${protocol}`);
    const call = client.anomalies.listAnomalies({}).then(
      () => 'OK',
      (e: unknown) => Code[ConnectError.from(e).code],
    );
    client.close();
    assert.is(await within(call, `ListAnomalies in progress at close over ${protocol}`), 'Unavailable', protocol);
    await eventually(`no connection left by the closed client over ${protocol}`, async () => ((await openConnections()) <= before ? true : undefined), 10_000);
  }
});

test(`gRPC: with ${MAX_STREAMS} streams open, the server's limit per connection, a call still goes through`, async () => {
  const client = createObservabilityClient(server.url, { protocol: 'grpc' });
  const streams = new AbortController();
  try {
    // One stream beyond the limit too: it is live, on a second connection.
    for (let i = 0; i <= MAX_STREAMS; i++) await liveStream(client, streams.signal);
    const health = await within(client.health.getHealthReport({}), 'GetHealthReport beside the streams', 5_000);
    assert.ok(health.status !== undefined);
  } finally {
    streams.abort();
    client.close();
  }
});

test(`gRPC: a burst of streams on a fresh client beyond the server's ${MAX_STREAMS} per connection: every one is live, and a call still goes through`, async () => {
  const client = createObservabilityClient(server.url, { protocol: 'grpc' });
  const streams = new AbortController();
  try {
    // All asked for at once, before the server's SETTINGS can have said how many one connection
    // takes: those beyond it are refused (REFUSED_STREAM, unprocessed), and the client retries
    // them on connections with room rather than failing them.
    const outcomes = await Promise.all(
      Array.from({ length: 2 * MAX_STREAMS + 1 }, () =>
        liveStream(client, streams.signal).then(
          () => 'live',
          // within() names what it waited for, the call's error being its cause.
          (e: unknown) => Code[ConnectError.from((e as Error).cause ?? e).code],
        ),
      ),
    );
    assert.ok(outcomes.every((o) => o === 'live'), outcomes.join(', '));
    await within(client.health.getHealthReport({}), 'GetHealthReport after the burst', 5_000);
  } finally {
    streams.abort();
    client.close();
  }
});

test(`gRPC: a burst of unary calls on a fresh client beyond the server's ${MAX_STREAMS} per connection all succeed`, async () => {
  const client = createObservabilityClient(server.url, { protocol: 'grpc' });
  // The retries are the library's business: nothing of them reaches the application's stderr.
  const written: string[] = [];
  const write = process.stderr.write;
  process.stderr.write = ((chunk: string | Uint8Array) => (written.push(String(chunk)), true)) as typeof process.stderr.write;
  try {
    const outcomes = await Promise.all(
      Array.from({ length: 8 * MAX_STREAMS }, () =>
        within(client.health.getHealthReport({}), 'GetHealthReport in the burst', 5_000).then(
          () => 'ok',
          (e: unknown) => `${Code[ConnectError.from((e as Error).cause ?? e).code]}: ${ConnectError.from((e as Error).cause ?? e).rawMessage}`,
        ),
      ),
    );
    process.stderr.write = write;
    assert.ok(outcomes.every((o) => o === 'ok'), outcomes.join(', '));
    assert.equal(written, [], 'stderr during the burst');
  } finally {
    process.stderr.write = write;
    client.close();
  }
});

test('gRPC: calls being retried when their client is closed fail unavailable, as calls in progress do', async () => {
  // The retries met the closed session pool, whose plain error came through as internal.
  const client = createObservabilityClient(server.url, { protocol: 'grpc' });
  const calls = Array.from({ length: 10 * MAX_STREAMS }, () =>
    client.health.getHealthReport({}).then(
      () => 'ok',
      (e: unknown) => Code[ConnectError.from(e).code],
    ),
  );
  // The first answers come with the refusals of the rest, whose retries then wait a few ms.
  await within(Promise.race(calls), 'the first answer of the burst');
  client.close();
  const outcomes = await within(Promise.all(calls), 'the burst after close');
  assert.ok(outcomes.every((o) => o === 'ok' || o === 'Unavailable'), outcomes.join(', '));
  // Whether a retry was pending at close() is up to timing; what such a retry meets is not.
  const pool = new Http2SessionPool(server.url);
  pool.close();
  const refused = await failure(pool.request('POST', '/x', {}, {}), 'a stream asked of a closed pool');
  assert.is(refused.code, Code.Unavailable, refused.message);
});

test('a server\'s error that only mentions REFUSED_STREAM is not retried: the call may have been processed', async () => {
  // A proxy's or server's message is no HTTP/2 refusal: a RecordSample was sent five times.
  const h2 = createHttp2Server();
  let handled = 0;
  h2.on('stream', (stream) => {
    handled++;
    stream.on('error', () => {});
    stream.respond({ ':status': 200, 'content-type': 'application/grpc', 'grpc-status': '14', 'grpc-message': 'upstream REFUSED_STREAM, sample stored' }, { endStream: true });
  });
  await new Promise<void>((resolve) => h2.listen(0, '127.0.0.1', resolve));
  const client = createObservabilityClient(`http://127.0.0.1:${(h2.address() as AddressInfo).port}`, { protocol: 'grpc' });
  try {
    const error = await failure(client.anomalies.recordSample({ metric: 'm', value: 1 }), 'RecordSample answered unavailable');
    assert.is(error.code, Code.Unavailable, error.message);
    assert.is(handled, 1, 'sent once');
  } finally {
    client.close();
    await new Promise<void>((resolve) => h2.close(() => resolve()));
  }
});

test('gRPC: after its server restarts with a lower stream limit, a client spreads a burst again instead of queueing it', async () => {
  // The pool kept the old connection's limit (250) for the new one (150): 200 streams went onto one
  // connection and 50 waited for ever.
  const first = await startServer({ RS3GW_MAX_STREAMS_PER_CONNECTION: '250' });
  const port = new URL(first.url).port;
  const client = createObservabilityClient(first.url, { protocol: 'grpc' });
  const streams = new AbortController();
  let second: RunningServer | undefined;
  try {
    await within(client.health.getHealthReport({}), 'GetHealthReport before the restart');
    await first.stop();
    second = await startServer({ RS3GW_MAX_STREAMS_PER_CONNECTION: '150' }, ['--port', port]);
    const outcomes = await Promise.all(
      Array.from({ length: 200 }, () =>
        liveStream(client, streams.signal).then(
          () => 'live',
          (e: unknown) => Code[ConnectError.from((e as Error).cause ?? e).code],
        ),
      ),
    );
    assert.is(outcomes.filter((o) => o === 'live').length, 200, [...new Set(outcomes)].join(', '));
  } finally {
    streams.abort();
    client.close();
    await second?.stop();
  }
});

test.run();
