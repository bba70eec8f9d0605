/**
 * connect-node reads a request's message itself, before any handler runs: it decompresses the
 * body, decodes a Connect GET's `message`, and decodes binary messages. What it cannot read it
 * answers untraced, and often with `internal` (HTTP 500 on Connect), though the bytes were the
 * client's. So this step sits in front of each connect handler and reads the message first:
 * - a binary message is taken off the request, and connect is handed the same framing around an
 *   empty message; the call pipeline decodes the real one (as for native gRPC) and refuses bytes
 *   that do not parse with `invalid_argument`, traced and counted;
 * - a compressed message (gzip or br, the encodings connect accepts) is decompressed here and handed
 *   on uncompressed, a JSON one to connect's JSON decoding (whose refusals reach the pipeline the
 *   same way, see strictJsonText in routes.ts);
 * - what cannot be read (bad compressed data, bad base64, larger than the size limit) waits in the
 *   request's slot as the call's error, and connect is handed an empty message, so that the
 *   pipeline refuses the call; the rest of a body too large is drained by the router.
 * An enveloped body that is not exactly one whole message frame is refused too, traced and counted
 * (connect-node refuses it before any call begins), and so is a Connect GET with a body (which
 * connect-node ignores). A body that cannot be read (a broken
 * connection) or in an encoding the service does not take goes to connect untouched, which applies
 * its own errors.
 */
import { isUtf8 } from 'node:buffer';
import type { Message } from '@bufbuild/protobuf';
import { Code, ConnectError } from '@connectrpc/connect';
import { compressionBrotli, compressionGzip } from '@connectrpc/connect-node';
import { assertByteStreamRequest, type Compression, type UniversalServerRequest } from '@connectrpc/connect/protocol';
import { bodyOf, type HandlerStep } from './handler-steps.js';
import { ClientFault } from '../pipeline/errors.js';

/** Where a request's message, or the reason it could not be read, waits for its call (see requestOf in routes.ts). */
export interface RequestSlot {
  binary?: Uint8Array;
  error?: unknown;
  /** A JSON request already decoded (strictly): connect-node is handed `{}` to decode instead. */
  decoded?: Message;
  /** Where the JSON text came from, for its errors: a Connect GET's `message` parameter, else the request body. */
  jsonSource?: string;
}

/** The encodings connect-node's handlers accept by default, and so the ones this step reads. */
export const REQUEST_COMPRESSIONS: readonly Compression[] = [compressionGzip, compressionBrotli];

/** Connect unary: the body is the message. Connect streaming and gRPC-Web: 5-byte envelopes. */
type Framing = 'unary' | 'enveloped';

interface BodyKind {
  framing: Framing;
  binary: boolean;
  /** The headers naming the request's encoding and the encodings the client accepts in return. */
  encodingHeader: string;
  acceptHeader: string;
}

const ENVELOPE_HEADER_BYTES = 5;
const COMPRESSED_FLAG = 0b1;
const EMPTY_JSON = new TextEncoder().encode('{}');

function bodyKindOf(req: UniversalServerRequest): BodyKind | undefined {
  if (req.method !== 'POST') return undefined;
  const type = (req.header.get('content-type') ?? '').toLowerCase().split(';', 1)[0]!.trim();
  switch (type) {
    case 'application/proto':
    case 'application/json':
      return { framing: 'unary', binary: type === 'application/proto', encodingHeader: 'content-encoding', acceptHeader: 'accept-encoding' };
    case 'application/connect+proto':
    case 'application/connect+json':
      return { framing: 'enveloped', binary: type.endsWith('proto'), encodingHeader: 'connect-content-encoding', acceptHeader: 'connect-accept-encoding' };
    // gRPC over HTTP/1.1, which connect-node serves (a Go client on an HTTP/1.1 transport sends
    // it), is framed as gRPC-Web.
    case 'application/grpc':
    case 'application/grpc+proto':
    case 'application/grpc+json':
    case 'application/grpc-web':
    case 'application/grpc-web+proto':
    case 'application/grpc-web+json':
      return { framing: 'enveloped', binary: !type.endsWith('json'), encodingHeader: 'grpc-encoding', acceptHeader: 'grpc-accept-encoding' };
    default:
      return undefined;
  }
}

