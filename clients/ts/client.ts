/**
 * A typed client for the five rs3gw-observability services, over native gRPC (HTTP/2), the
 * Connect protocol or gRPC-Web (HTTP/1.1). The service descriptors are the generated ones in gen/ts.
 */
import { Agent as HttpAgent } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import { createSecureContext, type ConnectionOptions as TlsOptions } from 'node:tls';
import { Code, ConnectError, createClient, type Client, type Interceptor, type Transport } from '@connectrpc/connect';
import { createConnectTransport, createGrpcTransport, createGrpcWebTransport } from '@connectrpc/connect-node';
import { AnomalyService } from '../../gen/ts/rs3gw/observability/v1/anomaly_pb.js';
import { HealthReportService } from '../../gen/ts/rs3gw/observability/v1/health_report_pb.js';
import { MetricsService } from '../../gen/ts/rs3gw/observability/v1/metrics_pb.js';
import { ProfilingService } from '../../gen/ts/rs3gw/observability/v1/profiling_pb.js';
import { ResourceService } from '../../gen/ts/rs3gw/observability/v1/resource_pb.js';
import { baseUrlCredentials } from './base-url-credentials.js';
import { cancelStreamsOnReturn } from './cancel-streams-on-return.js';
import { checkCa } from './check-ca.js';
import { clampLongTimeouts, LONGEST_GRPC_TIMEOUT_MS, LONGEST_TIMER_MS } from './long-timeouts.js';
import { Http2SessionPool } from './http2-sessions.js';
import { refusedStream, retryRefusedStreams } from './refused-stream-retry.js';

export { Http2SessionPool, ReleasingHttp2SessionManager } from './http2-sessions.js';
export { retryRefusedStreams } from './refused-stream-retry.js';

export type Protocol = 'grpc' | 'connect' | 'grpc-web';

export interface ClientOptions {
  /** Wire protocol; gRPC by default. */
  protocol?: Protocol;
  /** Connect protocol only: send side-effect-free calls as cacheable HTTP GETs. */
  useHttpGet?: boolean;
  /** Connect protocol only: JSON instead of binary Protobuf. */
  json?: boolean;
  interceptors?: Interceptor[];
  /**
   * https:// base URLs only: TLS options as Node's tls.connect takes them, such as a private CA
   * (`ca`), a client certificate (`cert`, `key`) or the server name to verify (`servername`).
   * Without them the system's CAs verify the server.
   */
  tls?: TlsOptions;
}

export interface ObservabilityClient {
  profiling: Client<typeof ProfilingService>;
  metrics: Client<typeof MetricsService>;
  anomalies: Client<typeof AnomalyService>;
  resources: Client<typeof ResourceService>;
  health: Client<typeof HealthReportService>;
  transport: Transport;
  /**
   * Closes the client's connections: calls in progress fail (`unavailable`, as a broken
   * connection), later calls fail `canceled` ("the client is closed"). Cancel streams first for a
   * clean end. Without it, a client's connections stay open until they have been idle for the
   * server's or connect-node's idle timeout.
   */
  close(): void;
}

/**
 * Reports a connection that broke mid-call as `unavailable`, the code reconnect logic keys on.
 *
 * When the server dies mid-call (killed, not drained), connect-node reports the broken connection
 * as `canceled` over gRPC (the HTTP/2 stream was reset with CANCEL) and as `aborted` over Connect
 * and gRPC-Web (the HTTP/1.1 response ended early). Our server never answers `aborted`, and answers
 * `canceled` only to a call the client cancelled; so either code on a call whose signal is not
 * aborted (the caller neither cancelled it nor let its deadline pass) can only be the broken
 * connection. So is a request written to a connection the server had just closed (EPIPE, which
 * connect-node reports as `internal`), a call on an HTTP/2 connection the server closed with an
 * error code (its shutdown grace ended), and a connection whose TLS set-up failed (an untrusted
 * certificate), which gRPC's clients, the Go client among them, report as `unavailable` as they do
 * a refused connection, and a stream Node reset on a connection it no longer trusts (calmedStream). The message is kept, and the original error is the new one's cause.
 */
