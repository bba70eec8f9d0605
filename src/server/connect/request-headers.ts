/**
 * Steps in front of connect-node's handlers for the request headers it judges before any call
 * runs: the deadline (connect-timeout-ms, grpc-timeout) and the content type.
 */
import { Code, ConnectError } from '@connectrpc/connect';
import { MAX_TIMER_MS } from '../../config/parse.js';
import { grpcTimeoutMs, invalidTimeoutMessage, LONGEST_GRPC_TIMEOUT } from '../pipeline/grpc-timeout.js';
import { quote } from '../pipeline/well-known.js';
import { connectErrorBody, type HandlerStep } from './handler-steps.js';
import type { RequestSlot } from './request-messages.js';

/** A deadline header's form: 10 digits of ms at most on Connect; 8 digits and a unit on gRPC and gRPC-Web. */
interface DeadlineForm {
  name: string;
  /** The deadline the value says, in ms; undefined when it is not of the form. */
  ms(value: string): number | undefined;
  /** MAX_TIMER_MS in the header's terms. */
  longest: string;
  malformed(value: string): string;
}

const CONNECT_DEADLINE: DeadlineForm = {
  name: 'connect-timeout-ms',
  ms: (value) => (/^\d{1,10}$/.test(value) ? Number(value) : undefined),
  longest: String(MAX_TIMER_MS),
  malformed: (value) => `connect-timeout-ms: ${quote(value)} is not a timeout: 1 to 10 digits (milliseconds)`,
};
const GRPC_DEADLINE: DeadlineForm = {
  name: 'grpc-timeout',
  ms: grpcTimeoutMs,
  longest: LONGEST_GRPC_TIMEOUT,
  malformed: invalidTimeoutMessage, // worded as native gRPC words it
};

/**
 * The deadline step, with the slot of each request (routes.ts). connect-node times a deadline with
 * one Node timer, so a deadline beyond MAX_TIMER_MS (24.8 days), which both protocols can say (30
 * days: 2592000000 ms, 720H), ended the call at once as expired (the timer fired after 1 ms, with
 * a TimeoutOverflowWarning on stderr): it is capped here, the header rewritten before connect
 * reads it. A malformed value connect refuses before any call runs, untraced and uncounted: it
 * waits in the slot instead, the header removed, for the pipeline to refuse the call.
 */
export function deadlines(slot: () => RequestSlot | undefined): HandlerStep {
  return (req, handler) => {
    const form = (req.header.get('content-type') ?? '').toLowerCase().startsWith('application/grpc') ? GRPC_DEADLINE : CONNECT_DEADLINE;
    const value = req.header.get(form.name);
    if (value === null) return handler(req);
    const ms = form.ms(value);
    const target = slot();
    if (ms === undefined ? !target : ms <= MAX_TIMER_MS) return handler(req);
    const header = new Headers(req.header);
    if (ms !== undefined) {
      header.set(form.name, form.longest);
    } else {
      target!.error = new ConnectError(form.malformed(value), Code.InvalidArgument);
      header.delete(form.name);
    }
    return handler({ ...req, header });
  };
}

/**
 * A Connect GET carries its request in the query, in the codec its `encoding` parameter names, and
 * no body, so its content-type says nothing (connect-go ignores it). connect-node matched it
 * against the POST types and answered 415 blaming `encoding` to a GET sent with a form or text
 * content-type (curl -d's default); the header is dropped before it looks.
 */
export const ignoreGetContentType: HandlerStep = (req, handler) => {
  if (req.method !== 'GET' || !req.header.has('content-type')) return handler(req);
  const header = new Headers(req.header);
  header.delete('content-type');
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
  return { ...res, header, body: connectErrorBody(header, 'unimplemented', message) };
};
