/**
 * A CPU capture refused because the queue is full says when a place frees: Retry-After, from the
 * remaining time of the capture running (the queued ones' lengths are known), on the pprof and
 * REST paths, over Connect and over native gRPC; a client that waits that long gets a place.
 */
import { Code } from '@connectrpc/connect';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { MAX_WAITING_CPU_CAPTURES } from '../../src/core/profiling/pprof/index.js';
import { startServer } from '../support/server.js';
import { createObservabilityClient } from '../../clients/ts/client.js';
import { API } from './support/rest-http.js';
import { failure } from './support/rpc-helpers.js';

test('a refused capture carries Retry-After, and once that has passed a capture is let in', async () => {
  const server = await startServer({ RS3GW_PROFILING_MAX_SECONDS: '10', RS3GW_SHUTDOWN_GRACE: '1' });
  const abandon = new AbortController();
  const pending: Promise<unknown>[] = [];
  const start = (path: string) => pending.push(fetch(server.url + path, { signal: abandon.signal }).catch(() => undefined));
  try {
    start('/debug/pprof/profile?seconds=3');
    await new Promise((resolve) => setTimeout(resolve, 300));
    for (let i = 0; i < MAX_WAITING_CPU_CAPTURES; i++) start('/debug/pprof/profile?seconds=1');
    await new Promise((resolve) => setTimeout(resolve, 300));

    for (const path of ['/debug/pprof/profile?seconds=1', `${API}/profiling?format=pprof&type=cpu&seconds=1`, '/debug/pprof/flamegraph?seconds=1']) {
      const refused = await fetch(server.url + path);
      assert.is(refused.status, 429, path);
      const body = (await refused.json()) as { code: string; message: string };
      assert.is(body.code, 'resource_exhausted');
      const frees = new RegExp(`^${MAX_WAITING_CPU_CAPTURES} CPU profile captures are already waiting; the first place frees in (\\d\\.\\d) s$`).exec(body.message);
      assert.ok(frees, body.message);
      // What is left of the running 3 s capture: a place frees then, in whole seconds rounded up.
      const retryAfter = Number(refused.headers.get('retry-after'));
      assert.ok(retryAfter >= 1 && retryAfter <= 3, `${path}: Retry-After ${refused.headers.get('retry-after')}`);
      assert.ok(Math.abs(retryAfter - Math.ceil(Number(frees[1]))) <= 1, `${path}: Retry-After ${retryAfter}, ${body.message}`);
    }

    // Connect sends it as a header, native gRPC (grpc-js) as a trailer.
    for (const protocol of ['connect', 'grpc'] as const) {
      const { profiling } = createObservabilityClient(server.url, { protocol });
      const refused = await failure(profiling.captureProfile({ duration: { seconds: 1n } }), `CaptureProfile over ${protocol}`);
      assert.is(refused.code, Code.ResourceExhausted);
      const retryAfter = Number(refused.metadata.get('retry-after'));
      assert.ok(retryAfter >= 1 && retryAfter <= 3, `${protocol}: Retry-After ${refused.metadata.get('retry-after')}`);
    }

    await new Promise((resolve) => setTimeout(resolve, 3000));
    // Let in: it queues, so no answer comes at once (a refusal would).
    const outcome = await fetch(`${server.url}/debug/pprof/profile?seconds=1`, { signal: AbortSignal.timeout(500) }).then(
      (r) => `status ${r.status}`,
      (error: Error) => error.name,
    );
    assert.is(outcome, 'TimeoutError', 'a place was free after Retry-After');
  } finally {
    abandon.abort();
    await Promise.all(pending);
    assert.is(await server.stop(), 0, 'exit code after SIGTERM');
  }
});

test.run();
