/**
 * The service as a gRPC user meets it with grpcurl and no proto files: reflection lists and
 * describes everything, unary calls answer JSON, WatchAnomalies streams live, and
 * grpc.health.v1 reports each service. grpcurl exits with 64 + the gRPC code when a call fails.
 */
import type { DescriptorProto } from '@bufbuild/protobuf/wkt';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { file_grpc_health_v1_health } from '../../gen/ts/grpc/health/v1/health_pb.js';
import { file_rs3gw_observability_v1_anomaly } from '../../gen/ts/rs3gw/observability/v1/anomaly_pb.js';
import { file_rs3gw_observability_v1_health_report } from '../../gen/ts/rs3gw/observability/v1/health_report_pb.js';
import { file_rs3gw_observability_v1_metrics } from '../../gen/ts/rs3gw/observability/v1/metrics_pb.js';
import { file_rs3gw_observability_v1_profiling } from '../../gen/ts/rs3gw/observability/v1/profiling_pb.js';
import { file_rs3gw_observability_v1_resource } from '../../gen/ts/rs3gw/observability/v1/resource_pb.js';
import { GRPCURL, runCommand, startServer, type RunningServer } from '../support/server.js';
import { within } from './support/rpc-helpers.js';

const PKG = 'rs3gw.observability.v1';
const SERVICES = ['AnomalyService', 'HealthReportService', 'MetricsService', 'ProfilingService', 'ResourceService'].map((s) => `${PKG}.${s}`);
/** grpcurl's exit code for a call that failed with gRPC code `code`. */
const exitFor = (code: number) => 64 + code;

let server: RunningServer;

function grpcurl(args: string[], input?: string) {
  return runCommand(GRPCURL, ['-plaintext', ...args], { input, timeoutMs: 30_000 });
}

