/**
 * The grpc-timeout header (gRPC over HTTP/2, and gRPC-Web): its form, the deadline it says, and the
 * longest one a Node timer can keep, shared by native gRPC's stream guard and the Connect side.
 */
import { MAX_TIMER_MS } from '../../config/parse.js';
import { quote } from './well-known.js';

/** The gRPC spec's form: at most 8 digits, then the unit. */
const GRPC_TIMEOUT = /^(\d{1,8})([HMSmun])$/;
const UNIT_MS: Readonly<Record<string, number>> = { H: 3_600_000, M: 60_000, S: 1000, m: 1, u: 1e-3, n: 1e-6 };

/** MAX_TIMER_MS (24.8 days) as a grpc-timeout, in whole seconds: in milliseconds it has more than 8 digits. */
export const LONGEST_GRPC_TIMEOUT = `${Math.floor(MAX_TIMER_MS / 1000)}S`;

/** The deadline a grpc-timeout says, in ms; undefined when it is not of the spec's form. */
export function grpcTimeoutMs(value: string): number | undefined {
  const parts = GRPC_TIMEOUT.exec(value);
  return parts ? Number(parts[1]) * UNIT_MS[parts[2]!]! : undefined;
}

/** The explanation in the refusal of an invalid grpc-timeout. */
export function invalidTimeoutMessage(value: string): string {
  return `grpc-timeout: ${quote(value)} is not a timeout: 1 to 8 digits and a unit (H, M, S, m, u or n)`;
}
