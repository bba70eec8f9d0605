/**
 * Typed service implementations, independent of the transport. A binding pairs a generated service
 * descriptor with its handlers; the gRPC, Connect and REST transports all serve bindings.
 */
import type { DescMessage, DescMethod, DescService, MessageInitShape, MessageShape } from '@bufbuild/protobuf';
import type { GenService, GenServiceMethods } from '@bufbuild/protobuf/codegenv2';
import type { CallContext } from './context.js';

export type UnaryHandler<I extends DescMessage = DescMessage, O extends DescMessage = DescMessage> = (
  request: MessageShape<I>,
  context: CallContext,
) => Promise<MessageInitShape<O>> | MessageInitShape<O>;

export type ServerStreamHandler<I extends DescMessage = DescMessage, O extends DescMessage = DescMessage> = (
  request: MessageShape<I>,
  context: CallContext,
) => AsyncIterable<MessageInitShape<O>>;

export type ServiceHandlers<S extends GenServiceMethods> = {
  [K in keyof S]: S[K] extends { methodKind: 'unary'; input: infer I extends DescMessage; output: infer O extends DescMessage }
    ? UnaryHandler<I, O>
    : S[K] extends { methodKind: 'server_streaming'; input: infer I extends DescMessage; output: infer O extends DescMessage }
      ? ServerStreamHandler<I, O>
      : never;
};

export interface ServiceBinding {
  readonly service: DescService;
  /** Whether calls are traced and counted (health checks are not, to keep traces readable). */
  readonly observed: boolean;
  /** Methods whose HTTP GET is not served for HEAD: it would run their work (a CPU capture) to send nothing. */
  readonly noHead: ReadonlySet<DescMethod>;
  handler(method: DescMethod): UnaryHandler | ServerStreamHandler;
}

export function bindService<S extends GenServiceMethods>(
  service: GenService<S>,
  handlers: ServiceHandlers<S>,
  options: { observed?: boolean; noHead?: readonly DescMethod[] } = {},
): ServiceBinding {
  const byName = handlers as unknown as Record<string, UnaryHandler | ServerStreamHandler>;
  for (const method of service.methods) {
    if (typeof byName[method.localName] !== 'function') {
      throw new Error(`${service.typeName}: no handler for ${method.name}`);
    }
  }
  return {
    service,
    observed: options.observed ?? true,
    noHead: new Set(options.noHead),
    handler: (method) => byName[method.localName]!,
  };
}
