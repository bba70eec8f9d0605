/**
 * The OTLP exporters send spans where the start-up line says and with the settings the service
 * validated, not with their own reading of the raw OTEL_EXPORTER_OTLP_* variables: checked against
 * a collector that records every request it gets.
 */
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createObservabilityClient } from '../../clients/ts/client.js';
import { startServer, type RunningServer } from '../support/server.js';
import { eventually } from './support/rest-http.js';
import { within } from './support/rpc-helpers.js';

interface Received {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
}

/** An OTLP/HTTP collector that takes every export, whatever its path, and keeps what each request was. */
class RecordingCollector {
  readonly requests: Received[] = [];
  private readonly server: Server;

  private constructor() {
    this.server = createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        this.requests.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers });
        // An empty ExportTraceServiceResponse in the request's encoding.
        const json = (req.headers['content-type'] ?? '').includes('json');
        res.writeHead(200, { 'content-type': json ? 'application/json' : 'application/x-protobuf' }).end(json ? '{}' : '');
      });
    });
  }

  static async start(): Promise<RecordingCollector> {
    const collector = new RecordingCollector();
    await new Promise<void>((resolve) => collector.server.listen(0, '127.0.0.1', resolve));
    return collector;
  }

  get base(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  close(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

let collector: RecordingCollector;

test.before(async () => {
  collector = await RecordingCollector.start();
});

test.after(async () => {
  await collector?.close();
});

async function oneCall(server: RunningServer): Promise<void> {
  const client = createObservabilityClient(server.url, { protocol: 'grpc' });
  await within(client.anomalies.recordSample({ metric: 'exporter_settings', value: 1 }), 'RecordSample');
}

/** Starts the service with `env`, makes one call, waits for its export and stops the service; the export's request and all output. */
async function exportWith(env: Record<string, string>): Promise<{ request: Received; output: string }> {
  const before = collector.requests.length;
  const server = await startServer({ OTEL_BSP_SCHEDULE_DELAY: '50', ...env });
  try {
    await oneCall(server);
    const request = await eventually('an export at the collector', async () => collector.requests[before], 10_000);
    return { request, output: server.output() };
  } finally {
    assert.is(await within(server.stop(), 'server exit'), 0, server.output());
  }
}

test('OTLP/HTTP: an endpoint with a blank or a second slash after it goes where start-up says, headers included, without a warning', async () => {
  for (const protocol of ['http/protobuf', 'http/json']) {
    for (const endpoint of [`${collector.base} `, `${collector.base}//`]) {
      const what = `${protocol} to '${endpoint}'`;
      const { request, output } = await exportWith({ OTEL_EXPORTER_OTLP_ENDPOINT: endpoint, OTEL_EXPORTER_OTLP_PROTOCOL: protocol, OTEL_EXPORTER_OTLP_HEADERS: 'Authorization=Bearer%20t0ken' });
      assert.match(output, `tracing on: spans to OTLP ${protocol} to ${collector.base}/v1/traces, sampler`, what);
      assert.is(`${request.method} ${request.url}`, 'POST /v1/traces', what);
      assert.is(request.headers.authorization, 'Bearer t0ken', what);
      assert.not.match(output, 'OpenTelemetry', `${what}: nothing said but the start-up lines\n${output}`);
    }
  }
});

test('OTLP/HTTP: a base endpoint with a user and a path gets /path/v1/traces with Basic authorization; a traces endpoint with a query is used as given', async () => {
  const withUser = collector.base.replace('http://', 'http://alice:s3cret@');
  const base = await exportWith({ OTEL_EXPORTER_OTLP_ENDPOINT: `${withUser}/base/`, OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json' });
  assert.match(base.output, `tracing on: spans to OTLP http/json to ${collector.base}/base/v1/traces, sampler`);
  assert.is(`${base.request.method} ${base.request.url}`, 'POST /base/v1/traces');
  assert.is(base.request.headers.authorization, `Basic ${Buffer.from('alice:s3cret').toString('base64')}`);
  assert.not.match(base.output, 's3cret');

  const traces = await exportWith({ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: `${collector.base}/otlp/traces?key=s3cret`, OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json' });
  assert.match(traces.output, `tracing on: spans to OTLP http/json to ${collector.base}/otlp/traces?…, sampler`);
  assert.is(`${traces.request.method} ${traces.request.url}`, 'POST /otlp/traces?key=s3cret');
  assert.not.match(traces.output, 's3cret');
});

test.run();
