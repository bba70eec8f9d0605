/**
 * Looks at every HTTP/2 stream before grpc-js does, for what grpc-js gets wrong or never bounds:
 *
 * - `grpc-timeout`: grpc-js finds 1 to 8 digits and a unit anywhere in the value ("-2S" and "x2Sy"
 *   are 2 s) and answers INTERNAL to the rest, untraced. A value that is not the spec's form is
 *   marked here for the call pipeline to refuse (INVALID_ARGUMENT naming the header, traced and
 *   counted, as on gRPC-Web). grpc-js also wraps a deadline past 2^31 - 1 ms (24.8 days, Node's
 *   longest timer) to one that has expired: such a deadline is cut to 24.8 days.
 * - a request that never arrives whole: grpc-js waits for it for ever, holding its stream, and the
 *   connection is not idle, so nothing closes it. After the request timeout it is answered
 *   DEADLINE_EXCEEDED and reset, as HTTP/1.1 requests get 408.
 * - a header block that never ends holds its connection past grpc-js's idle GOAWAY: the session is
 *   destroyed a request timeout later.
 * - a request that is not gRPC (REST or Connect over h2c): grpc-js answers 415 with no body; here
 *   the body says which protocol the port speaks over HTTP/2. A gRPC call in another codec than
 *   protobuf (application/grpc+json), which grpc-js would read as protobuf, is refused UNIMPLEMENTED.
 * - an answer the client takes none of (a stream whose flow-control window stays 0): grpc-js keeps
 *   it for ever, and a 33 MB ExportMetrics on each of 60 streams took 3.4 GB. The stream is reset
 *   after RS3GW_SEND_TIMEOUT (send-timeout.ts), and what streams hold counts in the unsent budget.
 * - a request held after it is read: grpc-js's decoder keeps the pieces of the last message it read
 *   until the next one starts, which for a server stream (one request) is its whole life.
 */
import type * as grpc from '@grpc/grpc-js';
import { StreamDecoder } from '@grpc/grpc-js/build/src/stream-decoder.js';
import { constants, type Http2Server, type IncomingHttpHeaders, type ServerHttp2Session, type ServerHttp2Stream } from 'node:http2';
import { MAX_TIMER_MS } from '../../config/parse.js';
import { grpcTimeoutMs, LONGEST_GRPC_TIMEOUT } from '../pipeline/grpc-timeout.js';
import { clip, quote } from '../pipeline/well-known.js';
import type { SendProbe, SendTimeout } from '../send-timeout.js';

/** Set by the guard (any copy a client sends is removed): the grpc-timeout value the call refuses. */
export const INVALID_TIMEOUT_HEADER = 'rs3gw-invalid-grpc-timeout';

const DEADLINE_EXCEEDED = 4;
const UNIMPLEMENTED = 12;
/**
 * An answer is written to the stream in pieces of this size, so that the send timeout sees the
 * client take them one by one: Node reports a write done only once all of it is sent. One HTTP/2
 * frame's worth (16 KiB by default): a client reading 16 KB per RS3GW_SEND_TIMEOUT is not cut.
 */
const SLICE_BYTES = 16 * 1024;

/** What the guard needs to know. */
export interface StreamGuardOptions {
  /** A request whose message and end of stream are not in by then is answered DEADLINE_EXCEEDED; also how long a closed session waits for a header block. */
  requestMs: number;
  /** Watches each stream's unsent bytes (RS3GW_SEND_TIMEOUT). */
  sendTimeout: SendTimeout;
}

/** The streams grpc-js serves, for the bytes they hold (the unsent budget). */
export interface GuardedStreams {
  /** Bytes written to streams and not yet sent to their connections. */
  unsentBytes(): number;
}

/** grpc-message is percent-encoded (gRPC over HTTP/2): '%' and everything outside printable ASCII. */
function grpcMessage(text: string): string {
  return text.replace(/[^\x20-\x24\x26-\x7e]/gu, (c) => encodeURIComponent(c));
}

