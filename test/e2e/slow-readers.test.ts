/**
 * Clients that ask and do not read, over real sockets: pipelined HTTP/1.1 requests are served one
 * at a time (one rendered answer per connection, not one per request); an answer the client takes
 * none of is given up after RS3GW_SEND_TIMEOUT (the HTTP/1.1 connection closed, the HTTP/2 stream
 * reset), while a stream with nothing to send, or whose client reads slowly but steadily, is left
 * open; a render that would pass
 * RS3GW_MAX_UNSENT_BYTES is refused, as is any answer of 16 KiB or more of any method on any protocol
 * that would pass it; an unknown grpc-encoding does not refuse uncompressed messages.
 */
import { create, toBinary } from '@bufbuild/protobuf';
import { readFileSync } from 'node:fs';
import { connect as http2Connect, constants, type ClientHttp2Session, type ClientHttp2Stream } from 'node:http2';
import { connect, type Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ServerReflectionRequestSchema } from '../../gen/ts/grpc/reflection/v1/reflection_pb.js';
import { createObservabilityClient } from '../../clients/ts/client.js';
import { GetStatisticsRequestSchema } from '../../gen/ts/rs3gw/observability/v1/anomaly_pb.js';
import { startServer, type RunningServer } from '../support/server.js';

const SEND_TIMEOUT_MS = 1000;
/** The sweep runs every tenth of the timeout: a stuck answer is cut within 1.1 times it, plus a margin. */
const CUT_BY_MS = SEND_TIMEOUT_MS * 1.1 + 1500;
/** One series of the inflating histogram: 16 labels of 1 KB, on each of its ~66 lines: about 1 MB of /metrics. */
const SERIES = 20;
const EXPORT = '/rs3gw.observability.v1.MetricsService/ExportMetrics';
const WATCH = '/rs3gw.observability.v1.AnomalyService/WatchAnomalies';
const REFLECTION = '/grpc.reflection.v1.ServerReflection/ServerReflectionInfo';
const STATISTICS = '/rs3gw.observability.v1.AnomalyService/GetStatistics';

let server: RunningServer;
let port: number;

function rssMb(pid: number): number {
  const kb = /VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]!;
  return Number(kb) / 1024;
}

