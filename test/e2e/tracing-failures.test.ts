/**
 * Tracing when the collector misbehaves, as an operator meets it: an export the collector refuses
 * is reported on stderr (once a batch, at OTEL_LOG_LEVEL), the service itself goes on serving, and
 * a collector that is down or slow at shutdown neither fails the exit (0) nor holds it up.
 */
import { createServer as createHttp2Server } from 'node:http2';
import { createServer, type Socket } from 'node:net';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createObservabilityClient } from '../../clients/ts/client.js';
import { startServer, type RunningServer } from '../support/server.js';
import { eventually } from './support/rest-http.js';
import { freePort, serviceLines, within } from './support/rpc-helpers.js';
import { OtlpReceiver } from './support/rpc-otlp.js';

const EXPORT_FAILED = /^rs3gw-obs: OpenTelemetry error: span export failed: .*$/gm;

let receiver: OtlpReceiver;

test.before(async () => {
  receiver = await OtlpReceiver.start();
});

test.after(async () => {
  await receiver?.close();
});

function failureLines(server: RunningServer): string[] {
  return server.output().match(EXPORT_FAILED) ?? [];
}

/** Ten calls in quick succession: two batches of five when OTEL_BSP_MAX_EXPORT_BATCH_SIZE is 5. */
async function tenCalls(server: RunningServer): Promise<void> {
  const client = createObservabilityClient(server.url, { protocol: 'grpc' });
  for (let i = 0; i < 10; i++) await within(client.anomalies.recordSample({ metric: 'export_refused', value: i }), `RecordSample ${i}`);
}

const REFUSED = (logLevel?: string): Record<string, string> => ({
  // A path the collector does not serve: every export is answered 404.
  OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: `${receiver.endpoint}/wrong/path`,
  OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
  OTEL_BSP_MAX_EXPORT_BATCH_SIZE: '5',
  ...(logLevel !== undefined ? { OTEL_LOG_LEVEL: logLevel } : {}),
});

test('an export the collector refuses is one line on stderr, not one per span or per batch, and the service goes on', async () => {
  const server = await startServer(REFUSED());
  try {
    await tenCalls(server);
    const lines = await eventually('an export failure on stderr', async () => (failureLines(server).length >= 1 ? failureLines(server) : undefined), 10_000);
    assert.match(lines[0]!, /span export failed: Not Found \(HTTP 404\)$/, lines[0]);
    // The second batch fails the same way: the same message is written once a minute at most (a
    // dead collector under load wrote about 100 lines a second).
    await tenCalls(server);
    await new Promise((resolve) => setTimeout(resolve, 1500));
    assert.is(failureLines(server).length, 1, server.output());
    const client = createObservabilityClient(server.url, { protocol: 'grpc' });
    await within(client.anomalies.recordSample({ metric: 'export_refused', value: 1 }), 'a call after the failures');
  } finally {
    assert.is(await within(server.stop(), 'server exit'), 0, server.output());
  }
});

test('spans lost in failed exports are counted on /metrics and at shutdown, not only the failures', async () => {
  const server = await startServer(REFUSED());
  const failedSpans = async (): Promise<number> => {
    const text = await (await fetch(`${server.url}/metrics`)).text();
    return Number(/^rs3gw_tracing_spans_export_failed_total (\d+)$/m.exec(text)?.[1]);
  };
  let output = '';
  try {
    assert.is(await failedSpans(), 0);
    await tenCalls(server);
    await tenCalls(server);
    // Twenty calls, twenty spans, four batches refused: stderr said so once, the count says how much.
    const lost = await eventually('the lost spans counted', async () => ((await failedSpans()) >= 20 ? failedSpans() : undefined), 10_000);
    assert.is(lost, 20);
    assert.is(failureLines(server).length, 1);
  } finally {
    assert.is(await within(server.stop(), 'server exit'), 0, server.output());
    output = server.output();
  }
  assert.match(output, /^rs3gw-obs: tracing: 20 spans lost since start-up in exports that failed$/m);
});

test('OTEL_LOG_LEVEL=error still reports failed exports; none silences them', async () => {
  const loud = await startServer(REFUSED('ERROR'));
  try {
    await tenCalls(loud);
    await eventually('an export failure on stderr', async () => (failureLines(loud).length > 0 ? true : undefined), 10_000);
  } finally {
    await loud.stop();
  }
  const quiet = await startServer(REFUSED('none'));
  await tenCalls(quiet);
  await new Promise((resolve) => setTimeout(resolve, 1500));
  assert.is(await within(quiet.stop(), 'server exit'), 0, quiet.output());
  assert.not.match(quiet.output(), 'OpenTelemetry', quiet.output());
});

