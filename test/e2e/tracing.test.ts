/**
 * Tracing as an operator configures it with the standard OTEL_* variables: server spans reach an
 * OTLP/HTTP (JSON) collector, continue the caller's trace from `traceparent` on every protocol,
 * carry the rpc.* attributes (REST also the HTTP ones) and a status as the RPC semantic conventions
 * give it, the configured resource and the SDK's, are flushed on SIGTERM, and obey the sampler, the
 * propagators, the exporters, the batch delay and OTEL_SDK_DISABLED; health and reflection calls
 * stay untraced.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { create, toBinary } from '@bufbuild/protobuf';
import { Code, createClient } from '@connectrpc/connect';
import { connect as connectHttp2 } from 'node:http2';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createObservabilityClient, createTransport, type ClientOptions } from '../../clients/ts/client.js';
import { Health } from '../../gen/ts/grpc/health/v1/health_pb.js';
import { ServerReflection } from '../../gen/ts/grpc/reflection/v1/reflection_pb.js';
import { CaptureProfileRequestSchema } from '../../gen/ts/rs3gw/observability/v1/profiling_pb.js';
import { REPO_ROOT, startServer, type RunningServer } from '../support/server.js';
import { failure, within } from './support/rpc-helpers.js';
import { OtlpReceiver, type ReceivedSpan } from './support/rpc-otlp.js';

const SERVICE = 'rs3gw.observability.v1.AnomalyService';
const versionOf = (dir: string) => (JSON.parse(readFileSync(join(REPO_ROOT, dir, 'package.json'), 'utf8')) as { version: string }).version;
const VERSION = versionOf('.');
/** The SDK names itself with the version of @opentelemetry/core. */
const SDK_VERSION = versionOf('node_modules/@opentelemetry/core');
const SERVER_KIND = 2;
const STATUS_UNSET = 0;
const STATUS_ERROR = 2;

let receiver: OtlpReceiver;
let server: RunningServer;

function tracingEnv(extra: Record<string, string> = {}): Record<string, string> {
  return {
    OTEL_EXPORTER_OTLP_ENDPOINT: receiver.endpoint,
    OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
    OTEL_SERVICE_NAME: 'rs3gw-obs-e2e',
    OTEL_RESOURCE_ATTRIBUTES: 'deployment.environment=e2e,team=storage%20gateway',
    ...extra,
  };
}

/** A fresh caller context: a W3C traceparent with a random trace and parent span. */
function callerContext(sampled = true) {
  const traceId = randomBytes(16).toString('hex');
  const parentSpanId = randomBytes(8).toString('hex');
  return { traceId, parentSpanId, traceparent: `00-${traceId}-${parentSpanId}-${sampled ? '01' : '00'}` };
}

function clientWith(options: ClientOptions, traceparent: string, url = server.url) {
  return createObservabilityClient(url, {
    ...options,
    interceptors: [
      (next) => (req) => {
        req.header.set('traceparent', traceparent);
        return next(req);
      },
    ],
  });
}

function spanOf(traceId: string) {
  return (span: ReceivedSpan) => span.traceId === traceId;
}

test.before(async () => {
  receiver = await OtlpReceiver.start();
  // Export a tenth of a second after a span ends, so that each test waits no longer.
  server = await startServer(tracingEnv({ OTEL_BSP_SCHEDULE_DELAY: '100' }));
});

test.after(async () => {
  await server?.stop();
  await receiver?.close();
});

const PROTOCOLS: Array<[string, ClientOptions, string]> = [
  ['gRPC', { protocol: 'grpc' }, 'grpc'],
  ['Connect', { protocol: 'connect' }, 'connect_rpc'],
  ['gRPC-Web', { protocol: 'grpc-web' }, 'grpc_web'],
];

