/**
 * What a native gRPC client can send that grpc-js alone gets wrong or never bounds: deadlines past
 * 24.8 days (grpc-js wraps them to expired ones), grpc-timeout values not of the spec's form,
 * requests that never arrive whole (a stream held for ever), more streams than a connection should
 * carry, requests that are not gRPC at all over h2c, and gRPC in JSON over h2c.
 */
import { create, toBinary } from '@bufbuild/protobuf';
import { createClient } from '@connectrpc/connect';
import { createGrpcTransport } from '@connectrpc/connect-node';
import { connect, type ClientHttp2Session, type ClientHttp2Stream, type IncomingHttpHeaders } from 'node:http2';
import { connect as netConnect } from 'node:net';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { CaptureProfileRequestSchema, ProfileType, ProfilingService } from '../../gen/ts/rs3gw/observability/v1/profiling_pb.js';
import { GRPCURL, runCommand, startServer, type RunningServer } from '../support/server.js';
import { sampleValue, scrapeMetrics, within } from './support/rpc-helpers.js';

const REQUEST_TIMEOUT_S = 2;
const MAX_STREAMS = 4;
const GET_RESOURCES = '/rs3gw.observability.v1.ResourceService/GetResources';
const CAPTURE_PROFILE = '/rs3gw.observability.v1.ProfilingService/CaptureProfile';
/** An empty message in gRPC framing: not compressed, length 0. */
const EMPTY_MESSAGE = Buffer.alloc(5);

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

let server: RunningServer;

test.before(async () => {
  server = await startServer({
    RS3GW_REQUEST_TIMEOUT: String(REQUEST_TIMEOUT_S),
    RS3GW_HEADERS_TIMEOUT: '1',
    RS3GW_MAX_STREAMS_PER_CONNECTION: String(MAX_STREAMS),
  });
});

test.after(async () => {
  await server?.stop();
});

interface Answer {
  status: string | undefined;
  message: string | undefined;
  ms: number;
}

async function session(): Promise<ClientHttp2Session> {
  const s = connect(server.url);
  await new Promise((resolve, reject) => s.once('remoteSettings', resolve).once('error', reject));
  return s;
}

/** One raw HTTP/2 request; an 'unfinished' one sends its headers only. */
function call(s: ClientHttp2Session, headers: Record<string, string>, body: Buffer | 'unfinished' = EMPTY_MESSAGE): Promise<Answer> {
  const started = Date.now();
  const stream = s.request({ ':method': 'POST', ':path': GET_RESOURCES, 'content-type': 'application/grpc', te: 'trailers', ...headers }, { endStream: false });
  if (body !== 'unfinished') stream.end(body);
  return answerOf(stream, started, `an answer to ${JSON.stringify(headers)}`);
}

function answerOf(stream: ClientHttp2Stream, started: number, what: string): Promise<Answer> {
  const fields: IncomingHttpHeaders = {};
  stream.on('response', (h) => Object.assign(fields, h));
  stream.on('trailers', (h) => Object.assign(fields, h));
  stream.on('error', () => undefined);
  stream.resume();
  return within(
    new Promise<Answer>((resolve) =>
      stream.on('close', () =>
        resolve({
          status: fields['grpc-status'] as string | undefined,
          message: fields['grpc-message'] === undefined ? undefined : decodeURIComponent(fields['grpc-message'] as string),
          ms: Date.now() - started,
        }),
      ),
    ),
    what,
  );
}

test('a deadline past 24.8 days is a long deadline, not an expired one', async () => {
  // A call that takes a while: grpc-js computed (digits * unit ms) | 0, and these wrapped to a
  // deadline in the past, which expired after 1 ms.
  const capture = toBinary(CaptureProfileRequestSchema, create(CaptureProfileRequestSchema, { type: ProfileType.CPU, duration: { nanos: 200_000_000 } }));
  const frame = Buffer.concat([Buffer.from([0, 0, 0, 0, capture.length]), capture]);
  const s = await session();
  try {
    for (const timeout of ['597H', '35792M', '2592000S', '99999999H']) {
      const answer = await call(s, { ':path': CAPTURE_PROFILE, 'grpc-timeout': timeout }, frame);
      assert.is(answer.status, '0', `grpc-timeout ${timeout}: ${answer.message}`);
    }
  } finally {
    s.close();
  }
});

test('grpcurl with a 30-day deadline gets its profile', async () => {
  // grpc-go sends a 30-day deadline as 2592000S.
  const { code, stdout, stderr } = await runCommand(GRPCURL, ['-plaintext', '-max-time', '2592000', '-d', '{"type":"PROFILE_TYPE_CPU","duration":"0.2s"}', server.address, 'rs3gw.observability.v1.ProfilingService/CaptureProfile'], { timeoutMs: 30_000 });
  assert.is(code, 0, stderr);
  assert.match(stdout, /"info"/);
});

