/**
 * Transparent retry of calls the server refused before processing them (HTTP/2 REFUSED_STREAM).
 */
import { Code, ConnectError, type Interceptor, type StreamRequest } from '@connectrpc/connect';

/**
 * Attempts a refused call gets in all. Each refusal teaches the session pool the server's stream
 * limit (its SETTINGS came before the refusal), so a retry goes to a connection with room; a few
 * cover a burst several connections wide. Go's HTTP/2 transport retries such requests as well.
 */
const MAX_ATTEMPTS = 5;
/** Pause before the second attempt, doubled for each one after it: a server refusing for another reason is not hammered. */
const FIRST_BACKOFF_MS = 5;

/**
 * A stream refused before the server processed it (HTTP/2 REFUSED_STREAM: more than it takes on
 * one connection, sent before its SETTINGS said so). connect-node reports it as `internal` where
 * the stream errs ("... NGHTTP2_REFUSED_STREAM"), and as `unavailable` where it only closes
 * ("... REFUSED_STREAM (0x7)").
 */
export function refusedStream(error: unknown): boolean {
  if (!(error instanceof ConnectError) || (error.code !== Code.Internal && error.code !== Code.Unavailable)) return false;
  return error.rawMessage.includes('REFUSED_STREAM');
}

/**
 * Retries a call the server refused unprocessed (RFC 9113 §8.7: such a request may be retried),
 * up to MAX_ATTEMPTS in all, unless the caller has cancelled it or its deadline has passed. A
 * server-streaming call's one request message is kept to be sent again; client and bidirectional
 * streams, whose messages are the caller's to replay, are not retried.
 */
export const retryRefusedStreams: Interceptor = (next) => async (req) => {
  if (req.stream && req.method.methodKind !== 'server_streaming') return next(req);
  const messages = req.stream ? await collect(req.message) : undefined;
  for (let attempt = 1; ; attempt++) {
    try {
      return await next(messages === undefined ? req : { ...(req as StreamRequest), message: replay(messages) });
    } catch (error) {
      if (!refusedStream(error) || attempt >= MAX_ATTEMPTS || req.signal.aborted) throw error;
    }
    await pause(FIRST_BACKOFF_MS * 2 ** (attempt - 1), req.signal);
  }
};

async function collect<T>(messages: AsyncIterable<T>): Promise<T[]> {
  const all: T[] = [];
  for await (const m of messages) all.push(m);
  return all;
}

async function* replay<T>(messages: readonly T[]): AsyncIterable<T> {
  yield* messages;
}

/** Waits `ms`, or less if `signal` aborts (the next attempt then fails as the caller asked). */
function pause(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
  });
}
