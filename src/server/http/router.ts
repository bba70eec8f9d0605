/** The HTTP/1.1 side of the port: /metrics, /debug/pprof, REST, and Connect/gRPC-Web for the rest. */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { quote } from '../pipeline/well-known.js';
import { writeError } from '../rest/response.js';

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
    const timer = setTimeout(() => req.complete || socket.destroy(), UNREAD_BODY_DRAIN_MS).unref();
    socket.once('close', () => clearTimeout(timer));
    req._dump?.();
    socket.resume();
  });
}

export function createHttp1Handler(routes: {
  metrics: HttpRoute;
  pprof: HttpRoute;
  rest: HttpRoute;
  connect: (req: IncomingMessage, res: ServerResponse) => void;
}) {
  return (req: IncomingMessage, res: ServerResponse): void => {
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
      drainUnreadBody(req, res);
      routes.connect(req, res);
      return;
    }
    Promise.resolve(route(req, res, url)).catch((error: unknown) => {
      console.error(`${req.method} ${path} failed:`, error);
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ code: 'internal', message: 'internal error' }));
    });
  };
}
