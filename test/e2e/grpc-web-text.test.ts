/**
 * gRPC-Web text mode (application/grpc-web-text), as the grpc-web JS client speaks it by default,
 * made by hand with fetch: base64 bodies both ways, unary calls and their error trailers, a
 * WatchAnomalies stream whose events arrive while it is open, the message size cap applied to the
 * decoded message, and binary gRPC-Web unchanged beside it.
 */
import { create, fromBinary, toBinary, type DescMessage, type MessageInitShape } from '@bufbuild/protobuf';
import { setTimeout as delay } from 'node:timers/promises';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createObservabilityClient } from '../../clients/ts/client.js';
import {
  GetStatisticsRequestSchema,
  GetStatisticsResponseSchema,
  ListAnomaliesRequestSchema,
  ListAnomaliesResponseSchema,
  RecordSampleRequestSchema,
  RecordSampleResponseSchema,
  RecordSamplesRequestSchema,
  WatchAnomaliesRequestSchema,
  WatchAnomaliesResponseSchema,
} from '../../gen/ts/rs3gw/observability/v1/anomaly_pb.js';
import { startServer, type RunningServer } from '../support/server.js';
import { raiseAnomaly, sampleValue, scrapeMetrics, within } from './support/rpc-helpers.js';

const ANOMALY = '/rs3gw.observability.v1.AnomalyService';
const TEXT = 'application/grpc-web-text+proto';
const TRAILER_FLAG = 0x80;

interface Frame {
  flags: number;
  data: Buffer;
}

let server: RunningServer;

test.before(async () => {
  server = await startServer();
});

test.after(async () => {
  await server?.stop();
});

function frame<S extends DescMessage>(schema: S, init: MessageInitShape<S>): Buffer {
  const message = toBinary(schema, create(schema, init));
  const header = Buffer.alloc(5);
  header.writeUInt32BE(message.length, 1);
  return Buffer.concat([header, message]);
}

function post(method: string, body: string | Buffer, contentType = TEXT, signal?: AbortSignal): Promise<Response> {
  return within(fetch(`${server.url}${ANOMALY}/${method}`, { method: 'POST', headers: { 'content-type': contentType, 'x-grpc-web': '1' }, body, signal }), method);
}

/**
 * Decodes a text-mode body written independently of the server's code: padded base64 chunks one
 * after another (as the spec allows), each decoded on its own.
 */
function fromText(text: string): Buffer {
  return Buffer.concat((text.match(/[A-Za-z0-9+/]+={0,2}/g) ?? []).map((chunk) => Buffer.from(chunk, 'base64')));
}

/** Splits whole frames off the front of `bytes`; returns them and what is left. */
function splitFrames(bytes: Buffer): [Frame[], Buffer] {
  const out: Frame[] = [];
  let rest = bytes;
  while (rest.length >= 5 && rest.length >= 5 + rest.readUInt32BE(1)) {
    const end = 5 + rest.readUInt32BE(1);
    out.push({ flags: rest[0]!, data: rest.subarray(5, end) });
    rest = rest.subarray(end);
  }
  return [out, rest];
}

async function textFrames(response: Response): Promise<Frame[]> {
  const [frames, rest] = splitFrames(fromText(await within(response.text(), 'the response body')));
  assert.is(rest.length, 0, 'the body is whole frames');
  return frames;
}

function trailers(frame: Frame | undefined): Record<string, string> {
  assert.ok(frame && (frame.flags & TRAILER_FLAG) === TRAILER_FLAG, 'a trailer frame');
  const out: Record<string, string> = {};
  for (const line of frame!.data.toString('latin1').split('\r\n')) {
    const colon = line.indexOf(':');
    if (colon > 0) out[line.slice(0, colon).trim().toLowerCase()] = decodeURIComponent(line.slice(colon + 1).trim());
  }
  return out;
}

/** Reads a text-mode stream frame by frame as its chunks arrive, each read bounded. */
class TextStream {
  private readonly reader: ReadableStreamDefaultReader<Uint8Array>;
  private text = '';
  private bytes: Buffer = Buffer.alloc(0);
  private frames: Frame[] = [];

  constructor(response: Response) {
    this.reader = response.body!.getReader();
  }

