/**
 * The REST mapping itself, whatever the service: paths and methods, query parameters, JSON bodies,
 * the request size limit, and how the server ends while REST clients hold connections.
 */
import { request as httpRequest } from 'node:http';
import { connect, type Socket } from 'node:net';
import { brotliCompressSync, gzipSync } from 'node:zlib';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { startServer, type RunningServer } from '../support/server.js';
import { API, Rest, assertError, assertOk, sendWithBody, startRestServer, type Reply } from './support/rest-http.js';
import { sampleValue, scrapeMetrics } from './support/rpc-helpers.js';

let server: RunningServer;
let rest: Rest;

test.before(async () => {
  server = await startRestServer({ RS3GW_MAX_MESSAGE_BYTES: '1024' });
  rest = new Rest(server.url);
});

test.after(async () => {
  await server.stop();
});

test('an unknown path is 404 with a JSON error', async () => {
  assertError(await rest.get(`${API}/nothing-here`), 404, 'not_found', /no REST path \/api\/observability\/nothing-here/);
  assertError(await rest.get(`${API}/metrics/uploads/trend/extra`), 404, 'not_found', /no REST path/);
  assertError(await rest.post(`${API}/anomalies/samples/batch/more`, {}), 404, 'not_found', /no REST path/);
});

/** A GET with the request target exactly as given (fetch would normalise it). */
function rawGet(target: string): Promise<{ status: number; body: string }> {
  const url = new URL(server.url);
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: url.hostname, port: url.port, path: target, agent: false }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

test('a request target that starts with // is a path, not a host: 404, and the server lives on', async () => {
  // `//` and `//%zz` made URL parsing throw outside any handler, which ended the process.
  for (const target of ['//', '//%zz', '//[::1', '//example.com/metrics']) {
    const answer = await rawGet(target);
    assert.is(answer.status, 404, `${target}: ${answer.body}`);
    assert.is((JSON.parse(answer.body) as { code: string }).code, 'not_found', target);
  }
  assert.is((await rawGet('/metrics')).status, 200);
});

test('a wrong method is 405 with the allowed methods in Allow', async () => {
  const cases: Array<[string, string, string]> = [
    ['DELETE', `${API}/anomalies`, 'GET'],
    ['POST', `${API}/health`, 'GET'],
    ['GET', `${API}/anomalies/samples`, 'POST'],
    ['PUT', `${API}/metrics`, 'POST, GET'],
    ['POST', `${API}/metrics/uploads`, 'GET'],
    ['GET', `${API}/resources/acquire`, 'POST'],
  ];
  for (const [method, path, allow] of cases) {
    const r = await rest.request(method, path);
    assertError(r, 405, 'unimplemented', new RegExp(`${method} is not allowed`));
    assert.is(r.headers.get('allow'), allow, `${method} ${path}`);
  }
  const head = await fetch(`${server.url}${API}/anomalies/samples`, { method: 'HEAD' });
  assert.is(head.status, 405);
  assert.is(head.headers.get('allow'), 'POST');
});

test('unknown and repeated query parameters are refused naming them', async () => {
  assertError(await rest.get(`${API}/anomalies?bogus=1`), 400, 'invalid_argument', 'bogus');
  assertError(await rest.get(`${API}/anomalies?limit=1&limit=2`), 400, 'invalid_argument', 'limit');
  assertError(await rest.get(`${API}/anomalies?limit.x=1`), 400, 'invalid_argument', 'limit');
  assertError(await rest.get(`${API}/metrics/m/trend?labels.a.b=1`), 400, 'invalid_argument', 'labels');
  assertError(await rest.post(`${API}/anomalies/samples?metric=x`, { metric: 'x', value: 1 }), 400, 'invalid_argument', /query parameters are not accepted with a request body: metric/);
});


test('a GET with a body is refused, as a body with a query is: its fields come from the path and query', async () => {
  const refusal = '{"code":"invalid_argument","message":"request body: not accepted on a GET, which takes its fields from the path and query"}';
  assert.equal(await sendWithBody(server.url, 'GET', `${API}/anomalies?limit=1`, '{"limit":5}'), { status: 400, body: refusal });
  // However it is sent: chunked too.
  assert.equal(await sendWithBody(server.url, 'GET', `${API}/anomalies`, '{"limit":5}', { 'transfer-encoding': 'chunked' }), { status: 400, body: refusal });
  // An empty body is no body.
  assert.is((await sendWithBody(server.url, 'GET', `${API}/anomalies?limit=1`, '', { 'content-length': '0' })).status, 200);
  assert.is((await sendWithBody(server.url, 'GET', `${API}/anomalies?limit=1`, '', { 'transfer-encoding': 'chunked' })).status, 200);
});

