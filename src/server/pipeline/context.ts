import type { DescMethod } from '@bufbuild/protobuf';
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
}

export interface TransportAttributes {
  /** Known when the call starts. */
  readonly start: Attributes;
  /** Known when it ends, from the error it failed with (undefined on success). */
  end(error: ConnectError | undefined): Attributes;
}
