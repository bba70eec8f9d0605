/**
 * Steps in front of connect-node's handlers for the request headers it judges before any call
 * runs: the deadline (connect-timeout-ms, grpc-timeout).
 */
import { MAX_TIMER_MS } from '../../config/parse.js';
import type { HandlerStep } from './handler-steps.js';

/** The forms connect-node reads (and refuses otherwise): up to 10 digits of ms; gRPC's up to 8 digits and a unit. */
const CONNECT_TIMEOUT = /^\d{1,10}$/;
const GRPC_TIMEOUT = /^(\d{1,8})([HMSmun])$/;
const GRPC_UNIT_MS: Record<string, number> = { H: 3_600_000, M: 60_000, S: 1000, m: 1, u: 1e-3, n: 1e-6 };

/**
 * connect-node times a deadline with one Node timer, so a deadline beyond MAX_TIMER_MS (24.8 days),
 * which both protocols can say (30 days: 2592000000 ms, 720H), ended the call at once as expired
 * (the timer fired after 1 ms, with a TimeoutOverflowWarning on stderr). It is capped here, the
 * header rewritten before connect reads it; a malformed value is left to connect to refuse.
 */
export const capDeadlines: HandlerStep = (req, handler) => {
  const connect = req.header.get('connect-timeout-ms');
  const grpc = req.header.get('grpc-timeout');
  const grpcParts = grpc === null ? null : GRPC_TIMEOUT.exec(grpc);
  const connectTooLong = connect !== null && CONNECT_TIMEOUT.test(connect) && Number(connect) > MAX_TIMER_MS;
  const grpcTooLong = grpcParts !== null && Number(grpcParts[1]) * GRPC_UNIT_MS[grpcParts[2]!]! > MAX_TIMER_MS;
  if (!connectTooLong && !grpcTooLong) return handler(req);
  const header = new Headers(req.header);
  if (connectTooLong) header.set('connect-timeout-ms', String(MAX_TIMER_MS));
  // In whole seconds: MAX_TIMER_MS in milliseconds has more than the 8 digits gRPC allows.
  if (grpcTooLong) header.set('grpc-timeout', `${Math.floor(MAX_TIMER_MS / 1000)}S`);
  return handler({ ...req, header });
};