function checkTimeout(headers: IncomingHttpHeaders): void {
  const given = headers['grpc-timeout'];
  if (given === undefined) return;
  // Sent twice, it is two values where one is allowed.
  const value = Array.isArray(given) ? given.join(', ') : given;
  const ms = grpcTimeoutMs(value);
  if (ms === undefined) {
    delete headers['grpc-timeout'];
    headers[INVALID_TIMEOUT_HEADER] = value;
  } else if (ms > MAX_TIMER_MS) {
    headers['grpc-timeout'] = LONGEST_GRPC_TIMEOUT;
  }
}

function refuseNonGrpc(stream: ServerHttp2Stream, contentType: string | undefined): void {
  const shown = contentType === undefined ? 'none' : quote(clip(contentType));
  stream.respond({ ':status': 415, 'content-type': 'text/plain; charset=utf-8' });
  stream.end(
    `content-type: ${shown}: this port speaks only gRPC (application/grpc) over HTTP/2; ` +
      'REST, /metrics, the Connect protocol and gRPC-Web are served over HTTP/1.1\n',
  );
}

/** The gRPC content types grpc-js reads: it reads any other codec's messages as protobuf too. */
const PROTO_TYPES = new Set(['application/grpc', 'application/grpc+proto']);

/**
 * A gRPC call in a codec grpc-js does not have (application/grpc+json, ...): grpc-js read its JSON
 * as protobuf and answered INVALID_ARGUMENT "premature EOF", in application/grpc+proto. It is
 * refused UNIMPLEMENTED before any call, saying what HTTP/2 takes and where JSON is served.
 */
function refuseCodec(stream: ServerHttp2Stream, contentType: string, mediaType: string): void {
  stream.respond(
    {
      ':status': 200,
      // In the codec asked for: a client checks the answer's codec before reading grpc-status
      // (connect-go read 'application/grpc' as "internal: invalid content-type").
      'content-type': mediaType,
      'grpc-status': String(UNIMPLEMENTED),
      'grpc-message': grpcMessage(
        `content-type: ${quote(clip(contentType))} is not served over HTTP/2, which takes application/grpc and application/grpc+proto; ` +
          'gRPC in JSON (application/grpc+json) is served over HTTP/1.1, as is the Connect protocol in JSON (application/json)',
      ),
    },
    { endStream: true },
  );
  // The client may still be sending: RST_STREAM(NO_ERROR) tells it the answer is complete.
  stream.close(constants.NGHTTP2_NO_ERROR);
}

/** Server stream prototypes whose write already counts and slices writes. */
const patched = new WeakSet<object>();

/** Bytes ever written to a server stream (set by the patched write; absent before its first write). */
const WRITTEN = Symbol('rs3gw.written');
type Counted = ServerHttp2Stream & { [WRITTEN]?: number };

/**
 * Counts the bytes written to each stream, for the probe, and writes larger than SLICE_BYTES go
 * out in slices, one write each (Node would join buffered writes into one writev, done only when
 * all of it is sent), so that the client is seen taking them one by one. Patched once on the
 * server streams' prototype, not on each stream, so that a unary call's stream costs a counter.
 */
function patchWrites(stream: ServerHttp2Stream): void {
  const proto = Object.getPrototypeOf(stream) as ServerHttp2Stream;
  if (patched.has(proto)) return;
  patched.add(proto);
  const write = proto.write as (this: ServerHttp2Stream, ...args: unknown[]) => boolean;
  proto.write = function (this: Counted, chunk: unknown, ...rest: unknown[]): boolean {
    const bytes = typeof chunk === 'string' ? Buffer.byteLength(chunk, typeof rest[0] === 'string' ? (rest[0] as BufferEncoding) : 'utf8') : ((chunk as Uint8Array | undefined)?.byteLength ?? 0);
    this[WRITTEN] = (this[WRITTEN] ?? 0) + bytes;
    if (!Buffer.isBuffer(chunk) || chunk.length <= SLICE_BYTES) return write.call(this, chunk, ...rest);
    (this as unknown as { _writev: unknown })._writev = null;
    let at = 0;
    for (; at + SLICE_BYTES < chunk.length; at += SLICE_BYTES) write.call(this, chunk.subarray(at, at + SLICE_BYTES));
    return write.call(this, chunk.subarray(at), ...rest);
  } as ServerHttp2Stream['write'];
}