for (const [name, options, system] of PROTOCOLS) {
  test(`${name}: the server span continues the caller's trace and says what was called`, async () => {
    const caller = callerContext();
    const client = clientWith(options, caller.traceparent);
    await within(client.anomalies.recordSample({ metric: 'traced_metric', value: 1 }), `${name} RecordSample`);
    const span = await receiver.waitFor(spanOf(caller.traceId), `${name} span`);
    assert.is(span.parentSpanId, caller.parentSpanId, 'parent span id');
    assert.ok(/^[0-9a-f]{16}$/.test(span.spanId) && span.spanId !== caller.parentSpanId, 'a span of its own');
    assert.is(span.kind, SERVER_KIND);
    assert.is(span.name, `${SERVICE}/RecordSample`);
    assert.is(span.attributes['rpc.system'], system);
    assert.is(span.attributes['rpc.service'], SERVICE);
    assert.is(span.attributes['rpc.method'], 'RecordSample');
    if (name === 'Connect') {
      assert.not.ok('rpc.grpc.status_code' in span.attributes, 'Connect spans carry no gRPC status code');
      assert.not.ok('rpc.connect_rpc.error_code' in span.attributes, 'nor an error code on success');
    } else {
      assert.is(span.attributes['rpc.grpc.status_code'], 0);
    }
    assert.is(span.statusCode, STATUS_UNSET);
    assert.is(span.resource['service.name'], 'rs3gw-obs-e2e');
    assert.is(span.resource['deployment.environment'], 'e2e');
    assert.is(span.resource['team'], 'storage gateway', 'percent-encoded values are decoded');
    assert.is(span.resource['service.version'], VERSION, 'service.version is the package version');
    assert.is(span.resource['telemetry.sdk.name'], 'opentelemetry');
    assert.is(span.resource['telemetry.sdk.language'], 'nodejs');
    assert.is(span.resource['telemetry.sdk.version'], SDK_VERSION);
  });
}

test('REST: the server span continues the caller trace, with the HTTP server attributes beside the rpc.* ones', async () => {
  const caller = callerContext();
  const response = await within(
    fetch(`${server.url}/api/observability/anomalies/samples`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', traceparent: caller.traceparent },
      body: JSON.stringify({ metric: 'traced_metric', value: 2 }),
    }),
    'REST POST samples',
  );
  assert.is(response.status, 200);
  const span = await receiver.waitFor(spanOf(caller.traceId), 'REST span');
  assert.is(span.parentSpanId, caller.parentSpanId);
  assert.is(span.kind, SERVER_KIND);
  assert.is(span.attributes['rpc.system'], 'http_json');
  assert.is(span.attributes['rpc.service'], SERVICE);
  assert.is(span.attributes['rpc.method'], 'RecordSample');
  assert.is(span.attributes['rpc.grpc.status_code'], 0);
  assert.is(span.attributes['http.request.method'], 'POST');
  assert.is(span.attributes['http.route'], '/api/observability/anomalies/samples');
  assert.is(span.attributes['url.path'], '/api/observability/anomalies/samples');
  assert.is(span.attributes['http.response.status_code'], 200);
  assert.is(span.resource['service.name'], 'rs3gw-obs-e2e');
});

// The RPC semantic conventions: a server span's status is an error only for the codes that are the
// server's failure (UNKNOWN, DEADLINE_EXCEEDED, UNIMPLEMENTED, INTERNAL, UNAVAILABLE, DATA_LOSS).
for (const [name, options] of PROTOCOLS) {
  test(`${name}: a call refused as the client's error keeps the span status unset, and records the code`, async () => {
    const caller = callerContext();
    const client = clientWith(options, caller.traceparent);
    const error = await failure(client.anomalies.recordSample({ metric: 'traced_metric', value: Number.NaN }), 'RecordSample NaN');
    assert.is(error.rawMessage, 'value: must be a finite number');
    const span = await receiver.waitFor(spanOf(caller.traceId), 'span of the refused call');
    assert.is(span.statusCode, STATUS_UNSET);
    if (name === 'Connect') {
      assert.is(span.attributes['rpc.connect_rpc.error_code'], 'invalid_argument');
      assert.not.ok('rpc.grpc.status_code' in span.attributes);
    } else {
      assert.is(span.attributes['rpc.grpc.status_code'], 3);
    }
  });
}

test('REST: a refused call keeps the span status unset and records the HTTP status and route', async () => {
  const caller = callerContext();
  const response = await within(fetch(`${server.url}/api/observability/metrics/no_such_metric`, { headers: { traceparent: caller.traceparent } }), 'REST GET metric');
  assert.is(response.status, 404);
  const span = await receiver.waitFor(spanOf(caller.traceId), 'REST span');
  assert.is(span.statusCode, STATUS_UNSET);
  assert.is(span.attributes['rpc.method'], 'GetMetric');
  assert.is(span.attributes['rpc.grpc.status_code'], 5);
  assert.is(span.attributes['http.request.method'], 'GET');
  assert.is(span.attributes['http.route'], '/api/observability/metrics/{name}');
  assert.is(span.attributes['url.path'], '/api/observability/metrics/no_such_metric');
  assert.is(span.attributes['url.scheme'], 'http');
  assert.not.ok('url.query' in span.attributes, 'no query, no url.query');
  assert.is(span.attributes['http.response.status_code'], 404);
});

