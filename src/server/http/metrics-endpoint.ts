/** GET /metrics: every metric of the service, in OpenMetrics when the scraper asks for it. */
import type { MetricsEngine } from '../../core/metrics/index.js';
import type { CallObserver } from '../pipeline/invoke.js';
import { quote } from '../pipeline/well-known.js';
import { writeError } from '../rest/response.js';
import type { HttpRoute } from './router.js';

const TEXT = 'text/plain';
const OPENMETRICS = 'application/openmetrics-text';

/** `text` split at each `separator` that is not inside a quoted string. */
function splitOutsideQuotes(text: string, separator: string): string[] {
  const parts: string[] = [];
  let start = 0;
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quoted && c === '\\') i++;
    else if (c === '"') quoted = !quoted;
    else if (!quoted && c === separator) {
      parts.push(text.slice(start, i));
      start = i + 1;
    }
  }
  parts.push(text.slice(start));
  return parts;
}

interface MediaRange {
  /** Lower case, `*` for a wildcard. */
  type: string;
  subtype: string;
  q: number;
}

/**
 * The media ranges of an Accept header (RFC 9110 12.5.1), names in lower case as they compare, or
 * the reason it cannot be read. Parameters other than q are not compared: both versions of
 * OpenMetrics that scrapers ask for are read by the same parsers. A lone `*` is the full wildcard,
 * as Java's HTTP client sends it.
 */
function mediaRanges(accept: string): MediaRange[] | string {
  const ranges: MediaRange[] = [];
  for (const element of splitOutsideQuotes(accept, ',')) {
    const [name = '', ...params] = splitOutsideQuotes(element, ';').map((s) => s.trim());
    const [type, subtype] = name === '*' ? ['*', '*'] : name.toLowerCase().split('/');
    if (type === undefined || subtype === undefined) continue; // names no media type
    let q = 1;
    for (const param of params) {
      const eq = param.indexOf('=');
      if (eq < 0 || param.slice(0, eq).trim().toLowerCase() !== 'q') continue;
      const raw = param.slice(eq + 1).trim();
      q = /^(\d+(\.\d*)?|\.\d+)$/.test(raw) ? Number(raw) : NaN;
      if (!(q >= 0 && q <= 1)) return `accept: a q-value is a number from 0 to 1, got ${quote(raw, "'")}`;
      break; // what follows q are extensions, not media type parameters
    }
    ranges.push({ type, subtype, q });
  }
  return ranges;
}

/**
 * How much the client wants a media type: the q of the most specific range that matches it (the
 * type itself, then type/*, then the full wildcard), with that specificity (2, 1, 0); undefined
 * when no range matches.
 */
function preference(ranges: MediaRange[], mediaType: string): { q: number; specificity: number } | undefined {
  const [type, subtype] = mediaType.split('/');
  let best: { q: number; specificity: number } | undefined;
  for (const r of ranges) {
    const specificity = r.type === type && r.subtype === subtype ? 2 : r.type === type && r.subtype === '*' ? 1 : r.type === '*' && r.subtype === '*' ? 0 : -1;
    if (specificity < 0) continue;
    // Of equally specific ranges (the same type with other parameters) the most favourable counts.
    if (!best || specificity > best.specificity || (specificity === best.specificity && r.q > best.q)) best = { q: r.q, specificity };
  }
  return best;
}

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

export function metricsEndpoint(metrics: MetricsEngine): HttpRoute {
  return async (req, res) => {
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      writeError(res, 405, 'unimplemented', `${req.method} is not allowed on /metrics; use GET or HEAD`, { allow: 'GET, HEAD' });
      return;
    }
    const negotiated = negotiate(req.headers.accept);
    if ('status' in negotiated) {
      writeError(res, negotiated.status, negotiated.status === 406 ? 'unimplemented' : 'invalid_argument', negotiated.message, { vary: 'accept' });
      return;
    }
    const { contentType, body } = await metrics.scrape(negotiated.openMetrics);
    res.writeHead(200, { 'content-type': contentType, 'content-length': Buffer.byteLength(body), vary: 'accept' });
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
