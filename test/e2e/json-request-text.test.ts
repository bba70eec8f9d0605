/**
 * JSON request text as a client sends it by hand, on every path that reads JSON: Connect (POST and
 * GET's `message`), gRPC-Web in JSON, and REST bodies. What one path refuses, every path refuses,
 * with invalid_argument naming what is wrong, and nothing a client sends holds the service up.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import type { RunningServer } from '../support/server.js';
import { API, Rest, sendWithBody, startRestServer } from './support/rest-http.js';
import { within } from './support/rpc-helpers.js';

const SERVICE = '/rs3gw.observability.v1';

/** A refusal as any protocol reports it: the Connect code name and the message. */
interface Answer {
  code: string;
  message: string;
}

const GRPC_CODES = ['ok', 'canceled', 'unknown', 'invalid_argument', 'deadline_exceeded', 'not_found', 'already_exists', 'permission_denied', 'resource_exhausted', 'failed_precondition', 'aborted', 'out_of_range', 'unimplemented', 'internal', 'unavailable', 'data_loss', 'unauthenticated'];

const test = suite('JSON request text on every path that reads it');
let server: RunningServer;

test.before(async () => {
  server = await startRestServer();
});

test.after(async () => {
  await server?.stop();
});

const bytes = (body: string | Uint8Array) => (typeof body === 'string' ? Buffer.from(body) : body);

/** Connect unary JSON: the error body, or `ok` with the answer as text. */
async function connectJson(method: string, body: string | Uint8Array): Promise<Answer> {
  const r = await within(fetch(`${server.url}${SERVICE}.${method}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: bytes(body) }), `Connect ${method}`);
  const text = await r.text();
  if (r.status === 200) return { code: 'ok', message: text };
  const error = JSON.parse(text) as Answer;
  return { code: error.code, message: error.message };
}

/** A Connect GET with the JSON message percent-encoded in the query. */
async function connectGet(method: string, json: string): Promise<Answer> {
  const r = await within(fetch(`${server.url}${SERVICE}.${method}?connect=v1&encoding=json&message=${encodeURIComponent(json)}`), `Connect GET ${method}`);
  const text = await r.text();
  if (r.status === 200) return { code: 'ok', message: text };
  const error = JSON.parse(text) as Answer;
  return { code: error.code, message: error.message };
}

/** gRPC-Web in JSON: one message frame; the status from the headers (trailers-only) or the trailer frame. */
async function grpcWebJson(method: string, body: string | Uint8Array): Promise<Answer> {
  const message = bytes(body);
  const frame = Buffer.alloc(5 + message.length);
  frame.writeUInt32BE(message.length, 1);
  frame.set(message, 5);
  const r = await within(
    fetch(`${server.url}${SERVICE}.${method}`, { method: 'POST', headers: { 'content-type': 'application/grpc-web+json', 'x-grpc-web': '1' }, body: frame }),
    `gRPC-Web ${method}`,
  );
  const all = Buffer.from(await r.arrayBuffer());
  const trailers = new Map<string, string>();
  for (const [k, v] of r.headers) trailers.set(k, v);
  for (let at = 0; at + 5 <= all.length; ) {
    const length = all.readUInt32BE(at + 1);
    if (all[at]! & 0x80) {
      for (const line of all.subarray(at + 5, at + 5 + length).toString().split('\r\n')) {
        const colon = line.indexOf(':');
        if (colon > 0) trailers.set(line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim());
      }
    }
    at += 5 + length;
  }
  const status = Number(trailers.get('grpc-status'));
  return { code: GRPC_CODES[status] ?? `grpc-status ${trailers.get('grpc-status')}`, message: decodeURIComponent(trailers.get('grpc-message') ?? '') };
}

/** A REST POST of the body as it is. */
async function restPost(path: string, body: string | Uint8Array): Promise<Answer> {
  const r = await within(fetch(`${server.url}${API}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: bytes(body) }), `REST ${path}`);
  const text = await r.text();
  if (r.status === 200) return { code: 'ok', message: text };
  const error = JSON.parse(text) as Answer;
  return { code: error.code, message: error.message };
}

