/**
 * Server reflection under a client that asks and does not read: its requests stop being read once
 * answers wait, so the service's memory stays where it was, and another reflection client on the
 * same port is answered meanwhile.
 */
import { create, fromBinary, toBinary } from '@bufbuild/protobuf';
import { readFileSync } from 'node:fs';
import { connect as http2Connect, type ClientHttp2Session } from 'node:http2';
import { setTimeout as sleep } from 'node:timers/promises';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ServerReflectionRequestSchema, ServerReflectionResponseSchema } from '../../gen/ts/grpc/reflection/v1/reflection_pb.js';
import { startServer, type RunningServer } from '../support/server.js';

const PATH = '/grpc.reflection.v1.ServerReflection/ServerReflectionInfo';
/** Of a symbol that is not there: small answers, quickly made, so that many would pile up. */
const REQUESTS = 300_000;

function rssMb(pid: number): number {
  return Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]!) / 1024;
}

function frame(symbol: string): Buffer {
  const message = toBinary(ServerReflectionRequestSchema, create(ServerReflectionRequestSchema, { messageRequest: { case: 'fileContainingSymbol', value: symbol } }));
  const out = Buffer.alloc(5 + message.length);
  out.writeUInt32BE(message.length, 1);
  out.set(message, 5);
  return out;
}

function h2(url: string, settings: Record<string, number> = {}): Promise<ClientHttp2Session> {
  return new Promise((resolve, reject) => {
    const session = http2Connect(url, { settings }, () => resolve(session));
    session.once('error', reject);
  });
}

let server: RunningServer;

test.before(async () => {
  server = await startServer();
});

test.after(async () => {
  assert.is(await server.stop(), 0, server.output());
});

test(`${REQUESTS} reflection requests from a client that reads nothing: the service's memory stays bounded and others are answered`, async () => {
  const pid = server.process.pid!;
  const request = frame('rs3gw.observability.v1.MetricsService');
  // Warm up, and see how large an answer is.
  const reader = await h2(server.url);
  const one = reader.request({ ':method': 'POST', ':path': PATH, 'content-type': 'application/grpc', te: 'trailers' });
  const chunks: Buffer[] = [];
  one.on('data', (d: Buffer) => chunks.push(d));
  one.end(request);
  await new Promise((resolve) => one.once('close', resolve));
  const answerBytes = Buffer.concat(chunks).length;
  assert.ok(answerBytes > 1000, `an answer is ${answerBytes} bytes`);
  await sleep(300);
  const before = rssMb(pid);

  // A window of 0: the client takes none of the answers.
  const stuck = await h2(server.url, { initialWindowSize: 0 });
  const stream = stuck.request({ ':method': 'POST', ':path': PATH, 'content-type': 'application/grpc', te: 'trailers' });
  stream.on('error', () => {});
  const missing = frame('no.such.Symbol');
  stream.write(Buffer.concat(Array.from({ length: REQUESTS }, () => missing)));
  let peak = before;
  for (let i = 0; i < 60; i++) {
    await sleep(100);
    peak = Math.max(peak, rssMb(pid));
  }
  // Every request read and answered, the answers queued: 170 MB and growing.
  assert.ok(peak - before < 50, `RSS grew from ${before.toFixed(0)} to ${peak.toFixed(0)} MB`);

  // Another reflection client is answered meanwhile, as grpcurl would be.
  const other = reader.request({ ':method': 'POST', ':path': PATH, 'content-type': 'application/grpc', te: 'trailers' });
  const got: Buffer[] = [];
  other.on('data', (d: Buffer) => got.push(d));
  other.end(frame('grpc.health.v1.Health'));
  await new Promise((resolve) => other.once('close', resolve));
  const body = Buffer.concat(got);
  const answer = fromBinary(ServerReflectionResponseSchema, body.subarray(5, 5 + body.readUInt32BE(1)));
  assert.is(answer.messageResponse.case, 'fileDescriptorResponse');
  stuck.destroy();
  reader.destroy();
});

test.run();