/** grpcurl prints each message as one pretty JSON object; a stream prints several in a row. */
function messages(stdout: string): Record<string, any>[] {
  return stdout
    .split(/\n(?=\{)/)
    .filter((chunk) => chunk.trim() !== '')
    .map((chunk) => JSON.parse(chunk));
}

test.before(async () => {
  assert.ok(existsSync(GRPCURL), `${GRPCURL} is missing: run \`bash scripts/test-tools.sh\``);
  server = await startServer();
});

test.after(async () => {
  await server?.stop();
});

test('list shows the five services, health and both reflection versions', async () => {
  const { code, stdout, stderr } = await grpcurl([server.address, 'list']);
  assert.is(code, 0, stderr);
  assert.equal(stdout.trim().split('\n').sort(), [
    'grpc.health.v1.Health',
    'grpc.reflection.v1.ServerReflection',
    'grpc.reflection.v1alpha.ServerReflection',
    ...SERVICES,
  ].sort());
});

test('list of a service shows its methods', async () => {
  const { code, stdout, stderr } = await grpcurl([server.address, 'list', `${PKG}.AnomalyService`]);
  assert.is(code, 0, stderr);
  assert.equal(
    stdout.trim().split('\n').sort(),
    ['ConfigureMetric', 'GetStatistics', 'ListAnomalies', 'RecordSample', 'RecordSamples', 'ResetMetric', 'WatchAnomalies'].map((m) => `${PKG}.AnomalyService.${m}`),
  );
});

test('describe of each service works from reflection alone, streaming and HTTP annotations included', async () => {
  for (const service of SERVICES) {
    const { code, stdout, stderr } = await grpcurl([server.address, 'describe', service]);
    assert.is(code, 0, `${service}: ${stderr}`);
    assert.ok(stdout.startsWith(`${service} is a service:`), stdout);
  }
  const { stdout } = await grpcurl([server.address, 'describe', `${PKG}.AnomalyService`]);
  assert.match(stdout, `rpc WatchAnomalies ( .${PKG}.WatchAnomaliesRequest ) returns ( stream .${PKG}.WatchAnomaliesResponse )`);
  assert.match(stdout, `rpc RecordSample ( .${PKG}.RecordSampleRequest ) returns ( .${PKG}.RecordSampleResponse )`);
  assert.match(stdout, 'post: "/api/observability/anomalies/samples"');
  assert.match(stdout, 'idempotency_level = NO_SIDE_EFFECTS');
});

test('describe of a message shows its fields, including imported types', async () => {
  const { code, stdout, stderr } = await grpcurl([server.address, 'describe', `${PKG}.Anomaly`]);
  assert.is(code, 0, stderr);
  assert.ok(stdout.startsWith(`${PKG}.Anomaly is a message:`), stdout);
  assert.match(stdout, 'uint64 sequence = 1;');
  assert.match(stdout, 'string metric_name = 2;');
  assert.match(stdout, `.${PKG}.AnomalySeverity severity = 7;`);
  assert.match(stdout, '.google.protobuf.Timestamp detected_at = 8;');

  const oneof = await grpcurl([server.address, 'describe', `${PKG}.WatchAnomaliesResponse`]);
  assert.match(oneof.stdout, 'oneof event {');
  assert.match(oneof.stdout, `.${PKG}.WatchCaughtUp caught_up = 3;`);

  const wellKnown = await grpcurl([server.address, 'describe', 'google.protobuf.Timestamp']);
  assert.is(wellKnown.code, 0, wellKnown.stderr);
  assert.match(wellKnown.stdout, 'int64 seconds = 1;');

  const enumType = await grpcurl([server.address, 'describe', `${PKG}.AnomalyType`]);
  assert.match(enumType.stdout, 'ANOMALY_TYPE_LATENCY_SPIKE = 1;');
});

/** The map-entry messages protoc generates for the map fields of the served contracts, by full name. */
function mapEntryTypes(): string[] {
  const files = [
    file_rs3gw_observability_v1_anomaly,
    file_rs3gw_observability_v1_health_report,
    file_rs3gw_observability_v1_metrics,
    file_rs3gw_observability_v1_profiling,
    file_rs3gw_observability_v1_resource,
    file_grpc_health_v1_health,
  ];
  const out: string[] = [];
  const visit = (scope: string, m: DescriptorProto) => {
    const name = `${scope}.${m.name}`;
    if (m.options?.mapEntry) out.push(name);
    m.nestedType.forEach((nested) => visit(name, nested));
  };
  for (const file of files) file.proto.messageType.forEach((m) => visit(file.proto.package, m));
  return out;
}

test('describe resolves every map field\'s entry type, and its fields', async () => {
  const entries = mapEntryTypes();
  assert.is(entries.length, 11, entries.join(', '));
  for (const entry of entries) {
    const { code, stdout, stderr } = await grpcurl([server.address, 'describe', entry]);
    assert.is(code, 0, `${entry}: ${stderr}`);
    assert.ok(stdout.startsWith(`${entry} is the entry type for a map field:`), stdout);
  }
  const field = await grpcurl([server.address, 'describe', `${PKG}.RecordMetricRequest.LabelsEntry.value`]);
  assert.is(field.code, 0, field.stderr);
  assert.match(field.stdout, 'string value = 2;');
});

test('describe resolves oneofs, and enum values in the scope protobuf gives them (their enum\'s parent)', async () => {
  const oneof = await grpcurl([server.address, 'describe', `${PKG}.WatchAnomaliesResponse.event`]);
  assert.is(oneof.code, 0, oneof.stderr);
  assert.ok(oneof.stdout.startsWith(`${PKG}.WatchAnomaliesResponse.event is a one-of:`), oneof.stdout);
  assert.match(oneof.stdout, `.${PKG}.WatchCaughtUp caught_up = 3;`);

  // A top-level enum's values are package-level names; a nested enum's are its message's.
  const value = await grpcurl([server.address, 'describe', `${PKG}.ANOMALY_SEVERITY_HIGH`]);
  assert.is(value.code, 0, value.stderr);
  assert.match(value.stdout, 'is an enum value:');
  assert.match(value.stdout, 'ANOMALY_SEVERITY_HIGH = 3;');
  const nested = await grpcurl([server.address, 'describe', 'grpc.health.v1.HealthCheckResponse.SERVING']);
  assert.is(nested.code, 0, nested.stderr);
  assert.match(nested.stdout, 'is an enum value:');
  assert.match(nested.stdout, 'SERVING = 1;');

  // Names under the enum itself are not declared by protobuf, and grpc-go's server does not resolve them either.
  for (const name of [`${PKG}.AnomalySeverity.ANOMALY_SEVERITY_HIGH`, 'grpc.health.v1.HealthCheckResponse.ServingStatus.SERVING']) {
    const { code, stderr } = await grpcurl([server.address, 'describe', name]);
    assert.is.not(code, 0, name);
    assert.match(stderr, `Symbol not found: ${name}`);
  }
});

test('RecordSample answers the assessment as JSON', async () => {
  const before = Date.now();
  const { code, stdout, stderr } = await grpcurl(['-d', '{"metric":"grpcurl_unary","value":42.5}', server.address, `${PKG}.AnomalyService/RecordSample`]);
  assert.is(code, 0, stderr);
  const [reply] = messages(stdout);
  const a = reply!.assessment;
  assert.is(a.metric, 'grpcurl_unary');
  assert.is(a.value, 42.5);
  assert.is(a.warmingUp, true);
  assert.is(a.samplesSeen, '1'); // uint64 is a string in proto JSON
  assert.is(a.anomaly, undefined);
  const time = Date.parse(a.time);
  assert.ok(time >= before - 1000 && time <= Date.now() + 1000, `time ${a.time} is not now`);
});

test('a bad request fails with INVALID_ARGUMENT naming the field', async () => {
  const { code, stderr } = await grpcurl(['-d', '{"metric":"grpcurl_nan","value":"NaN"}', server.address, `${PKG}.AnomalyService/RecordSample`]);
  assert.is(code, exitFor(3), stderr);
  assert.match(stderr, 'Code: InvalidArgument');
  assert.match(stderr, 'Message: value: must be a finite number');
});

test('WatchAnomalies prints caught_up, then an anomaly raised meanwhile, until -max-time', async () => {
  const metric = 'grpcurl_watch_latency';
  const child = spawn(GRPCURL, ['-plaintext', '-max-time', '8', '-d', `{"metric":"${metric}"}`, server.address, `${PKG}.AnomalyService/WatchAnomalies`]);
  let stdout = '';
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += d));
  const exited = new Promise<number | null>((resolve) => child.once('close', (code) => resolve(code)));
  try {
    await within(
      new Promise<void>((resolve) =>
        child.stdout.on('data', (d) => {
          stdout += d;
          if (stdout.includes('"caughtUp"')) resolve();
        }),
      ),
      'caught_up from grpcurl',
    );
    // Raised with grpcurl too: warm-up settings, a steady batch, then one wild value.
    const configured = await grpcurl(['-d', `{"metric":"${metric}","config":{"min_samples":10}}`, server.address, `${PKG}.AnomalyService/ConfigureMetric`]);
    assert.is(configured.code, 0, configured.stderr);
    const samples = [...Array.from({ length: 30 }, (_, i) => ({ metric, value: 10 + (i % 5) * 0.1 })), { metric, value: 1000 }];
    const recorded = await grpcurl(['-d', '@', server.address, `${PKG}.AnomalyService/RecordSamples`], JSON.stringify({ samples }));
    assert.is(recorded.code, 0, recorded.stderr);
    const raised = messages(recorded.stdout)[0]!.assessments.at(-1).anomaly;
    assert.ok(raised, 'the spike raised an anomaly');

    const code = await within(exited, 'grpcurl to stop at -max-time');
    assert.is(code, exitFor(4), `exit code (DEADLINE_EXCEEDED): ${stderr}`);
    assert.match(stderr, 'DeadlineExceeded');
    const stream = messages(stdout);
    assert.is(stream.length, 2, stdout);
    assert.ok(stream[0]!.caughtUp, 'first message is caught_up');
    assert.is(stream[1]!.anomaly.sequence, raised.sequence);
    assert.is(stream[1]!.anomaly.metricName, metric);
    assert.is(stream[1]!.anomaly.currentValue, 1000);
    assert.is(stream[1]!.anomaly.anomalyType, 'ANOMALY_TYPE_LATENCY_SPIKE');
    assert.is(stream[1]!.anomaly.direction, 'ANOMALY_DIRECTION_ABOVE');
  } finally {
    child.kill();
  }
});

