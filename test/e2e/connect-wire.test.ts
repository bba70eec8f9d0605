/**
 * The HTTP/1.1 protocols on the wire, as a client without our TS client sees them: Connect's
 * side-effect-free calls as HTTP GET (seen through a recording proxy, and made by hand with
 * fetch), its JSON error bodies with HTTP statuses, gRPC over HTTP/1.1, and deadlines: one beyond
 * what a Node timer holds, and how a server stream that reaches its deadline ends in Connect and
 * gRPC-Web (native gRPC alongside, for reference).
 */
import { request as httpRequest, createServer, type Server } from 'node:http';
import { connect as http2Connect } from 'node:http2';
import type { AddressInfo } from 'node:net';
import { gunzipSync, gzipSync } from 'node:zlib';
import { create, fromBinary, toBinary } from '@bufbuild/protobuf';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { createObservabilityClient } from '../../clients/ts/client.js';
import {
  GetStatisticsRequestSchema,
  GetStatisticsResponseSchema,
  ListAnomaliesRequestSchema,
  RecordSampleRequestSchema,
  WatchAnomaliesRequestSchema,
  WatchAnomaliesResponseSchema,
} from '../../gen/ts/rs3gw/observability/v1/anomaly_pb.js';
import { ExportFormat, ListMetricsResponseSchema, MetricType } from '../../gen/ts/rs3gw/observability/v1/metrics_pb.js';
import { startServer, type RunningServer } from '../support/server.js';
import { raiseAnomaly, sampleValue, scrapeMetrics, within } from './support/rpc-helpers.js';

const ANOMALY = '/rs3gw.observability.v1.AnomalyService';

interface SeenRequest {
  method: string;
  path: string;
  query: URLSearchParams;
  status: number;
}

