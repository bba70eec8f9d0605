/**
 * The REST side of the port: matches a request to an annotated method, builds the request
 * message from path, query and JSON body, and calls the same pipeline as gRPC and Connect.
 */
import { create, type JsonValue, type Message } from '@bufbuild/protobuf';
import { Code, ConnectError } from '@connectrpc/connect';
import { compressionBrotli, compressionGzip } from '@connectrpc/connect-node';
import type { Compression } from '@connectrpc/connect/protocol';
import { ATTR_HTTP_REQUEST_METHOD, ATTR_HTTP_RESPONSE_STATUS_CODE, ATTR_HTTP_ROUTE, ATTR_URL_PATH, ATTR_URL_QUERY, ATTR_URL_SCHEME } from '@opentelemetry/semantic-conventions';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { invalidArgument } from '../../core/errors.js';
import { headersOf } from '../http/headers.js';
import type { CallContext, TransportAttributes } from '../pipeline/context.js';
import { ClientFault, codeName, httpStatusOf, retryAfterHeader, toConnectError } from '../pipeline/errors.js';
import type { CallPipeline } from '../pipeline/invoke.js';
import { clip, quote } from '../pipeline/well-known.js';
import { jsonText, parseJsonText } from '../pipeline/json-request.js';
import { messageFromJsonBody } from './json-body.js';
import { findField, messageFromQuery } from './query.js';
import { ESCAPES, queryParameters } from './query-text.js';
import { renderMessage, writeError, writeRendered, type RenderedAnswer } from './response.js';
import type { RestRoutes, Route, RouteMatch } from './routes.js';
import type { AnswerBudget } from '../unsent-budget.js';

/**
 * The cause of an error that REST answers with a status of its own (413, 415) rather than its
 * code's, and with these headers. Each is a 4xx, the client's mistake: the span's status stays
 * unset, as the HTTP semantic conventions ask of a server span, whatever the code.
 */
class HttpStatus extends ClientFault {
  constructor(
    readonly status: number,
    readonly headers: Record<string, string>,
  ) {
    super(`HTTP ${status}`);
  }
}

/** An oversize body; one not read whole (`unread`) closes its connection, which still carries the rest. */
function bodyTooLarge(maxBytes: number, unread = true, after = ''): ConnectError {
  const headers: Record<string, string> = unread ? { connection: 'close' } : {};
  return new ConnectError(`request body: larger than the limit of ${maxBytes} bytes (RS3GW_MAX_MESSAGE_BYTES)${after}`, Code.ResourceExhausted, undefined, undefined, new HttpStatus(413, headers));
}

function unsupportedMediaType(message: string, headers: Record<string, string> = {}): ConnectError {
  return new ConnectError(message, Code.Unimplemented, undefined, undefined, new HttpStatus(415, headers));
}

/** The HTTP status a failed call is answered with. */
function statusOf(error: ConnectError): number {
  return error.cause instanceof HttpStatus ? error.cause.status : httpStatusOf(error.code);
}

/** A value the client chose, cut to `max` characters (the last one an ellipsis) as a span attribute. */
function bounded(value: string, max: number): string {
  return value.length <= max ? value : `${value.slice(0, Math.max(0, max - 1))}…`;
}

/**
 * The HTTP server attributes of a REST call's span, beside its rpc.* ones. A call whose connection
 * closed (`signal` aborted) sent no response, and so has no status code. The path and query are
 * the client's, of any length the request line allows: they are cut to `maxChars`.
 */
function httpAttributes(req: IncomingMessage, url: URL, route: Route, signal: AbortSignal, maxChars: number): TransportAttributes {
  return {
    start: {
      [ATTR_HTTP_REQUEST_METHOD]: req.method,
      [ATTR_HTTP_ROUTE]: route.template,
      // The port speaks plain HTTP; TLS, where there is any, ends in front of it.
      [ATTR_URL_SCHEME]: 'http',
      [ATTR_URL_PATH]: bounded(url.pathname, maxChars),
      ...(url.search !== '' && { [ATTR_URL_QUERY]: bounded(url.search.slice(1), maxChars) }),
    },
    end: (error) => (signal.aborted ? {} : { [ATTR_HTTP_RESPONSE_STATUS_CODE]: error ? statusOf(error) : 200 }),
  };
}