/**
 * The compression an encoding names: null for none, undefined for one connect must refuse itself.
 * Content-coding names are case-insensitive (RFC 9110 8.4.1): GZIP is gzip.
 */
function compressionNamed(name: string | null): Compression | null | undefined {
  const lower = name?.trim().toLowerCase();
  if (lower === undefined || lower === '' || lower === 'identity') return null;
  return REQUEST_COMPRESSIONS.find((c) => c.name === lower);
}

/**
 * The request with its encoding headers in lower case, as connect-node compares them (it refused
 * `Content-Encoding: GZIP` with 501, and answered `Accept-Encoding: GZIP` uncompressed).
 */
function encodingsInLowerCase(req: UniversalServerRequest, names: readonly string[]): UniversalServerRequest {
  let header: Headers | undefined;
  for (const name of names) {
    const value = req.header.get(name);
    if (value === null || value === value.toLowerCase()) continue;
    header ??= new Headers(req.header);
    header.set(name, value.toLowerCase());
  }
  return header ? { ...req, header } : req;
}

/** The request-message step in front of a connect handler (handler-steps.ts). */
export function requestMessages(slot: () => RequestSlot | undefined, maxMessageBytes: number): HandlerStep {
  return async (req, handler) => {
    const target = slot();
    if (!target) return handler(req);
    if (req.method === 'GET') return handler(await readGetMessage(encodingsInLowerCase(req, ['accept-encoding']), target, maxMessageBytes));
    const kind = bodyKindOf(req);
    if (!kind) return handler(req);
    req = encodingsInLowerCase(req, [kind.encodingHeader, kind.acceptHeader]);
    const compression = compressionNamed(req.header.get(kind.encodingHeader));
    if (compression === undefined) return handler(req);
    const declared = Number(req.header.get('content-length') ?? NaN);
    // Larger than one message (and its envelope) can be: refused before a byte is read, so a client
    // waiting for 100 Continue is not invited to upload it.
    const oversize = declared > maxMessageBytes + (kind.framing === 'unary' ? 0 : ENVELOPE_HEADER_BYTES);
    // Plain unary JSON known to be within the limit is connect's to read: its JSON decoding hands
    // refusals to the pipeline. Without a length it is read here, to refuse it if it is too large;
    // enveloped JSON is read here too, to check its framing.
    if (kind.framing === 'unary' && !kind.binary && compression === null && !oversize && Number.isFinite(declared)) return handler(req);
    assertByteStreamRequest(req);
    const taken = oversize ? refused(tooLarge(maxMessageBytes)) : await readBody(req.body[Symbol.asyncIterator](), kind.framing, compression !== null, maxMessageBytes);
    if (taken.kind === 'untouched') return handler({ ...req, body: taken.body });
    let message: Uint8Array | undefined;
    if (taken.kind === 'refused') target.error = taken.error;
    else message = taken.compressed ? await decompressed(compression!, taken.message, 'request body', maxMessageBytes, target) : taken.message;
    const header = new Headers(req.header);
    header.delete('content-length'); // connect checks the body it reads against it
    if (compression) handedOnUncompressed(header, kind.encodingHeader, kind.acceptHeader, compression);
    const handed = handOn(message, kind.binary, target);
    return handler({ ...req, header, body: bodyOf(kind.framing === 'unary' ? handed : envelope(handed)) });
  };
}

/**
 * What connect is handed in place of a message read here: nothing for a binary one (the pipeline
 * decodes the bytes in the slot), the JSON itself, or an empty message when the slot holds an error.
 */
function handOn(message: Uint8Array | undefined, binary: boolean, target: RequestSlot): Uint8Array {
  if (message === undefined) return binary ? new Uint8Array(0) : EMPTY_JSON;
  if (!binary) return message;
  target.binary = message;
  return new Uint8Array(0);
}

