import type { DescMethod } from '@bufbuild/protobuf';

/** The wire protocols one port speaks; every one reaches the same handlers. */
export type Protocol = 'grpc' | 'grpc-web' | 'connect' | 'rest';

/** What a handler may know about the call it serves, whatever the protocol. */
export interface CallContext {
  readonly protocol: Protocol;
  readonly method: DescMethod;
  readonly requestHeaders: Headers;
  /** Aborted when the client goes away or the deadline passes. */
  readonly signal: AbortSignal;
}
