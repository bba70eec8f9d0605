/**
 * The REST side of the port: matches a request to an annotated method, builds the request
 * message from path, query and JSON body, and calls the same pipeline as gRPC and Connect.
 */
import { create, type JsonValue, type Message } from '@bufbuild/protobuf';
import { Code, ConnectError } from '@connectrpc/connect';
import { ATTR_HTTP_REQUEST_METHOD, ATTR_HTTP_RESPONSE_STATUS_CODE, ATTR_HTTP_ROUTE, ATTR_URL_PATH } from '@opentelemetry/semantic-conventions';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { headersOf } from '../http/headers.js';
import type { CallContext, TransportAttributes } from '../pipeline/context.js';
import { codeName, httpStatusOf, toConnectError } from '../pipeline/errors.js';
import type { CallPipeline } from '../pipeline/invoke.js';
import { clip } from '../pipeline/well-known.js';
import { messageFromJsonBody } from './json-body.js';
import { findField, messageFromQuery } from './query.js';
import { writeError, writeMessage } from './response.js';
import type { RestRoutes, Route, RouteMatch } from './routes.js';

/** Marks the RESOURCE_EXHAUSTED of an oversize body, which REST answers with 413. */
class BodyTooLarge extends Error {}

function bodyTooLarge(maxBytes: number): ConnectError {
  return new ConnectError(`request body: larger than the limit of ${maxBytes} bytes (RS3GW_MAX_MESSAGE_BYTES)`, Code.ResourceExhausted, undefined, undefined, new BodyTooLarge());
}

/** The HTTP status a failed call is answered with. */
function statusOf(error: ConnectError): number {
  return error.cause instanceof BodyTooLarge ? 413 : httpStatusOf(error.code);
}

/**
 * The HTTP server attributes of a REST call's span, beside its rpc.* ones. A call whose connection
 * closed (`signal` aborted) sent no response, and so has no status code.
 */
function httpAttributes(req: IncomingMessage, url: URL, route: Route, signal: AbortSignal): TransportAttributes {
  return {
    start: { [ATTR_HTTP_REQUEST_METHOD]: req.method, [ATTR_HTTP_ROUTE]: route.template, [ATTR_URL_PATH]: url.pathname },
    end: (error) => (signal.aborted ? {} : { [ATTR_HTTP_RESPONSE_STATUS_CODE]: error ? statusOf(error) : 200 }),
  };
}

/** A too-large body is still read (up to this much) so the client sees the 413 rather than a reset. */
const MAX_DRAINED_BYTES = 64 * 1024 * 1024;

async function readBody(req: IncomingMessage, maxBytes: number): Promise<Buffer> {
  const declared = Number(req.headers['content-length'] ?? 0);
  if (declared > MAX_DRAINED_BYTES) throw bodyTooLarge(maxBytes);
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

async function requestMessage(match: RouteMatch, req: IncomingMessage, url: URL, maxBytes: number): Promise<Message> {
  const { route, pathParams } = match;
  const schema = route.method.input;
  let message: Message;
  if (route.body === '') {
    message = messageFromQuery(schema, url.searchParams);
  } else {
    const body = await readBody(req, maxBytes);
    let json: JsonValue;
    try {
      json = body.length === 0 ? {} : (JSON.parse(body.toString('utf8')) as JsonValue);
    } catch (error) {
      throw new ConnectError(`request body: not valid JSON (${(error as Error).message})`, Code.InvalidArgument);
    }
    message = messageFromJsonBody(schema, route.body === '*' ? json : { [route.body]: json });
    if ([...url.searchParams.keys()].length > 0) {
      throw new ConnectError(`query parameters are not accepted with a request body: ${[...url.searchParams.keys()].join(', ')}`, Code.InvalidArgument);
    }
  }
  const fields = message as unknown as Record<string, unknown>;
  for (const [name, value] of pathParams) {
    const f = findField(schema, name);
    if (!f || f.fieldKind !== 'scalar') throw new Error(`path variable ${name} is not a scalar field of ${schema.typeName}`);
    fields[f.localName] = value;
  }
  return create(schema, message);
}

export function createRestHandler(routes: RestRoutes, pipeline: CallPipeline, maxBodyBytes: number) {
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
    try {
      const ctx: CallContext = {
        protocol: 'rest',
        method: found.route.method,
        requestHeaders: headersOf(req),
        signal: controller.signal,
        spanAttributes: httpAttributes(req, url, found.route, controller.signal),
      };
      const response = await pipeline.unary(found.route.binding, found.route.method, () => requestMessage(found, req, url, maxBodyBytes), ctx);
      writeMessage(res, found.route.method.output, response, found.route.responseBody, req.method === 'HEAD');
    } catch (error) {
      const e = toConnectError(error);
      writeError(res, statusOf(e), codeName(e.code), e.rawMessage, e.cause instanceof BodyTooLarge ? { connection: 'close' } : undefined);
    }
  };
}