async function post(path: string, body: unknown): Promise<void> {
  const res = await fetch(`${server.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  assert.is(res.status, 200, `${path}: ${await res.text()}`);
}

/** /metrics of about SERIES MB, so that an answer outlasts the kernel's socket buffers. */
async function inflateMetrics(): Promise<void> {
  const labels = Array.from({ length: 16 }, (_, i) => `l${i}`);
  await post('/api/observability/metrics', { name: 'big_h', type: 'METRIC_TYPE_HISTOGRAM', description: 'x', label_names: labels, buckets: Array.from({ length: 64 }, (_, i) => i + 1) });
  for (let s = 0; s < SERIES; s++) {
    await post('/api/observability/metrics/record', { name: 'big_h', value: 1, labels: Object.fromEntries(labels.map((l) => [l, `${s}`.padStart(4, '0') + 'v'.repeat(1020)])) });
  }
}

/** A socket that reads nothing: paused before it is connected, it never takes a byte from the kernel. */
function unreadSocket(): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect({ port, host: '127.0.0.1' }, () => resolve(socket));
    socket.pause();
    socket.once('error', reject);
  });
}

function closedWithin(socket: Socket, ms: number): Promise<boolean> {
  if (socket.destroyed) return Promise.resolve(true);
  return Promise.race([new Promise<boolean>((resolve) => socket.once('close', () => resolve(true))), sleep(ms, false)]);
}

function sendTimeouts(metrics: string): number {
  return Number(/rs3gw_connections_closed_total\{reason="send_timeout"\} (\d+)/.exec(metrics)?.[1] ?? 0);
}

function grpcFrame(message: Uint8Array): Buffer {
  const frame = Buffer.alloc(5 + message.length);
  frame.writeUInt32BE(message.length, 1);
  frame.set(message, 5);
  return frame;
}

function h2(settings: Record<string, number> = {}): Promise<ClientHttp2Session> {
  return new Promise((resolve, reject) => {
    const session = http2Connect(server.url, { settings }, () => resolve(session));
    session.once('error', reject);
  });
}

function grpcCall(session: ClientHttp2Session, path: string, message: Uint8Array, headers: Record<string, string> = {}): ClientHttp2Stream {
  const stream = session.request({ ':method': 'POST', ':path': path, 'content-type': 'application/grpc', te: 'trailers', ...headers });
  stream.on('error', () => {});
  stream.end(grpcFrame(message));
  return stream;
}

/**
 * Reads `stream` at a pace: up to `bytesPerTick` every 250 ms, the window refilled only as they are
 * read. `read` counts the bytes taken, `lastReadAt` when; `stop` ends the pacing (paused).
 */
function pacedReader(stream: ClientHttp2Stream, bytesPerTick: number) {
  const reader = { read: 0, lastReadAt: 0, stop: () => {} };
  let readThisTick = 0;
  stream.on('data', (d: Buffer) => {
    reader.lastReadAt = Date.now();
    reader.read += d.length;
    readThisTick += d.length;
    if (readThisTick >= bytesPerTick) stream.pause();
  });
  stream.pause();
  const pace = setInterval(() => {
    readThisTick = 0;
    stream.resume();
  }, 250);
  reader.stop = () => {
    clearInterval(pace);
    stream.pause();
  };
  return reader;
}

test.before(async () => {
  server = await startServer({ RS3GW_SEND_TIMEOUT: String(SEND_TIMEOUT_MS / 1000), RS3GW_MAX_UNSENT_BYTES: String(64 * 1024 * 1024) });
  port = Number(new URL(server.url).port);
  await inflateMetrics();
});

test.after(async () => {
  assert.is(await server.stop(), 0, server.output());
  // Written once a minute at most, and at shutdown what was not yet written.
  assert.match(server.output(), /their client took none of the answer's bytes for 1 s \(RS3GW_SEND_TIMEOUT\)/);
});

test('pipelined requests are served one at a time: 1,000 unread GET /metrics hold one answer, and all come once read', async () => {
  const before = rssMb(server.process.pid!);
  const socket = await unreadSocket();
  socket.pause();
  socket.write('GET /metrics HTTP/1.1\r\nHost: localhost\r\n\r\n'.repeat(1000));
  let peak = before;
  for (let i = 0; i < 25; i++) {
    await sleep(100);
    peak = Math.max(peak, rssMb(server.process.pid!));
  }
  // Every answer rendered at once would be 1,000 x ~6 MB; one at a time is one.
  assert.ok(peak - before < 150, `RSS grew from ${before.toFixed(0)} to ${peak.toFixed(0)} MB`);
  const other = await fetch(`${server.url}/api/observability/health`);
  assert.is(other.status, 200, 'another client is answered meanwhile');
  socket.destroy();
});

test('2,000 pipelined GET /metrics on a socket that reads nothing: RSS stays bounded and the service answers others', async () => {
  const pid = server.process.pid!;
  const before = rssMb(pid);
  const socket = await unreadSocket();
  socket.pause();
  socket.on('error', () => {});
  socket.write('GET /metrics HTTP/1.1\r\nHost: localhost\r\n\r\n'.repeat(2000));
  let peak = before;
  for (let i = 0; i < 25; i++) {
    await sleep(100);
    peak = Math.max(peak, rssMb(pid));
  }
  assert.ok(peak - before < 150, `RSS grew from ${before.toFixed(0)} to ${peak.toFixed(0)} MB`);
  const started = Date.now();
  const other = await fetch(`${server.url}/api/observability/health`);
  assert.is(other.status, 200);
  assert.ok(Date.now() - started < 2000, `another client waited ${Date.now() - started} ms`);
  socket.destroy();
});

test('a connection sending more than 1,024 waiting requests in one read is closed, and the close counted once', async () => {
  const counted = async () => {
    const text = await (await fetch(`${server.url}/metrics`)).text();
    return Number(/rs3gw_connections_closed_total\{reason="pipelined"\} (\d+)/.exec(text)?.[1] ?? 0);
  };
  const before = await counted();
  const socket = await unreadSocket();
  socket.pause();
  socket.on('error', () => {});
  // Short requests, over twice the bound in one read (64 KiB): the parser reads on past the first overflow.
  socket.write('GET /a HTTP/1.1\r\nHost:x\r\n\r\n'.repeat(20_000));
  for (let waited = 0; (await counted()) === before && waited < 5000; waited += 100) await sleep(100);
  // The parser's later overflows would come within the same read.
  await sleep(300);
  assert.is((await counted()) - before, 1, 'one connection closed, counted once');
  socket.destroy();
});

/** Statuses of the answers read on `socket` within `ms`. */
async function statusesWithin(socket: Socket, ms: number): Promise<string[]> {
  let received = '';
  socket.setEncoding('latin1');
  socket.on('data', (d: string) => (received += d));
  await sleep(ms);
  return received.match(/HTTP\/1\.1 \d+/g) ?? [];
}

test('a pipelined request whose body has not all come with it is served: the connection is read again for it', async () => {
  const body = JSON.stringify({ samples: Array.from({ length: 8000 }, (_, i) => ({ metric: 'pipelined_body', value: i % 7 })) });
  const post = `POST /api/observability/anomalies/samples/batch HTTP/1.1\r\nHost: a\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n`;
  // Behind a GET, in one write: the body (300 KB) takes more than one read.
  const big = connect(port, '127.0.0.1');
  big.on('error', () => {});
  big.write(`GET /api/observability/resources HTTP/1.1\r\nHost: a\r\n\r\n${post}${body}`);
  assert.equal(await statusesWithin(big, 2000), ['HTTP/1.1 200', 'HTTP/1.1 200']);
  big.destroy();
  // Behind a GET, the body sent a moment later.
  const late = connect(port, '127.0.0.1');
  late.on('error', () => {});
  late.write(`GET /api/observability/resources HTTP/1.1\r\nHost: a\r\n\r\n${post}`);
  setTimeout(() => late.write(body), 300);
  assert.equal(await statusesWithin(late, 2000), ['HTTP/1.1 200', 'HTTP/1.1 200']);
  late.destroy();
});

test('cheap pipelining still works: 1,000 pipelined GET /health all answered, in order, within seconds', async () => {
  const socket = await new Promise<Socket>((resolve) => {
    const s = connect(port, '127.0.0.1', () => resolve(s));
  });
  const started = Date.now();
  let received = '';
  socket.setEncoding('latin1');
  socket.on('data', (d: string) => (received += d));
  socket.write('GET /api/observability/health HTTP/1.1\r\nHost: localhost\r\n\r\n'.repeat(1000));
  while ((received.match(/HTTP\/1\.1 200 /g) ?? []).length < 1000 && Date.now() - started < 10_000) await sleep(20);
  assert.is((received.match(/HTTP\/1\.1 200 /g) ?? []).length, 1000);
  assert.ok(Date.now() - started < 5000, `took ${Date.now() - started} ms`);
  socket.destroy();
});

test('an HTTP/1.1 answer the client stops reading is given up after RS3GW_SEND_TIMEOUT, an idle gRPC stream is not', async () => {
  const session = await h2();
  const watch = grpcCall(session, WATCH, new Uint8Array());
  let watchClosed = false;
  watch.on('close', () => (watchClosed = true));
  const socket = await unreadSocket();
  // The earlier tests' unread sockets were cut too, as their answers outlasted the send timeout.
  const earlier = sendTimeouts(await (await fetch(`${server.url}/metrics`)).text());
  const started = Date.now();
  socket.write('GET /metrics HTTP/1.1\r\nHost: localhost\r\n\r\n');
  // A paused socket sees no close until it reads: the server's count says when it was cut.
  let cuts = 0;
  while (cuts === 0 && Date.now() - started < CUT_BY_MS + 2000) {
    await sleep(100);
    cuts = sendTimeouts(await (await fetch(`${server.url}/metrics`)).text()) - earlier;
  }
  const after = Date.now() - started;
  assert.is(cuts, 1, `the stalled reader was not cut within ${after} ms`);
  assert.ok(after >= SEND_TIMEOUT_MS, `cut after ${after} ms, before the send timeout`);
  // Read now: what the kernel had taken, then the close; not the whole answer.
  const chunks: Buffer[] = [];
  socket.on('data', (d: Buffer) => chunks.push(d));
  socket.on('error', () => {});
  socket.resume();
  assert.ok(await closedWithin(socket, 3000), 'the cut connection is closed');
  const head = Buffer.concat(chunks).toString('latin1', 0, 4096);
  const length = Number(/content-length: (\d+)/i.exec(head)?.[1]);
  assert.ok(Buffer.concat(chunks).length < length, `the whole answer (${length} bytes) was sent`);
  await sleep(SEND_TIMEOUT_MS);
  assert.not.ok(watchClosed, 'an idle WatchAnomalies stream (nothing to send) was cut');
  assert.not.ok(session.destroyed, 'its connection was closed');
  session.destroy();
});

test('an HTTP/2 stream whose window stays 0 is reset after RS3GW_SEND_TIMEOUT; its connection serves other calls', async () => {
  const session = await h2({ initialWindowSize: 0 });
  const started = Date.now();
  const stream = grpcCall(session, EXPORT, Uint8Array.of(0x08, 0x02)); // format: PROMETHEUS
  const rstCode = await Promise.race([new Promise<number>((resolve) => stream.once('close', () => resolve(stream.rstCode ?? -1))), sleep(CUT_BY_MS + 3000, -2)]);
  assert.is(rstCode, constants.NGHTTP2_CANCEL, `the stuck stream ended with ${rstCode} after ${Date.now() - started} ms`);
  assert.ok(Date.now() - started >= SEND_TIMEOUT_MS - 100);
  // The connection itself is fine: a small call on it is answered (its window 0 holds no headers back).
  const health = session.request({ ':method': 'POST', ':path': '/grpc.health.v1.Health/Check', 'content-type': 'application/grpc', te: 'trailers' });
  health.end(grpcFrame(new Uint8Array()));
  const headers = await new Promise<Record<string, unknown>>((resolve) => health.once('response', resolve));
  assert.is(headers[':status'], 200);
  session.destroy();
});

test('an HTTP/2 stream its client reads slowly but steadily is not cut, however long; once it reads nothing, it is', async () => {
  // Reflection answers of one size, one written as the last is taken: the stream's waiting bytes
  // were the same at every sweep, and such a reader was cut after RS3GW_SEND_TIMEOUT.
  const session = await h2();
  const stream = session.request({ ':method': 'POST', ':path': REFLECTION, 'content-type': 'application/grpc', te: 'trailers' });
  let closedAt: number | undefined;
  stream.once('close', () => (closedAt = Date.now()));
  stream.on('error', () => {});
  const symbol = toBinary(ServerReflectionRequestSchema, create(ServerReflectionRequestSchema, { messageRequest: { case: 'fileContainingSymbol', value: 'rs3gw.observability.v1.MetricsService' } }));
  stream.write(Buffer.concat(Array.from({ length: 2000 }, () => grpcFrame(symbol))));
  // About 26 KB every 250 ms: a few answers a second.
  const reader = pacedReader(stream, 26_000);
  const started = Date.now();
  const marks: number[] = [];
  try {
    while (Date.now() - started < 4 * SEND_TIMEOUT_MS + 500 && closedAt === undefined) {
      await sleep(SEND_TIMEOUT_MS / 2);
      marks.push(reader.read);
    }
    assert.is(closedAt, undefined, `the stream, read ${reader.read} bytes in ${Date.now() - started} ms, was closed after ${(closedAt ?? 0) - started} ms`);
    // Steady: bytes taken in every half of the timeout.
    for (let i = 1; i < marks.length; i++) assert.ok(marks[i]! > marks[i - 1]!, `nothing read between ${marks.join(', ')}`);
  } finally {
    // Now it takes nothing: cut, as any answer not read, a send timeout after it last took bytes.
    reader.stop();
  }
  const { lastReadAt } = reader;
  const rstCode = await Promise.race([new Promise<number>((resolve) => (closedAt !== undefined ? resolve(stream.rstCode ?? -1) : stream.once('close', () => resolve(stream.rstCode ?? -1)))), sleep(CUT_BY_MS + 3000, -2)]);
  assert.is(rstCode, constants.NGHTTP2_CANCEL, `the stalled stream ended with ${rstCode} ${Date.now() - lastReadAt} ms after its last read`);
  assert.ok(Date.now() - lastReadAt >= SEND_TIMEOUT_MS - 100, `cut ${Date.now() - lastReadAt} ms after its last read`);
  session.destroy();
});

test('one large gRPC answer its client reads slower than 64 KiB per send timeout, but steadily, is not cut', async () => {
  // Node reports a stream write done only once all of it is sent: answers went out in 64 KiB
  // writes, so a client taking 48 KB a second showed no progress for 1.3 s, past the 1 s timeout.
  const session = await h2();
  const stream = grpcCall(session, EXPORT, Uint8Array.of(0x08, 0x02)); // format: PROMETHEUS, about 20 MB
  let closedAt: number | undefined;
  stream.once('close', () => (closedAt = Date.now()));
  const reader = pacedReader(stream, 12_000);
  const started = Date.now();
  try {
    while (Date.now() - started < 4 * SEND_TIMEOUT_MS + 500 && closedAt === undefined) await sleep(SEND_TIMEOUT_MS / 2);
    assert.is(closedAt, undefined, `the stream, read ${reader.read} bytes in ${Date.now() - started} ms, was closed after ${(closedAt ?? 0) - started} ms`);
    assert.ok(reader.read > 3 * 64 * 1024, `read ${reader.read} bytes`);
  } finally {
    reader.stop();
    session.destroy();
  }
});

test('an unknown grpc-encoding with uncompressed messages is served, as the gRPC spec has it', async () => {
  const session = await h2();
  for (const encoding of ['zstd', 'bogus', 'br']) {
    const stream = grpcCall(session, '/grpc.health.v1.Health/Check', new Uint8Array(), { 'grpc-encoding': encoding });
    const trailers = await new Promise<Record<string, unknown>>((resolve) => {
      stream.once('response', (h) => h['grpc-status'] !== undefined && resolve(h));
      stream.once('trailers', resolve);
      stream.resume();
    });
    assert.is(trailers['grpc-status'], '0', `${encoding}: ${decodeURIComponent(String(trailers['grpc-message']))}`);
  }
  session.destroy();
});

test('a render that would pass RS3GW_MAX_UNSENT_BYTES is refused: 503 on /metrics, UNAVAILABLE on ExportMetrics', async () => {
  const small = await startServer({ RS3GW_MAX_UNSENT_BYTES: String(512 * 1024) });
  const saved = server;
  const savedPort = port;
  server = small;
  port = Number(new URL(small.url).port);
  const holder = await unreadSocket();
  holder.on('error', () => {});
  try {
    await inflateMetrics();
    // Alone, a scrape larger than the cap goes ahead: nothing else is held.
    assert.is((await fetch(`${small.url}/metrics`)).status, 200, 'a lone scrape');
    // A client that does not read now holds one such answer; the next render would pass the cap.
    holder.write('GET /metrics HTTP/1.1\r\nHost: localhost\r\n\r\n');
    await sleep(500);
    const res = await fetch(`${small.url}/metrics`);
    const text = await res.text();
    assert.is(res.status, 503, text);
    assert.match(text, /"code":"unavailable"/);
    assert.match(text, /RS3GW_MAX_UNSENT_BYTES \(524288 bytes/);
    const session = http2Connect(small.url);
    const stream = grpcCall(session, EXPORT, Uint8Array.of(0x08, 0x02));
    const trailers = await new Promise<Record<string, unknown>>((resolve) => {
      stream.once('response', (h) => h['grpc-status'] !== undefined && resolve(h));
      stream.once('trailers', resolve);
      stream.resume();
    });
    assert.is(trailers['grpc-status'], '14');
    assert.match(decodeURIComponent(String(trailers['grpc-message'])), /RS3GW_MAX_UNSENT_BYTES/);
    session.destroy();
    // Small answers are never refused.
    assert.is((await fetch(`${small.url}/api/observability/health`)).status, 200);
  } finally {
    holder.destroy();
    server = saved;
    port = savedPort;
    assert.is(await small.stop(), 0, small.output());
  }
});

/** `count` anomaly metrics, so that a page of GetStatistics is about 130 bytes a metric. */
async function anomalyMetrics(url: string, count: number): Promise<void> {
  for (let from = 0; from < count; from += 1000) {
    const samples = Array.from({ length: Math.min(1000, count - from) }, (_, i) => ({ metric: `unsent_budget_metric_${from + i}`, value: 1 }));
    const res = await fetch(`${url}/api/observability/anomalies/samples/batch`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ samples }) });
    assert.is(res.status, 200, await res.text());
  }
}

/**
 * A gRPC call's status as soon as it has one: 'answered' when its headers came without one (its
 * message waits behind them), 'reset' when the stream was reset before any headers.
 */
function grpcOutcome(stream: ClientHttp2Stream): Promise<{ status: string; message: string }> {
  return new Promise((resolve) => {
    const done = (h: Record<string, unknown>) => resolve({ status: String(h['grpc-status']), message: decodeURIComponent(String(h['grpc-message'] ?? '')) });
    stream.once('response', (h) => (h['grpc-status'] !== undefined ? done(h) : resolve({ status: 'answered', message: '' })));
    stream.once('close', () => resolve({ status: 'reset', message: `${stream.rstCode}` }));
  });
}

test('every answer of 16 KiB or more, of any method on any protocol, is refused past RS3GW_MAX_UNSENT_BYTES; smaller ones go on', async () => {
  const small = await startServer({ RS3GW_MAX_UNSENT_BYTES: String(512 * 1024) });
  const saved = server;
  const savedPort = port;
  server = small;
  port = Number(new URL(small.url).port);
  let holder: Socket | undefined;
  const grpcWeb = createObservabilityClient(small.url, { protocol: 'grpc-web' });
  let session: ClientHttp2Session | undefined;
  try {
    await inflateMetrics();
    // A page of 500 metrics is about 60 KB.
    await anomalyMetrics(small.url, 500);
    const page = `${small.url}/api/observability/anomalies/statistics?page_size=1000`;
    const first = await fetch(page);
    assert.is(first.status, 200, 'nothing held: the page goes');
    await first.arrayBuffer();
    holder = await unreadSocket();
    holder.on('error', () => {});
    holder.write('GET /metrics HTTP/1.1\r\nHost: localhost\r\n\r\n');
    // Held once the scrape is made and handed to the socket, which the first refusal shows.
    let rest = await fetch(page);
    for (let waited = 0; rest.status === 200 && waited < 10_000; waited += 100) {
      await rest.arrayBuffer();
      await sleep(100);
      rest = await fetch(page);
    }
    const refusal = /^GetStatistics: its \d+ bytes would take the responses not yet taken by clients past RS3GW_MAX_UNSENT_BYTES \(524288 bytes; \d+ held now\); try again when clients have read them$/;
    // REST
    const restBody = (await rest.json()) as { code: string; message: string };
    assert.is(rest.status, 503, JSON.stringify(restBody).slice(0, 300));
    assert.is(restBody.code, 'unavailable');
    assert.match(restBody.message, refusal);
    // Connect, JSON and binary
    const connectJson = await fetch(`${small.url}${STATISTICS}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"page_size":1000}' });
    const connectBody = (await connectJson.json()) as { code: string; message: string };
    assert.is(connectJson.status, 503, JSON.stringify(connectBody).slice(0, 300));
    assert.is(connectBody.code, 'unavailable');
    assert.match(connectBody.message, refusal);
    const request = toBinary(GetStatisticsRequestSchema, create(GetStatisticsRequestSchema, { pageSize: 1000 }));
    const connectProto = await fetch(`${small.url}${STATISTICS}`, { method: 'POST', headers: { 'content-type': 'application/proto' }, body: request });
    assert.is(connectProto.status, 503);
    assert.match(((await connectProto.json()) as { message: string }).message, refusal);
    // gRPC-Web, through the generated client
    const error = await grpcWeb.anomalies.getStatistics({ pageSize: 1000 }).then(
      () => undefined,
      (e: unknown) => e as { code: number; rawMessage: string },
    );
    assert.is(error?.code, 14, 'gRPC-Web: UNAVAILABLE');
    assert.match(error!.rawMessage, refusal);
    // Native gRPC
    session = await h2();
    const grpc = await grpcOutcome(grpcCall(session, STATISTICS, request));
    assert.is(grpc.status, '14');
    assert.match(grpc.message, refusal);
    // Smaller answers go on: one metric's statistics, a health check.
    const one = await fetch(`${small.url}/api/observability/anomalies/statistics?metric=unsent_budget_metric_1`);
    assert.is(one.status, 200, (await one.text()).slice(0, 300));
    assert.is((await grpcWeb.anomalies.getStatistics({ metric: 'unsent_budget_metric_1' })).statistics.length, 1);
    assert.is((await fetch(`${small.url}/api/observability/health`)).status, 200);
    // The refusals are calls like any other: counted by code (scraped once the holder lets go).
    holder.destroy();
    await sleep(200);
    const metrics = await (await fetch(`${small.url}/metrics`)).text();
    const refused = [...metrics.matchAll(/^rs3gw_rpc_server_duration_seconds_count\{[^}]*method="GetStatistics"[^}]*code="unavailable"[^}]*\} (\d+)/gm)].reduce((sum, m) => sum + Number(m[1]), 0);
    assert.is(refused, 5, 'refused GetStatistics calls counted as unavailable');
  } finally {
    session?.destroy();
    grpcWeb.close();
    holder?.destroy();
    server = saved;
    port = savedPort;
    assert.is(await small.stop(), 0, small.output());
  }
});