/** RecordSamples with `body` on each path that takes a JSON body. */
async function recordSamplesEverywhere(body: string | Uint8Array): Promise<Record<string, Answer>> {
  return {
    connect: await connectJson('AnomalyService/RecordSamples', body),
    grpcWeb: await grpcWebJson('AnomalyService/RecordSamples', body),
    rest: await restPost('/anomalies/samples/batch', body),
  };
}

const deep = (levels: number) => `{"samples":${'['.repeat(levels - 1)}${']'.repeat(levels - 1)}}`;

test('JSON nested deeper than 64 levels is invalid_argument before it is parsed, on every path; 64 levels are read as usual', async () => {
  const tooDeep = 'request body: JSON nested deeper than 64 levels of objects and arrays; no request of this service needs more than a few';
  const refused = { code: 'invalid_argument', message: tooDeep };
  assert.equal(await recordSamplesEverywhere(deep(65)), { connect: refused, grpcWeb: refused, rest: refused });
  // A million levels (2 MB, within the size limit): V8's JSON.parse took over a second on each.
  assert.equal(await recordSamplesEverywhere(deep(1_000_000)), { connect: refused, grpcWeb: refused, rest: refused });
  // Brackets inside strings are not nesting.
  const inStrings = await connectJson('AnomalyService/RecordSamples', `{"samples":[{"metric":"${'['.repeat(100)}","value":1}]}`);
  assert.is(inStrings.code, 'invalid_argument');
  assert.match(inStrings.message, /^samples\[0\]\.metric: /);
  // 64 levels are JSON like any other: the error is about the field.
  const at64 = await recordSamplesEverywhere(deep(64));
  for (const answer of Object.values(at64)) assert.match(answer.message, /^samples\[0\]: /, answer.message);
  const get = await connectGet('AnomalyService/ListAnomalies', `{"metric":${'['.repeat(65)}${']'.repeat(65)}}`);
  assert.equal(get, { code: 'invalid_argument', message: tooDeep.replace('request body', 'message') });
});

test('deeply nested bodies sent at once do not hold up other calls', async () => {
  const body = deep(1_000_000);
  const health = async () => {
    const started = performance.now();
    const r = await within(fetch(`${server.url}${API}/health`), 'GET /health');
    await r.arrayBuffer();
    return performance.now() - started;
  };
  await health();
  let done = false;
  const sent = Promise.all(Array.from({ length: 8 }, (_, i) => (i % 2 === 0 ? connectJson('AnomalyService/RecordSamples', body) : restPost('/anomalies/samples/batch', body)))).finally(
    () => (done = true),
  );
  let slowest = 0;
  while (!done) slowest = Math.max(slowest, await health());
  for (const answer of await sent) assert.is(answer.code, 'invalid_argument', answer.message);
  // Parsed, each body held the event loop for a second or more; scanned, for milliseconds.
  assert.ok(slowest < 1000, `GET /health took ${Math.round(slowest)} ms while eight deep bodies were read`);
});