test('REST: a query string is the span\'s url.query, as the HTTP semantic conventions ask', async () => {
  const caller = callerContext();
  const response = await within(fetch(`${server.url}/api/observability/anomalies?limit=1&severity=high`, { headers: { traceparent: caller.traceparent } }), 'REST GET anomalies');
  assert.is(response.status, 200);
  const span = await receiver.waitFor(spanOf(caller.traceId), 'REST span');
  assert.is(span.attributes['url.scheme'], 'http');
  assert.is(span.attributes['url.path'], '/api/observability/anomalies');
  assert.is(span.attributes['url.query'], 'limit=1&severity=high');
});

// The HTTP semantic conventions: a 4xx leaves a server span's status unset, whatever gRPC code
// REST gives the refusal (415 is UNIMPLEMENTED, which on gRPC would be the server's failure).
test('REST: a body REST does not read (415, content type or coding) is the client\'s mistake: span status unset, the codes recorded', async () => {
  for (const [headers, what] of [
    [{ 'content-type': 'application/xml' }, 'content-type application/xml'],
    [{ 'content-type': 'application/json', 'content-encoding': 'zstd' }, 'content-encoding zstd'],
  ] as const) {
    const caller = callerContext();
    const response = await within(
      fetch(`${server.url}/api/observability/anomalies/samples`, { method: 'POST', headers: { ...headers, traceparent: caller.traceparent }, body: '<x/>' }),
      `REST POST with ${what}`,
    );
    assert.is(response.status, 415, what);
    const span = await receiver.waitFor(spanOf(caller.traceId), `span of the ${what} call`);
    assert.is(span.attributes['http.response.status_code'], 415, what);
    assert.is(span.attributes['rpc.grpc.status_code'], Code.Unimplemented, what);
    assert.is(span.statusCode, STATUS_UNSET, `${what}: status unset, not ERROR (${span.statusMessage})`);
  }
});

test('gRPC-Web: a body with no message frame is the client\'s mistake though UNIMPLEMENTED: span status unset', async () => {
  const caller = callerContext();
  const response = await within(
    fetch(`${server.url}/${SERVICE}/RecordSample`, { method: 'POST', headers: { 'content-type': 'application/grpc-web+proto', traceparent: caller.traceparent }, body: new Uint8Array(0) }),
    'gRPC-Web call without a frame',
  );
  await response.arrayBuffer();
  const span = await receiver.waitFor(spanOf(caller.traceId), 'span of the call without a frame');
  assert.is(span.attributes['rpc.grpc.status_code'], Code.Unimplemented);
  assert.is(span.statusCode, STATUS_UNSET, span.statusMessage);
});

test('REST: url.path and url.query, which the client chooses, are cut to 1024 characters in the span', async () => {
  const caller = callerContext();
  // Together within Node's 16 KiB for the request line and headers.
  const name = 'm'.repeat(5000);
  const query = `limit=1&x=${'q'.repeat(9000)}`;
  const response = await within(fetch(`${server.url}/api/observability/metrics/${name}?${query}`, { headers: { traceparent: caller.traceparent } }), 'REST GET with a long path and query');
  await response.arrayBuffer();
  const span = await receiver.waitFor(spanOf(caller.traceId), 'span of the long call');
  const path = String(span.attributes['url.path']);
  const got = String(span.attributes['url.query']);
  assert.is(path.length, 1024, 'url.path cut to 1024 characters');
  assert.ok(path.startsWith('/api/observability/metrics/mmm') && path.endsWith('…'), 'the start kept, the cut marked');
  assert.is(got.length, 1024, 'url.query cut to 1024 characters');
  assert.ok(got.startsWith('limit=1&x=qqq') && got.endsWith('…'), 'the start kept, the cut marked');
  assert.is(span.attributes['http.route'], '/api/observability/metrics/{name}', 'the route is not the client\'s');
});