test('OTEL_LOG_LEVEL=none silences the failure of the last export at shutdown, not the count of the spans lost', async () => {
  // A minute between scheduled exports: the three spans wait for the final flush, however slowly the calls run.
  const server = await startServer({ ...REFUSED('none'), OTEL_BSP_SCHEDULE_DELAY: '60000' });
  const client = createObservabilityClient(server.url, { protocol: 'grpc' });
  // Three spans, fewer than a batch: they wait for the final flush, whose export is refused.
  for (let i = 0; i < 3; i++) await within(client.anomalies.recordSample({ metric: 'export_refused', value: i }), `RecordSample ${i}`);
  assert.is(await within(server.stop(), 'server exit'), 0, server.output());
  assert.not.match(server.output(), 'OpenTelemetry', server.output());
  assert.match(server.output(), /^rs3gw-obs: tracing: 3 spans lost since start-up in exports that failed$/m, server.output());
});

test('OTLP/HTTP sent to a port that speaks HTTP/2 only, as an OTLP/gRPC port (4317) does: the failure says to set OTEL_EXPORTER_OTLP_PROTOCOL=grpc; start-up says where spans go, no header value', async () => {
  // What upstream's Jaeger example gives: OTEL_EXPORTER_OTLP_ENDPOINT=http://jaeger:4317 and the default protocol.
  const grpcPort = createHttp2Server();
  await new Promise<void>((resolve) => grpcPort.listen(0, '127.0.0.1', resolve));
  const { port } = grpcPort.address() as { port: number };
  const server = await startServer({ OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${port}`, OTEL_EXPORTER_OTLP_HEADERS: 'authorization=Bearer%20s3cr3t' });
  try {
    assert.match(server.output(), `tracing on: spans to OTLP http/protobuf to http://127.0.0.1:${port}/v1/traces`);
    assert.not.match(server.output(), 's3cr3t');
    await tenCalls(server);
    const lines = await eventually('an export failure on stderr', async () => (failureLines(server).length >= 1 ? failureLines(server) : undefined), 10_000);
    assert.match(lines[0]!, /span export failed: Parse Error: .*\(the endpoint did not answer HTTP; if it is OTLP\/gRPC, such as port 4317, set OTEL_EXPORTER_OTLP_PROTOCOL=grpc\)$/, lines[0]);
  } finally {
    assert.is(await within(server.stop(), 'server exit'), 0, server.output());
    grpcPort.close();
  }
});

test('start-up says when tracing is off, and why', async () => {
  for (const [env, said] of [
    [{}, 'tracing off: no exporter (set OTEL_EXPORTER_OTLP_ENDPOINT, or OTEL_TRACES_EXPORTER)'],
    [{ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:1', OTEL_SDK_DISABLED: 'true' }, 'tracing off (OTEL_SDK_DISABLED=true)'],
  ] as const) {
    const server = await startServer(env);
    assert.is(await within(server.stop(), 'server exit'), 0, server.output());
    assert.match(server.output(), said);
  }
});

test('a sampler named in another case is applied, without a warning that it was not', async () => {
  const server = await startServer({ OTEL_TRACES_EXPORTER: 'console', OTEL_TRACES_SAMPLER: 'ALWAYS_OFF' });
  try {
    await tenCalls(server);
    await new Promise((resolve) => setTimeout(resolve, 1500));
  } finally {
    assert.is(await within(server.stop(), 'server exit'), 0, server.output());
  }
  assert.not.match(server.output(), /invalid, defaulting/, server.output());
  assert.not.match(server.output(), /traceId/, 'always_off: no span printed');
});

test('a ratio sampler without OTEL_TRACES_SAMPLER_ARG, or with it blank, samples every trace without a word', async () => {
  for (const env of [
    { OTEL_TRACES_SAMPLER: 'traceidratio' } as Record<string, string>,
    { OTEL_TRACES_SAMPLER: 'parentbased_traceidratio', OTEL_TRACES_SAMPLER_ARG: ' ' },
  ]) {
    const server = await startServer({ OTEL_TRACES_EXPORTER: 'console', OTEL_BSP_SCHEDULE_DELAY: '50', ...env });
    try {
      const client = createObservabilityClient(server.url, { protocol: 'grpc' });
      await within(client.anomalies.recordSample({ metric: 'ratio_default', value: 1 }), 'RecordSample');
      await eventually('the span on stdout', async () => (server.output().includes('traceId') ? true : undefined), 10_000);
    } finally {
      assert.is(await within(server.stop(), 'server exit'), 0, server.output());
    }
    // The README says the ratio defaults to 1 and blank is unset: nothing to tell.
    assert.not.match(server.output(), /OpenTelemetry|SAMPLER_ARG/, `${JSON.stringify(env)}:\n${server.output()}`);
  }
});

/** A collector that accepts connections and never answers. */
async function silentCollector() {
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on('error', () => undefined);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return {
    endpoint: `http://127.0.0.1:${port}`,
    get connections() {
      return sockets.size;
    },
    close: () => {
      for (const socket of sockets) socket.destroy();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** One call, then SIGTERM at once; the exit code, the seconds it took, and what the service said on stderr. */
async function callThenStop(env: Record<string, string>, beforeStop?: () => Promise<unknown>) {
  const server = await startServer({ OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json', ...env });
  const client = createObservabilityClient(server.url, { protocol: 'grpc' });
  await within(client.anomalies.recordSample({ metric: 'unexported', value: 1 }), 'RecordSample');
  await beforeStop?.();
  const started = Date.now();
  const code = await within(server.stop(), 'server exit');
  return { code, seconds: (Date.now() - started) / 1000, lines: serviceLines(server.output()), output: server.output() };
}

test('a collector that is down at shutdown: the failed final export is one line on stderr, and the exit code stays 0', async () => {
  const { code, lines, output } = await callThenStop({
    OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${await freePort()}`,
    // The span waits in the buffer for the final export, which the exporter gives up retrying after 0.3 s.
    OTEL_BSP_SCHEDULE_DELAY: '60000',
    OTEL_EXPORTER_OTLP_TIMEOUT: '300',
  });
  assert.is(code, 0, output);
  assert.is(lines.length, 1, output);
  assert.match(lines[0]!, /^rs3gw-obs: OpenTelemetry error: spans not exported at shutdown: connect ECONNREFUSED 127\.0\.0\.1:\d+ \(1 span lost since start-up in exports that failed\)$/);
});

test('a collector that never answers holds the exit up no longer than OTEL_BSP_EXPORT_TIMEOUT', async () => {
  const collector = await silentCollector();
  try {
    const { code, seconds, lines, output } = await callThenStop({ OTEL_EXPORTER_OTLP_ENDPOINT: collector.endpoint, OTEL_BSP_SCHEDULE_DELAY: '60000', OTEL_BSP_EXPORT_TIMEOUT: '1000' });
    assert.is(code, 0, output);
    assert.ok(seconds < 4, `exited ${seconds.toFixed(1)} s after SIGTERM`);
    assert.is(lines.length, 1, output);
    assert.match(lines[0]!, 'spans not exported at shutdown: no answer from the collector within OTEL_BSP_EXPORT_TIMEOUT (1000 ms) (1 span in exports unanswered at exit)');
  } finally {
    await collector.close();
  }
});

test('an export that times out, then meets a hang-up while the final flush waits, is one cause in the shutdown line, not two', async () => {
  // Each connection is hung up 2.5 s after it opens: after the export's own 2 s timeout, before
  // the final flush's, which starts a second after it.
  const sockets = new Set<Socket>();
  const collector = createServer((socket) => {
    sockets.add(socket);
    socket.on('error', () => undefined);
    setTimeout(() => socket.destroy(), 2500).unref();
  });
  await new Promise<void>((resolve) => collector.listen(0, '127.0.0.1', resolve));
  try {
    const endpoint = `http://127.0.0.1:${(collector.address() as { port: number }).port}`;
    const inFlight = async () => {
      await eventually('the export to reach the collector', async () => (sockets.size > 0 ? true : undefined), 10_000);
      await new Promise((resolve) => setTimeout(resolve, 1000));
    };
    const { code, lines, output } = await callThenStop({ OTEL_EXPORTER_OTLP_ENDPOINT: endpoint, OTEL_BSP_SCHEDULE_DELAY: '0', OTEL_BSP_EXPORT_TIMEOUT: '2000' }, inFlight);
    assert.is(code, 0, output);
    assert.is(lines.length, 1, output);
    assert.match(lines[0]!, /^rs3gw-obs: OpenTelemetry error: spans not exported at shutdown: socket hang up; the exporter was still retrying when OTEL_BSP_EXPORT_TIMEOUT \(2000 ms\) ran out \(1 span in exports unanswered at exit\)$/, lines[0]);
  } finally {
    for (const socket of sockets) socket.destroy();
    collector.close();
  }
});

test('an export still in flight at SIGTERM holds the exit up no longer than OTEL_BSP_EXPORT_TIMEOUT', async () => {
  const collector = await silentCollector();
  try {
    // Each span is exported as soon as it ends; the exporter's own timeout (10 s) is far longer.
    const inFlight = () => eventually('the export to reach the collector', async () => (collector.connections > 0 ? true : undefined), 10_000);
    const { code, seconds, lines, output } = await callThenStop({ OTEL_EXPORTER_OTLP_ENDPOINT: collector.endpoint, OTEL_BSP_SCHEDULE_DELAY: '0', OTEL_BSP_EXPORT_TIMEOUT: '1000' }, inFlight);
    assert.is(code, 0, output);
    assert.ok(seconds < 4, `exited ${seconds.toFixed(1)} s after SIGTERM`);
    // The export in flight fails on its own as the final flush gives up: one line says both.
    assert.is(lines.length, 1, output);
    assert.match(lines[0]!, /^rs3gw-obs: OpenTelemetry error: spans not exported at shutdown: /);
  } finally {
    await collector.close();
  }
});

test.run();