/** A too-large body is still read (up to this much) so the client sees the 413 rather than a reset. */
const MAX_DRAINED_BYTES = 64 * 1024 * 1024;

async function readBody(req: IncomingMessage, maxBytes: number): Promise<Buffer> {
  const declared = Number(req.headers['content-length'] ?? 0);
  // A client waiting for `100 Continue` (HTTP/1.1 has it) has sent nothing yet: it is refused before being invited.
  const waiting = req.httpVersion === '1.1' && /100-continue/i.test(req.headers.expect ?? '');
  if (declared > MAX_DRAINED_BYTES || (waiting && declared > maxBytes)) throw bodyTooLarge(maxBytes);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_DRAINED_BYTES) break;
    if (size <= maxBytes) chunks.push(chunk);
  }
  if (size > maxBytes || declared > maxBytes) throw bodyTooLarge(maxBytes);
  return Buffer.concat(chunks);
}

/**
 * Media types whose body is read as JSON: JSON, and what clients send by default with a string
 * body, so that `curl -d` (application/x-www-form-urlencoded) and fetch (text/plain) calls work.
 */
const JSON_BODY_TYPES = ['application/json', 'text/plain', 'application/x-www-form-urlencoded'];

/** Refuses a body that says it is something other than UTF-8 JSON, rather than failing to parse it. */
function checkContentType(header: string | undefined): void {
  if (header === undefined || header.trim() === '') return;
  const [essence = '', ...params] = header.split(';').map((part) => part.trim().toLowerCase());
  if (!JSON_BODY_TYPES.includes(essence) && !/^application\/[^/]+\+json$/.test(essence)) {
    throw unsupportedMediaType(`content-type: ${quote(header, "'")} is not read here; a REST request body is JSON (application/json)`);
  }
  const charset = params.find((p) => p.startsWith('charset='))?.slice('charset='.length).replace(/^"(.*)"$/, '$1');
  if (charset !== undefined && charset !== 'utf-8' && charset !== 'utf8') {
    throw unsupportedMediaType(`content-type: charset ${quote(charset, "'")} is not read; a REST request body is UTF-8 JSON`);
  }
}

/** The codings a REST body may come in, those of the Connect paths; x-gzip is gzip (RFC 9110 8.4.1.3). */
const BODY_CODINGS = new Map<string, Compression | null>([
  ['identity', null],
  ['gzip', compressionGzip],
  ['x-gzip', compressionGzip],
  ['br', compressionBrotli],
]);

/** The body's coding; one this server cannot undo is 415, with the codings it can (RFC 9110 15.5.16). */
function bodyCoding(header = ''): Compression | null {
  const name = header.trim().toLowerCase();
  if (name === '') return null;
  const coding = BODY_CODINGS.get(name);
  if (coding !== undefined) return coding;
  throw unsupportedMediaType(`content-encoding: ${quote(header, "'")} is not accepted; a REST request body may be gzip, br or identity (one coding, not a list)`, {
    'accept-encoding': 'gzip, br',
  });
}

async function decompressed(coding: Compression, body: Buffer, maxBytes: number): Promise<Uint8Array> {
  try {
    return await coding.decompress(body, maxBytes);
  } catch (error) {
    if (error instanceof ConnectError && error.code === Code.ResourceExhausted) throw bodyTooLarge(maxBytes, false, ' once decompressed');
    throw new ConnectError(`request body: not valid ${coding.name} data, as content-encoding says it is`, Code.InvalidArgument);
  }
}

