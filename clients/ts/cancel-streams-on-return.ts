/**
 * Server streams that end when the caller stops reading them: `break` (or `return`, or a throw)
 * out of `for await` cancels the call.
 */
import type { DescService } from '@bufbuild/protobuf';
import type { CallOptions, Client } from '@connectrpc/connect';

type StreamingFn = (input: unknown, options?: CallOptions) => AsyncIterable<unknown>;

/**
 * Wraps the client's server-streaming methods so that each call has its own AbortController,
 * aborted (with the caller's `signal`, if any, still honoured) when the iterator's return() or
 * throw() is called. connect-es 2.1's createClient hands out an iterator with next() only, so a
 * loop left early reached neither the transport nor an interceptor: the call stayed open on the
 * server, and its connection (and, over gRPC, its stream) stayed in use until client.close().
 */
export function cancelStreamsOnReturn<S extends DescService>(service: S, client: Client<S>): Client<S> {
  const methods = client as unknown as Record<string, StreamingFn>;
  for (const method of service.methods) {
    if (method.methodKind !== 'server_streaming') continue;
    const call = methods[method.localName];
    methods[method.localName] = (input, options = {}) => {
      const controller = new AbortController();
      const signal = options.signal ? AbortSignal.any([options.signal, controller.signal]) : controller.signal;
      const messages = call(input, { ...options, signal });
      return { [Symbol.asyncIterator]: () => cancellingIterator(messages[Symbol.asyncIterator](), controller) };
    };
  }
  return client;
}

function cancellingIterator<T>(messages: AsyncIterator<T>, controller: AbortController): AsyncIterator<T> {
  let left = false;
  const leave = (): void => {
    if (left) return;
    left = true;
    controller.abort();
    // Reads the cancelled call to its end: its error, which no one will read, would otherwise be
    // an unhandled rejection when the loop was left before the response came.
    messages.next().catch(() => {});
  };
  return {
    next: () => (left ? Promise.resolve({ done: true, value: undefined }) : messages.next()),
    return: (value?: unknown) => {
      leave();
      return Promise.resolve({ done: true, value: value as T });
    },
    throw: (error?: unknown) => {
      leave();
      return Promise.reject(error);
    },
  };
}
