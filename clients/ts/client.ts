/**
 * A typed client for the five rs3gw-observability services, over native gRPC (HTTP/2), the
 * Connect protocol or gRPC-Web (HTTP/1.1). The service descriptors are the generated ones in gen/ts.
 */
import { createClient, type Client, type Interceptor, type Transport } from '@connectrpc/connect';
import { createConnectTransport, createGrpcTransport, createGrpcWebTransport } from '@connectrpc/connect-node';
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

/** The server speaks gRPC on HTTP/2 cleartext connections and Connect/gRPC-Web on HTTP/1.1 ones. */
export function createTransport(baseUrl: string, options: ClientOptions = {}): Transport {
  const interceptors = options.interceptors ?? [];
  switch (options.protocol ?? 'grpc') {
    case 'grpc':
      return createGrpcTransport({ baseUrl, interceptors });
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