/** A pass-through HTTP/1.1 proxy that records what the client really sent and what came back. */
async function recordingProxy(target: URL): Promise<{ url: string; seen: SeenRequest[]; server: Server }> {
  const seen: SeenRequest[] = [];
  const server = createServer((req, res) => {
    const upstream = httpRequest(
      { host: target.hostname, port: target.port, method: req.method, path: req.url, headers: req.headers },
      (reply) => {
        const url = new URL(req.url ?? '/', 'http://proxy');
        seen.push({ method: req.method ?? '', path: url.pathname, query: url.searchParams, status: reply.statusCode ?? 0 });
        res.writeHead(reply.statusCode ?? 502, reply.headers);
        reply.pipe(res);
      },
    );
    upstream.on('error', () => res.destroy());
    req.pipe(upstream);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, seen, server };
}

const get = suite('Connect and gRPC-Web on the wire');
let server: RunningServer;

get.before(async () => {
  server = await startServer();
});

get.after(async () => {
  await server?.stop();
});

get('useHttpGet sends side-effect-free calls as GET, and calls with side effects as POST', async () => {
  const proxy = await recordingProxy(new URL(server.url));
  try {
    const client = createObservabilityClient(proxy.url, { protocol: 'connect', useHttpGet: true });
    await within(client.anomalies.recordSample({ metric: 'connect_get_rps', value: 5 }), 'RecordSample');
    const list = await within(client.anomalies.listAnomalies({ metric: 'connect_get_rps', limit: 3 }), 'ListAnomalies');
    assert.equal(list.anomalies, []);
    const stats = await within(client.anomalies.getStatistics({ metric: 'connect_get_rps' }), 'GetStatistics');
    assert.is(stats.statistics[0]?.count, 1n);
    const report = await within(client.health.getHealthReport({}), 'GetHealthReport');
    assert.is(report.profiling?.pid, server.process.pid);

    assert.equal(
      proxy.seen.map((r) => [r.method, r.path, r.status]),
      [
        ['POST', `${ANOMALY}/RecordSample`, 200],
        ['GET', `${ANOMALY}/ListAnomalies`, 200],
        ['GET', `${ANOMALY}/GetStatistics`, 200],
        ['GET', '/rs3gw.observability.v1.HealthReportService/GetHealthReport', 200],
      ],
    );
    const listGet = proxy.seen[1]!;
    assert.is(listGet.query.get('connect'), 'v1');
    assert.is(listGet.query.get('encoding'), 'proto');
    assert.ok(listGet.query.get('message'), 'the request message is in the query');
  } finally {
    proxy.server.close();
  }
});

get('a Connect GET made by hand with a JSON message answers JSON', async () => {
  const message = encodeURIComponent(JSON.stringify({ metric: 'connect_get_rps' }));
  const response = await within(fetch(`${server.url}${ANOMALY}/GetStatistics?connect=v1&encoding=json&message=${message}`), 'GET GetStatistics');
  assert.is(response.status, 200);
  assert.match(response.headers.get('content-type') ?? '', 'application/json');
  const body = (await response.json()) as { statistics: Array<{ metric: string; count: string }> };
  assert.equal(body.statistics.map((s) => [s.metric, s.count]), [['connect_get_rps', '1']]);
});

get('a Connect GET of a method with side effects is refused, and every 405 carries Allow and a Connect error body saying what is allowed', async () => {
  const answer = async (r: Response) => ({ status: r.status, allow: r.headers.get('allow'), type: r.headers.get('content-type'), body: await r.json() });
  const message = encodeURIComponent(JSON.stringify({ metric: 'connect_get_refused', value: 1 }));
  // These were 405 with an empty body.
  const response = await within(fetch(`${server.url}${ANOMALY}/RecordSample?connect=v1&encoding=json&message=${message}`), 'GET RecordSample');
  assert.equal(await answer(response), {
    status: 405,
    allow: 'POST',
    type: 'application/json',
    body: {
      code: 'unimplemented',
      message: `GET is not allowed on ${ANOMALY}/RecordSample; use POST (a Connect GET serves side-effect-free methods only; RecordSample is not marked NO_SIDE_EFFECTS)`,
    },
  });
  const putRecord = await within(fetch(`${server.url}${ANOMALY}/RecordSample`, { method: 'PUT', body: '{}' }), 'PUT RecordSample');
  assert.equal(await answer(putRecord), {
    status: 405,
    allow: 'POST',
    type: 'application/json',
    body: { code: 'unimplemented', message: `PUT is not allowed on ${ANOMALY}/RecordSample; use POST` },
  });
  const put = await within(fetch(`${server.url}${ANOMALY}/ListAnomalies`, { method: 'PUT', body: '{}' }), 'PUT ListAnomalies');
  assert.equal(await answer(put), {
    status: 405,
    allow: 'GET, POST',
    type: 'application/json',
    body: { code: 'unimplemented', message: `PUT is not allowed on ${ANOMALY}/ListAnomalies; use GET or POST` },
  });
  const stats = await within(fetch(`${server.url}${ANOMALY}/GetStatistics?connect=v1&encoding=json&message=${encodeURIComponent('{"metric":"connect_get_refused"}')}`), 'GET GetStatistics');
  assert.equal(((await stats.json()) as { statistics?: unknown[] }).statistics ?? [], [], 'nothing was recorded');
});

get('a Connect JSON GET without its message is refused naming the message query parameter, not a request body', async () => {
  const before = await refused('GetStatistics', 'connect');
  const stats = `${server.url}${ANOMALY}/GetStatistics?connect=v1&encoding=json`;
  const form = 'a Connect GET with encoding=json carries its request as JSON in this query parameter, percent-encoded or base64url with base64=1 ({} for an empty request)';
  // These said "request body: not valid JSON (Unexpected end of JSON input)".
  for (const [query, given] of [['', 'missing'], ['&message=', 'empty'], ['&base64=1&message=', 'empty'], ['&base64=1', 'missing']] as const) {
    const r = await within(fetch(`${stats}${query}`), `GET ${query}`);
    assert.equal({ status: r.status, ...((await r.json()) as object) }, { status: 400, code: 'invalid_argument', message: `message: ${given}: ${form}` }, query);
  }
  // A message that is there but no JSON, or holds a key twice, is named too, as the body of a POST is.
  const bad = await within(fetch(`${stats}&message=%7Bx`), 'GET with a message that is no JSON');
  const badError = (await bad.json()) as { code: string; message: string };
  assert.is(bad.status, 400);
  assert.is(badError.code, 'invalid_argument');
  assert.match(badError.message, /^message: not valid JSON \(/);
  const twice = (await (await within(fetch(`${stats}&message=${encodeURIComponent('{"metric":"a","metric":"b"}')}`), 'GET with a key twice')).json()) as { message: string };
  assert.match(twice.message, /^message: duplicate object key "metric"/);
  assert.is(await refused('GetStatistics', 'connect'), before + 6, 'each is counted as a refused call');
  // An empty binary message is the empty request message, which is served.
  const binary = await within(fetch(`${server.url}${ANOMALY}/GetStatistics?connect=v1&encoding=proto&message=`), 'GET proto with an empty message');
  assert.is(binary.status, 200);
  await binary.arrayBuffer();
});

get('a Connect GET with one of its query parameters twice is refused naming it, where connect-node read the first', async () => {
  const before = await refused('GetStatistics', 'connect');
  const stats = `${server.url}${ANOMALY}/GetStatistics?`;
  const one = encodeURIComponent('{"metric":"connect_get_twice_a"}');
  const other = encodeURIComponent('{"metric":"connect_get_twice_b"}');
  const cases = [
    ['message', `connect=v1&encoding=json&message=${one}&message=${other}`],
    ['encoding', `connect=v1&encoding=json&encoding=json&message=${one}`],
    ['base64', `connect=v1&encoding=json&base64=0&base64=1&message=${one}`],
    ['compression', `connect=v1&encoding=json&compression=identity&compression=gzip&message=${one}`],
    ['connect', `connect=v1&connect=v2&encoding=json&message=${one}`],
  ] as const;
  for (const [name, query] of cases) {
    const r = await within(fetch(`${stats}${query}`), `GET with ${name} twice`);
    assert.equal(
      { status: r.status, ...((await r.json()) as object) },
      { status: 400, code: 'invalid_argument', message: `${name}: given more than once; a Connect GET takes each of message, encoding, base64, compression, connect once` },
      name,
    );
  }
  assert.is(await refused('GetStatistics', 'connect'), before + cases.length, 'each is counted as a refused call');
});

get('a Connect GET of a side-effect-free server stream is 405 saying GET serves unary methods, and to POST it', async () => {
  // It was 415 "encoding: must be proto or json ..., got \"json\"", refusing the encoding it named.
  for (const encoding of ['json', 'proto']) {
    const r = await within(fetch(`${server.url}${ANOMALY}/WatchAnomalies?connect=v1&encoding=${encoding}&message=%7B%7D`), `GET WatchAnomalies ${encoding}`);
    assert.equal(
      { status: r.status, allow: r.headers.get('allow'), type: r.headers.get('content-type'), body: await r.json() },
      {
        status: 405,
        allow: 'POST',
        type: 'application/json',
        body: {
          code: 'unimplemented',
          message:
            `GET is not allowed on ${ANOMALY}/WatchAnomalies: a Connect GET serves unary methods only, and WatchAnomalies is a server stream; ` +
            'POST it (application/connect+json or application/connect+proto)',
        },
      },
      encoding,
    );
  }
});

get('Connect errors are JSON bodies with the code name and an HTTP status', async () => {
  const post = (path: string, body: string) =>
    within(fetch(`${server.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body }), `POST ${path}`);
  const nan = await post(`${ANOMALY}/RecordSample`, '{"metric":"connect_raw","value":"NaN"}');
  assert.is(nan.status, 400);
  assert.equal(await nan.json(), { code: 'invalid_argument', message: 'value: must be a finite number' });

  const missing = await post('/rs3gw.observability.v1.MetricsService/GetMetric', '{"name":"connect_raw_missing"}');
  assert.is(missing.status, 404);
  assert.is(((await missing.json()) as { code: string }).code, 'not_found');

  const badEnum = await post(`${ANOMALY}/ListAnomalies`, '{"type":99}');
  assert.is(badEnum.status, 400);
  const badEnumBody = (await badEnum.json()) as { code: string; message: string };
  assert.is(badEnumBody.code, 'invalid_argument');
  assert.match(badEnumBody.message, /^type: /);

  const unknownMethod = await post(`${ANOMALY}/NoSuchMethod`, '{}');
  assert.is(unknownMethod.status, 404);

  // A misspelt key or enum name is refused, not silently dropped: the call would run on defaults.
  const acquire = '/rs3gw.observability.v1.ResourceService/Acquire';
  const typo = await post(acquire, '{"priorty":"PRIORITY_SHEDDABLE"}');
  assert.is(typo.status, 400);
  const typoBody = (await typo.json()) as { code: string; message: string };
  assert.is(typoBody.code, 'invalid_argument');
  assert.match(typoBody.message, /"priorty" is unknown/);
  const unknownName = await post(acquire, '{"priority":"PRIORITY_LOW"}');
  assert.is(unknownName.status, 400);
  assert.match(((await unknownName.json()) as { message: string }).message, /^priority: .*"PRIORITY_LOW"/);
  const resources = (await (await post('/rs3gw.observability.v1.ResourceService/GetResources', '{}')).json()) as {
    admission?: { inflight?: number };
  };
  assert.is(resources.admission?.inflight ?? 0, 0, 'neither refused call took a permit');
});

get('Connect JSON decode errors name the field path and, for enums and well-known types, the expected form', async () => {
  const post = async (path: string, body: string) => {
    const r = await within(fetch(`${server.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body }), `POST ${path}`);
    return { status: r.status, body: (await r.json()) as { code: string; message: string } };
  };
  const resource = '/rs3gw.observability.v1.ResourceService';
  const cases: Array<[string, string, RegExp]> = [
    [`${resource}/Acquire`, '{"priority":"critical"}', /^priority: must be one of PRIORITY_CRITICAL, PRIORITY_NORMAL, PRIORITY_SHEDDABLE .*got "critical"$/],
    [`${ANOMALY}/ListAnomalies`, '{"type":"latency_spike"}', /^type: must be one of ANOMALY_TYPE_LATENCY_SPIKE, .*got "latency_spike"$/],
    [`${resource}/Release`, '{"permit_id":"x","latency":{"seconds":1}}', /^latency: must be a duration string such as "1\.5s".*google\.protobuf\.Duration.*got \{"seconds":1\}$/],
    [`${resource}/Release`, '{"permit_id":"x","permitId":"y"}', /^permit_id: set more than once \(as "permit_id" and "permitId"\)$/],
    [`${ANOMALY}/RecordSamples`, '{"samples":[{"metric":"m","value":1},{"metric":"m","value":1,"time":"2025-13-01T00:00:00Z"}]}', /^samples\[1\]\.time: must be an RFC 3339 time/],
    [`${ANOMALY}/RecordSample`, '{"metric":"m",', /^request body: not valid JSON/],
  ];
  for (const [path, body, message] of cases) {
    const r = await post(path, body);
    assert.is(r.status, 400, `${path} ${body}: ${JSON.stringify(r.body)}`);
    assert.is(r.body.code, 'invalid_argument');
    assert.match(r.body.message, message, `${path} ${body}`);
  }
  // The same through a Connect GET with a JSON message, and in a JSON server stream's request.
  const get = await within(fetch(`${server.url}${ANOMALY}/ListAnomalies?connect=v1&encoding=json&message=${encodeURIComponent('{"min_severity":"urgent"}')}`), 'GET ListAnomalies');
  assert.is(get.status, 400);
  assert.match(((await get.json()) as { message: string }).message, /^min_severity: must be one of ANOMALY_SEVERITY_LOW/);
  const stream = await within(
    fetch(`${server.url}${ANOMALY}/WatchAnomalies`, {
      method: 'POST',
      headers: { 'content-type': 'application/connect+json', 'connect-protocol-version': '1' },
      body: Buffer.concat([Buffer.from([0, 0, 0, 0, 17]), Buffer.from('{"type":"spike!"}')]),
    }),
    'the Connect stream',
  );
  const end = frames(Buffer.from(await within(stream.arrayBuffer(), 'the Connect stream to end'))).at(-1)!;
  const endMessage = JSON.parse(end.data.toString()) as { error?: { code?: string; message?: string } };
  assert.is(endMessage.error?.code, 'invalid_argument', end.data.toString());
  assert.match(endMessage.error?.message ?? '', /^type: must be one of ANOMALY_TYPE_LATENCY_SPIKE/);
});

/** How many calls of `method` over `protocol` /metrics counts as refused with invalid_argument. */
async function refused(method: string, protocol: string): Promise<number> {
  return sampleValue(await scrapeMetrics(server.url), 'rs3gw_rpc_server_duration_seconds_count', { method, protocol, code: 'invalid_argument' });
}

get('Connect calls refused while decoding their JSON are counted as refused calls of their method', async () => {
  const before = { samples: await refused('RecordSamples', 'connect'), watch: await refused('WatchAnomalies', 'connect') };
  const posted = await within(
    fetch(`${server.url}${ANOMALY}/RecordSamples`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"samples":[{"metric":"m","valu":1}]}' }),
    'POST RecordSamples',
  );
  assert.is(posted.status, 400);
  assert.match(((await posted.json()) as { message: string }).message, /"valu" is unknown/);
  const stream = await within(
    fetch(`${server.url}${ANOMALY}/WatchAnomalies`, {
      method: 'POST',
      headers: { 'content-type': 'application/connect+json', 'connect-protocol-version': '1' },
      body: Buffer.concat([Buffer.from([0, 0, 0, 0, 1]), Buffer.from('{')]),
    }),
    'the Connect stream',
  );
  await within(stream.arrayBuffer(), 'the Connect stream to end');
  assert.equal({ samples: await refused('RecordSamples', 'connect'), watch: await refused('WatchAnomalies', 'connect') }, { samples: before.samples + 1, watch: before.watch + 1 });
});

get('bytes that do not parse as the request message are invalid_argument on Connect, gRPC-Web and Connect streams, and counted', async () => {
  const garbage = Buffer.from([0xff, 0xff, 0xff]);
  const envelope = Buffer.concat([Buffer.from([0, 0, 0, 0, garbage.length]), garbage]);
  const before = [await refused('RecordSample', 'connect'), await refused('RecordSample', 'grpc-web'), await refused('WatchAnomalies', 'connect')];

  // connect-node answered these with internal (HTTP 500), before any handler ran.
  const unary = await within(fetch(`${server.url}${ANOMALY}/RecordSample`, { method: 'POST', headers: { 'content-type': 'application/proto' }, body: garbage }), 'Connect binary');
  assert.is(unary.status, 400);
  assert.match(((await unary.json()) as { message: string }).message, /^request: not a valid rs3gw\.observability\.v1\.RecordSampleRequest/);

  const web = await within(fetch(`${server.url}${ANOMALY}/RecordSample`, { method: 'POST', headers: { 'content-type': 'application/grpc-web+proto' }, body: envelope }), 'gRPC-Web');
  const trailer = frames(Buffer.from(await web.arrayBuffer())).find((f) => (f.flags & 0x80) === 0x80);
  assert.match(trailer?.data.toString() ?? '', /grpc-status: ?3\r\n/);

  const stream = await within(
    fetch(`${server.url}${ANOMALY}/WatchAnomalies`, { method: 'POST', headers: { 'content-type': 'application/connect+proto', 'connect-protocol-version': '1' }, body: envelope }),
    'the Connect stream',
  );
  const end = frames(Buffer.from(await within(stream.arrayBuffer(), 'the Connect stream to end'))).at(-1)!;
  assert.is((JSON.parse(end.data.toString()) as { error?: { code?: string } }).error?.code, 'invalid_argument', end.data.toString());

  const after = [await refused('RecordSample', 'connect'), await refused('RecordSample', 'grpc-web'), await refused('WatchAnomalies', 'connect')];
  assert.equal(after, before.map((n) => n + 1));
});

get('a gRPC-Web or Connect-stream body that is not exactly one whole message frame is refused, naming what came, traced and counted', async () => {
  const count = (method: string, protocol: string, code: string) =>
    scrapeMetrics(server.url).then((text) => sampleValue(text, 'rs3gw_rpc_server_duration_seconds_count', { method, protocol, code }));
  const message = Buffer.from([0x08, 0x01]);
  const cases: Array<[string, Buffer, string, RegExp]> = [
    ['empty', Buffer.alloc(0), 'unimplemented', /^request: no message frame; the method takes one request message$/],
    ['half a header', Buffer.from([0, 0, 0]), 'invalid_argument', /^request: an incomplete message frame: 3 of its 5 header bytes$/],
    ['half a message', Buffer.from([0, 0, 0, 0, 9, 1, 2]), 'invalid_argument', /^request: an incomplete message frame: its header says 9 bytes, 2 came$/],
    ['two messages', Buffer.concat([Buffer.from([0, 0, 0, 0, 2]), message, Buffer.from([0, 0, 0, 0, 2]), message]), 'unimplemented', /^request: 7 bytes after the message frame; the method takes one request message$/],
    ['an unknown flag', Buffer.concat([Buffer.from([0x02, 0, 0, 0, 2]), message]), 'invalid_argument', /^request: message frame flags 0x02: a request frame may only be marked compressed \(0x01\)$/],
    ['compressed, no encoding', Buffer.concat([Buffer.from([0x01, 0, 0, 0, 2]), message]), 'invalid_argument', /^request: the message frame is marked compressed \(0x01\), but the request names no encoding$/],
  ];
  // Binary and JSON alike (a JSON body with a Content-Length went to connect-node untouched).
  for (const [what, body, code, reason] of cases) {
    for (const codec of ['proto', 'json']) {
      // connect-node refused these before any call began: no span, no count, and its own words.
      const webBefore = await count('GetStatistics', 'grpc-web', code);
      const web = await within(fetch(`${server.url}${ANOMALY}/GetStatistics`, { method: 'POST', headers: { 'content-type': `application/grpc-web+${codec}` }, body }), `gRPC-Web ${codec}, ${what}`);
      const trailer = frames(Buffer.from(await web.arrayBuffer())).find((f) => (f.flags & 0x80) === 0x80)?.data.toString() ?? '';
      assert.match(trailer, new RegExp(`grpc-status: ?${code === 'unimplemented' ? 12 : 3}\r\n`), `gRPC-Web ${codec}, ${what}: ${trailer}`);
      assert.match(decodeURIComponent(/grpc-message: ?(.*)\r\n/.exec(trailer)?.[1] ?? ''), reason, `gRPC-Web ${codec}, ${what}`);
      assert.is(await count('GetStatistics', 'grpc-web', code), webBefore + 1, `gRPC-Web ${codec}, ${what}: counted`);

      const streamBefore = await count('WatchAnomalies', 'connect', code);
      const stream = await within(
        fetch(`${server.url}${ANOMALY}/WatchAnomalies`, { method: 'POST', headers: { 'content-type': `application/connect+${codec}`, 'connect-protocol-version': '1' }, body }),
        `Connect stream ${codec}, ${what}`,
      );
      const end = frames(Buffer.from(await within(stream.arrayBuffer(), 'the Connect stream to end'))).at(-1)!;
      const error = (JSON.parse(end.data.toString()) as { error?: { code?: string; message?: string } }).error;
      assert.is(error?.code, code, `Connect stream ${codec}, ${what}`);
      assert.match(error?.message ?? '', reason, `Connect stream ${codec}, ${what}`);
      assert.is(await count('WatchAnomalies', 'connect', code), streamBefore + 1, `Connect stream ${codec}, ${what}: counted`);
    }
  }
});

get('native gRPC refuses a request frame marked compressed without an encoding, or with unknown flags, as HTTP/1.1 does', async () => {
  const session = http2Connect(server.url);
  const call = (frame: Buffer, headers: Record<string, string>, method = 'RecordSample') =>
    within(
      new Promise<{ status: string; message: string }>((resolve, reject) => {
        const req = session.request({ ':method': 'POST', ':path': `${ANOMALY}/${method}`, 'content-type': 'application/grpc', te: 'trailers', ...headers });
        let head: Record<string, unknown> = {};
        req.on('response', (h) => (head = h));
        req.on('trailers', (t) => (head = { ...head, ...t }));
        req.on('close', () => resolve({ status: String(head['grpc-status']), message: decodeURIComponent(String(head['grpc-message'] ?? '')) }));
        req.on('error', reject);
        req.resume();
        req.end(frame);
      }),
      'the gRPC call',
    );
  const sample = (metric: string) => Buffer.from(toBinary(RecordSampleRequestSchema, create(RecordSampleRequestSchema, { metric, value: 1 })));
  const frame = (flags: number, payload: Buffer) => {
    const head = Buffer.from([flags, 0, 0, 0, 0]);
    head.writeUInt32BE(payload.length, 1);
    return Buffer.concat([head, payload]);
  };
  const compressedOnly = 'request: the message frame is marked compressed (0x01), but the request names no encoding';
  try {
    const cases: Array<[string, number, Record<string, string>, string]> = [
      ['compressed, no encoding', 1, {}, compressedOnly],
      ['compressed, identity', 1, { 'grpc-encoding': 'identity' }, compressedOnly],
      ['an unknown flag', 2, {}, 'request: message frame flags 0x02: a request frame may only be marked compressed (0x01)'],
    ];
    for (const [what, flags, headers, message] of cases) {
      const metric = `frame_flags_${what.replace(/\W+/g, '_')}`;
      assert.equal(await call(frame(flags, sample(metric)), headers), { status: '3', message }, what);
      const stats = await call(frame(0, Buffer.from(toBinary(GetStatisticsRequestSchema, create(GetStatisticsRequestSchema, { metric })))), {}, 'GetStatistics');
      assert.is(stats.status, '5', `${what}: nothing was recorded (${stats.message})`);
    }
    // What the spec allows still works: a plain frame, and a gzip one that names gzip.
    assert.equal(await call(frame(0, sample('frame_flags_plain')), {}), { status: '0', message: 'OK' });
    assert.equal(await call(frame(1, gzipSync(sample('frame_flags_gzip'))), { 'grpc-encoding': 'gzip' }), { status: '0', message: 'OK' });
  } finally {
    session.close();
  }
});

get('compressed messages and Connect GET messages that cannot be read are the client errors they are, traced and counted', async () => {
  const post = (body: Buffer, headers: Record<string, string>) =>
    within(fetch(`${server.url}${ANOMALY}/RecordSample`, { method: 'POST', headers, body }), 'POST RecordSample');
  const errorOf = async (r: Response) => ({ status: r.status, ...((await r.json()) as { code: string; message: string }) });
  const before = { connect: await refused('RecordSample', 'connect'), web: await refused('RecordSample', 'grpc-web'), get: await refused('GetStatistics', 'connect') };

  // connect-node answered the first two with internal (HTTP 500) before any handler ran.
  const garbage = gzipSync(Buffer.from([0xff, 0xff, 0xff]));
  assert.equal(await errorOf(await post(garbage, { 'content-type': 'application/proto', 'content-encoding': 'gzip' })), {
    status: 400,
    code: 'invalid_argument',
    message: 'request: not a valid rs3gw.observability.v1.RecordSampleRequest (premature EOF)',
  });
  const notGzip = Buffer.from('not gzip at all');
  assert.equal(await errorOf(await post(notGzip, { 'content-type': 'application/proto', 'content-encoding': 'gzip' })), {
    status: 400,
    code: 'invalid_argument',
    message: 'request body: not valid gzip data',
  });
  const bomb = gzipSync(Buffer.alloc(5 * 1024 * 1024));
  assert.equal(await errorOf(await post(bomb, { 'content-type': 'application/proto', 'content-encoding': 'gzip' })), {
    status: 429,
    code: 'resource_exhausted',
    message: 'request body: larger than the limit of 4194304 bytes (RS3GW_MAX_MESSAGE_BYTES) once decompressed',
  });
  // gRPC-Web says it in its trailers, naming the setting as well.
  const bombFrame = Buffer.concat([Buffer.from([1, 0, 0, 0, 0]), bomb]);
  bombFrame.writeUInt32BE(bomb.length, 1);
  const webBomb = await post(bombFrame, { 'content-type': 'application/grpc-web+proto', 'grpc-encoding': 'gzip' });
  const webBombTrailer = frames(Buffer.from(await webBomb.arrayBuffer())).find((f) => (f.flags & 0x80) === 0x80)?.data.toString() ?? '';
  assert.match(webBombTrailer, /grpc-status: ?8\r\n/);
  assert.match(decodeURIComponent(webBombTrailer), /larger than the limit of 4194304 bytes \(RS3GW_MAX_MESSAGE_BYTES\) once decompressed/);
  const web = await post(Buffer.concat([Buffer.from([1, 0, 0, 0, garbage.length]), garbage]), { 'content-type': 'application/grpc-web+proto', 'grpc-encoding': 'gzip' });
  const trailer = frames(Buffer.from(await web.arrayBuffer())).find((f) => (f.flags & 0x80) === 0x80);
  assert.match(trailer?.data.toString() ?? '', /grpc-status: ?3\r\n/);

  const stats = `${server.url}${ANOMALY}/GetStatistics?connect=v1`;
  const badBase64 = await errorOf(await within(fetch(`${stats}&encoding=proto&base64=1&message=%25%25`), 'GET with bad base64'));
  assert.equal(badBase64, { status: 400, code: 'invalid_argument', message: 'message: must be base64url (the query parameter of a Connect GET with base64=1)' });
  const badProto = await errorOf(await within(fetch(`${stats}&encoding=proto&base64=1&message=__8`), 'GET with bytes that do not parse'));
  assert.is(badProto.status, 400);
  assert.match(badProto.message, /^request: not a valid rs3gw\.observability\.v1\.GetStatisticsRequest/);

  const after = { connect: await refused('RecordSample', 'connect'), web: await refused('RecordSample', 'grpc-web'), get: await refused('GetStatistics', 'connect') };
  assert.equal(after, { connect: before.connect + 2, web: before.web + 1, get: before.get + 2 }, 'resource_exhausted is counted under its own code');
});

get('a Connect GET message over RS3GW_MAX_MESSAGE_BYTES is refused as a POST body is: resource_exhausted naming the setting, counted', async () => {
  const small = await startServer({ RS3GW_MAX_MESSAGE_BYTES: '1000' });
  try {
    const exhausted = async () =>
      sampleValue(await scrapeMetrics(small.url), 'rs3gw_rpc_server_duration_seconds_count', { method: 'GetStatistics', protocol: 'connect', code: 'resource_exhausted' });
    const before = await exhausted();
    const json = JSON.stringify({ metric: 'a'.repeat(1500) });
    const proto = Buffer.from(toBinary(GetStatisticsRequestSchema, create(GetStatisticsRequestSchema, { metric: 'a'.repeat(1500) })));
    const stats = `${small.url}${ANOMALY}/GetStatistics?connect=v1`;
    // connect-node refused the JSON ones with "message size 1513 is larger than configured
    // readMaxBytes 1000", uncounted, and read the binary ones whatever their size.
    const queries = [
      `encoding=json&message=${encodeURIComponent(json)}`,
      `encoding=json&base64=1&message=${Buffer.from(json).toString('base64url')}`,
      `encoding=proto&base64=1&message=${proto.toString('base64url')}`,
      `encoding=proto&message=${encodeURIComponent(proto.toString('latin1'))}`,
    ];
    for (const query of queries) {
      const r = await within(fetch(`${stats}&${query}`), `GET ${query.slice(0, 30)}`);
      assert.equal(
        { status: r.status, ...((await r.json()) as object) },
        { status: 429, code: 'resource_exhausted', message: 'message: larger than the limit of 1000 bytes (RS3GW_MAX_MESSAGE_BYTES)' },
        query.slice(0, 30),
      );
    }
    const served = await within(fetch(`${stats}&encoding=json&message=${encodeURIComponent('{}')}`), 'GET within the limit');
    assert.is(served.status, 200, await served.clone().text());
    assert.is(await exhausted(), before + queries.length, 'each refusal is counted as a call of its method');
  } finally {
    await small.stop();
  }
});

get('compressed requests and GET messages that read are served, and the answer keeps the encoding the client sent', async () => {
  const sample = toBinary(RecordSampleRequestSchema, create(RecordSampleRequestSchema, { metric: 'connect_gzip_rps', value: 7 }));
  const recorded = await within(
    fetch(`${server.url}${ANOMALY}/RecordSample`, { method: 'POST', headers: { 'content-type': 'application/proto', 'content-encoding': 'gzip' }, body: gzipSync(sample) }),
    'a gzipped RecordSample',
  );
  assert.is(recorded.status, 200);
  const json = gzipSync(Buffer.from('{"metric":"connect_gzip_rps","value":9}'));
  const recordedJson = await within(
    fetch(`${server.url}${ANOMALY}/RecordSample`, { method: 'POST', headers: { 'content-type': 'application/json', 'content-encoding': 'gzip' }, body: json }),
    'a gzipped JSON RecordSample',
  );
  assert.is(recordedJson.status, 200);

  const query = toBinary(GetStatisticsRequestSchema, create(GetStatisticsRequestSchema, { metric: 'connect_gzip_rps' }));
  const stats = await within(
    fetch(`${server.url}${ANOMALY}/GetStatistics?connect=v1&encoding=proto&base64=1&compression=gzip&message=${gzipSync(query).toString('base64url')}`),
    'a GET with a gzipped message',
  );
  const statistics = fromBinary(GetStatisticsResponseSchema, new Uint8Array(await stats.arrayBuffer())).statistics;
  assert.equal(statistics.map((s) => [s.metric, s.count]), [['connect_gzip_rps', 2n]]);

  // A client that names no accepted encoding gets its answer in the one it sent (connect's rule),
  // though the request reached connect decompressed. ListMetrics answers over a kilobyte, which
  // connect compresses. Node's http client hands back the bytes as sent.
  const raw = await new Promise<{ encoding: string | undefined; body: Buffer }>((resolve, reject) => {
    const req = httpRequest(`${server.url}/rs3gw.observability.v1.MetricsService/ListMetrics`, { method: 'POST', headers: { 'content-type': 'application/proto', 'content-encoding': 'gzip' } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ encoding: res.headers['content-encoding'], body: Buffer.concat(chunks) }));
    });
    req.on('error', reject);
    req.end(gzipSync(new Uint8Array(0)));
  });
  assert.is(raw.encoding, 'gzip');
  assert.ok(fromBinary(ListMetricsResponseSchema, gunzipSync(raw.body)).metrics.length > 0);
});