test('a grpc-timeout not of the spec form is INVALID_ARGUMENT naming the header, traced and counted', async () => {
  const labels = { method: 'GetResources', protocol: 'grpc', code: 'invalid_argument' };
  const before = sampleValue(await scrapeMetrics(server.url), 'rs3gw_rpc_server_duration_seconds_count', labels);
  const values = ['abc', '1', '-2S', 'x2Sy', '123456789S', '1.5S', '2 S'];
  const s = await session();
  try {
    for (const timeout of values) {
      const answer = await call(s, { 'grpc-timeout': timeout });
      assert.is(answer.status, '3', `grpc-timeout ${timeout}`);
      assert.is(answer.message, `grpc-timeout: "${timeout}" is not a timeout: 1 to 8 digits and a unit (H, M, S, m, u or n)`);
    }
    // The header the guard uses to mark such a value is its own: a client's copy means nothing.
    assert.is((await call(s, { 'rs3gw-invalid-grpc-timeout': 'abc', 'grpc-timeout': '10S' })).status, '0');
  } finally {
    s.close();
  }
  const after = sampleValue(await scrapeMetrics(server.url), 'rs3gw_rpc_server_duration_seconds_count', labels);
  assert.is(after - before, values.length);
});

test('a request that never arrives whole is answered DEADLINE_EXCEEDED after RS3GW_REQUEST_TIMEOUT', async () => {
  const s = await session();
  try {
    const [headersOnly, halfMessage] = await Promise.all([call(s, {}, 'unfinished'), callWithHalfMessage(s)]);
    for (const answer of [headersOnly, halfMessage]) {
      assert.is(answer.status, '4');
      assert.is(answer.message, `request: not received whole within ${REQUEST_TIMEOUT_S} s (RS3GW_REQUEST_TIMEOUT)`);
      assert.ok(answer.ms >= REQUEST_TIMEOUT_S * 1000 - 50 && answer.ms < REQUEST_TIMEOUT_S * 3000, `answered after ${answer.ms} ms`);
    }
    // The connection still serves calls.
    assert.is((await call(s, {})).status, '0');
  } finally {
    s.close();
  }
});

/** A request whose message is announced as 16 bytes, of which 3 come. */
function callWithHalfMessage(s: ClientHttp2Session): Promise<Answer> {
  const stream = s.request({ ':method': 'POST', ':path': GET_RESOURCES, 'content-type': 'application/grpc', te: 'trailers' }, { endStream: false });
  stream.write(Buffer.from([0, 0, 0, 0, 16, 1, 2, 3]));
  return answerOf(stream, Date.now(), 'an answer to a request with half a message');
}

test('a call that takes longer than RS3GW_REQUEST_TIMEOUT once its request is in is not cut', async () => {
  const client = createClient(ProfilingService, createGrpcTransport({ baseUrl: server.url }));
  const started = Date.now();
  const response = await client.captureProfile({ type: ProfileType.CPU, duration: { seconds: BigInt(REQUEST_TIMEOUT_S + 1) } });
  assert.ok(Date.now() - started >= REQUEST_TIMEOUT_S * 1000, 'the capture took its time');
  assert.ok((response.info?.sizeBytes ?? 0n) > 0n, 'a profile');
});

test('a connection carries at most RS3GW_MAX_STREAMS_PER_CONNECTION calls at once', async () => {
  const s = await session();
  try {
    assert.is(s.remoteSettings.maxConcurrentStreams, MAX_STREAMS);
    // A client that honours the setting holds the calls beyond it until others end.
    const answers = await Promise.all(Array.from({ length: MAX_STREAMS + 1 }, () => call(s, {}, 'unfinished')));
    const late = answers.filter((a) => a.ms >= 2 * REQUEST_TIMEOUT_S * 1000 - 50);
    assert.is(late.length, 1, `answered after ${answers.map((a) => a.ms).join(', ')} ms`);
  } finally {
    s.close();
  }
});

