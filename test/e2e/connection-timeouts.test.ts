/**
 * Slow and silent clients on the one port, over real sockets: a connection that sends nothing or
 * stops within the HTTP/2 preface is closed after RS3GW_FIRST_BYTES_TIMEOUT, and an HTTP/1.1
 * request that stops within its headers or body is answered 408 after RS3GW_HEADERS_TIMEOUT or
 * RS3GW_REQUEST_TIMEOUT. Clients that are merely slow to be answered, or idle between requests,
 * are left alone.
 */
import { readFileSync } from 'node:fs';
import { connect as http2Connect } from 'node:http2';
import { connect, type Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createObservabilityClient } from '../../clients/ts/client.js';
import { startServer, type RunningServer } from '../support/server.js';
import { within } from './support/rpc-helpers.js';

const FIRST_BYTES_MS = 300;
const HEADERS_MS = 600;
const REQUEST_MS = 1000;
/** Longer than the wait in the HTTP/2 preface test below, which must find its connection open. */
const GRPC_IDLE_MS = 1500;
/** Node checks the HTTP/1.1 bounds every half of the shorter one: a request is cut by 1.5 times its bound. */
const CHECK_MS = HEADERS_MS / 2;
/** Past this, a connection counts as left open (without the bounds it would stay open for good). */
const GIVE_UP_MS = 5000;

const MAGIC = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n');
/** A SETTINGS frame with one setting (SETTINGS_MAX_CONCURRENT_STREAMS = 100), as a client's preface ends. */
const SETTINGS = Buffer.from([0, 0, 6, 4, 0, 0, 0, 0, 0, 0, 3, 0, 0, 0, 100]);

let server: RunningServer;
let port: number;

test.before(async () => {
  server = await startServer({
    RS3GW_FIRST_BYTES_TIMEOUT: String(FIRST_BYTES_MS / 1000),
    RS3GW_HEADERS_TIMEOUT: String(HEADERS_MS / 1000),
    RS3GW_REQUEST_TIMEOUT: String(REQUEST_MS / 1000),
    RS3GW_GRPC_IDLE_TIMEOUT: String(GRPC_IDLE_MS / 1000),
  });
  port = Number(new URL(server.url).port);
});

test.after(async () => {
  assert.is(await server.stop(), 0, server.output());
});

interface Outcome {
  /** Still open after GIVE_UP_MS. */
  open: boolean;
  /** From connecting to the server's close. */
  afterMs: number;
  received: Buffer;
}

function open(): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => resolve(socket));
    socket.once('error', reject);
  });
}

/** Connects, sends `bytes`, and waits for the server to close the connection (at most GIVE_UP_MS). */
async function sendAndWait(bytes: string | Buffer): Promise<Outcome> {
  const started = Date.now();
  const socket = await open();
  const chunks: Buffer[] = [];
  socket.on('data', (chunk: Buffer) => chunks.push(chunk));
  socket.on('error', () => {}); // a reset counts as closed
  if (bytes.length > 0) socket.write(bytes);
  const closed = await Promise.race([new Promise<true>((resolve) => socket.once('close', () => resolve(true))), sleep(GIVE_UP_MS, false)]);
  socket.destroy();
  return { open: !closed, afterMs: Date.now() - started, received: Buffer.concat(chunks) };
}

function assertClosedWithin(outcome: Outcome, fromMs: number, toMs: number, what: string): void {
  assert.ok(!outcome.open, `${what}: still open after ${GIVE_UP_MS} ms`);
  assert.ok(outcome.afterMs >= fromMs - 50 && outcome.afterMs <= toMs, `${what}: closed after ${outcome.afterMs} ms, expected ${fromMs} to ${toMs}`);
}

const REQUEST_408 = /^HTTP\/1\.1 408 Request Timeout\r\n/;

test('a connection that sends nothing is closed after RS3GW_FIRST_BYTES_TIMEOUT', async () => {
  const outcome = await sendAndWait('');
  assertClosedWithin(outcome, FIRST_BYTES_MS, FIRST_BYTES_MS + 1000, 'a silent connection');
  assert.is(outcome.received.length, 0);
});

test('a connection that stops within the HTTP/2 preface is closed after RS3GW_FIRST_BYTES_TIMEOUT', async () => {
  const cases = {
    'half the PRI line': MAGIC.subarray(0, 7),
    'the PRI line without its SETTINGS frame': MAGIC,
    'half the SETTINGS frame': Buffer.concat([MAGIC, SETTINGS.subarray(0, 11)]),
  };
  const outcomes = await Promise.all(Object.values(cases).map((bytes) => sendAndWait(bytes)));
  Object.keys(cases).forEach((what, i) => assertClosedWithin(outcomes[i]!, FIRST_BYTES_MS, FIRST_BYTES_MS + 1000, what));
});

