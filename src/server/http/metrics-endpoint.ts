/** GET /metrics: every metric of the service, in OpenMetrics when the scraper asks for it. */
import type { MetricsEngine } from '../../core/metrics/index.js';
import { ObservabilityError } from '../../core/errors.js';
import type { CallObserver } from '../pipeline/invoke.js';
import type { ConnectionCut } from '../front-door.js';
import type { UnsentBudget } from '../unsent-budget.js';
import { quote } from '../pipeline/well-known.js';
import { writeError } from '../rest/response.js';
import { mediaRanges, preference } from './accept.js';
import type { HttpRoute } from './router.js';

const TEXT = 'text/plain';
const OPENMETRICS = 'application/openmetrics-text';

type Negotiated = { openMetrics: boolean } | { status: number; message: string };

/**
 * The format a scraper's Accept asks for. The higher q wins, then the format named rather than
 * reached by a wildcard; a full tie, or no Accept, is the Prometheus text format, which every
 * Prometheus reads (and the default of its client libraries). q=0 is "not acceptable".
 */
function negotiate(accept: string | undefined): Negotiated {
  if (accept === undefined || accept.trim() === '') return { openMetrics: false };
  const ranges = mediaRanges(accept);
  if (typeof ranges === 'string') return { status: 400, message: ranges };
  const open = preference(ranges, OPENMETRICS);
  const text = preference(ranges, TEXT);
  const openOk = open !== undefined && open.q > 0;
  const textOk = text !== undefined && text.q > 0;
  if (openOk && textOk) return { openMetrics: open.q !== text.q ? open.q > text.q : open.specificity > text.specificity };
  if (openOk || textOk) return { openMetrics: openOk };
  return {
    status: 406,
    message: `accept: /metrics is ${TEXT} (Prometheus text 0.0.4) or ${OPENMETRICS} (OpenMetrics 1.0.0), and ${quote(accept, "'")} accepts neither`,
  };
}

/** The budget's refusal as a 503 (the Connect code of UNAVAILABLE), or rethrown. */
function refuse(res: Parameters<HttpRoute>[1], error: unknown): void {
  if (!(error instanceof ObservabilityError) || error.kind !== 'unavailable') throw error;
  writeError(res, 503, 'unavailable', error.message, { 'retry-after': '1' });
}

export function metricsEndpoint(metrics: MetricsEngine, unsent: UnsentBudget): HttpRoute {
  return async (req, res) => {
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      writeError(res, 405, 'unimplemented', `${req.method} is not allowed on /metrics; use GET or HEAD`, { allow: 'GET, HEAD' });
      return;
    }
    // Appended, not set: a listed page's request already varies by origin (http/origin.ts).
    res.appendHeader('vary', 'accept');
    const negotiated = negotiate(req.headers.accept);
    if ('status' in negotiated) {
      writeError(res, negotiated.status, negotiated.status === 406 ? 'unimplemented' : 'invalid_argument', negotiated.message);
      return;
    }
    // A scraper that gave up (its timeout) leaves a scrape of many series unfinished, not run for no one.
    const gone = new AbortController();
    res.once('close', () => gone.abort());
    // Refused before rendering when the last scrape would not fit in the unsent budget now.
    let ticket;
    try {
      ticket = unsent.check('scrape', '/metrics');
    } catch (error) {
      return refuse(res, error);
    }
    let scraped;
    try {
      scraped = await metrics.scrape(negotiated.openMetrics, gone.signal);
    } catch (error) {
      ticket.release();
      if (gone.signal.aborted) return;
      throw error;
    }
    const { contentType, body } = scraped;
    const bytes = Buffer.byteLength(body);
    try {
      if (req.method === 'HEAD') ticket.release();
      else ticket.admit(bytes);
    } catch (error) {
      return refuse(res, error);
    }
    res.writeHead(200, { 'content-type': contentType, 'content-length': bytes });
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

/** The port's connections: open now, and refused at the cap (which the log reports once a minute at most). */
export function connectionMetrics(
  metrics: MetricsEngine,
  port: { connections(): { open: number; closed: Readonly<Record<ConnectionCut, number>> } },
  unsent: UnsentBudget,
): void {
  metrics.builtin.gauge({
    name: 'rs3gw_connections_open',
    help: 'Connections open on the port, of every protocol',
    collect() {
      this.set(port.connections().open);
    },
  });
  metrics.builtin.counter({
    name: 'rs3gw_connections_refused_total',
    help: 'Connections closed as they arrived because RS3GW_MAX_CONNECTIONS were open',
    collect() {
      this.reset();
      this.inc(port.connections().closed.refused);
    },
  });
  metrics.builtin.counter({
    name: 'rs3gw_connections_closed_total',
    help: 'Connections closed for what their client did: pipelined (more than 1024 HTTP/1.1 requests waiting), send_timeout (none of a waiting answer taken for RS3GW_SEND_TIMEOUT; HTTP/2 streams reset for it included)',
    labelNames: ['reason'],
    collect() {
      this.reset();
      const { closed } = port.connections();
      this.inc({ reason: 'pipelined' }, closed.pipelined);
      this.inc({ reason: 'send_timeout' }, closed.send_timeout);
    },
  });
  metrics.builtin.gauge({
    name: 'rs3gw_unsent_response_bytes',
    help: 'Bytes of answers handed to connections that clients have not yet taken (at most RS3GW_MAX_UNSENT_BYTES before /metrics and ExportMetrics are refused)',
    collect() {
      // Not held(): that counts this very scrape's estimate, a floor the size of /metrics.
      this.set(unsent.unsent());
    },
  });
  metrics.builtin.counter({
    name: 'rs3gw_unsent_refusals_total',
    help: '/metrics scrapes and ExportMetrics calls refused because their answer would pass RS3GW_MAX_UNSENT_BYTES',
    collect() {
      this.reset();
      this.inc(unsent.refused);
    },
  });
}
