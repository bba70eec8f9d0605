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
 * connect-node's own words for an HTTP/2 stream reset with REFUSED_STREAM, `internal` where the
 * stream errs and `unavailable` where it only closes. Only these: a server's or a proxy's error
 * message that merely mentions REFUSED_STREAM says nothing of whether the call was processed.
 */
const REFUSED_MESSAGES: ReadonlyMap<Code, string> = new Map([
  [Code.Internal, 'Stream closed with error code NGHTTP2_REFUSED_STREAM'],
  [Code.Unavailable, 'http/2 stream closed with error code REFUSED_STREAM (0x7)'],
]);

/**
 * A stream refused before the server processed it (HTTP/2 REFUSED_STREAM: more than it takes on
 * one connection, sent before its SETTINGS said so), as connect-node reports it.
 */
export function refusedStream(error: unknown): boolean {
  return error instanceof ConnectError && REFUSED_MESSAGES.get(error.code) === error.rawMessage;
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