test('OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT, when set, is the bound instead, for every attribute', async () => {
  const own = await startServer(tracingEnv({ OTEL_BSP_SCHEDULE_DELAY: '100', OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT: '2000' }));
  try {
    const caller = callerContext();
    const response = await within(fetch(`${own.url}/api/observability/anomalies?x=${'q'.repeat(12_000)}`, { headers: { traceparent: caller.traceparent } }), 'REST GET with a long query');
    await response.arrayBuffer();
    const span = await receiver.waitFor(spanOf(caller.traceId), 'span of the long call');
    assert.is(String(span.attributes['url.query']).length, 2000);
    assert.is(span.attributes['url.path'], '/api/observability/anomalies');
  } finally {
    assert.is(await within(own.stop(), 'server exit'), 0, own.output());
  }
});

/**
 * A 5 s CaptureProfile with a 300 ms deadline that only the server enforces (the header alone, no
 * client timer: a client's own timer would cancel the call first), over native gRPC; the grpc-status.
 */
async function grpcPastDeadline(traceparent: string): Promise<string | undefined> {
  const session = connectHttp2(server.url);
  try {
    const request = session.request({
      ':method': 'POST',
      ':path': '/rs3gw.observability.v1.ProfilingService/CaptureProfile',
      'content-type': 'application/grpc',
      te: 'trailers',
      'grpc-timeout': '300m',
      traceparent,
    });
    const message = toBinary(CaptureProfileRequestSchema, create(CaptureProfileRequestSchema, { duration: { seconds: 5n } }));
    const frame = Buffer.alloc(5 + message.length);
    frame.writeUInt32BE(message.length, 1);
    frame.set(message, 5);
    request.end(frame);
    return await within(
      new Promise<string | undefined>((resolve) => {
        let status: string | undefined;
        request.on('response', (headers) => (status = headers['grpc-status'] as string | undefined));
        request.on('trailers', (trailers) => (status = trailers['grpc-status'] as string | undefined));
        request.on('close', () => resolve(status));
        request.resume();
      }),
      'gRPC CaptureProfile past its deadline',
    );
  } finally {
    session.close();
  }
}

test('a call that outlives its deadline is an error span (DEADLINE_EXCEEDED), on gRPC and Connect', async () => {
  const grpcCaller = callerContext();
  assert.is(await grpcPastDeadline(grpcCaller.traceparent), String(Code.DeadlineExceeded));
  const grpcSpan = await receiver.waitFor(spanOf(grpcCaller.traceId), 'gRPC span');
  assert.is(grpcSpan.statusCode, STATUS_ERROR);
  assert.is(grpcSpan.attributes['rpc.grpc.status_code'], 4);

  const connectCaller = callerContext();
  const response = await within(
    fetch(`${server.url}/rs3gw.observability.v1.ProfilingService/CaptureProfile`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'connect-timeout-ms': '300', traceparent: connectCaller.traceparent },
      body: JSON.stringify({ duration: '5s' }),
    }),
    'Connect CaptureProfile past its deadline',
  );
  assert.is(((await response.json()) as { code: string }).code, 'deadline_exceeded');
  const connectSpan = await receiver.waitFor(spanOf(connectCaller.traceId), 'Connect span');
  assert.is(connectSpan.statusCode, STATUS_ERROR);
  assert.is(connectSpan.attributes['rpc.connect_rpc.error_code'], 'deadline_exceeded');
});

test('Connect: a call the client cancels records the code as the conventions spell it, status unset', async () => {
  const caller = callerContext();
  const client = clientWith({ protocol: 'connect' }, caller.traceparent);
  const controller = new AbortController();
  setTimeout(() => controller.abort(), 300);
  await failure(client.profiling.captureProfile({ duration: { seconds: 5n } }, { signal: controller.signal }), 'CaptureProfile');
  const span = await receiver.waitFor(spanOf(caller.traceId), 'span of the canceled call');
  assert.is(span.statusCode, STATUS_UNSET);
  assert.is(span.attributes['rpc.connect_rpc.error_code'], 'cancelled');
});