/**
 * What the send timeout reads of a stream. Taken: the bytes written less those still held
 * (writableLength drops as each write is sent, as the client's window lets it go), so it grows with
 * every write sent and with nothing else (grpc-js writes with write(); its end() carries no bytes).
 * Whether the held bytes shrank between sweeps said too little: answers of one size, each written
 * as the last was taken, held as much at every sweep, and a steady reader was cut.
 */
function sendProbe(stream: Counted): SendProbe {
  return {
    waiting: () => stream.bufferSize,
    taken: () => (stream[WRITTEN] ?? 0) - stream.writableLength,
    // CANCEL: the server gives the answer up; its queued bytes are freed with the stream.
    cut: () => stream.close(constants.NGHTTP2_CANCEL),
  };
}

/** Answers a stream whose request has not arrived whole by then, unless grpc-js has answered it. */
function boundRequestTime(stream: ServerHttp2Stream, requestMs: number): void {
  const timer = setTimeout(() => {
    if (stream.headersSent || stream.destroyed) return;
    stream.respond(
      {
        ':status': 200,
        'content-type': 'application/grpc',
        'grpc-status': String(DEADLINE_EXCEEDED),
        'grpc-message': grpcMessage(`request: not received whole within ${requestMs / 1000} s (RS3GW_REQUEST_TIMEOUT)`),
      },
      { endStream: true },
    );
    // The client may still be sending: RST_STREAM(NO_ERROR) tells it the answer is complete.
    stream.close(constants.NGHTTP2_NO_ERROR);
  }, requestMs);
  const stop = () => clearTimeout(timer);
  stream.once('end', stop);
  stream.once('close', stop);
}

/** True when the stream is grpc-js's to serve; false when the guard has answered it. */
function guard(stream: ServerHttp2Stream, headers: IncomingHttpHeaders, options: StreamGuardOptions): boolean {
  const contentType = headers['content-type'];
  // Media types are case-insensitive (RFC 9110 §8.3.1); grpc-js serves application/grpc+PROTO.
  const mediaType = contentType?.split(';', 1)[0]!.trim().toLowerCase();
  // grpc-js took application/grpc-web too (by its prefix) and answered it as gRPC.
  if (contentType === undefined || (mediaType !== 'application/grpc' && !mediaType!.startsWith('application/grpc+'))) {
    refuseNonGrpc(stream, contentType);
    return false;
  }
  if (!PROTO_TYPES.has(mediaType!)) {
    refuseCodec(stream, contentType, mediaType!);
    return false;
  }
  // grpc-js compares the prefix case-sensitively and answers 415 with no word to Application/gRPC.
  headers['content-type'] = mediaType;
  delete headers[INVALID_TIMEOUT_HEADER];
  checkTimeout(headers);
  boundRequestTime(stream, options.requestMs);
  return true;
}

/**
 * A session closed with no stream of its own open (grpc-js's idle GOAWAY) still waits for streams
 * whose header block never ended: nghttp2 has opened them, Node has not, and nothing times them
 * out. Such a session is destroyed once the request timeout has passed since it was closed.
 */
function boundClosing(session: ServerHttp2Session, requestMs: number): void {
  let open = 0;
  session.on('stream', (stream: ServerHttp2Stream) => {
    open += 1;
    stream.once('close', () => (open -= 1));
  });
  const close = session.close.bind(session);
  session.close = (callback?: () => void) => {
    close(callback);
    if (open > 0 || session.destroyed) return;
    // Not a reason to stay alive at shutdown, which destroys what is left after its grace.
    const timer = setTimeout(() => session.destroy(), requestMs).unref();
    session.once('close', () => clearTimeout(timer));
  };
}

