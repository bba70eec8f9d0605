/** The HTTP/1.1 side of the port: /metrics, /debug/pprof, REST, and Connect/gRPC-Web for the rest. */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { clip, quote } from '../pipeline/well-known.js';
import { writeError } from '../rest/response.js';
import { logInternalError } from '../internal-error.js';
import type { OriginPolicy } from './origin.js';

export type HttpRoute = (req: IncomingMessage, res: ServerResponse, url: URL) => Promise<void> | void;

/**
 * The request target as a URL. An origin-form target is a path: resolving it against a base
 * would read `//host/...` as a host name (and throw on `//`).
 */
function targetUrl(target: string): URL | undefined {
  try {
    return target.startsWith('/') ? new URL(`http://localhost${target}`) : new URL(target);
  } catch {
    return undefined;
  }
}

/** How long the rest of a refused request body may drain before the connection is closed. */
const UNREAD_BODY_DRAIN_MS = 10_000;

/**
 * The drain timer of each connection, one per connection, with one 'close' listener to clear it: a
 * timer and listener per refused request piled up on a keep-alive connection (each holding its
 * request) until it closed. One is enough: a request's body is parsed to its end before the next
 * request starts, so a new drain on a connection finds the earlier request complete.
 */
const drainTimers = new WeakMap<Socket, NodeJS.Timeout>();

/**
 * connect-node stops reading a request it refuses (a body over the size limit), destroys it and
 * answers at once; the rest of the body would then sit unread on the keep-alive connection and
 * stall the client until the idle timeout. Closing the connection is no better: with bytes unread
 * the close is a reset, which can destroy the answer before the client reads it. So the rest is
 * read and dropped, for a bounded time, as Node does for a body no handler reads (`_dump`).
 */
function drainUnreadBody(req: IncomingMessage & { _dump?: () => void }, res: ServerResponse): void {
  const socket = req.socket;
  res.once('finish', () => {
    if (req.complete || socket.destroyed) return;
    // The request emits no 'end' once destroyed, but the parser still marks it complete; the
    // connection then carries on as any keep-alive connection.
    const earlier = drainTimers.get(socket);
    if (earlier) clearTimeout(earlier);
    else socket.once('close', () => clearTimeout(drainTimers.get(socket)));
    drainTimers.set(socket, setTimeout(() => req.complete || socket.destroy(), UNREAD_BODY_DRAIN_MS).unref());
    req._dump?.();
    socket.resume();
  });
}

export interface Http1Routes {
  metrics: HttpRoute;
  pprof: HttpRoute;
  rest: HttpRoute;
  connect: (req: IncomingMessage, res: ServerResponse) => void;
}

/** Host lines in raw headers (name, value, name, ...): headersDistinct would build every header again. */
function hostLines(raw: string[]): number {
  let n = 0;
  for (let i = 0; i < raw.length && n < 2; i += 2) if (raw[i]!.length === 4 && raw[i]!.toLowerCase() === 'host') n++;
  return n;
}

function http1Handler(routes: Http1Routes, origins: OriginPolicy) {
  return (req: IncomingMessage, res: ServerResponse): void => {
    // RFC 9112 3.2: two Host lines could route one request two ways (Node keeps the first).
    if (hostLines(req.rawHeaders) > 1) {
      writeError(res, 400, 'invalid_argument', 'host: given more than once', { connection: 'close' });
      return;
    }
    const url = targetUrl(req.url ?? '/');
    if (!url) {
      writeError(res, 400, 'invalid_argument', `request target: not a valid URL path, got ${quote(req.url ?? '', "'")}`);
      return;
    }
    const path = url.pathname;
    let route: HttpRoute | undefined;
    if (path === '/metrics') route = routes.metrics;
    else if (path === '/debug/pprof' || path.startsWith('/debug/pprof/')) route = routes.pprof;
    else if (path.startsWith('/api/observability/')) route = routes.rest;
    if (!route) {
      // On the Connect paths a POST takes only types a browser must ask about first (a preflight,
      // which this service does not answer; proxies that answer it for gRPC-Web forward Origin),
      // but a Connect GET (CaptureProfile, ExportMetrics...) is one an <img> can make.
      if ((req.method === 'GET' || req.method === 'HEAD') && origins.refuses(req, res)) return;
      drainUnreadBody(req, res);
      routes.connect(req, res);
      return;
    }
    if (origins.refuses(req, res)) return;
    Promise.resolve(route(req, res, url)).catch((error: unknown) => {
      logInternalError(`${req.method} ${path}`, error);
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ code: 'internal', message: 'internal error' }));
    });
  };
}

/**
 * A client that sent `Expect: 100-continue` holds its body back until it is invited. The invitation
 * goes out when a handler starts to read the body, so a request refused before that (too large by
 * its Content-Length, a wrong method or content type) is answered without the body being sent for
 * nothing; Node then closes the connection, which has the unsent body still owed on it.
 */
function continueWhenRead(server: Server) {
  return (req: IncomingMessage, res: ServerResponse): void => {
    const read = req._read;
    req._read = function (this: IncomingMessage, size: number) {
      req._read = read;
      if (!res.headersSent) res.writeContinue();
      return read.call(this, size);
    };
    // The request then goes the way of every other, past the front door's bookkeeping too.
    server.emit('request', req, res);
  };
}

/**
 * CONNECT asks for a tunnel, which only a proxy makes: it is answered 501 (RFC 9110 9.1) rather than
 * with the bare close Node gives it when nothing listens for it.
 */
function refuseConnect(req: IncomingMessage, socket: Duplex): void {
  const text = JSON.stringify({ code: 'unimplemented', message: `CONNECT ${clip(req.url ?? '')}: this server is not a proxy, and makes no tunnels` });
  socket.end(
    `HTTP/1.1 501 Not Implemented\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(text)}\r\nconnection: close\r\n\r\n${text}`,
    () => socket.destroy(),
  );
}

/** The HTTP/1.1 server of the port (the front door hands it its connections). */
export function createHttp1Server(routes: Http1Routes, origins: OriginPolicy): Server {
  const server = createServer(http1Handler(routes, origins));
  server.on('checkContinue', continueWhenRead(server));
  server.on('connect', refuseConnect);
  return server;
}