export const brokenConnectionAsUnavailable: Interceptor = (next) => async (req) => {
  const translate = (error: unknown): unknown => {
    if (req.signal.aborted || !(error instanceof ConnectError)) return error;
    if (error.code !== Code.Canceled && error.code !== Code.Aborted && !refusedStream(error) && !closedSocket(error) && !closedSession(error) && !tlsFailure(error) && !calmedStream(error)) return error;
    const unavailable = new ConnectError(error.rawMessage, Code.Unavailable, error.metadata, undefined, error);
    unavailable.details = error.details;
    return unavailable;
  };
  let res;
  try {
    res = await next(req);
  } catch (error) {
    throw translate(error);
  }
  if (!res.stream) return res;
  // A server stream's errors surface while its messages are read.
  const messages = res.message;
  return {
    ...res,
    message: (async function* () {
      try {
        yield* messages;
      } catch (error) {
        throw translate(error);
      }
    })(),
  };
};

/**
 * A call on an HTTP/2 connection the server closed with an error code (GOAWAY: CANCEL as its
 * shutdown grace ends and it cuts off the calls still running), which connect-node reports as
 * `internal` ("Session closed with error code 8"): the connection broke under the call.
 */
function closedSession(error: ConnectError): boolean {
  return error.code === Code.Internal && /^Session closed with error code \d+$/.test(error.rawMessage);
}

/**
 * A stream reset with ENHANCE_YOUR_CALM, which Node does on a connection whose session memory an
 * early-answered request body used up (ReleasingHttp2SessionManager retires the connection): the
 * connection broke under the call, which connect-node reports as `internal`.
 */
function calmedStream(error: ConnectError): boolean {
  return error.code === Code.Internal && error.rawMessage === 'Stream closed with error code NGHTTP2_ENHANCE_YOUR_CALM';
}

/** OpenSSL's certificate verification failures, as Node names them (tls: X509 certificate error codes). */
const X509_ERRORS = new Set([
  'UNABLE_TO_GET_ISSUER_CERT', 'UNABLE_TO_GET_CRL', 'UNABLE_TO_DECRYPT_CERT_SIGNATURE', 'UNABLE_TO_DECRYPT_CRL_SIGNATURE',
  'UNABLE_TO_DECODE_ISSUER_PUBLIC_KEY', 'CERT_SIGNATURE_FAILURE', 'CRL_SIGNATURE_FAILURE', 'CERT_NOT_YET_VALID', 'CERT_HAS_EXPIRED',
  'CRL_NOT_YET_VALID', 'CRL_HAS_EXPIRED', 'ERROR_IN_CERT_NOT_BEFORE_FIELD', 'ERROR_IN_CERT_NOT_AFTER_FIELD', 'ERROR_IN_CRL_LAST_UPDATE_FIELD',
  'ERROR_IN_CRL_NEXT_UPDATE_FIELD', 'DEPTH_ZERO_SELF_SIGNED_CERT', 'SELF_SIGNED_CERT_IN_CHAIN', 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'CERT_CHAIN_TOO_LONG', 'CERT_REVOKED', 'INVALID_CA', 'PATH_LENGTH_EXCEEDED', 'INVALID_PURPOSE',
  'CERT_UNTRUSTED', 'CERT_REJECTED', 'HOSTNAME_MISMATCH',
]);

/**
 * A connection whose TLS set-up failed: the server's certificate not trusted or not for this host,
 * or the handshake refused, which connect-node reports as `internal`.
 */
function tlsFailure(error: ConnectError): boolean {
  // EPROTO: the other end spoke no TLS (an https:// URL for a cleartext port).
  return error.code === Code.Internal && causedBy(error, (code) => X509_ERRORS.has(code) || code.startsWith('ERR_TLS_') || code.startsWith('ERR_SSL_') || code === 'EPROTO');
}