  async next(what: string): Promise<Frame> {
    while (this.frames.length === 0) {
      const { done, value } = await within(this.reader.read(), what);
      if (done) throw new Error(`the stream ended before ${what}`);
      this.text += Buffer.from(value).toString('latin1');
      // Each chunk the server sends is padded base64, so whole groups of four can be decoded now.
      const whole = this.text.length - (this.text.length % 4);
      this.bytes = Buffer.concat([this.bytes, fromText(this.text.slice(0, whole))]);
      this.text = this.text.slice(whole);
      [this.frames, this.bytes] = splitFrames(this.bytes);
    }
    return this.frames.shift()!;
  }
}

test('unary calls in text mode: RecordSample, then GetStatistics sees it; the answers are base64 frames', async () => {
  const metric = 'grpc_web_text_unary';
  for (const contentType of ['application/grpc-web-text', 'application/grpc-web-text+proto']) {
    const response = await post('RecordSample', frame(RecordSampleRequestSchema, { metric, value: 42.5 }).toString('base64'), contentType);
    assert.is(response.status, 200);
    assert.is(response.headers.get('content-type'), TEXT, contentType);
    const [message, end, ...rest] = await textFrames(response);
    assert.is(rest.length, 0);
    assert.is(message!.flags, 0);
    const recorded = fromBinary(RecordSampleResponseSchema, message!.data);
    assert.is(recorded.assessment?.metric, metric);
    assert.is(recorded.assessment?.value, 42.5);
    assert.is(trailers(end)['grpc-status'], '0');
  }
  const statistics = await post('GetStatistics', frame(GetStatisticsRequestSchema, { metric }).toString('base64'));
  const [message, end] = await textFrames(statistics);
  assert.is(fromBinary(GetStatisticsResponseSchema, message!.data).statistics[0]?.count, 2n, 'both samples were recorded');
  assert.is(trailers(end)['grpc-status'], '0');
});

test('text mode takes the body in padded chunks one after another, and with wrapped lines', async () => {
  const metric = 'grpc_web_text_chunks';
  const request = frame(RecordSampleRequestSchema, { metric, value: 7 });
  // The 5-byte frame header and the message encoded apart (each padded), then wrapped at 76 columns.
  const text = (request.subarray(0, 5).toString('base64') + request.subarray(5).toString('base64')).replace(/.{1,76}/g, '$&\r\n');
  assert.match(text, /=[A-Za-z0-9+/]/, 'padding in the middle of the body');
  const [message, end] = await textFrames(await post('RecordSample', text));
  assert.is(fromBinary(RecordSampleResponseSchema, message!.data).assessment?.metric, metric);
  assert.is(trailers(end)['grpc-status'], '0');

  // Sent in 7-character pieces, a pause after each, so that the server reads groups of four split across chunks.
  const pieces = text.match(/[^]{1,7}/g)!;
  const body = new ReadableStream<Uint8Array>({
    async pull(controller) {
      const piece = pieces.shift();
      if (piece === undefined) return controller.close();
      controller.enqueue(Buffer.from(piece, 'latin1'));
      await delay(2);
    },
  });
  const streamed = await within(
    fetch(`${server.url}${ANOMALY}/RecordSample`, { method: 'POST', headers: { 'content-type': TEXT }, body, duplex: 'half' } as RequestInit),
    'RecordSample sent in pieces',
  );
  const [streamedMessage, streamedEnd] = await textFrames(streamed);
  assert.is(fromBinary(RecordSampleResponseSchema, streamedMessage!.data).assessment?.metric, metric);
  assert.is(trailers(streamedEnd)['grpc-status'], '0');

  const empty = await post('ListAnomalies', frame(ListAnomaliesRequestSchema, {}).toString('base64'), 'application/grpc-web-text');
  const [list, listEnd] = await textFrames(empty);
  assert.ok(fromBinary(ListAnomaliesResponseSchema, list!.data), 'ListAnomaliesResponse');
  assert.is(trailers(listEnd)['grpc-status'], '0');
});

test('text mode errors arrive as a base64 trailer frame: an invalid argument, and a body that is not base64', async () => {
  const invalid = await post('RecordSample', frame(RecordSampleRequestSchema, { metric: 'grpc_web_text_nan', value: Number.NaN }).toString('base64'));
  assert.is(invalid.status, 200);
  assert.is(invalid.headers.get('content-type'), TEXT);
  const [end, ...rest] = await textFrames(invalid);
  assert.is(rest.length, 0, 'no message, only the trailers');
  assert.is(trailers(end)['grpc-status'], '3');
  assert.is(trailers(end)['grpc-message'], 'value: must be a finite number');

  const labels = { method: 'RecordSample', protocol: 'grpc-web', code: 'invalid_argument' };
  const refusedBefore = sampleValue(await scrapeMetrics(server.url), 'rs3gw_rpc_server_duration_seconds_count', labels);
  const garbled = await post('RecordSample', `${frame(RecordSampleRequestSchema, { metric: 'grpc_web_text_garbled', value: 1 }).toString('base64')}*!`);
  const [garbledEnd] = await textFrames(garbled);
  assert.is(trailers(garbledEnd)['grpc-status'], '3');
  assert.match(trailers(garbledEnd)['grpc-message']!, 'must be base64');
  const refusedAfter = sampleValue(await scrapeMetrics(server.url), 'rs3gw_rpc_server_duration_seconds_count', labels);
  assert.is(refusedAfter, refusedBefore + 1, 'the body that is not base64 is counted as a refused call');
});

