/**
 * The typed TS client over the Connect protocol (HTTP/1.1), binary and JSON: the shared protocol
 * suite (every service, streams and resume, error codes), each against its own server.
 */
import { protocolSuite } from './support/rpc-scenarios.js';

protocolSuite('Connect binary', { protocol: 'connect' });
protocolSuite('Connect JSON', { protocol: 'connect', json: true });