test('GetStatistics pages left unread on HTTP/2 streams whose window stays 0 are refused once RS3GW_MAX_UNSENT_BYTES is spent; a reader is not', async () => {
  const capBytes = 1024 * 1024;
  const small = await startServer({ RS3GW_MAX_UNSENT_BYTES: String(capBytes) });
  const sessions: ClientHttp2Session[] = [];
  try {
    // Pages of 500 metrics, about 240 KB each.
    await anomalyMetrics(small.url, 500);
    const request = toBinary(GetStatisticsRequestSchema, create(GetStatisticsRequestSchema, { pageSize: 1000 }));
    const reader = await new Promise<ClientHttp2Session>((resolve, reject) => {
      const s = http2Connect(small.url, () => resolve(s));
      s.once('error', reject);
    });
    sessions.push(reader);
    const readPage = async () => {
      const stream = grpcCall(reader, STATISTICS, request);
      let bytes = 0;
      stream.on('data', (d: Buffer) => (bytes += d.length));
      const status = await new Promise<Record<string, unknown>>((resolve) => {
        stream.once('response', (h) => h['grpc-status'] !== undefined && resolve(h));
        stream.once('trailers', resolve);
      });
      return { status: String(status['grpc-status']), bytes };
    };
    // A client that reads what it asks for is not refused, however many pages it asks for.
    const read: { status: string; bytes: number }[] = [];
    for (let i = 0; i < 50; i++) read.push(await readPage());
    assert.equal([...new Set(read.map((r) => r.status))], ['0'], 'every page read');
    const pageBytes = read[0]!.bytes;
    assert.ok(pageBytes > 200_000, `pages of ${pageBytes} bytes`);
    // Three connections, 100 calls each, none read: 300 pages would be 70 MB.
    const outcomes: Promise<{ status: string; message: string }>[] = [];
    for (let c = 0; c < 3; c++) {
      const session = await new Promise<ClientHttp2Session>((resolve, reject) => {
        const s = http2Connect(small.url, { settings: { initialWindowSize: 0 } }, () => resolve(s));
        s.once('error', reject);
      });
      sessions.push(session);
      for (let i = 0; i < 100; i++) outcomes.push(grpcOutcome(grpcCall(session, STATISTICS, request)));
    }
    const settled = await Promise.all(outcomes);
    const answered = settled.filter((o) => o.status === 'answered').length;
    const refusals = settled.filter((o) => o.status === '14').map((o) => o.message);
    assert.is(answered + refusals.length, 300, JSON.stringify(settled.find((o) => o.status !== 'answered' && o.status !== '14')));
    for (const message of refusals) assert.match(message, /^GetStatistics: its \d+ bytes would take the responses not yet taken by clients past RS3GW_MAX_UNSENT_BYTES \(1048576 bytes; \d+ held now\)/);
    // What is held is the cap at most, and one page past it (the first, which nothing else held).
    assert.ok(answered * pageBytes <= capBytes + pageBytes, `${answered} pages of ${pageBytes} bytes answered`);
    const mostHeld = Math.max(...refusals.map((m) => Number(/(\d+) held now/.exec(m)![1])));
    assert.ok(mostHeld <= capBytes + pageBytes, `${mostHeld} bytes held`);
    // Small answers go on while the budget is spent.
    assert.is((await fetch(`${small.url}/api/observability/health`)).status, 200);
    // Once the unread streams are gone, the reader's pages go again.
    for (const s of sessions.splice(1)) s.destroy();
    await sleep(200);
    assert.is((await readPage()).status, '0', 'read again');
  } finally {
    for (const s of sessions) s.destroy();
    assert.is(await small.stop(), 0, small.output());
  }
});

test.run();
