/** GET /metrics: every metric of the service, in OpenMetrics when the scraper asks for it. */
import type { MetricsEngine } from '../../core/metrics/index.js';
import type { CallObserver } from '../pipeline/invoke.js';
import type { HttpRoute } from './router.js';

export function metricsEndpoint(metrics: MetricsEngine): HttpRoute {
  return async (req, res) => {
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD', 'content-type': 'text/plain' });
      res.end('use GET\n');
      return;
    }
    const openMetrics = /application\/openmetrics-text/.test(req.headers.accept ?? '');
    const { contentType, body } = await metrics.scrape(openMetrics);
    res.writeHead(200, { 'content-type': contentType, 'content-length': Buffer.byteLength(body) });
    res.end(req.method === 'HEAD' ? undefined : body);
  };
}

/** RPC duration by service, method, protocol and code, for every observed call on every protocol. */
export function rpcMetrics(metrics: MetricsEngine): CallObserver {
  const histogram = metrics.builtin.histogram({
    name: 'rs3gw_rpc_server_duration_seconds',
    help: 'Duration of RPCs served, by service, method, protocol (grpc, grpc-web, connect, rest) and code',
    labelNames: ['service', 'method', 'protocol', 'code'],
    buckets: [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
  });
  return (call) =>
    histogram.observe({ service: call.service, method: call.method, protocol: call.protocol, code: call.code }, call.seconds);
}