test('a path variable is URL-decoded', async () => {
  await rest.postOk(`${API}/metrics`, { name: 'job:uploads:rate', type: 'METRIC_TYPE_GAUGE', description: 'Recording-rule style name' });
  const got = await rest.getOk(`${API}/metrics/job%3Auploads%3Arate`);
  assert.is(got.metric.name, 'job:uploads:rate');
  assertError(await rest.get(`${API}/metrics/no%20such`), 404, 'not_found', 'name');
});

test('a path variable that does not percent-decode is 400 invalid_argument naming its field, not 404 no REST path', async () => {
  const form = 'must be percent-encoded UTF-8 in the path (each % followed by two hex digits, the bytes they spell UTF-8)';
  const cases: Array<[string, string, string]> = [
    [`${API}/profiling/profiles/%ZZ`, 'id', '%ZZ'],
    [`${API}/profiling/profiles/%C3%28`, 'id', '%C3%28'],
    [`${API}/profiling/profiles/cpu-1%`, 'id', 'cpu-1%'],
    [`${API}/metrics/%FF`, 'name', '%FF'],
    [`${API}/metrics/up%E2%82/trend`, 'name', 'up%E2%82'],
  ];
  for (const [path, field, raw] of cases) {
    const r = await rest.get(path);
    assertError(r, 400, 'invalid_argument', field);
    assert.is(r.json.message, `${field}: ${form}, got "${raw}"`, path);
  }
  // A method the path does not allow is still 405.
  assert.is((await rest.request('DELETE', `${API}/profiling/profiles/%ZZ`)).status, 405);
});

test('bodies that are not JSON objects of the request message are 400', async () => {
  const samples = `${API}/anomalies/samples`;
  assertError(await rest.post(samples, '{"metric": "x",'), 400, 'invalid_argument', /^request body: not valid JSON/);
  assertError(await rest.post(samples, '{"metric": "x", "value": NaN}'), 400, 'invalid_argument', /^request body: not valid JSON/);
  assertError(await rest.post(samples, '[1, 2]'), 400, 'invalid_argument', /^request body: /);
  assertError(await rest.post(samples, 'null'), 400, 'invalid_argument', /^request body: /);
  assertError(await rest.post(samples, '"x"'), 400, 'invalid_argument', /^request body: /);
});

test('a key given twice in one JSON object is refused naming it, at any depth, as on the Connect paths; nothing is recorded', async () => {
  const duplicate = /^request body: duplicate object key "metric": a key may appear once/;
  // JSON.parse alone keeps the last value: this recorded a sample for dup_b.
  assertError(await rest.post(`${API}/anomalies/samples`, '{"metric":"dup_a","metric":"dup_b","value":1}'), 400, 'invalid_argument', duplicate);
  // The body an HTML form with enctype=text/plain builds, name={"metric":"a and value=","metric":"victim",...}.
  assertError(await rest.post(`${API}/anomalies/samples`, '{"metric":"a=","metric":"dup_b","value":1}', { 'content-type': 'text/plain' }), 400, 'invalid_argument', duplicate);
  assertError(
    await rest.post(`${API}/metrics/record`, '{"name":"m","value":1,"labels":{"env":"a","env":"b"}}'),
    400,
    'invalid_argument',
    /^request body: duplicate object key "env"/,
  );
  assertError(await rest.get(`${API}/anomalies/statistics?metric=dup_b`), 404, 'not_found', 'metric');
  const connect = await fetch(`${server.url}/rs3gw.observability.v1.AnomalyService/RecordSample`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: '{"metric":"dup_a","metric":"dup_b","value":1}',
  });
  assert.is(connect.status, 400);
  assert.match(((await connect.json()) as { message: string }).message, duplicate);
});

