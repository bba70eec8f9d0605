/**
 * The native gRPC side of the port: a grpc-js server that is never bound to a port itself, but
 * receives the HTTP/2 connections the front door hands it, so gRPC calls skip the Connect layer.
 */
import * as grpc from '@grpc/grpc-js';
import type { ServiceBinding } from '../pipeline/handlers.js';
import type { CallPipeline } from '../pipeline/invoke.js';
import type { DescriptorIndex } from './descriptor-index.js';
import { addReflection } from './reflection.js';
import { grpcServiceOf } from './service-adapter.js';
import type { SendTimeout } from '../send-timeout.js';
import { refuseBadFrameFlags } from './frame-flags.js';
import { guardStreams, type GuardedStreams } from './stream-guard.js';
import type { AnswerBudget } from '../unsent-budget.js';

/** How often a drain checks whether every connection has closed. */
const SHUTDOWN_CHECK_MS = 20;

export interface GrpcSide {
  injector: grpc.ConnectionInjector;
  streams: GuardedStreams;
  /**
   * Stops accepting calls and waits up to graceMs for running ones, then closes connections; done
   * early once `openConnections()` (every connection of the port) is 0.
   */
  shutdown(graceMs: number, openConnections: () => number): Promise<void>;
}

export function createGrpcSide(options: {
  bindings: readonly ServiceBinding[];
  pipeline: CallPipeline;
  index: DescriptorIndex;
  maxReceiveMessageBytes: number;
  /** An HTTP/2 connection with no call for this long is closed (GOAWAY); grpc-js would keep it for ever. */
  idleMs: number;
  /** A request not in whole by then is answered DEADLINE_EXCEEDED; grpc-js would wait for ever. */
  requestMs: number;
  /** Concurrent streams per connection (SETTINGS_MAX_CONCURRENT_STREAMS); grpc-js sets no limit. */
  maxStreamsPerConnection: number;
  /** Resets a stream whose answer its client takes none of for this long. */
  sendTimeout: SendTimeout;
  /** Judges every answer before it is written (RS3GW_MAX_UNSENT_BYTES). */
  unsent: AnswerBudget;
}): GrpcSide {
  const server = new grpc.Server({
    'grpc.max_receive_message_length': options.maxReceiveMessageBytes,
    'grpc.max_send_message_length': -1,
    'grpc.keepalive_permit_without_calls': 1,
    'grpc.max_connection_idle_ms': Math.round(options.idleMs),
    'grpc.max_concurrent_streams': options.maxStreamsPerConnection,
  });
  refuseBadFrameFlags();
  const streams = guardStreams(server, { requestMs: options.requestMs, sendTimeout: options.sendTimeout });
  for (const binding of options.bindings) {
    const { definition, implementation } = grpcServiceOf(binding, options.pipeline, options.unsent);
    server.addService(definition, implementation);
  }
  addReflection(server, options.index);
  const injector = server.createConnectionInjector(grpc.ServerCredentials.createInsecure());
  return {
    injector,
    streams,
    shutdown: (graceMs, openConnections) =>
      new Promise<void>((resolve) => {
        const finish = (): void => {
          clearTimeout(timer);
          clearInterval(watch);
          resolve();
        };
        const timer = setTimeout(() => {
          server.forceShutdown();
          finish();
        }, graceMs);
        // grpc-js's tryShutdown never calls back for a connection its client destroyed just as the
        // drain began (it closes the session, and Node's Http2Session.close() on a destroyed one
        // registers no callback): the drain then took the whole grace with nothing left to wait for.
        const watch = setInterval(() => {
          if (openConnections() > 0) return;
          server.forceShutdown();
          finish();
        }, SHUTDOWN_CHECK_MS);
        injector.drain(graceMs);
        server.tryShutdown(finish);
      }),
  };
}