async function requestMessage(match: RouteMatch, req: IncomingMessage, url: URL, maxBytes: number): Promise<Message> {
  const { route, pathParams, undecodable } = match;
  const schema = route.method.input;
  const [undecoded] = undecodable;
  if (undecoded) {
    const [name, raw] = undecoded;
    throw invalidArgument(findField(schema, name)?.name ?? name, `must be percent-encoded UTF-8 in the path ${ESCAPES}, got ${quote(raw)}`);
  }
  const query = queryParameters(url.search);
  // The path gives these fields; the same field in the query would be dropped without a word.
  // Checked before the query's values are read, so that this, not such a value, is what is refused.
  const pathFields = [...pathParams].map(([name, value]) => {
    const f = findField(schema, name);
    if (!f || f.fieldKind !== 'scalar') throw new Error(`path variable ${name} is not a scalar field of ${schema.typeName}`);
    for (const [key] of query) {
      if (findField(schema, key.split('.')[0]!) === f) throw invalidArgument(f.name, `is given in the path (${quote(value)}), not as a query parameter too`);
    }
    return { f, value };
  });
  let message: Message;
  if (route.body === '') {
    message = messageFromQuery(schema, query);
    // A body here would be dropped without a word, as a query beside a body would be (below).
    if (req.headers['content-length'] !== undefined || req.headers['transfer-encoding'] !== undefined) {
      if ((await readBody(req, maxBytes)).length > 0) {
        throw new ConnectError(`request body: not accepted on a ${req.method}, which takes its fields from the path and query`, Code.InvalidArgument);
      }
    }
  } else {
    checkContentType(req.headers['content-type']);
    const coding = bodyCoding(req.headers['content-encoding']);
    const received = await readBody(req, maxBytes);
    const body = coding ? await decompressed(coding, received, maxBytes) : received;
    // A compressed body sent without its content-encoding header is the likely mistake.
    const text = jsonText(body, 'request body', ' (a compressed body needs its content-encoding header)');
    const json: JsonValue = text === '' ? {} : parseJsonText(text);
    message = messageFromJsonBody(schema, route.body === '*' ? json : { [route.body]: json });
    if (query.length > 0) {
      throw new ConnectError(`query parameters are not accepted with a request body: ${query.map(([key]) => key).join(', ')}`, Code.InvalidArgument);
    }
  }
  const fields = message as unknown as Record<string, unknown>;
  for (const { f, value } of pathFields) fields[f.localName] = value;
  return create(schema, message);
}

/**
 * `clientAttributeMaxChars` bounds the span attributes taken from the request (url.path,
 * url.query); Infinity leaves them to OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT.
 */
export function createRestHandler(routes: RestRoutes, pipeline: CallPipeline, maxBodyBytes: number, clientAttributeMaxChars: number, unsent: AnswerBudget) {
  return async (req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> => {
    const found = routes.match(req.method ?? 'GET', url.pathname);
    if (!found) {
      writeError(res, 404, 'not_found', `no REST path ${clip(url.pathname)}`);
      return;
    }
    if ('allowed' in found) {
      writeError(res, 405, 'unimplemented', `${req.method} is not allowed on ${clip(url.pathname)}; use ${found.allowed.join(', ')}`, {
        allow: found.allowed.join(', '),
      });
      return;
    }
    const controller = new AbortController();
    res.once('close', () => controller.abort());
    const { method, responseBody } = found.route;
    const headOnly = req.method === 'HEAD';
    let answer: RenderedAnswer | undefined;
    try {
      const ctx: CallContext = {
        protocol: 'rest',
        method,
        requestHeaders: headersOf(req),
        signal: controller.signal,
        spanAttributes: httpAttributes(req, url, found.route, controller.signal, clientAttributeMaxChars),
        render: async (message) => {
          // The client may close the connection while the text is made: it is then left unmade.
          answer = await renderMessage(method.output, message, responseBody, () => res.destroyed);
          if (answer && !headOnly) unsent.answer(method.name, answer.bytes);
        },
      };
      await pipeline.unary(found.route.binding, method, () => requestMessage(found, req, url, maxBodyBytes), ctx);
      if (answer) writeRendered(res, answer, headOnly);
    } catch (error) {
      const e = toConnectError(error);
      writeError(res, statusOf(e), codeName(e.code), e.rawMessage, { ...(e.cause instanceof HttpStatus && e.cause.headers), ...retryAfterHeader(e) });
    }
  };
}