get('a large HttpBody answer in Connect JSON is the same bytes as in binary (base64 by Node, not protobuf-es)', async () => {
  const client = createObservabilityClient(server.url, { protocol: 'connect' });
  await within(client.metrics.registerMetric({ name: 'connect_json_body_total', type: MetricType.COUNTER, description: 'wide', labelNames: ['path'] }), 'RegisterMetric');
  const records = Array.from({ length: 400 }, (_, i) => ({ name: 'connect_json_body_total', labels: { path: `/${'p'.repeat(300)}/${i}` }, value: i + 1 }));
  await within(client.metrics.batchRecordMetrics({ records }), 'BatchRecordMetrics');
  const binary = await within(client.metrics.exportMetrics({ format: ExportFormat.PROMETHEUS }), 'ExportMetrics in binary');
  const response = await within(
    fetch(`${server.url}/rs3gw.observability.v1.MetricsService/ExportMetrics`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"format":"EXPORT_FORMAT_PROMETHEUS"}' }),
    'ExportMetrics in JSON',
  );
  const json = (await response.json()) as { prometheus: { contentType: string; data: string } };
  assert.ok(binary.prometheus!.data.byteLength > 128 * 1024, `a body of ${binary.prometheus!.data.byteLength} bytes is over the detour's threshold`);
  assert.is(json.prometheus.contentType, binary.prometheus!.contentType);
  const text = (b: Uint8Array | Buffer) => Buffer.from(b).toString().split('\n').filter((l) => l.startsWith('connect_json_body_total'));
  assert.equal(text(Buffer.from(json.prometheus.data, 'base64')), text(binary.prometheus!.data));
  assert.is(text(binary.prometheus!.data).length, 400);
});

