/**
 * The caps a client can run into, on every RPC protocol: RS3GW_MAX_MESSAGE_BYTES (a larger
 * request is RESOURCE_EXHAUSTED, records nothing and leaves the client usable; compression
 * does not get around it), RS3GW_ANOMALY_MAX_SUBSCRIBERS (a watcher beyond it is refused, and
 * watchers that leave, by cancelling or at their deadline, free their place) and
 * RS3GW_ANOMALY_MAX_SEASON_SLOTS (seasonal profiles beyond it are refused; deleting frees them).
 */
import { Code, ConnectError, createClient } from '@connectrpc/connect';
import { compressionGzip, createConnectTransport, createGrpcTransport, createGrpcWebTransport } from '@connectrpc/connect-node';
import { spawn } from 'node:child_process';
import { request as httpRequest } from 'node:http';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createObservabilityClient, type ClientOptions } from '../../clients/ts/client.js';
import { AnomalyService, type WatchAnomaliesResponse } from '../../gen/ts/rs3gw/observability/v1/anomaly_pb.js';
import { REPO_ROOT, startServer, type RunningServer } from '../support/server.js';
import { failure, sampleValue, scrapeMetrics, StreamReader, within } from './support/rpc-helpers.js';

const MAX_MESSAGE_BYTES = 4096;
const MAX_SUBSCRIBERS = 2;
/** Room for one weekly profile (10,080 slots) beside the few default metrics the other tests make, not two. */
const MAX_SEASON_SLOTS = 20_000;
/** About 1.5 KB in binary and 2.2 KB in JSON: under the cap. */
const FITS = 50;
/** About 10 KB in binary, more in JSON: over the cap. */
const TOO_MANY = 500;
/** About 40 KB once decompressed, well under the cap while gzipped (the values repeat). */
const BOMB = 2000;

let server: RunningServer;

test.before(async () => {
  server = await startServer({
    RS3GW_MAX_MESSAGE_BYTES: String(MAX_MESSAGE_BYTES),
    RS3GW_ANOMALY_MAX_SUBSCRIBERS: String(MAX_SUBSCRIBERS),
    RS3GW_ANOMALY_MAX_SEASON_SLOTS: String(MAX_SEASON_SLOTS),
  });
});

test.after(async () => {
  await server?.stop();
});

const PROTOCOLS: Array<[string, ClientOptions]> = [
  ['gRPC', { protocol: 'grpc' }],
  ['Connect binary', { protocol: 'connect' }],
  ['Connect JSON', { protocol: 'connect', json: true }],
  ['gRPC-Web', { protocol: 'grpc-web' }],
];

const batch = (metric: string, n: number) => ({ samples: Array.from({ length: n }, (_, i) => ({ metric, value: i })) });

for (const [name, options] of PROTOCOLS) {
  test(`${name}: a request over RS3GW_MAX_MESSAGE_BYTES is RESOURCE_EXHAUSTED and records nothing`, async () => {
    const client = createObservabilityClient(server.url, options);
    const metric = `size_${name.replace(/\W+/g, '_').toLowerCase()}`;

    const protocol = options.protocol === 'grpc-web' ? 'grpc-web' : options.protocol;
    const labels = { method: 'RecordSamples', protocol: protocol!, code: 'resource_exhausted' };
    const refusedBefore = sampleValue(await scrapeMetrics(server.url), 'rs3gw_rpc_server_duration_seconds_count', labels);
    const error = await failure(client.anomalies.recordSamples(batch(metric, TOO_MANY)), `${name} oversize RecordSamples`);
    assert.is(error.code, Code.ResourceExhausted, error.message);
    if (options.protocol !== 'grpc') {
      // Refused in the call pipeline, so traced and counted, and in the service's words; native
      // gRPC's refusal is grpc-js's own, made before any of the service's code runs.
      assert.is(error.rawMessage, `request: larger than the limit of ${MAX_MESSAGE_BYTES} bytes (RS3GW_MAX_MESSAGE_BYTES)`);
      const refusedAfter = sampleValue(await scrapeMetrics(server.url), 'rs3gw_rpc_server_duration_seconds_count', labels);
      assert.is(refusedAfter, refusedBefore + 1);
    }
    const unknown = await failure(client.anomalies.getStatistics({ metric }), 'GetStatistics');
    assert.is(unknown.code, Code.NotFound, `the oversize batch recorded nothing: ${unknown.message}`);

    // The same client still works, under the cap (over gRPC on a new HTTP/2 connection: see client-oversize-requests).
    const fits = await within(client.anomalies.recordSamples(batch(metric, FITS)), `${name} RecordSamples under the cap`);
    assert.is(fits.assessments.length, FITS);
    const after = await within(client.anomalies.getStatistics({ metric }), 'GetStatistics');
    assert.is(after.statistics[0]?.count, BigInt(FITS));
  });
}