test('a header block that never ends does not hold its connection open past the idle GOAWAY', async () => {
  const idle = await startServer({ RS3GW_GRPC_IDLE_TIMEOUT: '1', RS3GW_REQUEST_TIMEOUT: '2', RS3GW_HEADERS_TIMEOUT: '1' });
  try {
    const { port } = new URL(idle.url);
    const socket = netConnect(Number(port), '127.0.0.1');
    socket.on('data', () => undefined);
    socket.on('error', () => undefined);
    const closed = new Promise<number>((resolve) => socket.once('close', () => resolve(performance.now())));
    await new Promise((resolve) => socket.once('connect', resolve));
    const frame = (type: number, flags: number, stream: number, payload: Buffer) => {
      const head = Buffer.alloc(9);
      head.writeUIntBE(payload.length, 0, 3);
      head[3] = type;
      head[4] = flags;
      head.writeUInt32BE(stream, 5);
      return Buffer.concat([head, payload]);
    };
    const started = performance.now();
    socket.write(Buffer.concat([Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n'), frame(0x4, 0, 0, Buffer.alloc(0))]));
    // HEADERS (:method POST, :scheme http) without END_HEADERS; the CONTINUATION never comes.
    socket.write(frame(0x1, 0, 1, Buffer.from([0x83, 0x86])));
    const outcome = await Promise.race([closed, sleep(10_000).then(() => undefined)]);
    socket.destroy();
    assert.ok(outcome !== undefined, 'the connection was still open after 10 s');
    // The idle GOAWAY after 1 s, then the request timeout of 2 s.
    const seconds = (outcome - started) / 1000;
    assert.ok(seconds >= 2.5 && seconds < 8, `closed after ${seconds.toFixed(1)} s`);
  } finally {
    await idle.stop();
  }
});

test('a request that is not gRPC over h2c is 415 saying what the port speaks over HTTP/2', async () => {
  const s = await session();
  try {
    const grpcWeb = (type: string) => ({ ':method': 'POST', ':path': GET_RESOURCES, 'content-type': type });
    // gRPC-Web too: grpc-js took application/grpc-web* by its prefix and answered it as gRPC.
    for (const headers of [
      { ':method': 'GET', ':path': '/metrics' },
      { ':method': 'POST', ':path': GET_RESOURCES, 'content-type': 'application/json' },
      grpcWeb('application/grpc-web+proto'),
      grpcWeb('application/grpc-web'),
      grpcWeb('application/grpc-web-text'),
    ]) {
      const stream = s.request(headers);
      if (headers[':method'] === 'POST') stream.end('{}');
      const answer = await new Promise<{ status: number; type: string; body: string }>((resolve) => {
        let status = 0;
        let type = '';
        let body = '';
        stream.on('response', (h) => {
          status = h[':status']!;
          type = String(h['content-type']);
        });
        stream.on('data', (c: Buffer) => (body += c));
        stream.on('close', () => resolve({ status, type, body }));
      });
      assert.is(answer.status, 415);
      assert.is(answer.type, 'text/plain; charset=utf-8');
      assert.match(answer.body, /^content-type: .*: this port speaks only gRPC \(application\/grpc\) over HTTP\/2; REST, \/metrics, the Connect protocol and gRPC-Web are served over HTTP\/1.1\n$/);
    }
  } finally {
    s.close();
  }
});

test('a gRPC call in JSON (application/grpc+json) over h2c is refused UNIMPLEMENTED naming content-type, not read as protobuf', async () => {
  const json = Buffer.from(JSON.stringify({ metric: 'm', value: 1 }));
  const frame = Buffer.concat([Buffer.from([0, 0, 0, 0, json.length]), json]);
  const s = await session();
  try {
    // grpc-js read the JSON as protobuf: INVALID_ARGUMENT "request: not a valid ... (premature EOF)".
    for (const type of ['application/grpc+json', 'application/grpc+json; charset=utf-8', 'application/grpc+cbor']) {
      const stream = s.request({ ':method': 'POST', ':path': '/rs3gw.observability.v1.AnomalyService/RecordSample', 'content-type': type, te: 'trailers' });
      let contentType: unknown;
      stream.on('response', (h) => (contentType = h['content-type']));
      stream.end(frame);
      const answer = await answerOf(stream, Date.now(), `an answer to ${type}`);
      assert.equal(
        { status: answer.status, contentType, message: answer.message },
        {
          status: '12',
          // The codec asked for: a client checks it before it reads grpc-status.
          contentType: type.split(';')[0],
          message:
            `content-type: "${type}" is not served over HTTP/2, which takes application/grpc and application/grpc+proto; ` +
            'gRPC in JSON (application/grpc+json) is served over HTTP/1.1, as is the Connect protocol in JSON (application/json)',
        },
        type,
      );
    }
    // Protobuf is served, with or without its codec named, in any case (media types are case-insensitive).
    for (const type of ['application/grpc', 'application/grpc+proto', 'application/grpc+PROTO', 'Application/gRPC', 'APPLICATION/GRPC+PROTO', 'application/grpc; charset=utf-8']) {
      const answer = await call(s, { 'content-type': type });
      assert.is(answer.status, '0', `${type}: ${answer.message}`);
    }
  } finally {
    s.close();
  }
});

test.run();