test('an unknown JSON field is refused naming it', async () => {
  assertError(await rest.post(`${API}/anomalies/samples`, { metric: 'x', value: 1, valu: 2 }), 400, 'invalid_argument', /"valu"/);
  assertError(
    await rest.post(`${API}/business-metrics/events`, { events: [{ operation: 'S3_OPERATION_GET_OBJECT', bucket: 'b', status_code: 200, bucket_name: 'b' }] }),
    400,
    'invalid_argument',
    /"bucket_name"/,
  );
});

test('a JSON value of the wrong type is refused naming the field', async () => {
  assertError(await rest.post(`${API}/anomalies/samples`, { metric: 'x', value: 'abc' }), 400, 'invalid_argument', /\bvalue\b/);
  assertError(await rest.post(`${API}/anomalies/samples`, { metric: 'x', value: true }), 400, 'invalid_argument', /\bvalue\b/);
  assertError(await rest.post(`${API}/anomalies/samples`, { metric: 7, value: 1 }), 400, 'invalid_argument', /\bmetric\b/);
});

test('an unknown enum name in a JSON body is refused naming the field', async () => {
  // Numbers the enum does not define are named by the service (`type: unknown value 9`); names the
  // JSON decoder cannot map must name the field too, not only the enum type.
  assertError(
    await rest.post(`${API}/metrics`, { name: 'm', type: 'METRIC_TYPE_BOGUS', description: 'd' }),
    400,
    'invalid_argument',
    /\btype\b/,
  );
  assertError(await rest.post(`${API}/resources/acquire`, { priority: 'PRIORITY_URGENT' }), 400, 'invalid_argument', /\bpriority\b/);
  assertError(
    await rest.post(`${API}/business-metrics/events`, { events: [{ operation: 'S3_OPERATION_RENAME', bucket: 'b', status_code: 200 }] }),
    400,
    'invalid_argument',
    /\boperation\b/,
  );
});

test('a malformed timestamp or duration in a JSON body is refused naming the field', async () => {
  assertError(await rest.post(`${API}/anomalies/samples`, { metric: 'x', value: 1, time: 'yesterday' }), 400, 'invalid_argument', /\btime\b/);
  assertError(
    await rest.post(`${API}/profiling/io`, { operations: [{ direction: 'IO_DIRECTION_READ', bytes: 1, latency: '5 minutes' }] }),
    400,
    'invalid_argument',
    /\blatency\b/,
  );
});

test('a timestamp or duration parameter beyond its type\'s range is 400 naming the parameter', async () => {
  for (const path of ['profiling/snapshots?since=', 'profiling/profiles?start_time=', 'profiling/merged?end_time=', 'anomalies?since=']) {
    const parameter = path.split('?')[1]!.slice(0, -1);
    for (const value of ['9223372036854775807', '99999999999999999999', '10000-01-01T00:00:00Z', '0000-12-31T23:59:59Z']) {
      assertError(await rest.get(`${API}/${path}${value}`), 400, 'invalid_argument', parameter);
    }
  }
  await rest.postOk(`${API}/metrics`, { name: 'range_gauge', type: 'METRIC_TYPE_GAUGE', description: 'd' });
  for (const window of ['315576000001s', '99999999999999999999s', '99999999999999999999', '3652500001d']) {
    assertError(await rest.get(`${API}/metrics/range_gauge/trend?window=${window}`), 400, 'invalid_argument', 'window');
  }
  assert.is((await rest.getOk(`${API}/metrics/range_gauge/trend?window=315576000000s`)).window, '315576000000s');
  assert.is((await rest.getOk(`${API}/metrics/range_gauge/trend?window=90.5`)).window, '90.500s');
});

test('a timestamp parameter is RFC 3339: a bare number is refused, showing the form', async () => {
  // `since=2030` could mean the year or 1970-01-01T00:33:50Z (Unix seconds): neither is guessed.
  for (const value of ['2030', '1767139200', '1767139200.5']) {
    const r = await rest.get(`${API}/anomalies?since=${value}`);
    assertError(r, 400, 'invalid_argument', 'since');
    assert.match(r.json.message, /RFC 3339 time such as 2025-12-31T00:00:00Z/);
  }
  assert.is((await rest.get(`${API}/anomalies?since=2025-12-31T00:00:00Z`)).status, 200);
  assert.is((await rest.get(`${API}/anomalies?since=2025-12-31T01:00:00.5%2B01:00`)).status, 200);
  // An unescaped + of an offset reaches the server as a space; it is read back as the +.
  assert.is((await rest.get(`${API}/anomalies?since=2025-12-31T01:00:00+01:00`)).status, 200);
});