test('bytes that are not UTF-8 are invalid_argument on every JSON path, not stored as U+FFFD', async () => {
  const rest = new Rest(server.url);
  await rest.postOk(`${API}/metrics`, { name: 'utf8_checked', type: 'METRIC_TYPE_GAUGE', description: 'UTF-8 check', label_names: ['disk'] });
  const record = (value: string) => Buffer.concat([Buffer.from('{"name":"utf8_checked","value":1,"labels":{"disk":"'), Buffer.from(value, 'latin1'), Buffer.from('"}}')]);
  const notUtf8 = { code: 'invalid_argument', message: 'request body: not UTF-8 text, so not JSON' };
  assert.equal(await connectJson('MetricsService/RecordMetric', record('inv\xffalid')), notUtf8);
  assert.equal(await grpcWebJson('MetricsService/RecordMetric', record('inv\xffalid')), notUtf8);
  // A lone continuation byte, and the start of a two-byte sequence cut short.
  assert.equal(await connectJson('MetricsService/RecordMetric', record('a\x80b')), notUtf8);
  assert.equal(await grpcWebJson('MetricsService/RecordMetric', record('a\xc3(b')), notUtf8);
  // REST said so already.
  const restAnswer = await restPost('/metrics/record', record('inv\xffalid'));
  assert.equal(restAnswer.code, 'invalid_argument');
  assert.match(restAnswer.message, /^request body: not UTF-8 text, so not JSON/);
  // A Connect GET's message, percent-encoded bytes that are not UTF-8.
  const get = await within(fetch(`${server.url}${SERVICE}.MetricsService/GetMetric?connect=v1&encoding=json&message=%7B%22name%22%3A%22utf8_%FF%22%7D`), 'Connect GET');
  assert.equal({ status: get.status, ...((await get.json()) as object) }, { status: 400, code: 'invalid_argument', message: 'message: not UTF-8 text, so not JSON' });
  // Nothing was recorded, and UTF-8 text is recorded as sent.
  assert.equal((await rest.getOk(`${API}/metrics/utf8_checked`)).series ?? [], []);
  assert.is((await connectJson('MetricsService/RecordMetric', record('sd\xc3\xa9'))).code, 'ok');
  const series = (await rest.getOk(`${API}/metrics/utf8_checked`)).series as Array<{ labels: Record<string, string> }>;
  assert.equal(series.map((s) => s.labels), [{ disk: 'sdé' }]);
});

test('an integer given as a string must be a number in quotes, on every JSON path', async () => {
  const u32 = 'must be an unsigned 32-bit integer (a JSON number, or one in quotes)';
  const i32 = 'must be a 32-bit integer (a JSON number, or one in quotes)';
  const u64 = 'must be an unsigned 64-bit integer (a JSON number or a decimal string)';
  const i64 = 'must be a 64-bit integer (a JSON number or a decimal string)';
  // protobuf-es read every one of these as a number: "0x10" as 16, "0b11" as 3, and so on.
  const cases: Array<[method: string, rest: string | undefined, body: object, message: string]> = [
    ['AnomalyService/ListAnomalies', undefined, { limit: '0x10' }, `limit: ${u32}, got "0x10"`],
    ['AnomalyService/ListAnomalies', undefined, { limit: '+1' }, `limit: ${u32}, got "+1"`],
    ['AnomalyService/ListAnomalies', undefined, { limit: '1e' }, `limit: ${u32}, got "1e"`],
    ['AnomalyService/ListAnomalies', undefined, { limit: '.5' }, `limit: ${u32}, got ".5"`],
    ['AnomalyService/ListAnomalies', undefined, { afterSequence: ' 5' }, `after_sequence: ${u64}, got " 5"`],
    ['AnomalyService/ListAnomalies', undefined, { after_sequence: '5 ' }, `after_sequence: ${u64}, got "5 "`],
    ['AnomalyService/ListAnomalies', undefined, { after_sequence: '\n7' }, `after_sequence: ${u64}, got "\\n7"`],
    ['AnomalyService/GetStatistics', undefined, { page_size: '0o7' }, `page_size: ${i32}, got "0o7"`],
    ['AnomalyService/ConfigureMetric', '/anomalies/config', { metric: 'int_text_latency', config: { min_samples: '0b11' } }, `config.min_samples: ${u32}, got "0b11"`],
    ['MetricsService/IngestRequestEvents', '/business-metrics/events', { events: [{ operation: 'S3_OPERATION_GET_OBJECT', bytes_in: '1' }, { operation: 'S3_OPERATION_GET_OBJECT', bytes_in: '0x10' }] }, `events[1].bytes_in: ${u64}, got "0x10"`],
    ['MetricsService/IngestRequestEvents', '/business-metrics/events', { events: [{ operation: 'S3_OPERATION_PUT_OBJECT', stored_bytes_delta: '+5' }] }, `events[0].stored_bytes_delta: ${i64}, got "+5"`],
    ['MetricsService/SetStorageUsage', '/business-metrics/storage', { objects: '1_000' }, `objects: ${u64}, got "1_000"`],
  ];
  for (const [method, restPath, body, message] of cases) {
    const text = JSON.stringify(body);
    const refused = { code: 'invalid_argument', message };
    assert.equal(await connectJson(method, text), refused, `Connect ${method} ${text}`);
    assert.equal(await grpcWebJson(method, text), refused, `gRPC-Web ${method} ${text}`);
    if (restPath) assert.equal(await restPost(restPath, text), refused, `REST ${restPath} ${text}`);
  }
  assert.equal(await connectGet('AnomalyService/ListAnomalies', '{"limit":"0x10"}'), { code: 'invalid_argument', message: `limit: ${u32}, got "0x10"` });
  // Decimal strings, negative ones and leading zeros included, and numbers are read as ever.
  assert.is((await connectJson('AnomalyService/ListAnomalies', '{"limit":"007","after_sequence":"0"}')).code, 'ok');
  // Exponent notation and an integral fraction are allowed in quotes as without (proto3 JSON; Go's
  // protojson takes them): a 32-bit field reads them.
  assert.is((await connectJson('AnomalyService/ListAnomalies', '{"limit":"1e2"}')).code, 'ok');
  assert.is((await restPost('/anomalies/config', '{"metric":"int_text_fraction","config":{"min_samples":"2.0"}}')).code, 'ok');
  assert.is((await connectJson('AnomalyService/GetStatistics', '{"page_size":"10"}')).code, 'ok');
  assert.is((await restPost('/business-metrics/events', '{"events":[{"operation":"S3_OPERATION_PUT_OBJECT","bucket":"b","status_code":"200","bytes_in":"42","stored_bytes_delta":"-5"}]}')).code, 'ok');
  assert.is((await grpcWebJson('AnomalyService/ListAnomalies', '{"limit":5e0,"after_sequence":0e1}')).code, 'ok');
});