get('a Connect GET with a percent-encoded binary message (no base64) is read as the bytes sent, compressed or not', async () => {
  const percent = (bytes: Uint8Array) => Array.from(bytes, (b) => `%${b.toString(16).padStart(2, '0')}`).join('');
  const list = (limit: number) => percent(toBinary(ListAnomaliesRequestSchema, create(ListAnomaliesRequestSchema, { limit })));
  const listUrl = `${server.url}${ANOMALY}/ListAnomalies?connect=v1&encoding=proto&message=`;
  // limit 200 is 30 c8 01: c8 01 is not UTF-8, and was read as U+FFFD (limit 3104751).
  const listed = await within(fetch(listUrl + list(200)), 'GET ListAnomalies limit 200');
  assert.is(listed.status, 200, await listed.clone().text());
  const over = await within(fetch(listUrl + list(10_001)), 'GET ListAnomalies limit 10001');
  assert.equal({ status: over.status, ...((await over.json()) as object) }, { status: 400, code: 'invalid_argument', message: 'limit: must be at most 10000, got 10001' });

  const metric = 'connect_get_percent';
  await within(createObservabilityClient(server.url, { protocol: 'connect' }).anomalies.recordSample({ metric, value: 1 }), 'RecordSample');
  const statsUrl = `${server.url}${ANOMALY}/GetStatistics?connect=v1&compression=gzip`;
  const binary = await within(fetch(`${statsUrl}&encoding=proto&message=${percent(gzipSync(toBinary(GetStatisticsRequestSchema, create(GetStatisticsRequestSchema, { metric }))))}`), 'GET gzipped proto');
  assert.is(binary.status, 200, await binary.clone().text());
  assert.equal(fromBinary(GetStatisticsResponseSchema, new Uint8Array(await binary.arrayBuffer())).statistics.map((s) => [s.metric, s.count]), [[metric, 1n]]);
  const json = await within(fetch(`${statsUrl}&encoding=json&message=${percent(gzipSync(JSON.stringify({ metric })))}`), 'GET gzipped JSON');
  assert.is(json.status, 200, await json.clone().text());
  assert.equal(((await json.json()) as { statistics: Array<{ metric: string }> }).statistics.map((s) => s.metric), [metric]);
});

