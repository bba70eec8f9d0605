/**
 * The typed TS client over gRPC-Web (HTTP/1.1), as a browser behind no proxy would speak it: the
 * shared protocol suite (every service, streams and resume, error codes).
 */
import { protocolSuite } from './support/rpc-scenarios.js';

protocolSuite('gRPC-Web', { protocol: 'grpc-web' });