test('a time the calendar does not have is refused, where Date.parse would move it to another day', async () => {
  const impossible: Array<[string, RegExp]> = [
    ['2025-02-30T00:00:00Z', /day 30 is not in February 2025, which has 28 days/],
    ['2023-02-29T12:00:00Z', /day 29 is not in February 2023, which has 28 days/],
    ['2025-04-31T00:00:00Z', /day 31 is not in April 2025, which has 30 days/],
    ['2025-01-01T24:00:00Z', /24:00 is not a time of day/],
  ];
  for (const [time, reason] of impossible) {
    const query = await rest.get(`${API}/anomalies?since=${time}`);
    assertError(query, 400, 'invalid_argument', 'since');
    assert.match(query.json.message, reason);
    const body = await rest.post(`${API}/anomalies/samples/batch`, { samples: [{ metric: 'calendar', value: 1 }, { metric: 'calendar', value: 2, time }] });
    assertError(body, 400, 'invalid_argument', 'samples[1].time');
    assert.match(body.json.message, reason);
  }
  assert.is((await rest.get(`${API}/anomalies?since=2024-02-29T23:59:59Z`)).status, 200, 'a leap day');
  // Lower case and leap seconds are refused by the form, which now says so.
  const lower = await rest.get(`${API}/anomalies?since=2025-01-01t00:00:00z`);
  assertError(lower, 400, 'invalid_argument', 'since');
  assert.match(lower.json.message, /upper-case T and Z, seconds up to 59/);
});

test('JSON body errors name the field and the expected form', async () => {
  const latency = await rest.post(`${API}/resources/release`, { permit_id: 'x', latency: { seconds: 1 } });
  assertError(latency, 400, 'invalid_argument', 'latency');
  assert.match(latency.json.message, /"1\.5s"/);
  assert.match(latency.json.message, /google\.protobuf\.Duration/);
  const time = await rest.post(`${API}/anomalies/samples`, { metric: 'x', value: 1, time: 1767139200 });
  assertError(time, 400, 'invalid_argument', 'time');
  assert.match(time.json.message, /RFC 3339 time such as 2025-12-31T00:00:00Z/);
  assertError(await rest.post(`${API}/resources/release`, '{"permit_id":"x","permitId":"y"}'), 400, 'invalid_argument', 'permit_id');
  const events = await rest.post(`${API}/business-metrics/events`, { events: [{ operation: 'S3_OPERATION_GET_OBJECT', bucket: 'b', status_code: 200 }, { latency: '5 minutes' }] });
  assertError(events, 400, 'invalid_argument', 'events[1].latency');
  const priority = await rest.post(`${API}/resources/acquire`, { priority: 'critical' });
  assertError(priority, 400, 'invalid_argument', 'priority');
  assert.match(priority.json.message, /PRIORITY_CRITICAL/);
});

test('a duration with more after its s is refused, on REST and Connect alike, where protobuf-es would read its start', async () => {
  for (const latency of ['1sx', '0.5seconds', '2s; DROP', '1s s', '1.1234567891s']) {
    const io = { operations: [{ direction: 'IO_DIRECTION_READ', bytes: 1 }, { direction: 'IO_DIRECTION_READ', bytes: 1, latency }] };
    const body = await rest.post(`${API}/profiling/io`, io);
    assertError(body, 400, 'invalid_argument', 'operations[1].latency');
    assert.match(body.json.message, /google\.protobuf\.Duration/, latency);
    const connect = await fetch(`${server.url}/rs3gw.observability.v1.ProfilingService/RecordIo`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(io),
    });
    assert.is(connect.status, 400, latency);
    const error = (await connect.json()) as { code: string; message: string };
    assert.is(error.code, 'invalid_argument', latency);
    assert.match(error.message, /^operations\[1\]\.latency: /, latency);
  }
  assert.equal((await rest.post(`${API}/profiling/io`, { operations: [{ direction: 'IO_DIRECTION_READ', bytes: 1, latency: '0.000123456s' }] })).json, { accepted: 1 });
});