get('a content type that no protocol takes is 415 with a Connect error naming the header and what it takes, and Accept-Post', async () => {
  const post = async (method: string, headers: Record<string, string>) => {
    const r = await within(fetch(`${server.url}${ANOMALY}/${method}`, { method: 'POST', headers, body: new Uint8Array(0) }), `POST ${method} ${JSON.stringify(headers)}`);
    return { status: r.status, acceptPost: r.headers.get('accept-post'), type: r.headers.get('content-type'), body: (await r.json()) as { code: string; message: string } };
  };
  const unary = 'content-type: must be application/proto or application/json (Connect), application/grpc[+proto|+json] (gRPC) or application/grpc-web[-text][+proto|+json] (gRPC-Web)';
  const cases: Array<[string, Record<string, string>, string]> = [
    ['RecordSample', {}, `${unary}, got none`],
    ['RecordSample', { 'content-type': 'text/plain' }, `${unary}, got "text/plain"`],
    ['RecordSample', { 'content-type': 'application/connect+json' }, `${unary}, got "application/connect+json"`],
    ['RecordSample', { 'content-type': 'application/json; charset=latin1' }, `${unary}, with no parameter but charset=utf-8 (JSON only), got "application/json; charset=latin1"`],
    ['WatchAnomalies', { 'content-type': 'application/json' }, 'content-type: must be application/connect+proto or application/connect+json (Connect), application/grpc[+proto|+json] (gRPC) or application/grpc-web[-text][+proto|+json] (gRPC-Web), got "application/json"'],
  ];
  for (const [method, headers, message] of cases) {
    const r = await post(method, headers);
    assert.equal([r.status, r.type, r.body], [415, 'application/json', { code: 'unimplemented', message }], `${method} ${JSON.stringify(headers)}`);
    assert.ok(r.acceptPost?.includes(method === 'RecordSample' ? 'application/proto' : 'application/connect+proto'), `Accept-Post: ${r.acceptPost}`);
  }
  // Accept-Post lists only what is served: none of its types is refused as such.
  const { acceptPost } = await post('ListAnomalies', {});
  for (const type of acceptPost!.split(', ')) {
    const r = await within(fetch(`${server.url}${ANOMALY}/ListAnomalies`, { method: 'POST', headers: { 'content-type': type }, body: new Uint8Array(0) }), `POST ${type}`);
    assert.is.not(r.status, 415, type);
    await r.arrayBuffer();
  }

  const get = await within(fetch(`${server.url}${ANOMALY}/ListAnomalies?connect=v1&encoding=xml&message=x`), 'GET with encoding=xml');
  assert.equal({ status: get.status, ...((await get.json()) as object) }, { status: 415, code: 'unimplemented', message: 'encoding: must be proto or json (the query parameter of a Connect GET), got "xml"' });
});

