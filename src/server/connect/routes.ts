/**
 * Serves the bindings over the Connect protocol and gRPC-Web (HTTP/1.1 side of the port), through
 * the same call pipeline as native gRPC and REST.
 */
import type { DescMethod, Message } from '@bufbuild/protobuf';
import type { ConnectRouter, HandlerContext } from '@connectrpc/connect';
import type { CallContext, Protocol } from '../pipeline/context.js';
import type { ServiceBinding } from '../pipeline/handlers.js';
import type { CallPipeline } from '../pipeline/invoke.js';

function callContext(method: DescMethod, ctx: HandlerContext): CallContext {
  const protocol: Protocol = ctx.protocolName === 'grpc-web' ? 'grpc-web' : ctx.protocolName === 'grpc' ? 'grpc' : 'connect';
  return { protocol, method, requestHeaders: ctx.requestHeader, signal: ctx.signal };
}

export function connectRoutes(bindings: readonly ServiceBinding[], pipeline: CallPipeline): (router: ConnectRouter) => void {
  return (router) => {
    for (const binding of bindings) {
      const impl: Record<string, unknown> = {};
      for (const method of binding.service.methods) {
        impl[method.localName] =
          method.methodKind === 'server_streaming'
            ? (request: Message, ctx: HandlerContext) => pipeline.serverStream(binding, method, request, callContext(method, ctx))
            : (request: Message, ctx: HandlerContext) => pipeline.unary(binding, method, request, callContext(method, ctx));
      }
      router.service(binding.service, impl as never);
    }
  };
}
