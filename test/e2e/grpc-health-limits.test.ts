/**
 * grpc.health.v1 under clients that hold it: Health/Watch streams are capped at
 * RS3GW_HEALTH_MAX_WATCHERS (one beyond is RESOURCE_EXHAUSTED naming it; one that leaves frees its
 * place), a service name longer than any real one is INVALID_ARGUMENT naming `service` (shorter
 * unknown ones stay NOT_FOUND and SERVICE_UNKNOWN), and an open Watch keeps neither its request's
 * bytes nor its long name: streams asking with 4 MB each leave the service's memory where it was.
 */
import { Code, ConnectError, createClient } from '@connectrpc/connect';
import { createConnectTransport } from '@connectrpc/connect-node';
import { connect as http2Connect, type ClientHttp2Session, type ClientHttp2Stream } from 'node:http2';
import { setTimeout as sleep } from 'node:timers/promises';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Health } from '../../gen/ts/grpc/health/v1/health_pb.js';
import { startServer, type RunningServer } from '../support/server.js';
import { heldBufferMb, startProbedServer, varint } from './support/held-buffers.js';
import { scrapeMetrics } from './support/rpc-helpers.js';

const WATCH = '/grpc.health.v1.Health/Watch';
const CHECK = '/grpc.health.v1.Health/Check';
const MAX_WATCHERS = 3;
/** Under RS3GW_MAX_MESSAGE_BYTES (4 MiB) with its framing. */
const BIG = 4_000_000;
const HEAVY_STREAMS = 60;

const SERVING = 1;
const SERVICE_UNKNOWN = 3;

/** A HealthCheckRequest: `service`, and optionally an unknown field 2 of `padding` bytes. */
function healthRequest(service: string, padding = 0): Buffer {
  const name = Buffer.from(service);
  const parts = [Buffer.from([0x0a, ...varint(name.length)]), name];
  if (padding > 0) parts.push(Buffer.from([0x12, ...varint(padding)]), Buffer.alloc(padding, 0x61));
  const message = Buffer.concat(parts);
  const frame = Buffer.alloc(5);
  frame.writeUInt32BE(message.length, 1);
  return Buffer.concat([frame, message]);
}

function h2(url: string): Promise<ClientHttp2Session> {
  return new Promise((resolve, reject) => {
    const session = http2Connect(url, () => resolve(session));
    session.once('error', reject);
  });
}

function call(session: ClientHttp2Session, path: string, request: Buffer): ClientHttp2Stream {
  const stream = session.request({ ':method': 'POST', ':path': path, 'content-type': 'application/grpc', te: 'trailers' });
  stream.on('error', () => {});
  stream.end(request);
  return stream;
}

type First = { status: number } | { code: number; message: string };

/** The first thing a call says: a status message, or its gRPC status when it ends without one. */
function first(stream: ClientHttp2Stream): Promise<First> {
  return new Promise((resolve, reject) => {
    const ended = (h: Record<string, unknown>) => {
      if (h['grpc-status'] !== undefined) resolve({ code: Number(h['grpc-status']), message: decodeURIComponent(String(h['grpc-message'] ?? '')) });
    };
    stream.once('response', ended);
    stream.once('trailers', ended);
    // A HealthCheckResponse of one enum field: frame header, then 0x08 and the status.
    stream.on('data', (d: Buffer) => d.length >= 7 && resolve({ status: d[6]! }));
    stream.once('close', () => reject(new Error(`stream closed (rst ${stream.rstCode}) without an answer`)));
  });
}

async function watchers(url: string): Promise<number> {
  return Number(/^rs3gw_health_watch_subscribers (\S+)$/m.exec(await scrapeMetrics(url))?.[1]);
}

let server: RunningServer;

test.before(async () => {
  server = await startServer({ RS3GW_HEALTH_MAX_WATCHERS: String(MAX_WATCHERS) });
});

test.after(async () => {
  assert.is(await server.stop(), 0, server.output());
});