for (const [name, transport] of [
  ['gRPC', () => createGrpcTransport({ baseUrl: server.url, sendCompression: compressionGzip, compressMinBytes: 1 })],
  ['Connect', () => createConnectTransport({ baseUrl: server.url, httpVersion: '1.1', sendCompression: compressionGzip, compressMinBytes: 1 })],
  ['gRPC-Web', () => createGrpcWebTransport({ baseUrl: server.url, httpVersion: '1.1', sendCompression: compressionGzip, compressMinBytes: 1 })],
] as const) {
  test(`${name}: gzip is accepted, but the cap applies to the decompressed message`, async () => {
    const client = createClient(AnomalyService, transport());
    const metric = `gzip_${name.replace(/\W+/g, '_').toLowerCase()}`;
    const small = await within(client.recordSamples(batch(metric, FITS)), `${name} gzipped RecordSamples`);
    assert.is(small.assessments.length, FITS);
    const bomb = await failure(client.recordSamples(batch(`${metric}_bomb`, BOMB)), `${name} gzipped oversize RecordSamples`);
    assert.is(bomb.code, Code.ResourceExhausted, bomb.message);
  });
}

test('gRPC: the TS client refused a request larger than the flow-control window lets its process exit', async () => {
  // grpc-js answers at the message's length prefix and drains the rest; connect-node 2.1 stopped
  // sending but never ended the stream, which kept the connection, and so the process, alive.
  const child = spawn(process.execPath, ['--import', 'tsx', 'test/e2e/support/oversize-then-exit.ts', server.url, String(1 << 20)], { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (d) => (output += d));
  child.stderr.on('data', (d) => (output += d));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
  const code = await exited;
  clearTimeout(timer);
  assert.equal(output.trim().split('\n'), ['oversize: ResourceExhausted', 'under the cap: OK'], output);
  assert.is(code, 0, `the client process was still running 15 s after its calls (killed):\n${output}`);
});

/**
 * Posts one enveloped message far larger than the socket buffers and resolves with the answer's
 * body once the request is over too: a client keeps sending until the server reads it all or
 * closes the connection (curl and the TS client wait for that before they report the answer).
 */
function postEnveloped(path: string, contentType: string, messageBytes: number): Promise<{ status: number; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const url = new URL(path, server.url);
    const envelope = Buffer.alloc(5 + messageBytes);
    envelope.writeUInt32BE(messageBytes, 1);
    let answer: { status: number; body: Buffer } | undefined;
    let requestOver = false;
    const settle = () => answer && requestOver && resolve(answer);
    const req = httpRequest({ host: url.hostname, port: url.port, path: url.pathname, method: 'POST', headers: { 'content-type': contentType, 'connect-protocol-version': '1' } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        answer = { status: res.statusCode ?? 0, body: Buffer.concat(chunks) };
        settle();
      });
      res.on('error', reject);
    });
    req.on('error', () => {}); // the server may close while the rest of the body is still on its way
    req.end(envelope, () => ((requestOver = true), settle()));
    req.on('close', () => ((requestOver = true), settle()));
  });
}

for (const [name, path, contentType, refusal] of [
  ['gRPC-Web', '/rs3gw.observability.v1.AnomalyService/RecordSample', 'application/grpc-web+proto', /grpc-status: ?8/],
  ['Connect streaming', '/rs3gw.observability.v1.AnomalyService/WatchAnomalies', 'application/connect+proto', /"code":"resource_exhausted"/],
] as const) {
  test(`${name}: a request of megabytes over the cap is refused at once, not after the idle timeout`, async () => {
    // Left unread on a keep-alive connection, the body stalled the client until the 65 s idle timeout.
    const answer = await within(postEnveloped(path, contentType, 8 << 20), `${name} answer to an 8 MiB request`, 10_000);
    assert.is(answer.status, 200);
    assert.match(answer.body.toString('latin1'), refusal);
  });
}