test('an unquoted integer in a 64-bit field is read from its digits, not rounded to a double, on every JSON path', async () => {
  const u64 = 'must be an unsigned 64-bit integer (a JSON number or a decimal string)';
  const storedBytes = async (answer: Answer, what: string) => {
    assert.is(answer.code, 'ok', `${what}: ${answer.message}`);
    const business = await within(fetch(`${server.url}${API}/business-metrics`), 'GET business-metrics');
    return ((await business.json()) as { storage_utilization: { total_bytes: string } }).storage_utilization.total_bytes;
  };
  const paths = {
    connect: (body: string) => connectJson('MetricsService/SetStorageUsage', body),
    grpcWeb: (body: string) => grpcWebJson('MetricsService/SetStorageUsage', body),
    rest: (body: string) => restPost('/business-metrics/storage', body),
  };
  for (const [name, send] of Object.entries(paths)) {
    // Stored as 12345678901234567168 before (the double nearest), 200 OK.
    assert.is(await storedBytes(await send('{"total_bytes":12345678901234567891}'), name), '12345678901234567891', name);
    // The largest uint64 was refused as 18446744073709552000, digits the client never sent.
    assert.is(await storedBytes(await send('{"total_bytes":18446744073709551615}'), name), '18446744073709551615', name);
    assert.is(await storedBytes(await send('{"total_bytes":9007199254740993,"objects":3}'), name), '9007199254740993', name);
    // Beyond the range, or not an integer though a double reads it as one: refused in the client's own digits.
    assert.equal(await send('{"total_bytes":18446744073709551616}'), { code: 'invalid_argument', message: `total_bytes: ${u64}, got 18446744073709551616` }, name);
    assert.equal(await send('{"total_bytes":-12345678901234567891}'), { code: 'invalid_argument', message: `total_bytes: ${u64}, got -12345678901234567891` }, name);
    assert.equal(await send('{"total_bytes":1.0000000000000001}'), { code: 'invalid_argument', message: `total_bytes: ${u64}, got 1.0000000000000001` }, name);
    // Exponent notation is an integer as any other (proto3 JSON).
    assert.is(await storedBytes(await send('{"total_bytes":1.2345678901234567891e19}'), name), '12345678901234567891', name);
  }
  // Nested in a list: RecordIo's bytes were accepted as 9007199254740992.
  const io = async () => {
    const r = await within(fetch(`${server.url}${API}/profiling`), 'GET profiling');
    return BigInt(((await r.json()) as { io: { write_bytes: string } }).io.write_bytes);
  };
  const before = await io();
  const record = '{"operations":[{"direction":"IO_DIRECTION_WRITE","bytes":1},{"direction":"IO_DIRECTION_WRITE","bytes":9007199254740993}]}';
  assert.is((await connectJson('ProfilingService/RecordIo', record)).code, 'ok');
  assert.is((await restPost('/profiling/io', record)).code, 'ok');
  assert.is(await io(), before + 2n * 9007199254740994n);
  // A 32-bit field names the digits sent (it said 12345678901234567000); a double keeps a large number as a number.
  const u32 = { code: 'invalid_argument', message: 'limit: must be an unsigned 32-bit integer (a JSON number, or one in quotes), got 12345678901234567891' };
  assert.equal(await connectJson('AnomalyService/ListAnomalies', '{"limit":12345678901234567891}'), u32);
  assert.equal(await connectGet('AnomalyService/ListAnomalies', '{"limit":12345678901234567891}'), u32);
  assert.equal((await recordSamplesEverywhere('{"samples":[{"metric":"big_double","value":12345678901234567891}]}')).rest.code, 'ok');
  // A Connect GET: the largest uint64 as after_sequence, which was read as 2^64 and refused as no
  // uint64; read exactly, it is a sequence this run never issued (as after a restart).
  const largest = await connectGet('AnomalyService/ListAnomalies', '{"after_sequence":18446744073709551615}');
  assert.is(largest.code, 'out_of_range', largest.message);
  assert.match(largest.message, /^after_sequence: is beyond the last sequence issued/);
  assert.equal(await connectGet('AnomalyService/ListAnomalies', '{"after_sequence":18446744073709551616}'), {
    code: 'invalid_argument',
    message: `after_sequence: ${u64}, got 18446744073709551616`,
  });
});

