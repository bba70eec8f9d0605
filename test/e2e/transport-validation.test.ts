/**
 * The checks the shared call pipeline makes on every request, whatever its protocol: every
 * google.protobuf.Timestamp and Duration in a request lies in its documented range (binary
 * protobuf can carry any int64/int32; proto3 JSON cannot encode the rest, so one such value
 * stored would break every later JSON answer that shows it), bytes that do not parse are the
 * client's error, and error messages that repeat client input stay short.
 */
import { Code } from '@connectrpc/connect';
import * as grpc from '@grpc/grpc-js';
import * as assert from 'uvu/assert';
import { suite } from 'uvu';
import { createObservabilityClient, type ClientOptions, type ObservabilityClient } from '../../clients/ts/client.js';
import { MetricType } from '../../gen/ts/rs3gw/observability/v1/metrics_pb.js';
import { IoDirection } from '../../gen/ts/rs3gw/observability/v1/profiling_pb.js';
import type { WatchAnomaliesResponse } from '../../gen/ts/rs3gw/observability/v1/anomaly_pb.js';
import type { RunningServer } from '../support/server.js';
import { API, Rest, startRestServer } from './support/rest-http.js';
import { failure, raiseAnomaly, StreamReader, within } from './support/rpc-helpers.js';

const PROTOCOLS: Array<[string, ClientOptions]> = [
  ['gRPC', { protocol: 'grpc' }],
  ['Connect binary', { protocol: 'connect' }],
  ['gRPC-Web', { protocol: 'grpc-web' }],
];

const MAX_SECONDS = 253_402_300_799n; // 9999-12-31T23:59:59Z
const MIN_SECONDS = -62_135_596_800n; // 0001-01-01T00:00:00Z

const test = suite('well-known types in range, on every protocol');
let server: RunningServer;
let rest: Rest;

test.before(async () => {
  server = await startRestServer();
  rest = new Rest(server.url);
});

test.after(async () => {
  await server?.stop();
});

async function refused(call: Promise<unknown>, what: string, message: string): Promise<void> {
  const error = await failure(call, what);
  assert.is(error.code, Code.InvalidArgument, `${what}: ${error.message}`);
  assert.is(error.rawMessage, message, what);
}

test('a sample time beyond year 9999 is invalid_argument naming the field, and JSON reads keep working', async () => {
  for (const [name, options] of PROTOCOLS) {
    const client = createObservabilityClient(server.url, options);
    const metric = `range_${name.replace(/\W/g, '_')}_latency`;
    const steady = Array.from({ length: 200 }, (_, i) => ({ metric, value: 10 + (i % 5) * 0.1 }));
    await within(client.anomalies.recordSamples({ samples: steady }), `${name}: RecordSamples`);
    await refused(
      client.anomalies.recordSample({ metric, value: 1e6, time: { seconds: 300_000_000_000n, nanos: 0 } }),
      `${name}: RecordSample in year 11476`,
      'time: must be from 0001-01-01T00:00:00Z to 9999-12-31T23:59:59Z, got seconds 300000000000',
    );
    await refused(
      client.anomalies.recordSample({ metric, value: 1e6, time: { seconds: MIN_SECONDS - 1n, nanos: 0 } }),
      `${name}: RecordSample before year 1`,
      `time: must be from 0001-01-01T00:00:00Z to 9999-12-31T23:59:59Z, got seconds ${MIN_SECONDS - 1n}`,
    );
    const samples = [0, 1, 2, 3].map((i) => ({ metric, value: 10, time: { seconds: 1_700_000_000n, nanos: i === 3 ? -1 : 0 } }));
    await refused(client.anomalies.recordSamples({ samples }), `${name}: RecordSamples with negative nanos`, 'samples[3].time: nanos must be from 0 to 999999999, got -1');
    await refused(
      client.anomalies.listAnomalies({ since: { seconds: MAX_SECONDS + 1n, nanos: 0 } }),
      `${name}: ListAnomalies since year 10000`,
      'since: must be from 0001-01-01T00:00:00Z to 9999-12-31T23:59:59Z, got seconds 253402300800',
    );
    // The edges themselves are valid.
    const last = await within(client.anomalies.listAnomalies({ since: { seconds: MAX_SECONDS, nanos: 999_999_999 } }), `${name}: ListAnomalies since the last instant`);
    assert.equal(last.anomalies, []);
    await within(client.anomalies.listAnomalies({ since: { seconds: MIN_SECONDS, nanos: 0 } }), `${name}: ListAnomalies since the first instant`);
  }
  // Nothing out of range got in: the JSON answers that would show it still encode.
  assert.is((await rest.get(`${API}/anomalies`)).status, 200);
  assert.is((await rest.get(`${API}/health`)).status, 200);
  const json = createObservabilityClient(server.url, { protocol: 'connect', json: true });
  await within(json.anomalies.listAnomalies({}), 'Connect JSON ListAnomalies');
});