/**
 * A request written to a connection the server had closed (EPIPE: a kept-alive HTTP/1.1 connection
 * that a draining or stopped server ended just before the call), which connect-node reports as
 * `internal`: the server never read it, so it is safe to retry, `unavailable`.
 */
function closedSocket(error: ConnectError): boolean {
  return error.code === Code.Internal && causedBy(error, (code) => code === 'EPIPE');
}

/** Whether a Node error code among the error's causes (at most 8 deep) is one `matches` takes. */
function causedBy(error: Error, matches: (code: string) => boolean): boolean {
  for (let e: unknown = error.cause, depth = 0; e instanceof Error && depth < 8; e = e.cause, depth++) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code !== undefined && matches(code)) return true;
  }
  return false;
}

/**
 * The server speaks gRPC on HTTP/2 cleartext connections and Connect/gRPC-Web on HTTP/1.1 ones.
 * The transport has connections of its own; `close()` ends them, as ObservabilityClient's does.
 */
export function createTransport(baseUrl: string, options: ClientOptions = {}): Transport & { close(): void } {
  const { transport, close } = closableTransport(baseUrl, options);
  return Object.assign(transport, { close });
}

/**
 * Refuses a base URL the generated clients cannot use, as the Go client's New does: they append
 * "/package.Service/Method" to it as a string, so the method's path would land in a query or
 * fragment, and a missing scheme or host failed only at the first call, with a misleading code.
 */
function checkBaseUrl(baseUrl: string): void {
  const want = 'want http://host[:port][/path] or https://host[:port][/path]';
  if (!baseUrl.includes('://')) throw new Error(`base URL ${JSON.stringify(baseUrl)} has no scheme; ${want}`);
  // WHATWG URLs forgive what the appended method path does not (trailing spaces end up in the
  // request's URL, a backslash reads as a slash); Go's url.Parse refuses both.
  if (/[\s\\]/.test(baseUrl)) {
    throw new Error(`base URL ${JSON.stringify(baseUrl)} has white space or a backslash; ${want}`);
  }
  let url: URL;
  try {
    url = new URL(baseUrl);
  } catch {
    throw new Error(`base URL ${JSON.stringify(baseUrl)} is not a URL; ${want}`);
  }
  const refuse = (problem: string): never => {
    throw new Error(`base URL ${JSON.stringify(baseUrl)} ${problem}; ${want}`);
  };
  if (url.protocol !== 'http:' && url.protocol !== 'https:') refuse(`uses scheme ${JSON.stringify(url.protocol.slice(0, -1))}, not http or https`);
  // WHATWG URLs skip slashes after http:, so "http:///x" would name a host "x" (Go's has none).
  if (url.hostname === '' || /^[^:]*:\/\/[/\\]/.test(baseUrl)) refuse('has no host');
  if (url.port === '0') refuse('has port "0", which is not from 1 to 65535');
  if (/%(?![0-9A-Fa-f]{2})/.test(baseUrl)) refuse("has a % that is no escape (two hex digits after it)");
  try {
    decodeURIComponent(url.username);
    decodeURIComponent(url.password);
  } catch {
    // Node's http.request would throw it at every call over Connect and gRPC-Web.
    refuse('has credentials whose escapes are not UTF-8 (user:password before the host)');
  }
  if (baseUrl.includes('?')) refuse("has a query (?...), to which the method's path would be appended");
  if (baseUrl.includes('#')) refuse("has a fragment (#...), to which the method's path would be appended");
}