test('a body over RS3GW_MAX_MESSAGE_BYTES is 413', async () => {
  const big = JSON.stringify({ metric: 'x', value: 1, pad: 'a'.repeat(4000) });
  assertError(await rest.post(`${API}/anomalies/samples`, big), 413, 'resource_exhausted', /^request body: larger than the limit of 1024 bytes/);
  // Just under the limit is fine.
  const small = JSON.stringify({ metric: 'x', value: 1 });
  assert.is((await rest.post(`${API}/anomalies/samples`, small.padEnd(1000, ' '))).status, 200);
});

const SAMPLE = JSON.stringify({ metric: 'x', value: 1 });

/** POSTs these bytes to RecordSample as JSON, with these headers. */
async function postBytes(body: Uint8Array, headers: Record<string, string> = {}): Promise<Reply> {
  const r = await fetch(`${server.url}${API}/anomalies/samples`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body });
  const text = await r.text();
  return { status: r.status, headers: r.headers, text, json: JSON.parse(text) };
}

test('a JSON body may come gzip or br encoded, as on the Connect paths; another coding is 415 naming content-encoding', async () => {
  for (const [coding, body] of [
    ['gzip', gzipSync(SAMPLE)],
    ['x-gzip', gzipSync(SAMPLE)],
    ['GZIP', gzipSync(SAMPLE)],
    ['br', brotliCompressSync(SAMPLE)],
    ['identity', Buffer.from(SAMPLE)],
  ] as const) {
    assertOk(await postBytes(body, { 'content-encoding': coding }), `content-encoding: ${coding}`);
  }
  for (const coding of ['zstd', 'deflate', 'gzip, br']) {
    const r = await postBytes(Buffer.from(SAMPLE), { 'content-encoding': coding });
    assertError(r, 415, 'unimplemented', 'content-encoding');
    assert.is(r.headers.get('accept-encoding'), 'gzip, br', coding);
  }
  assertError(await postBytes(Buffer.from(SAMPLE), { 'content-encoding': 'gzip' }), 400, 'invalid_argument', /^request body: not valid gzip data/);
  // Within the limit of 1,024 bytes compressed, far over it once decompressed.
  const bomb = gzipSync(JSON.stringify({ metric: 'x', value: 1, pad: ' '.repeat(100_000) }));
  assert.ok(bomb.length < 1024);
  assertError(await postBytes(bomb, { 'content-encoding': 'gzip' }), 413, 'resource_exhausted', /^request body: larger than the limit of 1024 bytes .* once decompressed$/);
});