test('a call without traceparent starts a trace of its own', async () => {
  const before = new Set(receiver.spans.map((s) => s.spanId));
  const client = createObservabilityClient(server.url, { protocol: 'grpc' });
  await within(client.anomalies.recordSample({ metric: 'untraced_root', value: 1 }), 'RecordSample');
  const span = await receiver.waitFor((s) => !before.has(s.spanId) && s.attributes['rpc.method'] === 'RecordSample', 'root span');
  assert.is(span.parentSpanId, '');
  assert.ok(/^[0-9a-f]{32}$/.test(span.traceId), span.traceId);
});

test('a caller that did not sample its trace gets no server span (parent-based sampling)', async () => {
  const unsampled = callerContext(false);
  const sampled = callerContext(true);
  await within(clientWith({ protocol: 'grpc' }, unsampled.traceparent).anomalies.recordSample({ metric: 'traced_metric', value: 3 }), 'unsampled call');
  await within(clientWith({ protocol: 'grpc' }, sampled.traceparent).anomalies.recordSample({ metric: 'traced_metric', value: 4 }), 'sampled call');
  // Spans are exported in order of ending: once the later call's span is here, the earlier one would be.
  await receiver.waitFor(spanOf(sampled.traceId), 'sampled span');
  assert.not.ok(receiver.spans.some(spanOf(unsampled.traceId)), 'no span for the unsampled trace');
});

test('spans still buffered are flushed on SIGTERM', async () => {
  const own = await startServer(tracingEnv());
  const caller = callerContext();
  const client = createObservabilityClient(own.url, {
    protocol: 'connect',
    interceptors: [(next) => (req) => (req.header.set('traceparent', caller.traceparent), next(req))],
  });
  await within(client.anomalies.recordSample({ metric: 'flushed_on_exit', value: 1 }), 'RecordSample');
  // Straight away: the batch processor has not exported yet (it waits up to a second).
  const code = await within(own.stop(), 'server exit');
  assert.is(code, 0, own.output());
  const span = receiver.spans.find(spanOf(caller.traceId));
  assert.ok(span, 'the span arrived before the process exited');
  assert.is(span!.parentSpanId, caller.parentSpanId);
});

test('OTEL_BSP_SCHEDULE_DELAY holds spans back that long; SIGTERM still flushes them', async () => {
  const own = await startServer(tracingEnv({ OTEL_BSP_SCHEDULE_DELAY: '60000' }));
  const caller = callerContext();
  const client = clientWith({ protocol: 'grpc' }, caller.traceparent, own.url);
  try {
    await within(client.anomalies.recordSample({ metric: 'held_back', value: 1 }), 'RecordSample');
    // Well past the service's default delay of one second.
    await new Promise((resolve) => setTimeout(resolve, 2500));
    assert.not.ok(receiver.spans.some(spanOf(caller.traceId)), 'no export before the delay');
  } finally {
    assert.is(await within(own.stop(), 'server exit'), 0, own.output());
  }
  assert.ok(receiver.spans.some(spanOf(caller.traceId)), 'flushed on SIGTERM');
});

test('OTEL_EXPORTER_OTLP_TRACES_ENDPOINT alone turns export on, to that exact URL', async () => {
  const own = await startServer({
    OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: `${receiver.endpoint}/v1/traces`,
    OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
    OTEL_SERVICE_NAME: 'rs3gw-obs-traces-endpoint',
  });
  try {
    const caller = callerContext();
    const client = createObservabilityClient(own.url, {
      protocol: 'grpc',
      interceptors: [(next) => (req) => (req.header.set('traceparent', caller.traceparent), next(req))],
    });
    await within(client.health.getHealthReport({}), 'GetHealthReport');
    const span = await receiver.waitFor(spanOf(caller.traceId), 'span via the traces endpoint');
    assert.is(span.resource['service.name'], 'rs3gw-obs-traces-endpoint');
    assert.is(span.attributes['rpc.method'], 'GetHealthReport');
  } finally {
    assert.is(await own.stop(), 0);
  }
});