/**
 * The request is handed on uncompressed. A client that did not say which encodings it accepts
 * gets its answer in the one it sent (connect's negotiation), so that is said for it.
 */
function handedOnUncompressed(header: Headers, encodingHeader: string, acceptHeader: string, compression: Compression): void {
  header.delete(encodingHeader);
  if (!header.get(acceptHeader)) header.set(acceptHeader, compression.name);
}

/**
 * A Connect GET carries its message in the query: `message`, base64url-encoded when `base64=1`,
 * percent-encoded otherwise, compressed when `compression` names an encoding. It is read here, so
 * that it is held to the size limit as a POST's body is (connect refused a larger one in its own
 * words, before any call ran); connect then gets the query without it (a binary message) or with
 * the plain JSON.
 */
async function readGetMessage(req: UniversalServerRequest, target: RequestSlot, maxMessageBytes: number): Promise<UniversalServerRequest> {
  const url = new URL(req.url);
  const query = url.searchParams;
  const encoding = query.get('encoding');
  if (encoding !== 'proto' && encoding !== 'json') return req;
  const compression = compressionNamed(query.get('compression'));
  if (compression === undefined) return req;
  const binary = encoding === 'proto';
  // connect-node reads the first of each and drops the others without a word.
  const repeated = GET_PARAMETERS.find((name) => query.getAll(name).length > 1);
  if (await hasBody(req)) {
    target.error = new ConnectError('request body: not accepted on a Connect GET, which carries its request in the message query parameter', Code.InvalidArgument);
  } else if (repeated !== undefined) {
    target.error = new ConnectError(`${repeated}: given more than once; a Connect GET takes each of ${GET_PARAMETERS.join(', ')} once`, Code.InvalidArgument);
  }
  // Empty bytes are an empty binary message, but no JSON: connect's JSON reader would then
  // refuse a request body, which a GET has none of.
  let message =
    target.error !== undefined ? undefined : binary || query.get('message') ? await getMessage(url, compression, target, maxMessageBytes) : noJsonMessage(query, target);
  if (!binary) target.jsonSource = 'message';
  // Decoded as text below, which would turn bytes that are not UTF-8 into U+FFFD: refused here.
  if (!binary && message !== undefined && !isUtf8(message)) {
    target.error = new ConnectError('message: not UTF-8 text, so not JSON', Code.InvalidArgument);
    message = undefined;
  }
  const handed = handOn(message, binary, target);
  query.delete('base64');
  query.delete('compression');
  if (handed.byteLength === 0) query.delete('message');
  else query.set('message', new TextDecoder().decode(handed));
  const header = new Headers(req.header);
  if (compression) handedOnUncompressed(header, 'content-encoding', 'accept-encoding', compression);
  return { ...req, url: url.toString(), header };
}

/**
 * Whether a GET came with a body. The Connect protocol's GET has none, and connect-node drops one
 * without a word, so a request sent as a GET with its fields in the body would run with the query's
 * instead; REST refuses a GET body too. Only the first bytes are read: the router drains the rest.
 */
async function hasBody(req: UniversalServerRequest): Promise<boolean> {
  assertByteStreamRequest(req);
  const chunks = req.body[Symbol.asyncIterator]();
  for (;;) {
    let next: IteratorResult<Uint8Array>;
    try {
      next = await chunks.next();
    } catch {
      return false; // a body that cannot be read (a broken connection): the call is aborted anyway
    }
    if (next.done) return false;
    if (next.value.byteLength > 0) return true;
  }
}

/** The query parameters of a Connect GET (the Connect protocol's own). */
const GET_PARAMETERS = ['message', 'encoding', 'base64', 'compression', 'connect'] as const;

/** A JSON GET without a message: refused naming the query parameter. */
function noJsonMessage(query: URLSearchParams, target: RequestSlot): undefined {
  const given = query.has('message') ? 'empty' : 'missing';
  target.error = new ConnectError(
    `message: ${given}: a Connect GET with encoding=json carries its request as JSON in this query parameter, percent-encoded or base64url with base64=1 ({} for an empty request)`,
    Code.InvalidArgument,
  );
  return undefined;
}