test('a body whose Content-Type is not JSON is 415 naming content-type, counted as the call it is; the types clients send JSON with are read', async () => {
  const count = async () => sampleValue(await scrapeMetrics(server.url), 'rs3gw_rpc_server_duration_seconds_count', { method: 'RecordSample', protocol: 'rest', code: 'unimplemented' });
  const before = await count();
  const refused = ['application/proto', 'application/x-protobuf', 'application/octet-stream', 'application/grpc', 'application/grpc-web+proto', 'multipart/form-data; boundary=x', 'application/json; charset=latin1'];
  for (const type of refused) assertError(await rest.post(`${API}/anomalies/samples`, SAMPLE, { 'content-type': type }), 415, 'unimplemented', 'content-type');
  assert.is((await count()) - before, refused.length, 'each refusal is a RecordSample call, counted');
  // curl -d (the README's examples) sends the form type; fetch sends text/plain with a string.
  for (const type of ['application/json', 'application/json; charset=UTF-8', 'APPLICATION/JSON;charset="utf-8"', 'application/x-www-form-urlencoded', 'text/plain;charset=UTF-8', 'application/merge-patch+json']) {
    assertOk(await rest.post(`${API}/anomalies/samples`, SAMPLE, { 'content-type': type }), type);
  }
  const untyped = await new Promise<{ status: number; body: string }>((resolve, reject) => {
    const url = new URL(`${server.url}${API}/anomalies/samples`);
    const req = httpRequest({ host: url.hostname, port: url.port, path: url.pathname, method: 'POST', agent: false }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end(SAMPLE);
  });
  assert.is(untyped.status, 200, `no content-type: ${untyped.body}`);
});

test('a body that is not UTF-8 is 400 saying so, not a JSON parse error that shows its bytes', async () => {
  const reply = await postBytes(gzipSync(SAMPLE));
  assertError(reply, 400, 'invalid_argument', /^request body: not UTF-8 text, so not JSON \(a compressed body needs its content-encoding header\)$/);
  assert.not.match(reply.text, /\\u001f/);
});

/** A raw HTTP/1.1 connection to the server: what it received, and whether the server closed it. */
class RawConnection {
  received = '';
  closed = false;
  private wake: () => void = () => {};
  private constructor(readonly socket: Socket) {
    socket.on('data', (d: Buffer) => {
      this.received += d.toString('latin1');
      this.wake();
    });
    socket.on('close', () => {
      this.closed = true;
      this.wake();
    });
    socket.on('error', () => {});
  }

  static async open(): Promise<RawConnection> {
    const url = new URL(server.url);
    const socket = connect({ host: url.hostname, port: Number(url.port) });
    await new Promise((resolve, reject) => socket.once('connect', resolve).once('error', reject));
    return new RawConnection(socket);
  }

  /** Waits until what was received matches `pattern` (if given) or the connection closes, 2 s at most; returns what was received. */
  async until(pattern?: RegExp): Promise<string> {
    const deadline = Date.now() + 2_000;
    while (!pattern?.test(this.received) && !this.closed && Date.now() < deadline) {
      await new Promise<void>((resolve) => {
        this.wake = resolve;
        setTimeout(resolve, 50);
      });
    }
    return this.received;
  }
}

/** Sends `request` on a new connection; what came back until the server closed it (or 2 s passed). */
async function exchange(request: string): Promise<RawConnection> {
  const c = await RawConnection.open();
  c.socket.write(request);
  await c.until();
  c.socket.destroy();
  return c;
}

test('two Host header lines are 400 naming host, as RFC 9112 requires', async () => {
  const c = await exchange(`GET ${API}/resources HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n`);
  assert.match(c.received, /^HTTP\/1\.1 400 /);
  assert.match(c.received, /\{"code":"invalid_argument","message":"host: given more than once"\}$/);
  assert.ok(c.closed, 'the connection is closed');
});

test('CONNECT is 501 with a JSON error: this is no proxy; not a connection closed without a word', async () => {
  const c = await exchange('CONNECT localhost:1 HTTP/1.1\r\nHost: localhost:1\r\n\r\n');
  assert.match(c.received, /^HTTP\/1\.1 501 Not Implemented\r\n/);
  assert.match(c.received, /\r\ncontent-type: application\/json\r\n/);
  assert.match(c.received, /"code":"unimplemented","message":"CONNECT localhost:1: this server is not a proxy/);
});

test('Expect: 100-continue: a request refused before its body is read is answered without inviting the body', async () => {
  const head = (path: string, type: string, length: number) =>
    `POST ${path} HTTP/1.1\r\nHost: x\r\nContent-Type: ${type}\r\nContent-Length: ${length}\r\nExpect: 100-continue\r\n\r\n`;
  const cases: Array<[string, string, number, RegExp]> = [
    [`${API}/anomalies/samples`, 'application/json', 5_000, /^HTTP\/1\.1 413 /],
    [`${API}/anomalies/samples`, 'application/json', 5_000_000_000, /^HTTP\/1\.1 413 /],
    [`${API}/anomalies/samples`, 'application/proto', 10, /^HTTP\/1\.1 415 /],
    [`${API}/health`, 'application/json', 10, /^HTTP\/1\.1 405 /],
    // Connect's own refusal (429 today); what counts here is that it comes without an invitation.
    ['/rs3gw.observability.v1.AnomalyService/RecordSample', 'application/json', 10_000, /^HTTP\/1\.1 4\d\d /],
    // One enveloped message: larger than the limit and its 5-byte envelope by the Content-Length.
    ['/rs3gw.observability.v1.AnomalyService/RecordSample', 'application/grpc-web+proto', 10_000, /^HTTP\/1\.1 200 OK\r\n[^]*grpc-status: 8\r\n/],
    ['/rs3gw.observability.v1.AnomalyService/WatchAnomalies', 'application/connect+proto', 10_000, /^HTTP\/1\.1 200 OK\r\n[^]*"code":"resource_exhausted"/],
  ];
  for (const [path, type, length, answer] of cases) {
    const c = await exchange(head(path, type, length));
    assert.match(c.received, answer, `${path}, ${type}, ${length} bytes: ${c.received.slice(0, 200)}`);
    assert.ok(c.closed, `${path}, ${length} bytes: the connection, which still owes the body, is closed`);
  }
  // Within the limit: invited, read, answered, and the connection lives on.
  for (const path of [`${API}/anomalies/samples`, '/rs3gw.observability.v1.AnomalyService/RecordSample']) {
    const c = await RawConnection.open();
    c.socket.write(head(path, 'application/json', SAMPLE.length));
    assert.is(await c.until(/\r\n\r\n/), 'HTTP/1.1 100 Continue\r\n\r\n', path);
    c.socket.write(SAMPLE);
    const answer = await c.until(/"samples_seen"|"samplesSeen"/);
    assert.match(answer, /^HTTP\/1\.1 100 Continue\r\n\r\nHTTP\/1\.1 200 OK\r\n/, path);
    assert.not.ok(c.closed, `${path}: keep-alive`);
    c.socket.destroy();
  }
});

/** Status of a POST, or the network error a client saw instead of an answer. */
async function outcome(body: string | ReadableStream<Uint8Array>): Promise<string> {
  try {
    const r = await fetch(`${server.url}${API}/anomalies/samples`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body,
      duplex: 'half',
    } as RequestInit);
    await r.arrayBuffer();
    return String(r.status);
  } catch (error) {
    const cause = (error as { cause?: { code?: string; message?: string } }).cause;
    return `network error ${cause?.code ?? cause?.message ?? String(error)}`;
  }
}

test('an oversize body gets its 413, not a reset connection, however it is sent', async () => {
  const big = JSON.stringify({ metric: 'x', value: 1, pad: 'a'.repeat(4000) });
  // No Content-Length: the limit is found while reading, chunk by chunk.
  const chunked = () =>
    new ReadableStream({
      start(controller) {
        for (let i = 0; i < big.length; i += 1000) controller.enqueue(new TextEncoder().encode(big.slice(i, i + 1000)));
        controller.close();
      },
    });
  const seen: string[] = [];
  for (let i = 0; i < 10; i++) {
    // A successful call first, so the next one goes out on a kept-alive connection, as clients do.
    seen.push(await outcome(JSON.stringify({ metric: 'x', value: 1 })));
    seen.push(await outcome(chunked()));
  }
  // A large declared body: the server answers before the client has finished sending it.
  const huge = JSON.stringify({ metric: 'x', value: 1, pad: 'a'.repeat(8_000_000) });
  for (let i = 0; i < 3; i++) seen.push(await outcome(huge));
  assert.equal(seen, [...Array.from({ length: 10 }, () => ['200', '413']).flat(), '413', '413', '413'], `answers: ${seen.join(', ')}`);
});

test('SIGTERM with idle keep-alive REST connections ends the server promptly', async () => {
  // fetch, like browsers and most HTTP clients, keeps the connection open after a call.
  const s = await startServer();
  await (await fetch(`${s.url}${API}/health`)).text();
  const started = Date.now();
  const code = await s.stop();
  const ms = Date.now() - started;
  assert.is(code, 0);
  // No call is running: waiting out the 10 s shutdown grace (RS3GW_SHUTDOWN_GRACE) serves nothing.
  assert.ok(ms < 3_000, `exit took ${ms} ms with only idle connections open`);
});

test('SIGTERM with a connection that has sent nothing yet ends the server promptly', async () => {
  // fetch may open a connection ahead of need; it brings no call, so the drain has nothing to wait for.
  const s = await startServer();
  const url = new URL(s.url);
  const silent = connect({ host: url.hostname, port: Number(url.port) });
  await new Promise((resolve) => silent.once('connect', resolve));
  silent.on('error', () => {});
  try {
    const started = Date.now();
    const code = await s.stop();
    const ms = Date.now() - started;
    assert.is(code, 0);
    assert.ok(ms < 3_000, `exit took ${ms} ms with one silent connection open`);
  } finally {
    silent.destroy();
  }
});

test('SIGTERM as soon as the server says it is listening drains and exits 0', async () => {
  // A supervisor may stop the service the moment it reports ready; the signal must not kill it.
  for (let i = 0; i < 5; i++) {
    const s = await startServer({ RS3GW_SHUTDOWN_GRACE: '1' });
    const code = await s.stop();
    assert.is(code, 0, `run ${i}: exit code ${code}, signal ${s.process.signalCode}`);
  }
});

test.run();
