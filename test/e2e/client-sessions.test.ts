/**
 * The TS client's gRPC session pool stays bounded against real node:http2 servers: sessions whose
 * connections closed are dropped, a server allowing no streams (SETTINGS_MAX_CONCURRENT_STREAMS 0)
 * gets one connection however many calls are made, and no more than 100 sessions are opened for a
 * server that allows one stream per connection.
 */
import { Code, ConnectError } from '@connectrpc/connect';
import { createServer, type Http2Server, type ServerHttp2Session, type ServerHttp2Stream, type Settings } from 'node:http2';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { createObservabilityClient, Http2SessionPool } from '../../clients/ts/client.js';
import { within } from './support/rpc-helpers.js';

const test = suite('TS client: the gRPC session pool is bounded');

interface RawServer {
  url: string;
  /** Connections the server has seen, closed ones included. */
  seen(): number;
  sessions: Set<ServerHttp2Session>;
  /** Streams not yet answered (answered at once unless `hold`). */
  held: ServerHttp2Stream[];
  hold: boolean;
  close(): Promise<void>;
}

/** An OK gRPC answer with one empty message. */
function answer(stream: ServerHttp2Stream): void {
  if (stream.destroyed) return;
  stream.respond({ ':status': 200, 'content-type': 'application/grpc' }, { waitForTrailers: true });
  stream.once('wantTrailers', () => stream.sendTrailers({ 'grpc-status': '0' }));
  stream.end(Buffer.alloc(5));
}

async function rawServer(settings: Settings): Promise<RawServer> {
  const h2: Http2Server = createServer({ settings });
  let seen = 0;
  const raw: RawServer = {
    url: '',
    seen: () => seen,
    sessions: new Set(),
    held: [],
    hold: false,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of raw.sessions) s.destroy();
        h2.close(() => resolve());
      }),
  };
  h2.on('session', (session: ServerHttp2Session) => {
    seen++;
    raw.sessions.add(session);
    session.on('error', () => {});
    session.once('close', () => raw.sessions.delete(session));
  });
  h2.on('stream', (stream: ServerHttp2Stream) => {
    stream.on('error', () => {});
    stream.resume();
    stream.once('end', () => (raw.hold ? raw.held.push(stream) : answer(stream)));
  });
  await new Promise<void>((resolve) => h2.listen(0, '127.0.0.1', resolve));
  raw.url = `http://127.0.0.1:${(h2.address() as AddressInfo).port}`;
  return raw;
}

/** A stream of the pool, its request sent; `closed` resolves with its HTTP/2 close. */
async function open(pool: Http2SessionPool): Promise<{ closed: Promise<void> }> {
  const stream = await within(pool.request('POST', '/x.S/M', { 'content-type': 'application/grpc', te: 'trailers' }, {}), 'a stream of the pool');
  stream.on('error', () => {});
  stream.resume();
  stream.end(Buffer.alloc(5));
  return { closed: new Promise((resolve) => stream.once('close', resolve)) };
}

async function until(what: string, ok: () => boolean, ms = 5000): Promise<void> {
  for (const started = Date.now(); !ok(); await sleep(20)) {
    if (Date.now() - started > ms) throw new Error(`${what}: not within ${ms} ms`);
  }
}

test('sessions whose connections the server closed (GOAWAY) or broke are dropped from the pool', async () => {
  const server = await rawServer({ maxConcurrentStreams: 2 });
  const pool = new Http2SessionPool(server.url);
  try {
    for (const end of ['GOAWAY', 'destroy'] as const) {
      // One call first, so that the pool knows the limit and spreads the burst over connections.
      await (await open(pool)).closed;
      server.hold = true;
      const closes = await Promise.all(Array.from({ length: 10 }, () => open(pool)));
      await until('10 streams held by the server', () => server.held.length === 10);
      assert.ok(pool.size >= 5, `${pool.size} sessions for 10 streams, 2 a connection`);
      server.hold = false;
      for (const stream of server.held.splice(0)) answer(stream);
      await Promise.all(closes.map((c) => c.closed));
      for (const session of server.sessions) {
        if (end === 'GOAWAY') session.close();
        else session.destroy();
      }
      // Kept, they stayed at their peak (5) for the client's life.
      await until(`the pool emptied after ${end} (${pool.size} sessions)`, () => pool.size === 0);
    }
    // And it still serves: a new session for the next call.
    await (await open(pool)).closed;
    assert.is(pool.size, 1);
  } finally {
    pool.close();
    await server.close();
  }
});

test('a server allowing no streams (SETTINGS_MAX_CONCURRENT_STREAMS 0): one connection however many calls; calls wait until it allows some', async () => {
  const server = await rawServer({ maxConcurrentStreams: 0 });
  const client = createObservabilityClient(server.url, { protocol: 'grpc' });
  try {
    // Each call opened a connection of its own (and one per retry), kept for the client's life.
    for (let i = 0; i < 20; i++) {
      const error = await within(client.health.getHealthReport({}, { timeoutMs: 50 }).then(() => undefined, ConnectError.from), 'a call with a deadline');
      assert.is(error?.code, Code.DeadlineExceeded, error?.message);
    }
    const burst = await within(Promise.all(Array.from({ length: 50 }, () => client.health.getHealthReport({}, { timeoutMs: 200 }).then(() => 'ok', (e: unknown) => Code[ConnectError.from(e).code]))), 'a burst with deadlines');
    assert.ok(burst.every((o) => o === 'DeadlineExceeded'), burst.join(', '));
    assert.is(server.seen(), 1, 'connections the server saw');
    // A call waits for the server to allow streams, then goes.
    const waiting = client.health.getHealthReport({});
    await sleep(200);
    for (const session of server.sessions) session.settings({ maxConcurrentStreams: 10 });
    await within(waiting, 'the waiting call, once the server allows streams');
    assert.is(server.seen(), 1, 'connections the server saw');
  } finally {
    client.close();
    await server.close();
  }
});

test('a server allowing one stream per connection: 150 calls at once open 100 connections at most, and all are answered', async () => {
  const server = await rawServer({ maxConcurrentStreams: 1 });
  const client = createObservabilityClient(server.url, { protocol: 'grpc' });
  try {
    await within(client.health.getHealthReport({}), 'a first call (the pool learns the limit)');
    server.hold = true;
    const calls = Array.from({ length: 150 }, () => client.health.getHealthReport({}).then(() => 'ok', (e: unknown) => Code[ConnectError.from(e).code]));
    await until('100 streams held', () => server.held.length >= 100);
    await sleep(300);
    // A connection per call, 150 (more with the refused ones' retries), and as many sessions kept.
    assert.ok(server.seen() <= 101, `the server saw ${server.seen()} connections`);
    server.hold = false;
    for (const stream of server.held.splice(0)) answer(stream);
    const outcomes = await within(Promise.all(calls), 'the 150 calls', 10_000);
    assert.ok(outcomes.every((o) => o === 'ok'), [...new Set(outcomes)].join(', '));
  } finally {
    client.close();
    await server.close();
  }
});

test.run();