/** A transport and what closes its connections. */
function closableTransport(baseUrl: string, options: ClientOptions): { transport: Transport; close(): void } {
  checkBaseUrl(baseUrl);
  const https = new URL(baseUrl).protocol === 'https:';
  if (options.tls !== undefined && !https) {
    throw new Error(`tls options given for base URL ${JSON.stringify(baseUrl)}, which is not https://`);
  }
  // A certificate, key or CA that does not parse, or a TLS version that does not exist, is the caller's
  // mistake: said here once, not at every call with a code (sometimes `unavailable`) that invites retries.
  if (options.tls !== undefined) {
    try {
      createSecureContext(options.tls);
      checkCa(options.tls.ca);
    } catch (error) {
      throw new Error(`tls options: ${(error as Error).message}`);
    }
  }
  let closed = false;
  const refuseWhenClosed: Interceptor = (next) => (req) => {
    if (closed) throw new ConnectError('the client is closed', Code.Canceled);
    return next(req);
  };
  // Last, so that they sit nearest the wire and the caller's interceptors (a retry, say) see
  // `unavailable` and the closed client too.
  const interceptors = [...(options.interceptors ?? []), refuseWhenClosed, brokenConnectionAsUnavailable];
  const protocol = options.protocol ?? 'grpc';
  const longestTimeoutMs = protocol === 'connect' ? LONGEST_TIMER_MS : LONGEST_GRPC_TIMEOUT_MS;
  // Options of the Connect protocol, given for another, would be dropped without a word.
  for (const name of ['json', 'useHttpGet'] as const) {
    if (options[name] !== undefined && protocol !== 'connect') throw new Error(`option ${name} is for the Connect protocol only, not ${JSON.stringify(protocol)}`);
  }
  if (protocol === 'grpc') {
    const sessions = new Http2SessionPool(baseUrl, options.tls);
    const credentials = baseUrlCredentials(baseUrl);
    // Over HTTP/2 only, where a stream can be refused: a call the server refused unprocessed is
    // retried before anything else sees it, and reported `unavailable` only when the retries run out.
    const grpcInterceptors = [...interceptors, ...(credentials ? [credentials] : []), retryRefusedStreams];
    const transport = createGrpcTransport({ baseUrl, interceptors: grpcInterceptors, sessionManager: sessions });
    return { transport: clampLongTimeouts(transport, longestTimeoutMs), close: () => ((closed = true), sessions.close()) };
  }
  if (protocol !== 'grpc-web' && protocol !== 'connect') {
    // Callers from plain JavaScript, or a protocol read from a command line, get past the type.
    throw new Error(`unknown protocol ${JSON.stringify(options.protocol)} (want "grpc", "grpc-web" or "connect")`);
  }
  // An agent of the client's own, not Node's global one, so that close() ends its connections only.
  const agent = https ? new HttpsAgent({ ...options.tls, keepAlive: true }) : new HttpAgent({ keepAlive: true });
  const transport =
    protocol === 'grpc-web'
      ? createGrpcWebTransport({ baseUrl, httpVersion: '1.1', interceptors, nodeOptions: { agent } })
      : createConnectTransport({
          baseUrl,
          httpVersion: '1.1',
          useBinaryFormat: !options.json,
          useHttpGet: options.useHttpGet ?? false,
          interceptors,
          nodeOptions: { agent },
        });
  return { transport: clampLongTimeouts(transport, longestTimeoutMs), close: () => ((closed = true), agent.destroy()) };
}

export function createObservabilityClient(baseUrl: string, options: ClientOptions = {}): ObservabilityClient {
  const { transport, close } = closableTransport(baseUrl, options);
  return {
    profiling: cancelStreamsOnReturn(ProfilingService, createClient(ProfilingService, transport)),
    metrics: cancelStreamsOnReturn(MetricsService, createClient(MetricsService, transport)),
    anomalies: cancelStreamsOnReturn(AnomalyService, createClient(AnomalyService, transport)),
    resources: cancelStreamsOnReturn(ResourceService, createClient(ResourceService, transport)),
    health: cancelStreamsOnReturn(HealthReportService, createClient(HealthReportService, transport)),
    transport,
    close,
  };
}