test('grpc.health.v1 Check says SERVING for the server and for each service', async () => {
  for (const service of ['', ...SERVICES]) {
    const { code, stdout, stderr } = await grpcurl(['-d', JSON.stringify({ service }), server.address, 'grpc.health.v1.Health/Check']);
    assert.is(code, 0, `${service || '""'}: ${stderr}`);
    assert.equal(messages(stdout)[0], { status: 'SERVING' }, service);
  }
});

test('grpc.health.v1 List reports the server and every service as SERVING', async () => {
  const { code, stdout, stderr } = await grpcurl([server.address, 'grpc.health.v1.Health/List']);
  assert.is(code, 0, stderr);
  const { statuses } = messages(stdout)[0] as { statuses: Record<string, { status: string }> };
  assert.equal(Object.keys(statuses).sort(), ['', ...SERVICES].sort());
  for (const [service, { status }] of Object.entries(statuses)) assert.is(status, 'SERVING', service);
});

test('grpc.health.v1 Check of an unknown service is NOT_FOUND', async () => {
  const { code, stderr } = await grpcurl(['-d', '{"service":"no.such.Service"}', server.address, 'grpc.health.v1.Health/Check']);
  assert.is(code, exitFor(5), stderr);
  assert.match(stderr, 'Code: NotFound');
});

test.run();