test('a fraction a double rounds to an integer is refused in an integer or enum field, quoted or not, in the client\'s text, on every JSON path', async () => {
  const u32 = 'must be an unsigned 32-bit integer (a JSON number, or one in quotes)';
  const severity = 'must be one of ANOMALY_SEVERITY_LOW, ANOMALY_SEVERITY_MEDIUM, ANOMALY_SEVERITY_HIGH, ANOMALY_SEVERITY_CRITICAL (rs3gw.observability.v1.AnomalySeverity)';
  const operation = /^events\[1\]\.operation: must be one of S3_OPERATION_[A-Z_]+(, S3_OPERATION_[A-Z_]+)+ \(rs3gw\.observability\.v1\.S3Operation\), got 3\.0000000000000001$/;
  const cases: Array<[method: string, rest: string | undefined, body: string, message: string | RegExp]> = [
    // Quoted, these were read as 1 (200 OK) and as 4294967295 ('limit: must be at most 10000, got
    // 4294967295', digits never sent), where the same numbers unquoted were refused.
    ['AnomalyService/ListAnomalies', undefined, '{"limit":"1.0000000000000001"}', `limit: ${u32}, got "1.0000000000000001"`],
    ['AnomalyService/ListAnomalies', undefined, '{"limit":1.0000000000000001}', `limit: ${u32}, got 1.0000000000000001`],
    ['AnomalyService/ListAnomalies', undefined, '{"limit":"4294967294.99999999999"}', `limit: ${u32}, got "4294967294.99999999999"`],
    ['AnomalyService/ListAnomalies', undefined, '{"limit":4294967294.99999999999}', `limit: ${u32}, got 4294967294.99999999999`],
    ['AnomalyService/ConfigureMetric', '/anomalies/config', '{"metric":"int_text_fraction_rounded","config":{"min_samples":"2.00000000000000001e0"}}', `config.min_samples: ${u32}, got "2.00000000000000001e0"`],
    // An enum's number: 2.5 was refused, 2.0000000000000001 taken as 2.
    ['AnomalyService/ListAnomalies', undefined, '{"severity":2.0000000000000001}', `severity: ${severity}, got 2.0000000000000001`],
    ['AnomalyService/ListAnomalies', undefined, '{"severity":2.5}', `severity: ${severity}, got 2.5`],
    ['MetricsService/IngestRequestEvents', '/business-metrics/events', '{"events":[{"operation":"S3_OPERATION_GET_OBJECT"},{"operation":3.0000000000000001}]}', operation],
  ];
  for (const [method, restPath, body, message] of cases) {
    const answers = [await connectJson(method, body), await grpcWebJson(method, body), ...(restPath ? [await restPost(restPath, body)] : [])];
    for (const answer of answers) {
      assert.is(answer.code, 'invalid_argument', `${method} ${body}: ${answer.message}`);
      if (typeof message === 'string') assert.is(answer.message, message, `${method} ${body}`);
      else assert.match(answer.message, message, `${method} ${body}`);
    }
  }
  assert.equal(await connectGet('AnomalyService/ListAnomalies', '{"limit":"1.0000000000000001"}'), { code: 'invalid_argument', message: `limit: ${u32}, got "1.0000000000000001"` });
  // Exactly an integer, it is one, quoted or not, in an integer field or as an enum's number.
  for (const body of ['{"limit":"2.50e1"}', '{"limit":2.50e1}', '{"limit":"10.000000000000000000"}', '{"severity":2e0}', '{"severity":2.0000000000000000000}']) {
    assert.is((await connectJson('AnomalyService/ListAnomalies', body)).code, 'ok', body);
  }
});

