/**
 * Server-stream messages written straight to the HTTP/1.1 response once connect-node has sent its
 * headers. connect-node takes each message a stream yields through a chain of async stages
 * (serialize, envelope, compress, text encoding, write and wait), some tens of microseconds a
 * message: one anomaly published to 500 WatchAnomalies streams cost 20 ms of the event loop, which
 * every other call waited for, and a stream whose client does not read costs as much as one that
 * does until the kernel's socket buffer is full. Here a message is framed once per wire format
 * (the publisher hands every stream the same message object) and each stream costs one write.
 * A response whose buffer is full holds the stream's next read until it drains: its subscription
 * then counts what it misses, at no cost to the publisher.
 *
 * The frames are those connect-node writes: gRPC, gRPC-Web and Connect streams share the
 * envelope (a flags byte, 0 for an uncompressed message, and the length, big-endian), gRPC-Web
 * text sends each frame base64-encoded on its own (grpc-web-text.ts). A message that connect-node
 * would compress (a compressed response was negotiated and the message is as large as its
 * threshold), or one sent before the headers, takes connect-node's way; its end of stream
 * (trailers, the Connect end-stream message) and its errors always do.
 */
import { ServerResponse } from 'node:http';
import { toBinary, toJsonString, type DescMessage, type Message } from '@bufbuild/protobuf';
import type { HandlerContext } from '@connectrpc/connect';
import type { StreamSink } from '../pipeline/context.js';
import { carriesHttpBody } from './json-bodies.js';

/** connect-node compresses a message of this size or more when a compressed response was negotiated (its defaultCompressMinBytes). */
const COMPRESS_MIN_BYTES = 1024;

type Format = 'proto' | 'json' | 'proto-text' | 'json-text';

/** Each message's frame in each format, made once whatever the number of streams sending it. */
const frames: Record<Format, WeakMap<Message, Buffer>> = {
  proto: new WeakMap(),
  json: new WeakMap(),
  'proto-text': new WeakMap(),
  'json-text': new WeakMap(),
};

function envelope(data: Uint8Array): Buffer {
  const frame = Buffer.allocUnsafe(5 + data.byteLength);
  frame[0] = 0;
  frame.writeUInt32BE(data.byteLength, 1);
  frame.set(data, 5);
  return frame;
}

function frameOf(schema: DescMessage, message: Message, format: Format): Buffer {
  const cache = frames[format];
  let frame = cache.get(message);
  if (frame === undefined) {
    if (format === 'proto-text' || format === 'json-text') {
      frame = Buffer.from(frameOf(schema, message, format === 'proto-text' ? 'proto' : 'json').toString('base64'), 'latin1');
    } else {
      frame = envelope(format === 'proto' ? toBinary(schema, message) : Buffer.from(toJsonString(schema, message)));
    }
    cache.set(message, frame);
  }
  return frame;
}

/** The response header that names a negotiated response compression, by protocol. */
const ENCODING_HEADER: Record<string, string | undefined> = { connect: 'connect-content-encoding', grpc: 'grpc-encoding', 'grpc-web': 'grpc-encoding' };

/**
 * A sink writing to `res` for the stream `ctx` serves, or undefined when it has none (not an
 * HTTP/1.1 response, a format this does not frame).
 */
export function directStreamSink(res: ServerResponse | undefined, schema: DescMessage, ctx: HandlerContext): StreamSink | undefined {
  if (!(res instanceof ServerResponse)) return undefined;
  const encodingHeader = ENCODING_HEADER[ctx.protocolName];
  if (encodingHeader === undefined) return undefined;
  // As sent: the text-mode step renamed it for connect-node.
  const type = String(res.req.headers['content-type'] ?? '').toLowerCase();
  const json = /\+json(?:$|;)/.test(type);
  // JSON of a message with an HttpBody is rewritten by the method's text encoder (json-bodies.ts).
  if (json && carriesHttpBody(schema)) return undefined;
  const text = type.startsWith('application/grpc-web-text');
  const format: Format = `${json ? 'json' : 'proto'}${text ? '-text' : ''}`;
  const encoding = ctx.responseHeader.get(encodingHeader);
  const compressed = encoding !== null && encoding !== 'identity';
  return {
    write(message) {
      if (!res.headersSent || res.writableEnded || res.destroyed) return false;
      const frame = frameOf(schema, message, format);
      if (compressed && frameOf(schema, message, json ? 'json' : 'proto').byteLength - 5 >= COMPRESS_MIN_BYTES) return false;
      res.write(frame);
      return true;
    },
    backlog(signal) {
      if (!res.writableNeedDrain || res.destroyed || signal.aborted) return undefined;
      return new Promise<void>((resolve) => {
        const done = () => {
          res.off('drain', done);
          res.off('close', done);
          signal.removeEventListener('abort', done);
          resolve();
        };
        res.on('drain', done);
        res.on('close', done);
        signal.addEventListener('abort', done, { once: true });
      });
    },
  };
}