test('a live Connect JSON WatchAnomalies stream is not ended by a spike with an impossible time', async () => {
  const json = createObservabilityClient(server.url, { protocol: 'connect', json: true });
  const grpc = createObservabilityClient(server.url, { protocol: 'grpc' });
  const reader = new StreamReader<WatchAnomaliesResponse>((signal) => json.anomalies.watchAnomalies({}, { signal }));
  try {
    assert.is((await reader.next('caught_up')).event.case, 'caughtUp');
    const metric = 'range_watch_latency';
    await within(grpc.anomalies.configureMetric({ metric, config: { minSamples: 10 } }), 'ConfigureMetric');
    await within(grpc.anomalies.recordSamples({ samples: Array.from({ length: 30 }, (_, i) => ({ metric, value: 10 + (i % 5) * 0.1 })) }), 'RecordSamples');
    await refused(
      grpc.anomalies.recordSample({ metric, value: 1e6, time: { seconds: 300_000_000_000n, nanos: 0 } }),
      'the spike in year 11476',
      'time: must be from 0001-01-01T00:00:00Z to 9999-12-31T23:59:59Z, got seconds 300000000000',
    );
    const raised = await raiseAnomaly(grpc, 'range_watch_after_latency');
    const event = (await reader.next('the next anomaly')).event;
    assert.is(event.case, 'anomaly');
    if (event.case === 'anomaly') assert.is(event.value.sequence, raised.sequence);
  } finally {
    reader.close();
  }
});

async function recordIo(client: ObservabilityClient, latency: { seconds: bigint; nanos: number }) {
  return client.profiling.recordIo({ operations: [{ direction: IoDirection.READ, bytes: 1n, latency }] });
}

test('a Duration that proto3 cannot represent is invalid_argument with an exact message, on binary protocols as in JSON', async () => {
  for (const [name, options] of PROTOCOLS) {
    const client = createObservabilityClient(server.url, options);
    await refused(
      recordIo(client, { seconds: 1_000_000_000_000_000n, nanos: 0 }),
      `${name}: 1e15 s`,
      'operations[0].latency: seconds must be from -315576000000 to 315576000000 (about 10,000 years), got 1000000000000000',
    );
    await refused(recordIo(client, { seconds: 0n, nanos: 2_000_000_000 }), `${name}: 2e9 ns`, 'operations[0].latency: nanos must be from -999999999 to 999999999, got 2000000000');
    await refused(
      recordIo(client, { seconds: 1n, nanos: -5 }),
      `${name}: seconds and nanos of opposite signs`,
      'operations[0].latency: seconds and nanos must have the same sign, got seconds 1 and nanos -5',
    );
    // A well-formed negative latency is refused by the handler, with its true value.
    await refused(recordIo(client, { seconds: -1n, nanos: -5 }), `${name}: negative`, 'operations[0].latency: must not be negative, got -1000.000005 ms');
    // The largest representable duration is a valid Duration (how the engine takes it is its business).
    await within(recordIo(client, { seconds: 0n, nanos: 999_999_999 }), `${name}: 0.999999999 s`);
  }
  const report = await rest.getOk(`${API}/health`);
  const p99 = report.profiling.io.read_latency_p99_us as number;
  assert.ok(p99 < 1e7, `read_latency_p99_us ${p99} µs: no out-of-range latency was recorded`);
});

test('a GetTrend window under 1 ms is refused in the API\'s terms, the same on every protocol', async () => {
  const tooShort = 'window: must be a duration of at least 0.001s, got';
  for (const [name, options] of PROTOCOLS) {
    const client = createObservabilityClient(server.url, options);
    const metric = `trend_window_${name.replace(/\W/g, '_')}`;
    await within(client.metrics.registerMetric({ name: metric, type: MetricType.GAUGE, description: 'trend window' }), `${name}: RegisterMetric`);
    const trend = (seconds: bigint, nanos: number) => client.metrics.getTrend({ name: metric, window: { seconds, nanos } });
    await refused(trend(0n, 0), `${name}: window 0`, `${tooShort} 0s`);
    await refused(trend(0n, 100_000), `${name}: window 0.0001s`, `${tooShort} 0.000100s`);
    await refused(trend(-5n, 0), `${name}: window -5s`, `${tooShort} -5s`);
    const shortest = await within(trend(0n, 1_000_000), `${name}: window 0.001s`);
    assert.equal([shortest.window?.seconds, shortest.window?.nanos], [0n, 1_000_000], `${name}: the window used`);
  }
  await rest.postOk(`${API}/metrics`, { name: 'trend_window_rest', type: 'METRIC_TYPE_GAUGE', description: 'trend window' });
  for (const [window, shown] of [['0', '0s'], ['0.0001s', '0.000100s']]) {
    const r = await rest.get(`${API}/metrics/trend_window_rest/trend?window=${window}`);
    assert.is(r.status, 400, r.text);
    assert.is(r.json.message, `${tooShort} ${shown}`, `REST window=${window}`);
  }
  assert.is((await rest.getOk(`${API}/metrics/trend_window_rest/trend?window=0.001s`)).window, '0.001s');
});