test('a Connect GET whose message is JSON but no object names the message parameter, not a request body it has none of', async () => {
  for (const json of ['5', 'null', '"x"', '[]']) {
    assert.equal(await connectGet('AnomalyService/ListAnomalies', json), {
      code: 'invalid_argument',
      message: `message: must be a JSON object for rs3gw.observability.v1.ListAnomaliesRequest, got ${json}`,
    });
  }
  // A POST's body is the request body still.
  assert.equal(await connectJson('AnomalyService/ListAnomalies', '5'), {
    code: 'invalid_argument',
    message: 'request body: must be a JSON object for rs3gw.observability.v1.ListAnomaliesRequest, got 5',
  });
});

/** A Connect GET sent over HTTP/1.1 with a body, which fetch will not send. */
function connectGetWithBody(query: string, body: string, headers: Record<string, string> = {}): Promise<{ status: number; body: string }> {
  return sendWithBody(server.url, 'GET', `${SERVICE}.AnomalyService/ListAnomalies?${query}`, body, headers);
}

test('a Connect GET with a body is refused naming the body, as REST refuses one', async () => {
  const refusal = { status: 400, body: '{"code":"invalid_argument","message":"request body: not accepted on a Connect GET, which carries its request in the message query parameter"}' };
  // The body's limit of -1 was dropped without a word, and the call answered 200 from the query's {}.
  assert.equal(await connectGetWithBody('encoding=json&message=%7B%7D', '{"limit":-1}'), refusal);
  assert.equal(await connectGetWithBody('encoding=json&message=%7B%7D', '{"limit":-1}', { 'transfer-encoding': 'chunked' }), refusal);
  assert.equal(await connectGetWithBody('encoding=proto&message=', 'x'), refusal);
  // An empty body is no body.
  assert.is((await connectGetWithBody('encoding=json&message=%7B%7D', '')).status, 200);
  assert.is((await connectGetWithBody('encoding=json&message=%7B%7D', '', { 'transfer-encoding': 'chunked' })).status, 200);
  // curl -d's form content-type (or any other): the body is what is refused, not the content-type.
  assert.equal(await connectGetWithBody('encoding=json&message=%7B%7D', '{"limit":-1}', { 'content-type': 'application/x-www-form-urlencoded' }), refusal);
});

test('a Connect GET is served whatever content-type it sends: its query says the codec, as connect-go has it', async () => {
  // connect-node matched it against the POST types: 415 'encoding: must be proto or json ..., got "json"'.
  for (const type of ['text/plain', 'application/x-www-form-urlencoded', 'application/connect+json']) {
    const r = await connectGetWithBody('encoding=json&message=%7B%7D', '', { 'content-type': type });
    assert.is(r.status, 200, `${type}: ${r.body}`);
  }
});

test.run();