/** A gRPC call over HTTP/1.1, as a Go client on an HTTP/1.1 transport makes it: the answer's frames and trailers. */
function grpcOverHttp1(method: string, body: Buffer): Promise<{ frames: Array<{ flags: number; data: Buffer }>; status?: string; message?: string }> {
  const answer = new Promise<{ frames: Array<{ flags: number; data: Buffer }>; status?: string; message?: string }>((resolve, reject) => {
    const req = httpRequest(`${server.url}${ANOMALY}/${method}`, { method: 'POST', headers: { 'content-type': 'application/grpc', te: 'trailers' } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('error', reject);
      res.on('end', () => {
        const message = res.trailers['grpc-message'];
        resolve({ frames: frames(Buffer.concat(chunks)), status: res.trailers['grpc-status'], message: message === undefined ? undefined : decodeURIComponent(message) });
      });
    });
    req.on('error', reject);
    req.end(body);
  });
  return within(answer, `gRPC over HTTP/1.1 ${method}`);
}

get('gRPC over HTTP/1.1: bytes that do not parse and a message over the limit are refused as on gRPC-Web, and counted', async () => {
  const counts = async () => {
    const text = await scrapeMetrics(server.url);
    const of = (code: string) => sampleValue(text, 'rs3gw_rpc_server_duration_seconds_count', { method: 'RecordSample', protocol: 'grpc', code });
    return { invalid: of('invalid_argument'), exhausted: of('resource_exhausted'), ok: of('ok') };
  };
  const before = await counts();
  // connect-node answered these internal "parse binary: premature EOF" and resource_exhausted naming
  // its own readMaxBytes, before any handler ran: no span, no count.
  const garbage = await grpcOverHttp1('RecordSample', Buffer.from([0, 0, 0, 0, 3, 0xff, 0xff, 0xff]));
  assert.equal([garbage.status, garbage.message], ['3', 'request: not a valid rs3gw.observability.v1.RecordSampleRequest (premature EOF)']);
  const oversize = await grpcOverHttp1('RecordSample', Buffer.from([0, 1, 0, 0, 0, 0x61, 0x62, 0x63])); // says 16 MiB
  assert.equal([oversize.status, oversize.message], ['8', 'request: larger than the limit of 4194304 bytes (RS3GW_MAX_MESSAGE_BYTES)']);
  const message = toBinary(RecordSampleRequestSchema, create(RecordSampleRequestSchema, { metric: 'grpc_http1_rps', value: 2 }));
  const served = await grpcOverHttp1('RecordSample', Buffer.concat([Buffer.from([0, 0, 0, 0, message.length]), message]));
  assert.equal([served.status, served.frames.length], ['0', 1]);
  const after = await counts();
  assert.equal(after, { invalid: before.invalid + 1, exhausted: before.exhausted + 1, ok: before.ok + 1 });
});

