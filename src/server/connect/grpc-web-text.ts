/**
 * gRPC-Web's text mode (application/grpc-web-text, gRPC's PROTOCOL-WEB.md): binary gRPC-Web with
 * the body base64-encoded both ways. The grpc-web JS client uses it by default, and in browsers
 * only it can receive a server stream; connect-node serves binary gRPC-Web alone. So this sits in
 * front of each connect handler: the request body is decoded as it arrives and handed on as
 * application/grpc-web+proto (connect then applies its limits to the decoded message), and each
 * response frame is encoded and sent as soon as connect yields it, so streams stay live.
 */
import { Code, ConnectError } from '@connectrpc/connect';
import { assertByteStreamRequest } from '@connectrpc/connect/protocol';
import type { HandlerStep } from './handler-steps.js';

const TEXT_TYPE = /^application\/grpc-web-text(?=$|\+)/i;
const BINARY_TYPE = /^application\/grpc-web(?=$|\+)/i;

/** The text-mode translation, a step in front of a connect handler (handler-steps.ts). */
export const grpcWebText: HandlerStep = async (req, handler) => {
  const type = req.header.get('content-type') ?? '';
  if (!TEXT_TYPE.test(type)) return handler(req);
  assertByteStreamRequest(req);
  const header = new Headers(req.header);
  header.set('content-type', type.replace(TEXT_TYPE, 'application/grpc-web'));
  header.delete('content-length'); // the body connect reads is the decoded one
  const res = await handler({ ...req, header, body: decodeBase64(req.body) });
  if (!res.body) return res; // a refusal before the call (405), which has no body to encode
  const resHeader = new Headers(res.header);
  const resType = resHeader.get('content-type');
  if (resType) resHeader.set('content-type', resType.replace(BINARY_TYPE, 'application/grpc-web-text'));
  return { ...res, header: resHeader, body: encodeBase64(res.body) };
};

/** Each frame connect yields (a message, or the trailers) is encoded on its own, padded, and sent at once. */
async function* encodeBase64(body: AsyncIterable<Uint8Array>): AsyncGenerator<Uint8Array> {
  for await (const frame of body) yield Buffer.from(bytes(frame).toString('base64'), 'latin1');
}

const WHITESPACE = /[\t\n\f\r ]+/g;

/**
 * Decodes the body as it arrives, holding at most three characters between chunks. Tolerant as
 * the spec asks: padding may end any 4-character group (a sender may encode its frames one by
 * one and concatenate them), line breaks are ignored (base64 tools wrap lines), and the final
 * group may lack its padding.
 */
async function* decodeBase64(body: AsyncIterable<Uint8Array>): AsyncGenerator<Uint8Array> {
  let pending = '';
  for await (const chunk of body) {
    pending += bytes(chunk).toString('latin1').replace(WHITESPACE, '');
    const whole = pending.length - (pending.length % 4);
    if (whole === 0) continue;
    yield decodeGroups(pending.slice(0, whole));
    pending = pending.slice(whole);
  }
  if (pending !== '') yield decodeGroups(pending.padEnd(4, '='));
}

const ALPHABET_MISS = /[^A-Za-z0-9+/=]/;
const PADDED_GROUP = /^[A-Za-z0-9+/]{2}(?:==|[A-Za-z0-9+/]=)$/;

/** Decodes whole 4-character groups. Buffer's decoder stops at the first '=', so each padded run is decoded apart. */
function decodeGroups(text: string): Buffer {
  if (ALPHABET_MISS.test(text)) throw notBase64();
  const parts: Buffer[] = [];
  let start = 0;
  for (let pad = text.indexOf('='); pad !== -1; pad = text.indexOf('=', start)) {
    const end = pad - (pad % 4) + 4;
    if (!PADDED_GROUP.test(text.slice(end - 4, end))) throw notBase64();
    parts.push(Buffer.from(text.slice(start, end), 'base64'));
    start = end;
  }
  parts.push(Buffer.from(text.slice(start), 'base64'));
  return Buffer.concat(parts);
}

function notBase64(): ConnectError {
  return new ConnectError('request body: must be base64 (content-type application/grpc-web-text)', Code.InvalidArgument);
}

function bytes(chunk: Uint8Array): Buffer {
  return Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
}
