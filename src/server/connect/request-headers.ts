/**
 * Steps in front of connect-node's handlers for the request headers it judges before any call
 * runs: the deadline (connect-timeout-ms, grpc-timeout) and the content type.
 */
import { MAX_TIMER_MS } from '../../config/parse.js';
import { quote } from '../pipeline/well-known.js';
import { bodyOf, type HandlerStep } from './handler-steps.js';

/** The forms connect-node reads (and refuses otherwise): up to 10 digits of ms; gRPC's up to 8 digits and a unit. */
const CONNECT_TIMEOUT = /^\d{1,10}$/;
const GRPC_TIMEOUT = /^(\d{1,8})([HMSmun])$/;
const GRPC_UNIT_MS: Record<string, number> = { H: 3_600_000, M: 60_000, S: 1000, m: 1, u: 1e-3, n: 1e-6 };

/**
 * connect-node times a deadline with one Node timer, so a deadline beyond MAX_TIMER_MS (24.8 days),
 * which both protocols can say (30 days: 2592000000 ms, 720H), ended the call at once as expired
 * (the timer fired after 1 ms, with a TimeoutOverflowWarning on stderr). It is capped here, the
 * header rewritten before connect reads it; a malformed value is left to connect to refuse.
 */
export const capDeadlines: HandlerStep = (req, handler) => {
  const connect = req.header.get('connect-timeout-ms');
  const grpc = req.header.get('grpc-timeout');
  const grpcParts = grpc === null ? null : GRPC_TIMEOUT.exec(grpc);
  const connectTooLong = connect !== null && CONNECT_TIMEOUT.test(connect) && Number(connect) > MAX_TIMER_MS;
  const grpcTooLong = grpcParts !== null && Number(grpcParts[1]) * GRPC_UNIT_MS[grpcParts[2]!]! > MAX_TIMER_MS;
  if (!connectTooLong && !grpcTooLong) return handler(req);
  const header = new Headers(req.header);
  if (connectTooLong) header.set('connect-timeout-ms', String(MAX_TIMER_MS));
  // In whole seconds: MAX_TIMER_MS in milliseconds has more than the 8 digits gRPC allows.
  if (grpcTooLong) header.set('grpc-timeout', `${Math.floor(MAX_TIMER_MS / 1000)}S`);
  return handler({ ...req, header });
};

/** The content types connect-node's handlers (and grpc-web-text.ts) take: for Accept-Post, and summed up for a message. */
const GRPC_TYPES = ['application/grpc', 'application/grpc+proto', 'application/grpc+json'];
const GRPC_WEB_TYPES = ['', '+proto', '+json'].flatMap((codec) => [`application/grpc-web${codec}`, `application/grpc-web-text${codec}`]);
const GRPC_SUMMARY = 'application/grpc[+proto|+json] (gRPC) or application/grpc-web[-text][+proto|+json] (gRPC-Web)';
const ACCEPTED = {
  unary: { types: ['application/proto', 'application/json', ...GRPC_TYPES, ...GRPC_WEB_TYPES].join(', '), summary: `application/proto or application/json (Connect), ${GRPC_SUMMARY}` },
  stream: { types: ['application/connect+proto', 'application/connect+json', ...GRPC_TYPES, ...GRPC_WEB_TYPES].join(', '), summary: `application/connect+proto or application/connect+json (Connect), ${GRPC_SUMMARY}` },
};

/**
 * connect-node answers a content type that none of its protocols takes, or a Connect GET's
 * `encoding` it does not know, with a bare 415. The answer is given a body in the Connect
 * protocol's error shape naming the header (or parameter) and what it takes, and, for a POST,
 * the Accept-Post header listing the content types (as connect-go sends it). Such a request is in
 * no protocol, so it reaches no call: it has no span and no count.
 */
export const explainUnsupportedContentType: HandlerStep = async (req, handler) => {
  const res = await handler(req);
  if (res.status !== 415 || res.body) return res;
  const accepted = ACCEPTED[handler.method.methodKind === 'unary' ? 'unary' : 'stream'];
  const header = new Headers(res.header);
  let message: string;
  if (req.method === 'GET') {
    const encoding = new URL(req.url).searchParams.get('encoding');
    message = `encoding: must be proto or json (the query parameter of a Connect GET), ${encoding === null ? 'got none' : `got ${quote(encoding)}`}`;
  } else {
    const type = req.header.get('content-type');
    const parameters = type?.includes(';') ? ', with no parameter but charset=utf-8 (JSON only)' : '';
    message = `content-type: must be ${accepted.summary}${parameters}, ${type === null ? 'got none' : `got ${quote(type)}`}`;
    header.set('accept-post', accepted.types);
  }
  const body = new TextEncoder().encode(JSON.stringify({ code: 'unimplemented', message }));
  header.set('content-type', 'application/json');
  header.set('content-length', String(body.byteLength));
  return { ...res, header, body: bodyOf(body) };
};
