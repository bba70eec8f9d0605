import type { DescMethod, Message } from '@bufbuild/protobuf';
import type { ConnectError } from '@connectrpc/connect';
import type { Attributes } from '@opentelemetry/api';

/** The wire protocols one port speaks; every one reaches the same handlers. */
export type Protocol = 'grpc' | 'grpc-web' | 'connect' | 'rest';

/** What a handler may know about the call it serves, whatever the protocol. */
export interface CallContext {
  readonly protocol: Protocol;
  readonly method: DescMethod;
  readonly requestHeaders: Headers;
  /** Aborted when the client goes away or the deadline passes. */
  readonly signal: AbortSignal;
  /** Span attributes only the transport knows (REST: the HTTP request, and the status it answers). */
  readonly spanAttributes?: TransportAttributes;
  /** Where a server stream's messages may be written straight to the client (HTTP/1.1 streams, connect/direct-stream.ts). */
  readonly sink?: StreamSink;
  /**
   * Renders an answer (the unary response, each stream message) for the transport before the call
   * counts it sent; a refusal it throws (RS3GW_MAX_UNSENT_BYTES, server/unsent-budget.ts) is the
   * call's, traced and counted as such.
   */
  readonly render?: (message: Message) => void | Promise<void>;
}

/**
 * A server stream's response, written to directly once its headers are out: each message is framed
 * once however many streams carry it, and a response that is not draining holds the stream's next
 * read rather than taking more (the stream's source then counts what it misses).
 */
export interface StreamSink {
  /** Writes the message; false when it must take the transport's own way (yield it) instead. */
  write(message: Message): boolean;
  /** Undefined while the response takes more; else resolves once it drains, closes, or the call ends. */
  backlog(signal: AbortSignal): Promise<void> | undefined;
}

export interface TransportAttributes {
  /** Known when the call starts. */
  readonly start: Attributes;
  /** Known when it ends, from the error it failed with (undefined on success). */
  end(error: ConnectError | undefined): Attributes;
}
