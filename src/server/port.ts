/**
 * Everything one port serves, assembled: the call pipeline shared by every protocol, grpc-js for
 * native gRPC (with reflection and health), Connect/gRPC-Web and REST over HTTP/1.1, /metrics
 * and /debug/pprof. Shutdown drains: streams end cleanly, then connections close.
 */
import { connectNodeAdapter } from '@connectrpc/connect-node';
import type { Tracer } from '@opentelemetry/api';
import { setMaxListeners } from 'node:events';
import type { ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { HealthCheckResponse_ServingStatus } from '../../gen/ts/grpc/health/v1/health_pb.js';
import * as reflectionV1 from '../../gen/ts/grpc/reflection/v1/reflection_pb.js';
import * as reflectionV1alpha from '../../gen/ts/grpc/reflection/v1alpha/reflection_pb.js';
import { grpcWebText } from './connect/grpc-web-text.js';
import { withHandlerSteps } from './connect/handler-steps.js';
import { deadlines, explainUnsupportedContentType, ignoreGetContentType } from './connect/request-headers.js';
import { REQUEST_COMPRESSIONS, requestMessages } from './connect/request-messages.js';
import { refuseWrongMethod } from './connect/request-method.js';
import { connectRoutes, requestSlot, withRequestSlot } from './connect/routes.js';
import { FrontDoor, type ConnectionCut, type ConnectionLimits } from './front-door.js';
import { SendTimeout } from './send-timeout.js';
import { DescriptorIndex } from './grpc/descriptor-index.js';
import { createGrpcSide, type GrpcSide } from './grpc/server.js';
import { headersOf } from './http/headers.js';
import { pprofRoutes, type ProfileInvoker } from './http/pprof-routes.js';
import { OriginPolicy } from './http/origin.js';
import { createHttp1Server, type HttpRoute } from './http/router.js';
import { ProfilingService, type CaptureProfileResponse } from '../../gen/ts/rs3gw/observability/v1/profiling_pb.js';
import type { ServiceBinding } from './pipeline/handlers.js';
import { CallPipeline, type CallObserver } from './pipeline/invoke.js';
import { clip } from './pipeline/well-known.js';
import { writeError } from './rest/response.js';
import { createRestHandler } from './rest/handler.js';
import { RestRoutes } from './rest/routes.js';
import { healthBinding, HealthStatuses, type WatcherLimit } from './services/grpc-health.js';
import type { AnswerBudget } from './unsent-budget.js';

export interface PortOptions {
  bindings: readonly ServiceBinding[];
  tracer: Tracer;
  /** Longest span attribute taken from a client's request (REST url.path, url.query); Infinity leaves them to OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT. */
  clientAttributeMaxChars: number;
  observeCall: CallObserver;
  maxMessageBytes: number;
  metrics: HttpRoute;
  connectionLimits: ConnectionLimits;
  /** A connection or HTTP/2 stream whose client takes none of its waiting answer for this long is given up. */
  sendTimeoutMs: number;
  /** How long an HTTP/2 connection with no call in progress stays open. */
  grpcIdleMs: number;
  /** Concurrent HTTP/2 streams per connection at most. */
  maxStreamsPerConnection: number;
  /** Web origins whose pages may change state, beside the service's own (RS3GW_ALLOWED_ORIGINS). */
  allowedOrigins: readonly string[];
  /** Longest CPU profile a request may ask for (RS3GW_PROFILING_MAX_SECONDS), which /debug/pprof refuses beyond. */
  maxProfileSeconds: number;
  /** Concurrent grpc.health.v1 Watch streams at most, and the setting that raises it. */
  healthWatchers: WatcherLimit;
  /** Judges every answer, on every protocol, before it is handed to its connection (RS3GW_MAX_UNSENT_BYTES). */
  unsent: AnswerBudget;
}

/** /debug/pprof answers through ProfilingService.CaptureProfile, like any REST call (and is counted and traced as it). */
function profileInvoker(bindings: readonly ServiceBinding[], pipeline: CallPipeline, unsent: AnswerBudget): ProfileInvoker {
  const binding = bindings.find((b) => b.service.typeName === ProfilingService.typeName);
  if (!binding) throw new Error('the ProfilingService binding is required for /debug/pprof');
  const method = ProfilingService.method.captureProfile;
  return async (readRequest, req, signal) =>
    (await pipeline.unary(binding, method, readRequest, {
      protocol: 'rest',
      method,
      requestHeaders: headersOf(req),
      signal,
      // What /debug/pprof sends is the profile's bytes.
      render: (response) => unsent.answer(method.name, (response as CaptureProfileResponse).pprof?.data.length ?? 0),
    })) as CaptureProfileResponse;
}

export class ServicePort {
  private readonly shutdownController = new AbortController();
  private readonly health: HealthStatuses;
  private readonly grpc: GrpcSide;
  private readonly door: FrontDoor;
  private readonly http1;

  constructor(options: PortOptions) {
    // Every open stream (WatchAnomalies, health Watch) and call listens for shutdown, and thousands
    // may be open at once: Node's warning of a listener leak from the 11th would be a false alarm.
    setMaxListeners(0, this.shutdownController.signal);
    const pipeline = new CallPipeline(options.tracer, options.observeCall, this.shutdownController.signal);
    const sendTimeout = new SendTimeout(options.sendTimeoutMs, () => this.door.countSendTimeout());
    this.health = new HealthStatuses(options.bindings.map((b) => b.service.typeName), options.healthWatchers);
    const bindings = [...options.bindings, healthBinding(this.health)];
    const index = new DescriptorIndex([...bindings.map((b) => b.service.file), reflectionV1.file_grpc_reflection_v1_reflection, reflectionV1alpha.file_grpc_reflection_v1alpha_reflection]);
    this.grpc = createGrpcSide({
      bindings,
      pipeline,
      index,
      maxReceiveMessageBytes: options.maxMessageBytes,
      idleMs: options.grpcIdleMs,
      requestMs: options.connectionLimits.requestMs,
      maxStreamsPerConnection: options.maxStreamsPerConnection,
      sendTimeout,
      unsent: options.unsent,
    });
    const connectAdapter = connectNodeAdapter({
      // Outermost first: a wrong method is refused with a body saying what is allowed, a 415 is
      // explained naming the content type as sent (before text mode renames it), deadlines are
      // capped, gRPC-Web text is decoded to binary, whose message the pipeline decodes.
      routes: withHandlerSteps(connectRoutes(bindings, pipeline, options.unsent), [refuseWrongMethod, ignoreGetContentType, explainUnsupportedContentType, deadlines(requestSlot), grpcWebText, requestMessages(requestSlot, options.maxMessageBytes)]),
      readMaxBytes: options.maxMessageBytes,
      acceptCompression: [...REQUEST_COMPRESSIONS],
      // Connect ignores unknown JSON fields and enum names by default; a typo would then be lost
      // without a word, so they are errors here as on the REST paths.
      jsonOptions: { ignoreUnknownFields: false },
      fallback: (req, res) => writeError(res as ServerResponse, 404, 'not_found', `no route for ${req.method} ${clip(req.url ?? '')}`),
    });
    const connect = withRequestSlot(connectAdapter);
    const rest = createRestHandler(new RestRoutes(options.bindings), pipeline, options.maxMessageBytes, options.clientAttributeMaxChars, options.unsent);
    const pprof = pprofRoutes(profileInvoker(options.bindings, pipeline, options.unsent), options.maxProfileSeconds);
    this.http1 = createHttp1Server({ metrics: options.metrics, pprof, rest, connect }, new OriginPolicy(options.allowedOrigins));
    this.http1.keepAliveTimeout = 65_000;
    this.door = new FrontDoor(this.http1, this.grpc.injector, options.connectionLimits, sendTimeout);
  }

  /** grpc.health.v1 Watch streams open. */
  get healthWatchers(): number {
    return this.health.watcherCount;
  }

  listen(host: string, port: number): Promise<AddressInfo> {
    return this.door.listen(host, port);
  }

  /** Connections open now, and refused or closed for what their clients did since start-up. */
  connections(): { open: number; closed: Readonly<Record<ConnectionCut, number>> } {
    return { open: this.door.openConnections, closed: this.door.closedConnections };
  }

  /** Bytes of answers handed to connections and streams that their clients have not yet taken. */
  unsentBytes(): number {
    return this.door.unsentBytes() + this.grpc.streams.unsentBytes();
  }

  /** Health turns NOT_SERVING, streams end, running calls get graceMs to finish, then all closes. */
  async shutdown(graceMs: number): Promise<void> {
    const stopped = this.door.stopAccepting();
    this.health.setAll(HealthCheckResponse_ServingStatus.NOT_SERVING);
    await new Promise((resolve) => setImmediate(resolve)); // let Watch streams send NOT_SERVING
    this.shutdownController.abort();
    this.door.closeIdleHttp1();
    // One grace for both sides, on the monotonic clock: a step of the wall clock during the drain
    // must neither stretch it nor cut it short.
    const deadline = performance.now() + graceMs;
    await this.grpc.shutdown(graceMs, () => this.door.openConnections);
    while (this.door.openConnections > 0 && performance.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
    this.door.destroyAll();
    await stopped;
  }
}
