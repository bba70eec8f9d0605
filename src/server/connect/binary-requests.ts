/**
 * connect-node decodes a binary request body itself, before any handler runs, and answers bytes
 * that do not parse with `internal` (HTTP 500 on Connect), untraced. So this sits in front of each
 * connect handler: it takes an uncompressed binary request message off the body and hands connect
 * the same framing around an empty message; the call pipeline then decodes the real one (as it
 * does for native gRPC), and refuses bytes that do not parse with `invalid_argument`, traced and
 * counted. A body it cannot take whole (compressed, over the size limit, not one envelope) goes to
 * connect untouched, which applies its own limits and errors.
 */
import { assertByteStreamRequest, type UniversalServerRequest } from '@connectrpc/connect/protocol';
import type { HandlerStep } from './handler-steps.js';

/** Where a request message taken off the body waits for its call (see requestOf in routes.ts). */
export interface BinarySlot {
  binary?: Uint8Array;
}

/** Connect unary: the body is the message. Connect streaming and gRPC-Web: 5-byte envelopes. */
type Framing = 'unary' | 'enveloped';

const ENVELOPE_HEADER_BYTES = 5;
const EMPTY_ENVELOPE = new Uint8Array(ENVELOPE_HEADER_BYTES);

function framingOf(req: UniversalServerRequest): Framing | undefined {
  if (req.method !== 'POST') return undefined;
  const type = (req.header.get('content-type') ?? '').toLowerCase().split(';', 1)[0]!.trim();
  if (type === 'application/proto') {
    const encoding = req.header.get('content-encoding');
    return encoding === null || encoding === 'identity' ? 'unary' : undefined;
  }
  if (type === 'application/connect+proto' || type === 'application/grpc-web+proto' || type === 'application/grpc-web') return 'enveloped';
  return undefined;
}

/** The binary-body step in front of a connect handler (handler-steps.ts). */
export function binaryRequests(slot: () => BinarySlot | undefined, maxMessageBytes: number): HandlerStep {
  return async (req, handler) => {
    const framing = framingOf(req);
    const target = slot();
    if (!framing || !target) return handler(req);
    assertByteStreamRequest(req);
    let taken: Taken;
    try {
      taken = await readMessage(req.body[Symbol.asyncIterator](), framing, maxMessageBytes);
    } catch (error) {
      // A body that cannot be read (text mode's bad base64, a broken connection) is connect's to answer.
      return handler({ ...req, body: failing(error) });
    }
    if (taken.kind === 'untouched') return handler({ ...req, body: taken.body });
    target.binary = taken.message;
    const header = new Headers(req.header);
    header.delete('content-length'); // connect checks the body it reads against it
    return handler({ ...req, header, body: once(framing === 'unary' ? new Uint8Array(0) : EMPTY_ENVELOPE) });
  };
}

type Taken = { kind: 'message'; message: Uint8Array } | { kind: 'untouched'; body: AsyncIterable<Uint8Array> };

/**
 * Reads the body as far as it needs to: the whole of it when it is one uncompressed message within
 * the limit, otherwise only until it knows it is not (an envelope's header says so at once), and
 * then hands back what it read followed by the rest, unread.
 */
async function readMessage(body: AsyncIterator<Uint8Array>, framing: Framing, maxMessageBytes: number): Promise<Taken> {
  const chunks: Uint8Array[] = [];
  let length = 0;
  const limit = framing === 'unary' ? maxMessageBytes : ENVELOPE_HEADER_BYTES + maxMessageBytes;
  let headerChecked = framing === 'unary';
  for (;;) {
    const next = await body.next();
    if (next.done) break;
    chunks.push(next.value);
    length += next.value.byteLength;
    if (length > limit) return untouched(chunks, body);
    if (!headerChecked && length >= ENVELOPE_HEADER_BYTES) {
      if (!plainEnvelopeWithin(Buffer.concat(chunks), maxMessageBytes)) return untouched(chunks, body);
      headerChecked = true;
    }
  }
  const all = Buffer.concat(chunks);
  if (framing === 'unary') return { kind: 'message', message: all };
  // Exactly one envelope, its message whole: anything else is connect's to judge.
  if (all.length < ENVELOPE_HEADER_BYTES || all.readUInt32BE(1) !== all.length - ENVELOPE_HEADER_BYTES) return untouched(chunks, body);
  return { kind: 'message', message: all.subarray(ENVELOPE_HEADER_BYTES) };
}

/** The first envelope carries an uncompressed message (flags 0) no longer than the limit. */
function plainEnvelopeWithin(head: Buffer, maxMessageBytes: number): boolean {
  return head[0] === 0 && head.readUInt32BE(1) <= maxMessageBytes;
}

function untouched(read: Uint8Array[], rest: AsyncIterator<Uint8Array>): Taken {
  async function* body(): AsyncGenerator<Uint8Array> {
    yield* read;
    for (let next = await rest.next(); !next.done; next = await rest.next()) yield next.value;
  }
  return { kind: 'untouched', body: body() };
}

async function* once(bytes: Uint8Array): AsyncGenerator<Uint8Array> {
  yield bytes;
}

/** A body whose reading fails with `error`. */
function failing(error: unknown): AsyncIterable<Uint8Array> {
  return { [Symbol.asyncIterator]: () => ({ next: () => Promise.reject(error) }) };
}
