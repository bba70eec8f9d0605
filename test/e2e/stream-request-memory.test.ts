/**
 * An open WatchAnomalies stream keeps nothing of a request's unknown fields: a client may send up
 * to RS3GW_MAX_MESSAGE_BYTES of them, and the subscribers a service allows (10,000) would otherwise
 * hold that much each for as long as they stay. Checked on native gRPC, gRPC-Web and Connect.
 */
import { request as httpRequest, type ClientRequest } from 'node:http';
import { connect as http2Connect, type ClientHttp2Session, type ClientHttp2Stream } from 'node:http2';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { heldBufferMb, startProbedServer, varint } from './support/held-buffers.js';
import { within } from './support/rpc-helpers.js';

const WATCH = '/rs3gw.observability.v1.AnomalyService/WatchAnomalies';
/** Under RS3GW_MAX_MESSAGE_BYTES (4 MiB) with its framing. */
const BIG = 4_000_000;
const STREAMS_PER_PROTOCOL = 20;

/** A framed WatchAnomaliesRequest of nothing but an unknown field 100 of BIG bytes. */
function paddedRequest(): Buffer {
  const message = Buffer.concat([Buffer.from([0xa2, 0x06, ...varint(BIG)]), Buffer.alloc(BIG, 0x61)]);
  const frame = Buffer.alloc(5);
  frame.writeUInt32BE(message.length, 1);
  return Buffer.concat([frame, message]);
}

/** Resolves once the stream has sent its first bytes (caught_up): the subscription is open. */
function answered(source: { once(event: 'data' | 'close', listener: () => void): unknown }, what: string): Promise<void> {
  return within(
    new Promise<void>((resolve, reject) => {
      source.once('data', () => resolve());
      source.once('close', () => reject(new Error(`${what} closed before answering`)));
    }),
    what,
  );
}

test(`${3 * STREAMS_PER_PROTOCOL} WatchAnomalies streams sent 4 MB of unknown fields each keep none of it`, async () => {
  const server = await startProbedServer();
  let session: ClientHttp2Session | undefined;
  const http1: ClientRequest[] = [];
  try {
    session = http2Connect(server.url);
    session.on('error', () => {});
    const before = await heldBufferMb(server);
    const body = paddedRequest();
    const grpc: ClientHttp2Stream[] = [];
    for (let i = 0; i < STREAMS_PER_PROTOCOL; i++) {
      const stream = session.request({ ':method': 'POST', ':path': WATCH, 'content-type': 'application/grpc', te: 'trailers' });
      stream.on('error', () => {});
      stream.end(body);
      grpc.push(stream);
      await answered(stream, `gRPC stream ${i}`);
      for (const contentType of ['application/grpc-web+proto', 'application/connect+proto']) {
        const req = httpRequest(`${server.url}${WATCH}`, { method: 'POST', agent: false, headers: { 'content-type': contentType } });
        req.on('error', () => {});
        http1.push(req);
        const response = new Promise<void>((resolve, reject) => {
          req.once('response', (res) => {
            if (res.statusCode !== 200) reject(new Error(`${contentType}: HTTP ${res.statusCode}`));
            answered(res, `${contentType} stream ${i}`).then(resolve, reject);
          });
        });
        req.end(body);
        await within(response, `${contentType} stream ${i}`);
      }
    }
    const after = await heldBufferMb(server);
    // 60 x 4 MB arrived; kept, they would be 240 MB.
    assert.ok(after - before < 20, `Buffers held grew from ${before.toFixed(1)} to ${after.toFixed(1)} MB with ${3 * STREAMS_PER_PROTOCOL} streams open`);
  } finally {
    session?.destroy();
    for (const req of http1) req.destroy();
    assert.is(await server.stop(), 0, server.output());
  }
});

test.run();
