/**
 * What every RPC protocol must do the same, as one uvu suite per protocol: the typed TS client
 * (clients/ts/client.ts) calls every service, watches and resumes anomaly streams, and gets the
 * documented error codes. grpc-client, connect-client and grpc-web-client.test.ts run it for gRPC,
 * Connect (binary and JSON) and gRPC-Web, each against its own server.
 */
import { Code } from '@connectrpc/connect';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { createObservabilityClient, type ClientOptions, type ObservabilityClient } from '../../../clients/ts/client.js';
import { AnomalySeverity, AnomalyType, type WatchAnomaliesResponse } from '../../../gen/ts/rs3gw/observability/v1/anomaly_pb.js';
import { HealthStatus } from '../../../gen/ts/rs3gw/observability/v1/health_report_pb.js';
import { MetricType, RecordOperation } from '../../../gen/ts/rs3gw/observability/v1/metrics_pb.js';
import { Priority } from '../../../gen/ts/rs3gw/observability/v1/resource_pb.js';
import { startServer, type RunningServer } from '../../support/server.js';
import { failure, raiseAnomaly, sampleValue, scrapeMetrics, StreamReader, within } from './rpc-helpers.js';

type Event = WatchAnomaliesResponse['event'];

function watch(client: ObservabilityClient, request: Parameters<ObservabilityClient['anomalies']['watchAnomalies']>[0]) {
  return new StreamReader<WatchAnomaliesResponse>((signal) => client.anomalies.watchAnomalies(request, { signal }));
}

async function nextEvent(reader: StreamReader<WatchAnomaliesResponse>, what: string): Promise<Event> {
  return (await reader.next(what)).event;
}

function assertCaughtUp(event: Event, lastSequence: bigint, where: string): void {
  assert.is(event.case, 'caughtUp', `${where}: expected caught_up, got ${event.case}`);
  if (event.case === 'caughtUp') assert.is(event.value.lastSequence, lastSequence, `${where}: caught_up.last_sequence`);
}

function assertAnomaly(event: Event, sequence: bigint, metric: string, where: string): void {
  assert.is(event.case, 'anomaly', `${where}: expected an anomaly, got ${event.case}`);
  if (event.case === 'anomaly') {
    assert.is(event.value.sequence, sequence, `${where}: sequence`);
    assert.is(event.value.metricName, metric, `${where}: metric`);
  }
}