/** A GET's message as bytes, or undefined with the reason it cannot be read in the slot. */
async function getMessage(url: URL, compression: Compression | null, target: RequestSlot, maxMessageBytes: number): Promise<Uint8Array | undefined> {
  const query = url.searchParams;
  const message = query.get('base64') === '1' ? base64Bytes(query.get('message') ?? '') : percentDecoded(url.search, 'message');
  if (message === undefined) {
    target.error = new ConnectError('message: must be base64url (the query parameter of a Connect GET with base64=1)', Code.InvalidArgument);
    return undefined;
  }
  if (message.byteLength > maxMessageBytes) {
    target.error = tooLarge(maxMessageBytes, 'message');
    return undefined;
  }
  return compression ? decompressed(compression, message, 'message', maxMessageBytes, target) : message;
}

/**
 * The bytes of the first query parameter `name`, percent-decoded as bytes: URLSearchParams decodes
 * them as UTF-8 text, which turns each byte of a binary message that is not UTF-8 into U+FFFD.
 * A serialized URL's query is ASCII (the rest is percent-encoded), so latin1 maps its characters,
 * and those of the %XX decoded, to single bytes.
 */
function percentDecoded(search: string, name: string): Uint8Array {
  const decode = (text: string) =>
    Buffer.from(text.replaceAll('+', ' ').replace(/%([0-9A-Fa-f]{2})/g, (_, hex: string) => String.fromCharCode(parseInt(hex, 16))), 'latin1');
  for (const pair of search.slice(1).split('&')) {
    const eq = pair.indexOf('=');
    if (decode(eq < 0 ? pair : pair.slice(0, eq)).toString() === name) return decode(eq < 0 ? '' : pair.slice(eq + 1));
  }
  return new Uint8Array(0);
}

const BASE64 = /^[A-Za-z0-9+/_-]*={0,2}$/;

/** Standard or URL-safe base64, padded or not; undefined when it is neither. */
function base64Bytes(text: string): Uint8Array | undefined {
  if (!BASE64.test(text) || text.replace(/=+$/, '').length % 4 === 1) return undefined;
  return Buffer.from(text, 'base64');
}

/**
 * The message decompressed, or undefined with the reason in the slot: data that is not of the
 * encoding named is `invalid_argument` (connect answers some of it `internal`), a message over the
 * size limit once decompressed `resource_exhausted`.
 */
async function decompressed(compression: Compression, bytes: Uint8Array, field: string, maxMessageBytes: number, target: RequestSlot): Promise<Uint8Array | undefined> {
  try {
    return await compression.decompress(bytes, maxMessageBytes);
  } catch (error) {
    target.error =
      error instanceof ConnectError && error.code === Code.ResourceExhausted
        ? new ConnectError(`${field}: larger than the limit of ${maxMessageBytes} bytes (RS3GW_MAX_MESSAGE_BYTES) once decompressed`, Code.ResourceExhausted)
        : new ConnectError(`${field}: not valid ${compression.name} data`, Code.InvalidArgument);
    return undefined;
  }
}

type Taken =
  | { kind: 'message'; message: Uint8Array; compressed: boolean }
  | { kind: 'refused'; error: unknown }
  | { kind: 'untouched'; body: AsyncIterable<Uint8Array> };

const refused = (error: unknown): Taken => ({ kind: 'refused', error });

/** As REST says it: the limit and the setting that raises it; `what` is the request, or a GET's `message`. */
function tooLarge(maxMessageBytes: number, what = 'request'): ConnectError {
  return new ConnectError(`${what}: larger than the limit of ${maxMessageBytes} bytes (RS3GW_MAX_MESSAGE_BYTES)`, Code.ResourceExhausted);
}