test('a WatchAnomalies subscriber beyond RS3GW_ANOMALY_MAX_SUBSCRIBERS is refused; leaving frees the place', async () => {
  const grpc = createObservabilityClient(server.url, { protocol: 'grpc' });
  const connect = createObservabilityClient(server.url, { protocol: 'connect' });
  const open = (client: typeof grpc) => new StreamReader<WatchAnomaliesResponse>((signal) => client.anomalies.watchAnomalies({}, { signal }));
  const first = open(grpc);
  const second = open(connect);
  try {
    for (const [what, stream] of [['first', first], ['second', second]] as const) assert.is((await stream.next(`${what} caught_up`)).event.case, 'caughtUp');
    for (const client of [grpc, connect]) {
      const refused = await failure(open(client).rest('a third subscriber'), 'a third subscriber');
      assert.is(refused.code, Code.ResourceExhausted, refused.message);
      assert.match(refused.rawMessage, /^subscribers: .*; raise RS3GW_ANOMALY_MAX_SUBSCRIBERS$/);
    }
    first.close(); // cancelled by the client
    await watchersEnded(3); // the two refused and the cancelled one
    const third = open(grpc);
    assert.is((await third.next('a subscriber after one left')).event.case, 'caughtUp');
    third.close();
  } finally {
    first.close();
    second.close();
  }
  await watchersEnded(5);
  // Watchers that reach their deadline free their places too, round after round. (How such a
  // stream ends is checked in connect-wire.test.ts; here only that each round is admitted.)
  for (let round = 1; round <= 3; round++) {
    const watchers = [grpc, connect].map(async (client) => {
      const events: string[] = [];
      try {
        for await (const message of client.anomalies.watchAnomalies({}, { timeoutMs: 300 })) events.push(message.event.case ?? '');
      } catch (error) {
        const code = failureCode(error);
        if (code !== Code.DeadlineExceeded) throw new Error(`round ${round}: ${String(error)}`);
      }
      return events;
    });
    for (const events of await within(Promise.all(watchers), `round ${round} of watchers with a deadline`)) {
      assert.equal(events, ['caughtUp'], `round ${round}: admitted, then ended at the deadline`);
    }
    await watchersEnded(5 + 2 * round);
  }
});

test('seasonal profiles beyond RS3GW_ANOMALY_MAX_SEASON_SLOTS are RESOURCE_EXHAUSTED; deleting a metric frees its slots', async () => {
  const weekly = { detectorParameters: { season_period_ms: 604_800_000, season_slots: 10_080 } };
  const grpc = createObservabilityClient(server.url, { protocol: 'grpc' });
  await within(grpc.anomalies.configureMetric({ metric: 'weekly_a', config: weekly }), 'the first weekly profile');
  for (const [name, options] of PROTOCOLS) {
    const client = createObservabilityClient(server.url, options);
    const refused = await failure(client.anomalies.configureMetric({ metric: 'weekly_b', config: weekly }), `${name}: a second weekly profile`);
    assert.is(refused.code, Code.ResourceExhausted, refused.message);
    assert.match(refused.rawMessage, /^config\.detector_parameters\.season_slots: seasonal profile slots are limited to 20000 across all metrics/);
    assert.match(refused.rawMessage, /raise RS3GW_ANOMALY_MAX_SEASON_SLOTS$/);
  }
  const unknown = await failure(grpc.anomalies.getStatistics({ metric: 'weekly_b' }), 'GetStatistics of the refused metric');
  assert.is(unknown.code, Code.NotFound, `the refused metric was not created: ${unknown.message}`);
  await within(grpc.anomalies.resetMetric({ metric: 'weekly_a', delete: true }), 'deleting the first');
  const second = await within(grpc.anomalies.configureMetric({ metric: 'weekly_b', config: weekly }), 'the second weekly profile');
  assert.is(second.config?.detectorParameters['season_slots'], 10_080);
});

/**
 * Waits until the server has finished `count` WatchAnomalies calls (it counts a call in /metrics
 * once the call and its subscription are over): a client's cancel reaches the server a little later.
 */
async function watchersEnded(count: number): Promise<void> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const ended = sampleValue(await scrapeMetrics(server.url), 'rs3gw_rpc_server_duration_seconds_count', { method: 'WatchAnomalies' });
    if (ended >= count) return;
    if (Date.now() > deadline) throw new Error(`the server finished ${ended} WatchAnomalies calls, expected ${count}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

function failureCode(error: unknown): Code {
  return ConnectError.from(error).code;
}

test.run();