/** Registers and runs the shared suite for one client protocol. */
export function protocolSuite(title: string, options: ClientOptions): void {
  /** Also the `protocol` label the server's RPC metrics give these calls. */
  const protocol = options.protocol ?? 'grpc';
  const tag = title.toLowerCase().replace(/[^a-z0-9]+/g, '_');
  const test = suite(title);
  let server: RunningServer;
  let client: ObservabilityClient;

  test.before(async () => {
    server = await startServer();
    client = createObservabilityClient(server.url, options);
  });

  test.after(async () => {
    await server?.stop();
  });

  test('ProfilingService measures this service and lists it', async () => {
    const { profile } = await within(client.profiling.getProfile({}), 'GetProfile');
    assert.is(profile?.pid, server.process.pid);
    assert.ok((profile?.memory?.rssBytes ?? 0n) > 0n, 'rss_bytes > 0');
    assert.ok((profile?.memory?.heapUsedBytes ?? 0n) > 0n, 'heap_used_bytes > 0 for this service');
    const { processes } = await within(client.profiling.listProcesses({}), 'ListProcesses');
    const self = processes.find((p) => p.self);
    assert.is(self?.pid, server.process.pid);
    assert.is(self?.alive, true);
  });

  test('MetricsService registers, records and reads a labelled counter', async () => {
    const name = `e2e_${tag}_requests_total`;
    const registered = await within(client.metrics.registerMetric({ name, type: MetricType.COUNTER, description: 'requests', labelNames: ['op'] }), 'RegisterMetric');
    assert.is(registered.created, true);
    assert.is(registered.metric?.type, MetricType.COUNTER);
    await within(client.metrics.recordMetric({ name, value: 2, labels: { op: 'get' } }), 'RecordMetric');
    const recorded = await within(client.metrics.recordMetric({ name, value: 3, labels: { op: 'get' }, operation: RecordOperation.INC }), 'RecordMetric');
    assert.is(recorded.series?.value, 5);
    const got = await within(client.metrics.getMetric({ name }), 'GetMetric');
    assert.equal(got.series.map((s) => [s.labels, s.value]), [[{ op: 'get' }, 5]]);
    const listed = await within(client.metrics.listMetrics({ prefix: `e2e_${tag}_` }), 'ListMetrics');
    assert.equal(listed.metrics.map((m) => m.name), [name]);
  });

  test('AnomalyService records a sample and keeps its statistics', async () => {
    const metric = `e2e_${tag}_cpu`;
    const { assessment } = await within(client.anomalies.recordSample({ metric, value: 0.25 }), 'RecordSample');
    assert.is(assessment?.metric, metric);
    assert.is(assessment?.warmingUp, true);
    assert.is(assessment?.samplesSeen, 1n);
    const { statistics } = await within(client.anomalies.getStatistics({ metric }), 'GetStatistics');
    assert.is(statistics.length, 1);
    assert.is(statistics[0]?.count, 1n);
    assert.is(statistics[0]?.lastValue, 0.25);
    assert.is(statistics[0]?.config?.anomalyType, AnomalyType.CPU_SPIKE);
  });

  test('ResourceService reports the admission state and refuses an unknown permit', async () => {
    const { status } = await within(client.resources.getResources({}), 'GetResources');
    assert.ok(status?.admission?.controller, 'the admission controller is named');
    assert.equal(
      status?.priorities.map((p) => p.priority).sort(),
      [Priority.CRITICAL, Priority.NORMAL, Priority.SHEDDABLE].sort(),
    );
    assert.ok((status?.pressure?.cpu?.availableCores ?? 0) > 0, 'available cores');
    const error = await failure(client.resources.release({ permitId: 'no-such-permit' }), 'Release');
    assert.is(error.code, Code.NotFound, error.message);
    assert.ok(error.rawMessage.startsWith('permit_id: '), error.rawMessage);
  });

  test('HealthReportService reports on every engine', async () => {
    const report = await within(client.health.getHealthReport({}), 'GetHealthReport');
    assert.ok(report.status !== HealthStatus.UNSPECIFIED, 'a status');
    assert.is(report.profiling?.pid, server.process.pid);
    assert.ok(report.businessMetrics?.timestamp, 'business metrics');
    assert.ok(report.resources?.admission, 'resources');
    assert.ok((report.anomalies?.metricsTracked ?? 0) >= 1, 'the metric recorded above is tracked');
    if (report.status !== HealthStatus.HEALTHY) assert.ok(report.reasons.length > 0, 'a status other than healthy says why');
  });

  test('WatchAnomalies starts with caught_up, then delivers an anomaly raised after it', async () => {
    const { lastSequence } = await within(client.anomalies.listAnomalies({}), 'ListAnomalies');
    const metric = `e2e_${tag}_live_latency`;
    const reader = watch(client, { metric });
    try {
      assertCaughtUp(await nextEvent(reader, 'caught_up'), lastSequence, 'first message');
      const raised = await raiseAnomaly(client, metric);
      const event = await nextEvent(reader, 'the live anomaly');
      assertAnomaly(event, raised.sequence, metric, 'live');
      if (event.case === 'anomaly') {
        assert.is(event.value.currentValue, 1000);
        assert.is(event.value.anomalyType, AnomalyType.LATENCY_SPIKE);
        assert.is(event.value.severity, raised.severity);
        assert.ok(event.value.detectedAt, 'detected_at');
      }
    } finally {
      reader.close();
    }
  });

  test('WatchAnomalies filters by metric and severity', async () => {
    const wanted = `e2e_${tag}_wanted`;
    const reader = watch(client, { metric: wanted, minSeverity: AnomalySeverity.HIGH });
    try {
      assert.is((await nextEvent(reader, 'caught_up')).case, 'caughtUp');
      await raiseAnomaly(client, `e2e_${tag}_other`);
      const raised = await raiseAnomaly(client, wanted);
      assert.is(raised.severity, AnomalySeverity.CRITICAL, 'the spike is critical');
      assertAnomaly(await nextEvent(reader, 'the filtered anomaly'), raised.sequence, wanted, 'filtered');
    } finally {
      reader.close();
    }
  });

  test('WatchAnomalies with resume_after_sequence replays what was missed, then goes live', async () => {
    const first = watch(client, {});
    const seen = await nextEvent(first, 'caught_up');
    first.close();
    assert.is(seen.case, 'caughtUp');
    const resumeAfter = seen.case === 'caughtUp' ? seen.value.lastSequence : 0n;

    const missedA = await raiseAnomaly(client, `e2e_${tag}_missed_a`);
    const missedB = await raiseAnomaly(client, `e2e_${tag}_missed_b`);
    assert.ok(missedA.sequence > resumeAfter && missedB.sequence > missedA.sequence, 'sequences increase');

    const resumed = watch(client, { resumeAfterSequence: resumeAfter });
    try {
      assertAnomaly(await nextEvent(resumed, 'replayed A'), missedA.sequence, `e2e_${tag}_missed_a`, 'replay 1');
      assertAnomaly(await nextEvent(resumed, 'replayed B'), missedB.sequence, `e2e_${tag}_missed_b`, 'replay 2');
      assertCaughtUp(await nextEvent(resumed, 'caught_up after the replay'), missedB.sequence, 'after replay');
      const live = await raiseAnomaly(client, `e2e_${tag}_after_resume`);
      assertAnomaly(await nextEvent(resumed, 'live after resume'), live.sequence, `e2e_${tag}_after_resume`, 'live');
    } finally {
      resumed.close();
    }

    // A filtered resume replays only what matches.
    const filtered = watch(client, { resumeAfterSequence: resumeAfter, metric: `e2e_${tag}_missed_b` });
    try {
      assertAnomaly(await nextEvent(filtered, 'replayed B only'), missedB.sequence, `e2e_${tag}_missed_b`, 'filtered replay');
      assert.is((await nextEvent(filtered, 'caught_up')).case, 'caughtUp');
    } finally {
      filtered.close();
    }
  });

  test('a resume after a sequence the service never issued (one from before a restart) is OUT_OF_RANGE, not a silent skip', async () => {
    const last = await within(client.anomalies.listAnomalies({ limit: 1 }), 'ListAnomalies');
    const beyond = last.lastSequence + 1000n;
    const error = await failure(
      (async () => {
        for await (const _ of client.anomalies.watchAnomalies({ resumeAfterSequence: beyond })) break;
      })(),
      'WatchAnomalies resumed beyond the last sequence',
    );
    assert.is(error.code, Code.OutOfRange, error.message);
    assert.match(error.rawMessage, /^resume_after_sequence: is beyond the last sequence issued, \d+: the service restarted since/);
  });

  test('a NaN or infinite value is INVALID_ARGUMENT naming value', async () => {
    for (const value of [Number.NaN, Number.POSITIVE_INFINITY]) {
      const error = await failure(client.anomalies.recordSample({ metric: `e2e_${tag}_nan`, value }), `RecordSample ${value}`);
      assert.is(error.code, Code.InvalidArgument, error.message);
      assert.is(error.rawMessage, 'value: must be a finite number');
    }
    const batch = await failure(
      client.anomalies.recordSamples({ samples: [{ metric: `e2e_${tag}_nan`, value: 1 }, { metric: `e2e_${tag}_nan`, value: Number.NaN }] }),
      'RecordSamples with NaN',
    );
    assert.is(batch.code, Code.InvalidArgument, batch.message);
    assert.match(batch.rawMessage, /^samples\[1\]\.value: /);
    const { statistics } = await within(client.anomalies.getStatistics({}), 'GetStatistics');
    assert.not.ok(statistics.some((s) => s.metric === `e2e_${tag}_nan`), 'a refused batch records nothing');
  });

  test('an unknown metric is NOT_FOUND', async () => {
    const get = await failure(client.metrics.getMetric({ name: `e2e_${tag}_missing` }), 'GetMetric');
    assert.is(get.code, Code.NotFound, get.message);
    assert.match(get.rawMessage, /^name: /);
    assert.match(get.rawMessage, `e2e_${tag}_missing`);
    const record = await failure(client.metrics.recordMetric({ name: `e2e_${tag}_missing`, value: 1 }), 'RecordMetric');
    assert.is(record.code, Code.NotFound, record.message);
  });

  test('an enum number the contract does not define is INVALID_ARGUMENT naming the field', async () => {
    const type = await failure(client.anomalies.listAnomalies({ type: 99 as AnomalyType }), 'ListAnomalies type 99');
    assert.is(type.code, Code.InvalidArgument, type.message);
    assert.match(type.rawMessage, /^type: /);
    const severity = await failure(client.anomalies.listAnomalies({ minSeverity: 42 as AnomalySeverity }), 'ListAnomalies min_severity 42');
    assert.is(severity.code, Code.InvalidArgument, severity.message);
    assert.match(severity.rawMessage, /^min_severity: /);
    const priority = await failure(client.resources.acquire({ priority: 7 as Priority }), 'Acquire priority 7');
    assert.is(priority.code, Code.InvalidArgument, priority.message);
    assert.match(priority.rawMessage, /^priority: /);
    // On a stream the error is the stream's status.
    const stream = watch(client, { type: 99 as AnomalyType });
    const streamed = await failure(stream.rest('WatchAnomalies type 99'), 'WatchAnomalies type 99');
    assert.is(streamed.code, Code.InvalidArgument, streamed.message);
    assert.match(streamed.rawMessage, /^type: /);
  });

  test('a limit out of range is INVALID_ARGUMENT naming limit', async () => {
    const list = await failure(client.anomalies.listAnomalies({ limit: 10_001 }), 'ListAnomalies limit 10001');
    assert.is(list.code, Code.InvalidArgument, list.message);
    assert.match(list.rawMessage, /^limit: /);
    const snapshots = await failure(client.profiling.listSnapshots({ limit: 10_001 }), 'ListSnapshots limit 10001');
    assert.is(snapshots.code, Code.InvalidArgument, snapshots.message);
    assert.match(snapshots.rawMessage, /^limit: /);
    const atMax = await within(client.anomalies.listAnomalies({ limit: 10_000 }), 'ListAnomalies limit 10000');
    assert.ok(atMax.anomalies.length > 0, 'the largest limit is accepted');
  });

  /** The codes /metrics recorded for this protocol's CaptureProfile calls, once `count` are recorded. */
  async function captureCodes(count: number): Promise<string[]> {
    const deadline = Date.now() + 10_000;
    for (;;) {
      const text = await scrapeMetrics(server.url);
      const codes = text
        .split('\n')
        .filter((l) => l.startsWith('rs3gw_rpc_server_duration_seconds_count{') && l.includes('method="CaptureProfile"') && l.includes(`protocol="${protocol}"`))
        .flatMap((l) => Array<string>(Number(l.slice(l.lastIndexOf('}') + 1))).fill(/code="([^"]+)"/.exec(l)?.[1] ?? '?'));
      if (codes.length >= count || Date.now() > deadline) return codes;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  test('a call the client cancels or abandons at its deadline is not counted as an internal error', async () => {
    const cancel = new AbortController();
    setTimeout(() => cancel.abort(), 500);
    const cancelled = await failure(client.profiling.captureProfile({ duration: { seconds: 30n } }, { signal: cancel.signal }), 'CaptureProfile cancelled');
    assert.is(cancelled.code, Code.Canceled, cancelled.message);
    assert.equal(await captureCodes(1), ['canceled'], 'recorded code of the cancelled call');

    const late = await failure(client.profiling.captureProfile({ duration: { seconds: 30n } }, { timeoutMs: 500 }), 'CaptureProfile with a deadline');
    assert.is(late.code, Code.DeadlineExceeded, late.message);
    const codes = await captureCodes(2);
    assert.ok(codes.length === 2 && codes.every((c) => c === 'canceled' || c === 'deadline_exceeded'), `recorded codes: ${codes.join(', ')}`);
    assert.not.match(server.output(), 'internal error', 'nothing logged as an internal error');

    // The abandoned captures released the profiler: a short one runs at once.
    const started = Date.now();
    const quick = await within(client.profiling.captureProfile({ duration: { seconds: 1n } }), 'a 1 s CaptureProfile');
    assert.ok((quick.info?.sizeBytes ?? 0n) > 0n, 'a profile');
    assert.ok(Date.now() - started < 15_000, 'not queued behind an abandoned 30 s capture');
  });

  test('every call above is counted in /metrics under this protocol', async () => {
    const text = await scrapeMetrics(server.url);
    for (const [service, method] of [
      ['ProfilingService', 'GetProfile'],
      ['MetricsService', 'RegisterMetric'],
      ['AnomalyService', 'RecordSample'],
      ['ResourceService', 'GetResources'],
      ['HealthReportService', 'GetHealthReport'],
      ['AnomalyService', 'WatchAnomalies'],
    ]) {
      const count = sampleValue(text, 'rs3gw_rpc_server_duration_seconds_count', { service: `rs3gw.observability.v1.${service}`, method, protocol });
      assert.ok(count >= 1, `${service}/${method} protocol=${protocol} counted ${count} times`);
    }
    assert.is(sampleValue(text, 'rs3gw_rpc_server_duration_seconds_count', { method: 'GetMetric', protocol, code: 'not_found' }), 1);
  });

  test.run();
}