let decodersReleasing = false;

/**
 * grpc-js's StreamDecoder keeps the pieces of a message it has read whole (and the chunk its flag
 * byte came in) until the next message starts: a Watch stream sent 4 MB held them as long as it
 * was open. They are let go as soon as the message is made. Patched once, on the prototype.
 */
function releaseReadMessages(): void {
  type Decoder = { readState: number; readPartialMessage: Buffer[]; readCompressFlag: Buffer; write(data: Buffer): Buffer[] };
  const proto = StreamDecoder.prototype as unknown as Decoder;
  if (decodersReleasing) return;
  // The fields the patch relies on, checked on a decoder that has read one message: a grpc-js that
  // renamed them would leave the patch a silent no-op, or make every write throw.
  const probe = new StreamDecoder(-1) as unknown as Decoder;
  const read = typeof proto.write === 'function' ? probe.write(Buffer.from([0, 0, 0, 0, 1, 7])) : [];
  if (read.length !== 1 || probe.readState !== 0 || !Array.isArray(probe.readPartialMessage) || !Buffer.isBuffer(probe.readCompressFlag)) {
    throw new Error("grpc-js's StreamDecoder is not as src/server/grpc/stream-guard.ts expects (write, readState, readPartialMessage, readCompressFlag): it needs updating");
  }
  decodersReleasing = true;
  const write = proto.write;
  proto.write = function (this: Decoder, data: Buffer): Buffer[] {
    const messages = write.call(this, data);
    // NO_DATA (0): between messages, nothing of the last one is needed.
    if (this.readState === 0 && this.readPartialMessage.length > 0) {
      this.readPartialMessage = [];
      this.readCompressFlag = Buffer.alloc(1);
    }
    return messages;
  };
}

interface Http2ServerFactory {
  createHttp2Server(credentials: grpc.ServerCredentials): Http2Server;
}

/**
 * Puts the guard in front of every HTTP/2 server the grpc-js server makes (one per injector),
 * before its connections arrive. grpc-js 1.14 makes them in a method of its own that the typings
 * keep private; start-up fails loudly if it is gone.
 */
export function guardStreams(server: grpc.Server, options: StreamGuardOptions): GuardedStreams {
  releaseReadMessages();
  const streams = new Set<ServerHttp2Stream>();
  options.sendTimeout.watchSet({ members: () => streams, waiting: (stream) => stream.bufferSize, probe: sendProbe });
  const watch = (stream: ServerHttp2Stream) => {
    streams.add(stream);
    patchWrites(stream);
    stream.once('close', () => {
      streams.delete(stream);
      options.sendTimeout.unwatch(stream);
    });
  };
  const factory = server as unknown as Http2ServerFactory;
  const create = factory.createHttp2Server;
  if (typeof create !== 'function') throw new Error('grpc-js has no createHttp2Server: src/server/grpc/stream-guard.ts needs updating');
  factory.createHttp2Server = function (this: grpc.Server, credentials: grpc.ServerCredentials): Http2Server {
    const http2Server = create.call(this, credentials);
    http2Server.on('session', (session: ServerHttp2Session) => boundClosing(session, options.requestMs));
    const emit = http2Server.emit;
    http2Server.emit = function (this: Http2Server, event: string | symbol, ...args: unknown[]): boolean {
      if (event === 'stream') {
        if (!guard(args[0] as ServerHttp2Stream, args[1] as IncomingHttpHeaders, options)) return true;
        watch(args[0] as ServerHttp2Stream);
      }
      return emit.call(this, event, ...args);
    } as Http2Server['emit'];
    return http2Server;
  };
  return {
    unsentBytes() {
      let bytes = 0;
      for (const stream of streams) bytes += stream.bufferSize;
      return bytes;
    },
  };
}