/** Splits an enveloped stream body (Connect streaming, gRPC-Web) into its frames. */
function frames(body: Buffer): Array<{ flags: number; data: Buffer }> {
  const out: Array<{ flags: number; data: Buffer }> = [];
  for (let at = 0; at + 5 <= body.length; ) {
    const length = body.readUInt32BE(at + 1);
    out.push({ flags: body[at]!, data: body.subarray(at + 5, at + 5 + length) });
    at += 5 + length;
  }
  return out;
}

const EMPTY_REQUEST = Buffer.from([0, 0, 0, 0, 0]);
const DEADLINE_MS = 300;

get('gRPC reference: a WatchAnomalies stream that reaches its grpc-timeout ends with DEADLINE_EXCEEDED', async () => {
  const session = http2Connect(server.url);
  try {
    const status = await within(
      new Promise<string>((resolve, reject) => {
        const req = session.request({ ':method': 'POST', ':path': `${ANOMALY}/WatchAnomalies`, 'content-type': 'application/grpc', te: 'trailers', 'grpc-timeout': `${DEADLINE_MS}m` });
        req.on('trailers', (trailers) => resolve(String(trailers['grpc-status'])));
        req.on('error', reject);
        req.resume();
        req.end(EMPTY_REQUEST);
      }),
      'the gRPC stream to end',
    );
    assert.is(status, '4');
  } finally {
    session.close();
  }
});

get('Connect: a WatchAnomalies stream that reaches its connect-timeout-ms ends with deadline_exceeded', async () => {
  const response = await within(
    fetch(`${server.url}${ANOMALY}/WatchAnomalies`, {
      method: 'POST',
      headers: { 'content-type': 'application/connect+json', 'connect-protocol-version': '1', 'connect-timeout-ms': String(DEADLINE_MS) },
      body: Buffer.concat([Buffer.from([0, 0, 0, 0, 2]), Buffer.from('{}')]),
    }),
    'the Connect stream',
  );
  assert.is(response.status, 200);
  const body = frames(Buffer.from(await within(response.arrayBuffer(), 'the Connect stream to end')));
  const first = JSON.parse(body[0]!.data.toString()) as { caughtUp?: { instanceId?: string } };
  assert.equal(Object.keys(first), ['caughtUp'], 'first message');
  assert.match(first.caughtUp!.instanceId ?? '', /^[0-9a-f-]{36}$/, 'caught_up names the run');
  const end = body.at(-1)!;
  assert.is(end.flags & 2, 2, 'the last frame is the end-of-stream message');
  const endMessage = JSON.parse(end.data.toString()) as { error?: { code?: string } };
  assert.is(endMessage.error?.code, 'deadline_exceeded', `end-of-stream message: ${end.data.toString()}`);
});

get('gRPC-Web: a WatchAnomalies stream that reaches its grpc-timeout ends with DEADLINE_EXCEEDED', async () => {
  const response = await within(
    fetch(`${server.url}${ANOMALY}/WatchAnomalies`, {
      method: 'POST',
      headers: { 'content-type': 'application/grpc-web+proto', 'x-grpc-web': '1', 'grpc-timeout': `${DEADLINE_MS}m` },
      body: EMPTY_REQUEST,
    }),
    'the gRPC-Web stream',
  );
  assert.is(response.status, 200);
  const body = frames(Buffer.from(await within(response.arrayBuffer(), 'the gRPC-Web stream to end')));
  const trailer = body.find((f) => (f.flags & 0x80) === 0x80);
  assert.ok(trailer, 'a trailer frame');
  assert.match(trailer!.data.toString(), /grpc-status: ?4\r\n/, `trailers: ${JSON.stringify(trailer!.data.toString())}`);
});

/** Reads an enveloped stream (Connect streaming, gRPC-Web, gRPC) frame by frame as it arrives, each read bounded. */
class FrameStream {
  private readonly reader: ReadableStreamDefaultReader<Uint8Array>;
  private bytes: Buffer = Buffer.alloc(0);

  constructor(response: Response) {
    this.reader = response.body!.getReader();
  }

  async next(what: string): Promise<{ flags: number; data: Buffer }> {
    while (this.bytes.length < 5 || this.bytes.length < 5 + this.bytes.readUInt32BE(1)) {
      const { done, value } = await within(this.reader.read(), what);
      if (done) throw new Error(`the stream ended before ${what}`);
      this.bytes = Buffer.concat([this.bytes, value]);
    }
    const end = 5 + this.bytes.readUInt32BE(1);
    const frame = { flags: this.bytes[0]!, data: this.bytes.subarray(5, end) };
    this.bytes = this.bytes.subarray(end);
    return frame;
  }
}

// After the tests above, whose first WatchAnomalies message says no anomaly was raised yet.
get('a deadline beyond 24.8 days (the longest Node timer) is served as 24.8 days, not as already expired', async () => {
  const expired = async () => sampleValue(await scrapeMetrics(server.url), 'rs3gw_rpc_server_duration_seconds_count', { method: 'WatchAnomalies', code: 'deadline_exceeded' });
  const before = await expired();
  const client = createObservabilityClient(server.url, { protocol: 'connect' });
  const connect = { 'content-type': 'application/connect+proto', 'connect-protocol-version': '1' };
  const cases: Array<Record<string, string>> = [
    { ...connect, 'connect-timeout-ms': '2592000000' }, // 30 days
    { ...connect, 'connect-timeout-ms': '9999999999' }, // the most the Connect protocol allows
    { 'content-type': 'application/grpc-web+proto', 'grpc-timeout': '720H' },
    { 'content-type': 'application/grpc-web+proto', 'grpc-timeout': '99999999H' },
    { 'content-type': 'application/grpc', 'grpc-timeout': '2592000S' },
  ];
  for (const [i, headers] of cases.entries()) {
    const what = JSON.stringify(headers);
    const metric = `connect_long_deadline_${i}`;
    const request = toBinary(WatchAnomaliesRequestSchema, create(WatchAnomaliesRequestSchema, { metric }));
    const cancel = new AbortController();
    const response = await within(
      fetch(`${server.url}${ANOMALY}/WatchAnomalies`, { method: 'POST', headers, body: Buffer.concat([Buffer.from([0, 0, 0, 0, request.length]), request]), signal: cancel.signal }),
      what,
    );
    try {
      const stream = new FrameStream(response);
      const first = await stream.next(`caught_up, ${what}`);
      assert.is(first.flags, 0, `a message, not the end of the stream (${first.data.toString()}), ${what}`);
      assert.is(fromBinary(WatchAnomaliesResponseSchema, first.data).event.case, 'caughtUp');
      const raised = await raiseAnomaly(client, metric);
      const second = await stream.next(`the anomaly, ${what}`);
      assert.is(second.flags, 0, `the stream is still open (${second.data.toString()}), ${what}`);
      const event = fromBinary(WatchAnomaliesResponseSchema, second.data).event;
      assert.is(event.case === 'anomaly' ? event.value.sequence : undefined, raised.sequence, what);
    } finally {
      cancel.abort();
    }
  }
  assert.is(await expired(), before, 'no call ended as deadline_exceeded');
  assert.not.match(server.output(), 'TimeoutOverflowWarning');

});

