/** The HTTP/1.1 side of the port: /metrics, /debug/pprof, REST, and Connect/gRPC-Web for the rest. */
import type { IncomingMessage, ServerResponse } from 'node:http';

export type HttpRoute = (req: IncomingMessage, res: ServerResponse, url: URL) => Promise<void> | void;

export function createHttp1Handler(routes: {
  metrics: HttpRoute;
  pprof: HttpRoute;
  rest: HttpRoute;
  connect: (req: IncomingMessage, res: ServerResponse) => void;
}) {
  return (req: IncomingMessage, res: ServerResponse): void => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const path = url.pathname;
    let route: HttpRoute | undefined;
    if (path === '/metrics') route = routes.metrics;
    else if (path === '/debug/pprof' || path.startsWith('/debug/pprof/')) route = routes.pprof;
    else if (path.startsWith('/api/observability/')) route = routes.rest;
    if (!route) {
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