test('silent connections do not pile up: 200 at once are all closed, and the service still answers', async () => {
  const outcomes = await Promise.all(Array.from({ length: 200 }, () => sendAndWait('')));
  assert.is(outcomes.filter((o) => o.open).length, 0, 'connections left open');
  const response = await within(fetch(`${server.url}/api/observability/health`), 'GET /health');
  assert.is(response.status, 200);
});

test('an HTTP/1.1 request whose headers stop halfway is answered 408 after RS3GW_HEADERS_TIMEOUT', async () => {
  const outcome = await sendAndWait('GET /api/observability/health HTTP/1.1\r\nHost: localhost\r\nAccept: appl');
  assertClosedWithin(outcome, HEADERS_MS, HEADERS_MS + CHECK_MS + 1000, 'half a header');
  assert.match(outcome.received.toString(), REQUEST_408);
});

test('an HTTP/1.1 request whose body stops halfway is answered 408 after RS3GW_REQUEST_TIMEOUT', async () => {
  const body = '{"metric":"latency","value":1}';
  const head = `POST /api/observability/anomalies/samples HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n`;
  const outcome = await sendAndWait(head + body.slice(0, 10));
  assertClosedWithin(outcome, REQUEST_MS, REQUEST_MS + CHECK_MS + 1000, 'half a body');
  assert.match(outcome.received.toString(), REQUEST_408);
});

test('an answer that takes longer than RS3GW_REQUEST_TIMEOUT is not cut (the bounds are on what the client sends)', async () => {
  const started = Date.now();
  const response = await within(fetch(`${server.url}/debug/pprof/profile?seconds=2`), 'a 2 s CPU profile');
  const profile = Buffer.from(await response.arrayBuffer());
  assert.is(response.status, 200);
  assert.ok(profile.length > 0);
  assert.ok(Date.now() - started >= 2000, 'the capture took its 2 s');
});

test('a keep-alive connection idle for longer than every bound still takes its next request', async () => {
  const socket = await open();
  let received = '';
  socket.on('data', (chunk: Buffer) => (received += chunk.toString()));
  const responses = () => received.match(/HTTP\/1\.1 200 /g)?.length ?? 0;
  const request = 'GET /api/observability/health HTTP/1.1\r\nHost: localhost\r\n\r\n';
  try {
    socket.write(request);
    while (responses() < 1) await within(new Promise((resolve) => socket.once('data', resolve)), 'the first answer');
    await sleep(REQUEST_MS + CHECK_MS + 200);
    assert.ok(!socket.destroyed && socket.readyState === 'open', `the idle connection is open: ${received}`);
    socket.write(request);
    while (responses() < 2) await within(new Promise((resolve) => socket.once('data', resolve)), 'the second answer');
  } finally {
    socket.destroy();
  }
});

test('an accepted connection has TCP keepalive on, probing after a minute of silence: a peer gone without a word is found', async () => {
  const socket = await open();
  try {
    socket.write('GET /api/observability/health HTTP/1.1\r\nHost: localhost\r\n\r\n');
    await new Promise((resolve) => socket.once('data', resolve));
    // The service's end of this connection in /proc/net/tcp: local port `port`, remote the client's.
    const hex = (n: number) => n.toString(16).toUpperCase().padStart(4, '0');
    const ends = `:${hex(port)} 0100007F:${hex(socket.localPort!)}`;
    const line = readFileSync('/proc/net/tcp', 'utf8').split('\n').find((l) => l.includes(ends));
    assert.ok(line, `no line for ${ends} in /proc/net/tcp`);
    // Columns: sl local rem st tx:rx tr:when ... ; tr 02 is the keepalive timer, when in 1/100 s.
    const [tr, when] = line!.trim().split(/\s+/)[5]!.split(':');
    assert.is(tr, '02', `timer ${tr}: no keepalive timer on an idle connection`);
    assert.ok(parseInt(when!, 16) > 30 * 100 && parseInt(when!, 16) <= 60 * 100, `keepalive due in ${parseInt(when!, 16) / 100} s`);
  } finally {
    socket.destroy();
  }
});