get('a malformed deadline is invalid_argument naming the header on Connect, gRPC-Web and gRPC over HTTP/1.1, traced and counted', async () => {
  const refusedBy = async (protocol: string) => sampleValue(await scrapeMetrics(server.url), 'rs3gw_rpc_server_duration_seconds_count', { method: 'ListAnomalies', protocol, code: 'invalid_argument' });
  const before = { connect: await refusedBy('connect'), web: await refusedBy('grpc-web'), grpc: await refusedBy('grpc') };
  for (const value of ['99999999999', '-5', '1.5', 'abc']) {
    const r = await within(
      fetch(`${server.url}${ANOMALY}/ListAnomalies`, { method: 'POST', headers: { 'content-type': 'application/json', 'connect-timeout-ms': value }, body: '{}' }),
      `connect-timeout-ms: ${value}`,
    );
    assert.equal({ status: r.status, ...((await r.json()) as object) }, { status: 400, code: 'invalid_argument', message: `connect-timeout-ms: "${value}" is not a timeout: 1 to 10 digits (milliseconds)` });
  }
  const get = await within(fetch(`${server.url}${ANOMALY}/ListAnomalies?connect=v1&encoding=json&message=%7B%7D`, { headers: { 'connect-timeout-ms': '1s' } }), 'a Connect GET');
  assert.is(get.status, 400);
  for (const value of ['123456789S', '-2S', '1', 'x2Sy']) {
    const r = await within(
      fetch(`${server.url}${ANOMALY}/ListAnomalies`, { method: 'POST', headers: { 'content-type': 'application/grpc-web+proto', 'grpc-timeout': value }, body: EMPTY_REQUEST }),
      `grpc-timeout: ${value}`,
    );
    const trailer = frames(Buffer.from(await r.arrayBuffer())).find((f) => (f.flags & 0x80) === 0x80)?.data.toString() ?? '';
    assert.match(trailer, /grpc-status: ?3\r\n/, value);
    assert.match(decodeURIComponent(/grpc-message: ?(.*)\r\n/.exec(trailer)?.[1] ?? ''), `grpc-timeout: "${value}" is not a timeout: 1 to 8 digits and a unit`);
  }
  // Each protocol reads its own header only: a Connect call is not judged by a grpc-timeout.
  const connectWithGrpcTimeout = await within(
    fetch(`${server.url}${ANOMALY}/ListAnomalies`, { method: 'POST', headers: { 'content-type': 'application/json', 'grpc-timeout': 'abc' }, body: '{}' }),
    'Connect with a grpc-timeout',
  );
  assert.is(connectWithGrpcTimeout.status, 200);
  const overHttp1 = await within(
    new Promise<string | undefined>((resolve, reject) => {
      const req = httpRequest(`${server.url}${ANOMALY}/ListAnomalies`, { method: 'POST', headers: { 'content-type': 'application/grpc', 'grpc-timeout': 'x2Sy' } }, (res) => {
        res.resume();
        res.on('end', () => resolve(res.trailers['grpc-status']));
      });
      req.on('error', reject);
      req.end(EMPTY_REQUEST);
    }),
    'gRPC over HTTP/1.1 with grpc-timeout x2Sy',
  );
  assert.is(overHttp1, '3');
  const after = { connect: await refusedBy('connect'), web: await refusedBy('grpc-web'), grpc: await refusedBy('grpc') };
  assert.equal(after, { connect: before.connect + 5, web: before.web + 4, grpc: before.grpc + 1 });
});

get('content-coding names are case-insensitive (RFC 9110): GZIP is gzip on Connect, gRPC-Web and gRPC over HTTP/1.1', async () => {
  const sample = toBinary(RecordSampleRequestSchema, create(RecordSampleRequestSchema, { metric: 'connect_upper_gzip', value: 1 }));
  const gzipped = gzipSync(sample);
  const enveloped = Buffer.concat([Buffer.from([1, 0, 0, 0, 0]), gzipped]);
  enveloped.writeUInt32BE(gzipped.length, 1);
  // connect-node refused the first with 501 and the others with unimplemented (grpc-status 12).
  const unary = await within(
    fetch(`${server.url}${ANOMALY}/RecordSample`, { method: 'POST', headers: { 'content-type': 'application/proto', 'content-encoding': 'GZIP' }, body: gzipped }),
    'Connect with Content-Encoding: GZIP',
  );
  assert.is(unary.status, 200, await unary.clone().text());
  for (const type of ['application/grpc-web+proto', 'application/grpc']) {
    const status = await within(
      new Promise<string | undefined>((resolve, reject) => {
        const req = httpRequest(`${server.url}${ANOMALY}/RecordSample`, { method: 'POST', headers: { 'content-type': type, 'grpc-encoding': 'Gzip' } }, (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => {
            const trailer = frames(Buffer.concat(chunks)).find((f) => (f.flags & 0x80) === 0x80)?.data.toString();
            resolve(res.trailers['grpc-status'] ?? /grpc-status: ?(\d+)/.exec(trailer ?? '')?.[1]);
          });
        });
        req.on('error', reject);
        req.end(enveloped);
      }),
      `${type} with grpc-encoding: Gzip`,
    );
    assert.is(status, '0', type);
  }
  // A stream: its request message compressed, named in upper case.
  const client = createObservabilityClient(server.url, { protocol: 'connect' });
  const metric = 'connect_upper_gzip_stream';
  const watch = gzipSync(toBinary(WatchAnomaliesRequestSchema, create(WatchAnomaliesRequestSchema, { metric })));
  const watchFrame = Buffer.concat([Buffer.from([1, 0, 0, 0, 0]), watch]);
  watchFrame.writeUInt32BE(watch.length, 1);
  const cancel = new AbortController();
  const response = await within(
    fetch(`${server.url}${ANOMALY}/WatchAnomalies`, {
      method: 'POST',
      headers: { 'content-type': 'application/connect+proto', 'connect-protocol-version': '1', 'connect-content-encoding': 'GZIP', 'connect-accept-encoding': 'GZIP' },
      body: watchFrame,
      signal: cancel.signal,
    }),
    'a Connect stream with connect-content-encoding: GZIP',
  );
  try {
    assert.is(response.status, 200);
    const stream = new FrameStream(response);
    const first = await stream.next('caught_up');
    assert.is(first.flags, 0, `a message, not the end of the stream (${first.data.toString()})`);
    assert.is(fromBinary(WatchAnomaliesResponseSchema, first.data).event.case, 'caughtUp');
    const raised = await raiseAnomaly(client, metric);
    const second = await stream.next('the anomaly');
    const event = fromBinary(WatchAnomaliesResponseSchema, second.flags & 1 ? gunzipSync(second.data) : second.data).event;
    assert.is(event.case === 'anomaly' ? event.value.sequence : undefined, raised.sequence);
  } finally {
    cancel.abort();
  }
});

get.run();