test('WatchAnomalies in text mode: caught_up, then an anomaly raised meanwhile arrives while the stream is open', async () => {
  const metric = 'grpc_web_text_watch';
  const cancel = new AbortController();
  const response = await post('WatchAnomalies', frame(WatchAnomaliesRequestSchema, { metric }).toString('base64'), TEXT, cancel.signal);
  try {
    assert.is(response.status, 200);
    assert.is(response.headers.get('content-type'), TEXT);
    const stream = new TextStream(response);
    const first = await stream.next('caught_up');
    assert.is(first.flags, 0);
    assert.is(fromBinary(WatchAnomaliesResponseSchema, first.data).event.case, 'caughtUp');

    const raised = await raiseAnomaly(createObservabilityClient(server.url, { protocol: 'connect' }), metric);
    const second = await stream.next('the anomaly, live');
    assert.is(second.flags, 0, 'a message, not the trailers: the stream is still open');
    const event = fromBinary(WatchAnomaliesResponseSchema, second.data).event;
    assert.is(event.case, 'anomaly');
    assert.is(event.case === 'anomaly' ? event.value.sequence : undefined, raised.sequence);
  } finally {
    cancel.abort();
  }
  // The client's cancel reaches the server through the translation: the call ends (and is counted).
  const ended = { method: 'WatchAnomalies', protocol: 'grpc-web' };
  const deadline = Date.now() + 10_000;
  while (sampleValue(await scrapeMetrics(server.url), 'rs3gw_rpc_server_duration_seconds_count', ended) < 1) {
    assert.ok(Date.now() < deadline, 'the server ended the cancelled WatchAnomalies call');
    await delay(50);
  }
});

test('binary gRPC-Web is unchanged: raw frames, content-type application/grpc-web+proto', async () => {
  const metric = 'grpc_web_binary_beside_text';
  const response = await post('RecordSample', frame(RecordSampleRequestSchema, { metric, value: 3 }), 'application/grpc-web+proto');
  assert.is(response.status, 200);
  assert.is(response.headers.get('content-type'), 'application/grpc-web+proto');
  const [[message, end, ...rest], left] = splitFrames(Buffer.from(await within(response.arrayBuffer(), 'the body')));
  assert.is(rest.length + left.length, 0);
  assert.is(fromBinary(RecordSampleResponseSchema, message!.data).assessment?.metric, metric);
  assert.is(trailers(end)['grpc-status'], '0');
});

test('RS3GW_MAX_MESSAGE_BYTES applies to the decoded message: a message under it passes though its base64 is larger', async () => {
  const max = 4096;
  const limited = await startServer({ RS3GW_MAX_MESSAGE_BYTES: String(max) });
  try {
    const samples = (metric: string, n: number) => frame(RecordSamplesRequestSchema, { samples: Array.from({ length: n }, (_, i) => ({ metric, value: i })) });
    const fits = samples('grpc_web_text_fits', 100);
    const over = samples('grpc_web_text_over', 200);
    assert.ok(fits.length - 5 <= max && fits.toString('base64').length > max, `${fits.length - 5} bytes, ${fits.toString('base64').length} in base64`);
    assert.ok(over.length - 5 > max, `${over.length - 5} bytes`);
    const send = (body: Buffer) =>
      within(fetch(`${limited.url}${ANOMALY}/RecordSamples`, { method: 'POST', headers: { 'content-type': TEXT }, body: body.toString('base64') }), 'RecordSamples');
    const [, fitsEnd] = await textFrames(await send(fits));
    assert.is(trailers(fitsEnd)['grpc-status'], '0');
    const [overEnd] = await textFrames(await send(over));
    assert.is(trailers(overEnd)['grpc-status'], '8', 'RESOURCE_EXHAUSTED');
  } finally {
    await limited.stop();
  }
});

test.run();
