/**
 * A typed client for the five rs3gw-observability services, over native gRPC (HTTP/2), the
 * Connect protocol or gRPC-Web (HTTP/1.1). The service descriptors are the generated ones in gen/ts.
 */
import { Code, ConnectError, createClient, type Client, type Interceptor, type Transport } from '@connectrpc/connect';
import { createConnectTransport, createGrpcTransport, createGrpcWebTransport, Http2SessionManager } from '@connectrpc/connect-node';
import { constants as http2Constants, type ClientHttp2Stream, type ClientSessionRequestOptions, type OutgoingHttpHeaders } from 'node:http2';
import { AnomalyService } from '../../gen/ts/rs3gw/observability/v1/anomaly_pb.js';
import { HealthReportService } from '../../gen/ts/rs3gw/observability/v1/health_report_pb.js';
import { MetricsService } from '../../gen/ts/rs3gw/observability/v1/metrics_pb.js';
import { ProfilingService } from '../../gen/ts/rs3gw/observability/v1/profiling_pb.js';
import { ResourceService } from '../../gen/ts/rs3gw/observability/v1/resource_pb.js';

export type Protocol = 'grpc' | 'connect' | 'grpc-web';

export interface ClientOptions {
  /** Wire protocol; gRPC by default. */
  protocol?: Protocol;
  /** Connect protocol only: send side-effect-free calls as cacheable HTTP GETs. */
  useHttpGet?: boolean;
  /** Connect protocol only: JSON instead of binary Protobuf. */
  json?: boolean;
  interceptors?: Interceptor[];
}

export interface ObservabilityClient {
  profiling: Client<typeof ProfilingService>;
  metrics: Client<typeof MetricsService>;
  anomalies: Client<typeof AnomalyService>;
  resources: Client<typeof ResourceService>;
  health: Client<typeof HealthReportService>;
  transport: Transport;
}

/**
 * connect-node's HTTP/2 session manager, releasing each stream once its response is complete.
 *
 * connect-node 2.1 stops writing a request body when the response ends before it (a server may
 * answer early, as ours does with RESOURCE_EXHAUSTED to a message over RS3GW_MAX_MESSAGE_BYTES),
 * but it neither ends nor resets the HTTP/2 stream. The stream stays open on the client's side, the
 * manager counts it as in use and keeps the connection ref()'d: the process never exits, and
 * idleConnectionTimeoutMs does not apply, as the connection is not idle. Here such a stream is
 * closed with RST_STREAM(NO_ERROR), as RFC 9113 §8.1 has it for a request whose answer is complete;
 * the call's outcome is the server's answer, as before. Pass one as `sessionManager` to
 * createGrpcTransport (or createConnectTransport/createGrpcWebTransport with httpVersion '2').
 */
export class ReleasingHttp2SessionManager extends Http2SessionManager {
  override async request(method: string, path: string, headers: OutgoingHttpHeaders, options: Omit<ClientSessionRequestOptions, 'signal'>): Promise<ClientHttp2Stream> {
    const stream = await super.request(method, path, headers, options);
    stream.once('end', () => {
      if (!stream.writableEnded && !stream.closed) stream.close(http2Constants.NGHTTP2_NO_ERROR);
    });
    return stream;
  }
}

/**
 * Reports a connection that broke mid-call as `unavailable`, the code reconnect logic keys on.
 *
 * When the server dies mid-call (killed, not drained), connect-node reports the broken connection
 * as `canceled` over gRPC (the HTTP/2 stream was reset with CANCEL) and as `aborted` over Connect
 * and gRPC-Web (the HTTP/1.1 response ended early). Our server never answers `aborted`, and answers
 * `canceled` only to a call the client cancelled; so either code on a call whose signal is not
 * aborted (the caller neither cancelled it nor let its deadline pass) can only be the broken
 * connection. The message is kept, and the original error is the new one's cause.
 */
export const brokenConnectionAsUnavailable: Interceptor = (next) => async (req) => {
  const translate = (error: unknown): unknown => {
    if (req.signal.aborted || !(error instanceof ConnectError)) return error;
    if (error.code !== Code.Canceled && error.code !== Code.Aborted) return error;
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

/** The server speaks gRPC on HTTP/2 cleartext connections and Connect/gRPC-Web on HTTP/1.1 ones. */
export function createTransport(baseUrl: string, options: ClientOptions = {}): Transport {
  // Last, so that it sits nearest the wire and the caller's interceptors (a retry, say) see
  // `unavailable` too.
  const interceptors = [...(options.interceptors ?? []), brokenConnectionAsUnavailable];
  switch (options.protocol ?? 'grpc') {
    case 'grpc':
      return createGrpcTransport({ baseUrl, interceptors, sessionManager: new ReleasingHttp2SessionManager(baseUrl) });
    case 'grpc-web':
      return createGrpcWebTransport({ baseUrl, httpVersion: '1.1', interceptors });
    case 'connect':
      return createConnectTransport({
        baseUrl,
        httpVersion: '1.1',
        useBinaryFormat: !options.json,
        useHttpGet: options.useHttpGet ?? false,
        interceptors,
      });
    default:
      // Callers from plain JavaScript, or a protocol read from a command line, get past the type.
      throw new Error(`unknown protocol ${JSON.stringify(options.protocol)} (want "grpc", "grpc-web" or "connect")`);
  }
}

export function createObservabilityClient(baseUrl: string, options: ClientOptions = {}): ObservabilityClient {
  const transport = createTransport(baseUrl, options);
  return {
    profiling: createClient(ProfilingService, transport),
    metrics: createClient(MetricsService, transport),
    anomalies: createClient(AnomalyService, transport),
    resources: createClient(ResourceService, transport),
    health: createClient(HealthReportService, transport),
    transport,
  };
}