test('OTEL_TRACES_SAMPLER=always_off sends no spans at all', async () => {
  const own = await startServer(tracingEnv({ OTEL_TRACES_SAMPLER: 'always_off', OTEL_SERVICE_NAME: 'rs3gw-obs-always-off' }));
  const caller = callerContext(true);
  for (const protocol of ['grpc', 'connect'] as const) {
    const client = createObservabilityClient(own.url, {
      protocol,
      interceptors: [(next) => (req) => (req.header.set('traceparent', caller.traceparent), next(req))],
    });
    await within(client.anomalies.recordSample({ metric: 'never_traced', value: 1 }), `${protocol} RecordSample`);
  }
  assert.is(await within(own.stop(), 'server exit'), 0);
  // The exit flushed whatever was buffered: nothing from this server may have arrived.
  assert.not.ok(receiver.spans.some((s) => s.resource['service.name'] === 'rs3gw-obs-always-off' || s.traceId === caller.traceId), 'no spans');
  assert.equal(receiver.rejected, [], 'every export was OTLP/JSON on /v1/traces');
});

test('OTEL_SDK_DISABLED=true records and exports nothing, and calls with trace context still succeed', async () => {
  const own = await startServer(tracingEnv({ OTEL_SDK_DISABLED: 'true', OTEL_SERVICE_NAME: 'rs3gw-obs-disabled' }));
  const caller = callerContext(true);
  await within(clientWith({ protocol: 'grpc' }, caller.traceparent, own.url).anomalies.recordSample({ metric: 'never_traced', value: 1 }), 'gRPC RecordSample');
  const response = await within(fetch(`${own.url}/api/observability/health`, { headers: { traceparent: caller.traceparent } }), 'REST health');
  assert.is(response.status, 200);
  assert.is(await within(own.stop(), 'server exit'), 0, own.output());
  assert.not.ok(receiver.spans.some((s) => s.resource['service.name'] === 'rs3gw-obs-disabled' || s.traceId === caller.traceId), 'no spans');
});

test('OTEL_PROPAGATORS=none ignores an incoming traceparent: the call starts a trace of its own', async () => {
  const own = await startServer(tracingEnv({ OTEL_PROPAGATORS: 'none', OTEL_SERVICE_NAME: 'rs3gw-obs-no-propagation', OTEL_BSP_SCHEDULE_DELAY: '100' }));
  try {
    const caller = callerContext(true);
    await within(clientWith({ protocol: 'grpc' }, caller.traceparent, own.url).anomalies.recordSample({ metric: 'own_trace', value: 1 }), 'RecordSample');
    const span = await receiver.waitFor((s) => s.resource['service.name'] === 'rs3gw-obs-no-propagation', 'span');
    assert.is.not(span.traceId, caller.traceId);
    assert.is(span.parentSpanId, '');
  } finally {
    assert.is(await within(own.stop(), 'server exit'), 0);
  }
});

test('OTEL_TRACES_EXPORTER=otlp,console sends each span to the collector and prints it', async () => {
  const own = await startServer(tracingEnv({ OTEL_TRACES_EXPORTER: 'otlp,console' }));
  const caller = callerContext(true);
  await within(clientWith({ protocol: 'grpc' }, caller.traceparent, own.url).anomalies.recordSample({ metric: 'two_exporters', value: 1 }), 'RecordSample');
  assert.is(await within(own.stop(), 'server exit'), 0, own.output());
  assert.ok(receiver.spans.some(spanOf(caller.traceId)), 'the collector has the span');
  assert.match(own.output(), `traceId: '${caller.traceId}'`, 'the console exporter printed it');
});

test('health checks and reflection calls have no span, as the README says', async () => {
  const probe = callerContext(true);
  const traced = callerContext(true);
  const transport = createTransport(server.url, {
    protocol: 'grpc',
    interceptors: [(next) => (req) => (req.header.set('traceparent', probe.traceparent), next(req))],
  });
  await within(createClient(Health, transport).check({ service: '' }), 'Health/Check');
  const reflection = createClient(ServerReflection, transport).serverReflectionInfo(
    (async function* () {
      yield { messageRequest: { case: 'listServices' as const, value: '' } };
    })(),
  );
  for await (const answer of reflection) assert.is(answer.messageResponse.case, 'listServicesResponse');
  await within(clientWith({ protocol: 'grpc' }, traced.traceparent).anomalies.recordSample({ metric: 'after_probes', value: 1 }), 'a traced call');
  // Spans are exported in order of ending: once the later call's span is here, the probes' would be.
  await receiver.waitFor(spanOf(traced.traceId), 'the traced call');
  assert.not.ok(receiver.spans.some(spanOf(probe.traceId)), 'no span for health or reflection');
});

test.run();