test('a Health/Watch beyond RS3GW_HEALTH_MAX_WATCHERS is RESOURCE_EXHAUSTED naming it; a watcher that leaves frees its place', async () => {
  const session = await h2(server.url);
  const open = Array.from({ length: MAX_WATCHERS }, () => call(session, WATCH, healthRequest('')));
  for (const s of open) assert.equal(await first(s), { status: SERVING });
  assert.is(await watchers(server.url), MAX_WATCHERS);
  const refused = await first(call(session, WATCH, healthRequest('')));
  assert.is((refused as { code: number }).code, Code.ResourceExhausted, JSON.stringify(refused));
  assert.match((refused as { message: string }).message, /at most 3 Health\/Watch streams at once; raise RS3GW_HEALTH_MAX_WATCHERS/);
  // Check and List are not watchers: they go on.
  assert.equal(await first(call(session, CHECK, healthRequest(''))), { status: SERVING });
  open[0]!.close();
  for (let i = 0; i < 50 && (await watchers(server.url)) >= MAX_WATCHERS; i++) await sleep(20);
  const again = call(session, WATCH, healthRequest(''));
  assert.equal(await first(again), { status: SERVING });
  session.destroy();
  for (let i = 0; i < 50 && (await watchers(server.url)) > 0; i++) await sleep(20);
  assert.is(await watchers(server.url), 0);
});

test('a service name longer than 1,024 characters is INVALID_ARGUMENT naming service; shorter unknown ones are NOT_FOUND and SERVICE_UNKNOWN', async () => {
  const session = await h2(server.url);
  for (const path of [WATCH, CHECK]) {
    const answer = (await first(call(session, path, healthRequest('s'.repeat(1025))))) as { code: number; message: string };
    assert.is(answer.code, Code.InvalidArgument, `${path}: ${JSON.stringify(answer)}`);
    assert.is(answer.message, 'service: more than the 1024 characters a service name may have');
  }
  // Characters, not UTF-16 units: 1,024 emoji are 2,048 of those.
  for (const unknown of ['x'.repeat(1024), '\u{1F600}'.repeat(1024)]) {
    assert.equal(await first(call(session, WATCH, healthRequest(unknown))), { status: SERVICE_UNKNOWN });
    const notFound = (await first(call(session, CHECK, healthRequest(unknown)))) as { code: number; message: string };
    assert.is(notFound.code, Code.NotFound);
  }
  session.destroy();
  // Connect says the same.
  const health = createClient(Health, createConnectTransport({ baseUrl: server.url, httpVersion: '1.1' }));
  const error = await health.check({ service: 'y'.repeat(BIG) }).then(
    () => undefined,
    (e: unknown) => ConnectError.from(e),
  );
  assert.is(error?.code, Code.InvalidArgument);
  assert.is(error!.rawMessage, 'service: more than the 1024 characters a service name may have');
});

test(`${HEAVY_STREAMS} Watch streams sent 4 MB each (as a name, or as unknown fields) keep none of it`, async () => {
  const big = await startProbedServer();
  try {
    const session = await h2(big.url);
    const before = await heldBufferMb(big);
    const held: ClientHttp2Stream[] = [];
    for (let i = 0; i < HEAVY_STREAMS; i++) {
      const long = call(session, WATCH, healthRequest('n'.repeat(BIG)));
      const padded = call(session, WATCH, healthRequest('', BIG));
      held.push(long, padded);
      await Promise.all([first(long), first(padded)]);
    }
    // The padded ones are open, watching ''; the long-named ones were refused.
    assert.is(await watchers(big.url), HEAVY_STREAMS);
    const after = await heldBufferMb(big);
    // 2 x 60 x 4 MB arrived; kept, they would be 240 MB and more.
    assert.ok(after - before < 20, `Buffers held grew from ${before.toFixed(1)} to ${after.toFixed(1)} MB with ${HEAVY_STREAMS} streams open`);
    session.destroy();
  } finally {
    assert.is(await big.stop(), 0, big.output());
  }
});

test.run();