test('a connection with the whole HTTP/2 preface is grpc-js\'s: the first-bytes bound no longer applies, and gRPC works', async () => {
  const socket = await open();
  try {
    socket.write(Buffer.concat([MAGIC, SETTINGS]));
    await sleep(FIRST_BYTES_MS + 500);
    assert.ok(!socket.destroyed && socket.readyState === 'open', 'the HTTP/2 connection is open');
  } finally {
    socket.destroy();
  }
  const client = createObservabilityClient(server.url, { protocol: 'grpc' });
  const { status } = await within(client.resources.getResources({}), 'GetResources over gRPC');
  assert.ok(status);
});

test('an HTTP/2 connection with no call in progress is closed with GOAWAY after RS3GW_GRPC_IDLE_TIMEOUT', async () => {
  const session = http2Connect(server.url);
  try {
    const started = Date.now();
    await new Promise((resolve) => session.once('connect', resolve));
    const goaway = await Promise.race([new Promise<true>((resolve) => session.once('goaway', () => resolve(true))), sleep(GRPC_IDLE_MS + GIVE_UP_MS, false)]);
    const afterMs = Date.now() - started;
    assert.ok(goaway, `no GOAWAY within ${GRPC_IDLE_MS + GIVE_UP_MS} ms`);
    assert.ok(afterMs >= GRPC_IDLE_MS - 50, `GOAWAY after ${afterMs} ms, before the idle bound`);
  } finally {
    session.destroy();
  }
  // A client reconnects when it next calls.
  const client = createObservabilityClient(server.url, { protocol: 'grpc' });
  await within(client.resources.getResources({}), 'GetResources over gRPC');
  await sleep(GRPC_IDLE_MS + 500);
  const { status } = await within(client.resources.getResources({}), 'GetResources over gRPC after the idle close');
  assert.ok(status);
});

/** Opens plain TCP connections to the server at `serverUrl`, resolving once each is connected. */
function tcpConnector(serverUrl: string): () => Promise<Socket> {
  const url = new URL(serverUrl);
  return () =>
    new Promise<Socket>((resolve, reject) => {
      const socket = connect(Number(url.port), url.hostname, () => resolve(socket));
      socket.once('error', reject);
    });
}

test('connections beyond RS3GW_MAX_CONNECTIONS are closed as they arrive, with one line on stderr; a freed place is taken again', async () => {
  const capped = await startServer({ RS3GW_MAX_CONNECTIONS: '5' });
  const connectTo = tcpConnector(capped.url);
  const held: Socket[] = [];
  try {
    for (let i = 0; i < 5; i++) held.push(await connectTo());
    const extra = await connectTo();
    extra.on('error', () => {});
    const closed = await Promise.race([new Promise<true>((resolve) => extra.once('close', () => resolve(true))), sleep(GIVE_UP_MS, false)]);
    assert.ok(closed, 'the sixth connection is closed by the server');
    assert.ok(held.every((s) => !s.destroyed), 'the five below the cap stay open');
    held.pop()!.destroy();
    await sleep(100);
    const response = await within(fetch(`${capped.url}/api/observability/health`), 'GET /health with a place free');
    assert.is(response.status, 200);
    assert.match(capped.output(), /1 connection\(s\) refused since the line before: 5 open connections is the cap \(RS3GW_MAX_CONNECTIONS\)/);
  } finally {
    for (const s of held) s.destroy();
    assert.is(await capped.stop(), 0, capped.output());
  }
});

test('every refused connection is counted, on /metrics at once and in the log by shutdown at the latest', async () => {
  const capped = await startServer({ RS3GW_MAX_CONNECTIONS: '2' });
  const connectTo = tcpConnector(capped.url);
  const held: Socket[] = [];
  try {
    for (let i = 0; i < 2; i++) held.push(await connectTo());
    for (let i = 0; i < 50; i++) {
      const extra = await connectTo();
      extra.on('error', () => {});
      await within(new Promise((resolve) => extra.once('close', resolve)), `refused connection ${i + 1} to close`);
    }
    for (const s of held.splice(0)) s.destroy();
    await sleep(100);
    const metrics = await (await within(fetch(`${capped.url}/metrics`), 'GET /metrics')).text();
    assert.match(metrics, /^rs3gw_connections_refused_total 50$/m);
    assert.match(metrics, /^rs3gw_connections_open [1-9]\d*$/m, 'the scrape\'s own connection at least');
  } finally {
    for (const s of held) s.destroy();
    assert.is(await capped.stop(), 0, capped.output());
  }
  const logged = [...capped.output().matchAll(/rs3gw-obs: (\d+) connection\(s\) refused/g)].map((m) => Number(m[1]));
  assert.is(logged.reduce((a, b) => a + b, 0), 50, capped.output());
  assert.is(logged.length, 2, 'the first refusal at once, the other 49 at shutdown (within the minute)');
});

test.run();
