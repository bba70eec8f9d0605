/**
 * Per-call timeouts longer than the wire or a Node.js timer can carry. connect-node arms a
 * `setTimeout` for a call's `timeoutMs`: one above 2^31 - 1 ms (about 24.8 days), or Infinity,
 * overflows and fires after 1 ms, so the call failed `deadline_exceeded` at once. And it writes the
 * gRPC and gRPC-Web timeout header in milliseconds, where the protocol allows 8 digits: from
 * 100,000,000 ms (27.8 hours) on, a server refuses the header. Such a timeout is taken as the
 * longest the protocol carries, as the server clamps the deadlines it is sent.
 */
import type { Transport } from '@connectrpc/connect';

/** The longest delay `setTimeout` takes: the Connect protocol's longest timeout here. */
export const LONGEST_TIMER_MS = 2 ** 31 - 1;
/** The longest `grpc-timeout` in milliseconds: 8 digits. */
export const LONGEST_GRPC_TIMEOUT_MS = 99_999_999;

export function clampLongTimeouts(transport: Transport, longestMs: number): Transport {
  const clamp = (timeoutMs: number | undefined) => (timeoutMs !== undefined && timeoutMs > longestMs ? longestMs : timeoutMs);
  return {
    unary: (method, signal, timeoutMs, header, input, contextValues) => transport.unary(method, signal, clamp(timeoutMs), header, input, contextValues),
    stream: (method, signal, timeoutMs, header, input, contextValues) => transport.stream(method, signal, clamp(timeoutMs), header, input, contextValues),
  };
}