test('an error message repeats at most a clipped piece of a long client value', async () => {
  const long = 'x'.repeat(100_000);
  for (const [name, options] of PROTOCOLS) {
    const client = createObservabilityClient(server.url, options);
    const error = await failure(client.metrics.getMetric({ name: long }), `${name}: GetMetric with a 100,000-character name`);
    assert.is(error.code, Code.NotFound, error.message);
    assert.ok(error.rawMessage.length < 1100, `${name}: message of ${error.rawMessage.length} characters`);
    assert.match(error.rawMessage, /^name: no metric named "x{200}…" \(100000 characters\)/);
  }
  const r = await rest.get(`${API}/metrics/${'y'.repeat(10_000)}`);
  assert.is(r.status, 404);
  assert.ok(r.text.length < 1100, `REST body of ${r.text.length} bytes`);
  // Clipped once, in the same form, whichever way the value came in (REST errors pass the
  // clipping twice; they showed the piece and two lengths).
  assert.match(r.json.message, /^name: no metric named "y{200}…" \(10000 characters\)$/);
  const value = await rest.post(`${API}/anomalies/samples`, { metric: 'm', value: 'v'.repeat(300) });
  assert.match(value.json.message, /^value: must be a number .*, got "v{200}…" \(300 characters\)$/);
  const key = await rest.post(`${API}/anomalies/samples`, { metric: 'm', ['k'.repeat(300)]: 1 });
  assert.match(key.json.message, /^k{200}…: key "k{200}…" \(300 characters\) is unknown in rs3gw\.observability\.v1\.RecordSampleRequest$/);
  const since = await rest.get(`${API}/anomalies?since=${'s'.repeat(300)}`);
  assert.match(since.json.message, /^since: must be an RFC 3339 time .*, got 's{200}…' \(300 characters\)$/);
});

test('JSON nested thousands deep is refused as nested too deep, not answered internal', async () => {
  const deep = `{"events":${'['.repeat(5000)}${']'.repeat(5000)}}`;
  const r = await within(fetch(`${server.url}${API}/business-metrics/events`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: deep }), 'POST deep JSON');
  assert.is(r.status, 400);
  assert.equal(await r.json(), {
    code: 'invalid_argument',
    message: 'request body: JSON nested deeper than 64 levels of objects and arrays; no request of this service needs more than a few',
  });
});

test('GetStoredProfile refuses an id longer than any id the service issues, without repeating it', async () => {
  const id = 'p'.repeat(4_000_000);
  for (const [name, options] of PROTOCOLS) {
    const client = createObservabilityClient(server.url, options);
    await refused(client.profiling.getStoredProfile({ id }), `${name}: a 4,000,000-character id`, 'id: must be at most 128 characters (ids from ListStoredProfiles are far shorter), got 4000000');
  }
  const r = await rest.get(`${API}/profiling/profiles/${'p'.repeat(10_000)}`);
  assert.is(r.status, 400, r.text.slice(0, 300));
  assert.is(r.json.message, 'id: must be at most 128 characters (ids from ListStoredProfiles are far shorter), got 10000');
  // An id of a plausible length is still looked up.
  assert.is((await rest.get(`${API}/profiling/profiles/cpu-1-1`)).status, 404);
});

test('bytes that do not parse as the request message are invalid_argument on native gRPC, unary and streaming', async () => {
  // Field 1 (metric, a string) announced as 5 bytes long, with 1 byte following.
  const truncated = Buffer.from([0x0a, 0x05, 0x61]);
  const client = new grpc.Client(server.address, grpc.credentials.createInsecure());
  const identity = (b: Buffer) => b;
  try {
    const unary = await new Promise<grpc.ServiceError>((resolve, reject) => {
      client.makeUnaryRequest('/rs3gw.observability.v1.AnomalyService/RecordSample', identity, identity, truncated, (error) =>
        error ? resolve(error) : reject(new Error('a truncated request was accepted')),
      );
    });
    assert.is(unary.code, grpc.status.INVALID_ARGUMENT, unary.message);
    assert.match(unary.details, /^request: not a valid rs3gw\.observability\.v1\.RecordSampleRequest/);
    const stream = client.makeServerStreamRequest('/rs3gw.observability.v1.AnomalyService/WatchAnomalies', identity, identity, truncated);
    const streamed = await within(
      new Promise<grpc.ServiceError>((resolve) => {
        stream.on('data', () => undefined);
        stream.on('error', resolve);
      }),
      'the stream to end',
    );
    assert.is(streamed.code, grpc.status.INVALID_ARGUMENT, streamed.message);
    assert.match(streamed.details, /^request: not a valid rs3gw\.observability\.v1\.WatchAnomaliesRequest/);
  } finally {
    client.close();
  }
});

test.run();
