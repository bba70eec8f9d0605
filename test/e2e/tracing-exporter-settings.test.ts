/**
 * The OTLP exporters send spans where the start-up line says and with the settings the service
 * validated, not with their own reading of the raw OTEL_EXPORTER_OTLP_* variables: checked against
 * a collector that records every request it gets.
 */
import { readFileSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import { createSecureServer as createHttp2SecureServer } from 'node:http2';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createObservabilityClient } from '../../clients/ts/client.js';
import { REPO_ROOT, startServer, type RunningServer } from '../support/server.js';
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

const CERT = `${REPO_ROOT}test/fixtures/tls/server-cert.pem`;
const KEY = `${REPO_ROOT}test/fixtures/tls/server-key.pem`;
/** A collector that takes only clients with a certificate it trusts (the fixture's, self-signed). */
const MUTUAL_TLS = { key: readFileSync(KEY), cert: readFileSync(CERT), ca: readFileSync(CERT), requestCert: true, rejectUnauthorized: true };

test('OTLP/HTTP over mutual TLS with the certificate files, gzip-compressed as OTEL_EXPORTER_OTLP_COMPRESSION says', async () => {
  const seen: Array<{ url: string; encoding: string | undefined; authorized: boolean }> = [];
  const collector = createHttpsServer(MUTUAL_TLS, (req, res) => {
    req.resume();
    req.on('end', () => {
      seen.push({ url: req.url ?? '', encoding: req.headers['content-encoding'], authorized: (req.socket as TLSSocket).authorized });
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((resolve) => collector.listen(0, '127.0.0.1', resolve));
  const server = await startServer({
    OTEL_EXPORTER_OTLP_ENDPOINT: `https://localhost:${(collector.address() as AddressInfo).port}`,
    OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
    OTEL_EXPORTER_OTLP_CERTIFICATE: CERT,
    OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE: CERT,
    OTEL_EXPORTER_OTLP_CLIENT_KEY: KEY,
    OTEL_EXPORTER_OTLP_COMPRESSION: 'gzip',
    OTEL_BSP_SCHEDULE_DELAY: '50',
  });
  try {
    await oneCall(server);
    const request = await eventually('an export over TLS', async () => seen[0], 10_000);
    assert.equal(request, { url: '/v1/traces', encoding: 'gzip', authorized: true });
  } finally {
    assert.is(await within(server.stop(), 'server exit'), 0, server.output());
    collector.closeAllConnections();
    collector.close();
  }
  assert.not.match(server.output(), 'OpenTelemetry', server.output());
});

test('OTLP/gRPC over mutual TLS with the OTEL_EXPORTER_OTLP_TRACES_* certificate files, gzip-compressed', async () => {
  const seen: Array<{ encoding: unknown; authorized: boolean }> = [];
  const collector = createHttp2SecureServer(MUTUAL_TLS);
  collector.on('stream', (stream, headers) => {
    stream.on('data', () => undefined);
    stream.on('end', () => {
      seen.push({ encoding: headers['grpc-encoding'], authorized: (stream.session?.socket as TLSSocket | undefined)?.authorized ?? false });
      stream.respond({ ':status': 200, 'content-type': 'application/grpc' }, { waitForTrailers: true });
      stream.on('wantTrailers', () => stream.sendTrailers({ 'grpc-status': '0' }));
      // An empty ExportTraceServiceResponse, in one uncompressed frame.
      stream.end(Buffer.alloc(5));
    });
  });
  collector.on('sessionError', () => undefined);
  await new Promise<void>((resolve) => collector.listen(0, '127.0.0.1', resolve));
  const server = await startServer({
    OTEL_EXPORTER_OTLP_ENDPOINT: `https://localhost:${(collector.address() as AddressInfo).port}`,
    OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc',
    OTEL_EXPORTER_OTLP_TRACES_CERTIFICATE: CERT,
    OTEL_EXPORTER_OTLP_TRACES_CLIENT_CERTIFICATE: CERT,
    OTEL_EXPORTER_OTLP_TRACES_CLIENT_KEY: KEY,
    OTEL_EXPORTER_OTLP_TRACES_COMPRESSION: 'gzip',
    OTEL_BSP_SCHEDULE_DELAY: '50',
  });
  try {
    await oneCall(server);
    const request = await eventually('an export over TLS', async () => seen[0], 10_000);
    assert.equal(request, { encoding: 'gzip', authorized: true });
  } finally {
    assert.is(await within(server.stop(), 'server exit'), 0, server.output());
    collector.close();
  }
  assert.not.match(server.output(), 'OpenTelemetry', server.output());
});

test.run();
