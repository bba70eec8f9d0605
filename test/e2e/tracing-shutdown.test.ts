/**
 * Calls still running when the shutdown grace ends are cut off, on every protocol (gRPC,
 * gRPC-Web, Connect, REST, /debug/pprof): each still leaves its server span, reaching the collector
 * before the process exits, with an error status saying the server shut down under it.
 */
import { randomBytes } from 'node:crypto';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createObservabilityClient, type Protocol } from '../../clients/ts/client.js';
import { startServer } from '../support/server.js';
import { within } from './support/rpc-helpers.js';
import { OtlpReceiver } from './support/rpc-otlp.js';

const STATUS_ERROR = 2;
const UNAVAILABLE = 14;

let receiver: OtlpReceiver;

test.before(async () => {
  receiver = await OtlpReceiver.start();
});

test.after(async () => {
  await receiver?.close();
});

function traceparent(): { traceId: string; header: string } {
  const traceId = randomBytes(16).toString('hex');
  return { traceId, header: `00-${traceId}-${randomBytes(8).toString('hex')}-01` };
}

test('calls cut off at the end of RS3GW_SHUTDOWN_GRACE leave their spans, on every protocol', async () => {
  const server = await startServer({
    OTEL_EXPORTER_OTLP_ENDPOINT: receiver.endpoint,
    OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
    RS3GW_SHUTDOWN_GRACE: '1',
  });
  // 20 s CPU profiles: one runs, the others queue behind it; none ends within the grace.
  // Each call's outcome, caught at once: they fail when the server cuts them off.
  const calls = new Map<string, { traceId: string; call: Promise<unknown> }>();
  const settled = (call: Promise<unknown>) => call.then(() => 'completed', (error: unknown) => error);
  for (const protocol of ['grpc', 'grpc-web', 'connect'] as Protocol[]) {
    const { traceId, header } = traceparent();
    const client = createObservabilityClient(server.url, {
      protocol,
      interceptors: [(next) => (req) => (req.header.set('traceparent', header), next(req))],
    });
    calls.set(protocol, { traceId, call: settled(client.profiling.captureProfile({ duration: { seconds: 20n } })) });
  }
  for (const [name, path] of [
    ['REST', '/api/observability/profiling?format=pprof&type=cpu&seconds=20'],
    ['/debug/pprof', '/debug/pprof/profile?seconds=20'],
  ] as const) {
    const { traceId, header } = traceparent();
    calls.set(name, { traceId, call: settled(fetch(`${server.url}${path}`, { headers: { traceparent: header } }).then((r) => r.arrayBuffer())) });
  }
  // Let every request reach the server before the signal.
  await new Promise((resolve) => setTimeout(resolve, 1000));
  assert.is(await within(server.stop(), 'server exit'), 0, server.output());
  await within(Promise.all([...calls.values()].map((c) => c.call)), 'the cut-off calls to end');

  const missing = [...calls].filter(([, { traceId }]) => !receiver.spans.some((s) => s.traceId === traceId)).map(([name]) => name);
  assert.equal(missing, [], 'every cut-off call has a span, arrived before the process exited');
  for (const [name, { traceId }] of calls) {
    const span = receiver.spans.find((s) => s.traceId === traceId);
    assert.is(span!.statusCode, STATUS_ERROR, `${name}: error status`);
    assert.match(span!.statusMessage, 'shut down', `${name}: ${span!.statusMessage}`);
    if (name === 'connect') assert.is(span!.attributes['rpc.connect_rpc.error_code'], 'unavailable', name);
    else assert.is(span!.attributes['rpc.grpc.status_code'], UNAVAILABLE, `${name}: UNAVAILABLE`);
    if (name === 'REST') assert.not.ok('http.response.status_code' in span!.attributes, 'REST: no status code, as no response was sent');
  }
});

test.run();
