/**
 * Tracing when the collector misbehaves, as an operator meets it: an export the collector refuses
 * is reported on stderr (once a batch, at OTEL_LOG_LEVEL), and the service itself goes on serving.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createObservabilityClient } from '../../clients/ts/client.js';
import { startServer, type RunningServer } from '../support/server.js';
import { eventually } from './support/rest-http.js';
import { within } from './support/rpc-helpers.js';
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

test('an export the collector refuses is one line on stderr per batch, not per span, and the service goes on', async () => {
  const server = await startServer(REFUSED());
  try {
    await tenCalls(server);
    const lines = await eventually('two export failures on stderr', async () => (failureLines(server).length >= 2 ? failureLines(server) : undefined), 10_000);
    for (const line of lines) assert.match(line, /span export failed: Not Found \(HTTP 404\)$/, line);
    // Nothing else is buffered: no more lines come.
    await new Promise((resolve) => setTimeout(resolve, 1500));
    assert.is(failureLines(server).length, 2, server.output());
    const client = createObservabilityClient(server.url, { protocol: 'grpc' });
    await within(client.anomalies.recordSample({ metric: 'export_refused', value: 1 }), 'a call after the failures');
  } finally {
    await server.stop();
  }
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

test.run();