/**
 * Reads the body as far as it needs to: the whole of it when it is one message within the limit
 * (compressed only if an encoding was named), otherwise only until it knows it is not (an
 * envelope's header says so at once). A body over the limit, or one that does not decode (text
 * mode's bad base64), is refused, its rest left unread; any other is handed back, what was read
 * followed by the rest. A body that cannot be read (a broken connection) is connect's to answer.
 */
async function readBody(body: AsyncIterator<Uint8Array>, framing: Framing, encoded: boolean, maxMessageBytes: number): Promise<Taken> {
  const chunks: Uint8Array[] = [];
  let length = 0;
  const limit = framing === 'unary' ? maxMessageBytes : ENVELOPE_HEADER_BYTES + maxMessageBytes;
  let flags: number | undefined;
  for (;;) {
    let next: IteratorResult<Uint8Array>;
    try {
      next = await body.next();
    } catch (error) {
      if (error instanceof ConnectError && error.code === Code.InvalidArgument) return refused(error);
      return { kind: 'untouched', body: failing(error) };
    }
    if (next.done) break;
    chunks.push(next.value);
    length += next.value.byteLength;
    if (length > limit) return refused(tooLarge(maxMessageBytes));
    if (framing === 'enveloped' && flags === undefined && length >= ENVELOPE_HEADER_BYTES) {
      const head = Buffer.concat(chunks);
      flags = head[0]!;
      if ((flags & ~COMPRESSED_FLAG) !== 0) {
        return refused(new ConnectError(`request: message frame flags 0x${flags.toString(16).padStart(2, '0')}: a request frame may only be marked compressed (0x01)`, Code.InvalidArgument));
      }
      if (flags === COMPRESSED_FLAG && !encoded) {
        return refused(new ConnectError('request: the message frame is marked compressed (0x01), but the request names no encoding', Code.InvalidArgument));
      }
      if (head.readUInt32BE(1) > maxMessageBytes) return refused(tooLarge(maxMessageBytes));
    }
  }
  const all = Buffer.concat(chunks);
  if (framing === 'unary') return { kind: 'message', message: all, compressed: encoded };
  const framingError = framingProblem(all);
  if (framingError) return refused(framingError);
  return { kind: 'message', message: all.subarray(ENVELOPE_HEADER_BYTES), compressed: (flags! & COMPRESSED_FLAG) !== 0 };
}

/**
 * Why an enveloped body is not exactly one whole message frame, with the codes connect-node gives
 * (which it gave before any call began, so untraced and uncounted).
 */
function framingProblem(all: Buffer): ConnectError | undefined {
  // UNIMPLEMENTED, as connect-node says, but the client's mistake: its span's status stays unset.
  if (all.length === 0) return new ConnectError('request: no message frame; the method takes one request message', Code.Unimplemented, undefined, undefined, new ClientFault());
  if (all.length < ENVELOPE_HEADER_BYTES) {
    return new ConnectError(`request: an incomplete message frame: ${all.length} of its ${ENVELOPE_HEADER_BYTES} header bytes`, Code.InvalidArgument);
  }
  const declared = all.readUInt32BE(1);
  const came = all.length - ENVELOPE_HEADER_BYTES;
  if (declared > came) return new ConnectError(`request: an incomplete message frame: its header says ${declared} bytes, ${came} came`, Code.InvalidArgument);
  if (declared < came) {
    return new ConnectError(`request: ${came - declared} bytes after the message frame; the method takes one request message`, Code.Unimplemented, undefined, undefined, new ClientFault());
  }
  return undefined;
}

/** One uncompressed envelope around `message`. */
function envelope(message: Uint8Array): Uint8Array {
  const out = new Uint8Array(ENVELOPE_HEADER_BYTES + message.byteLength);
  new DataView(out.buffer).setUint32(1, message.byteLength);
  out.set(message, ENVELOPE_HEADER_BYTES);
  return out;
}

/** A body whose reading fails with `error`. */
function failing(error: unknown): AsyncIterable<Uint8Array> {
  return { [Symbol.asyncIterator]: () => ({ next: () => Promise.reject(error) }) };
}
