/**
 * A REST query parameter means what the same value means in a JSON request: escapes that are not
 * UTF-8 are refused (not read as U+FFFD), integers and enum numbers follow proto3 JSON's rule for a
 * number in quotes, and nothing is trimmed. Each case goes to the real server with fetch, over
 * REST and, for the JSON side, the Connect path.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { RunningServer } from '../support/server.js';
import { API, Rest, startRestServer, assertError, type Json, type Reply } from './support/rest-http.js';

let server: RunningServer;
let rest: Rest;

test.before(async () => {
  server = await startRestServer({ RS3GW_PROFILING_ENABLED: 'false' });
  rest = new Rest(server.url);
  await rest.postOk(`${API}/metrics`, { name: 'query_values_gauge', type: 'METRIC_TYPE_GAUGE', description: 'd' });
  await rest.postOk(`${API}/metrics`, { name: 'query_values_total', type: 'METRIC_TYPE_COUNTER', description: 'd' });
});

test.after(async () => {
  await server.stop();
});

/** The same request as proto3 JSON on the Connect path. */
async function connectJson(method: string, body: Json): Promise<Reply> {
  const r = await fetch(`${server.url}/rs3gw.observability.v1.${method}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  const text = await r.text();
  return { status: r.status, headers: r.headers, text, json: JSON.parse(text) };
}

const names = (r: Json): string[] => r.metrics.map((m: Json) => m.name);

test('a query escape that is not UTF-8 is 400 naming the parameter, not a filter on U+FFFD', async () => {
  const form = 'must be percent-encoded UTF-8 in the query (each % followed by two hex digits, the bytes they spell UTF-8)';
  const cases: Array<[string, string, string]> = [
    ['metrics?prefix=%FF', 'prefix', '%FF'],
    ['metrics?prefix=query%C3%28', 'prefix', 'query%C3%28'],
    ['metrics?prefix=%ZZ', 'prefix', '%ZZ'],
    ['metrics?prefix=100%', 'prefix', '100%'],
    ['metrics/query_values_gauge/trend?labels.disk=%E2%82', 'labels.disk', '%E2%82'],
    ['anomalies?metric=%ED%A0%80', 'metric', '%ED%A0%80'],
  ];
  for (const [path, parameter, raw] of cases) {
    const r = await rest.get(`${API}/${path}`);
    assertError(r, 400, 'invalid_argument', parameter);
    assert.is(r.json.message, `${parameter}: ${form}, got "${raw}"`, path);
  }
  const name = await rest.get(`${API}/metrics?pre%FFfix=query`);
  assertError(name, 400, 'invalid_argument', 'query');
  assert.is(name.json.message, 'query: a parameter name must be percent-encoded UTF-8 (each % followed by two hex digits, the bytes they spell UTF-8), got "pre%FFfix"');
  // As a path variable is refused (its words the same but for where).
  assert.match((await rest.get(`${API}/metrics/%FF`)).json.message, /^name: must be percent-encoded UTF-8 in the path \(each % followed/);
  // Escapes that are UTF-8 are read, and + is a space, as a form sends it.
  assert.equal(names(await rest.getOk(`${API}/metrics?prefix=query%5Fvalues%5F`)), ['query_values_gauge', 'query_values_total']);
  assert.match((await rest.get(`${API}/metrics/query_values_gauge/trend?window=5+s`)).json.message, /^window: .*, got '5 s'$/);
});

test('a duration parameter is not trimmed, as a JSON duration is not', async () => {
  const trend = `${API}/metrics/query_values_gauge/trend`;
  for (const window of ['%205s%20', '%205s', '5s%20', '5%20s']) {
    const r = await rest.get(`${trend}?window=${window}`);
    assertError(r, 400, 'invalid_argument', 'window');
    assert.is(r.json.message, `window: must be a duration such as 30s, 5m or 3600, got '${decodeURIComponent(window)}'`);
  }
  assertError(await connectJson('MetricsService/GetTrend', { name: 'query_values_gauge', window: ' 5s' }), 400, 'invalid_argument', 'window');
  assert.is((await rest.getOk(`${trend}?window=5s`)).window, '5s');
});

test('an integer parameter follows JSON\'s rule for an integer in quotes, and its error JSON\'s words', async () => {
  const u32 = 'must be an unsigned 32-bit integer';
  for (const [query, text] of [
    ['%2B5', '+5'],
    ['%205', ' 5'],
    ['5%20', '5 '],
    ['0x10', '0x10'],
    ['1_000', '1_000'],
    ['-1', '-1'],
    ['1.5', '1.5'],
    ['4294967296', '4294967296'],
    // Fractions a double rounds to an integer: read as 1 and as 4294967295 (200 OK, or the service's
    // 'must be at most 10000, got 4294967295'), where JSON refuses them.
    ['1.0000000000000001', '1.0000000000000001'],
    ['4294967294.99999999999', '4294967294.99999999999'],
  ]) {
    const r = await rest.get(`${API}/anomalies?limit=${query}`);
    assertError(r, 400, 'invalid_argument', 'limit');
    assert.is(r.json.message, `limit: ${u32}, got '${text}'`);
    const json = await connectJson('AnomalyService/ListAnomalies', { limit: text });
    assertError(json, 400, 'invalid_argument', 'limit');
    // The JSON message adds only its hint on JSON's forms, which a query parameter is not.
    assert.is(json.json.message, `limit: ${u32} (a JSON number, or one in quotes), got "${text}"`);
  }
  // Forms JSON takes in quotes, the query takes too.
  for (const text of ['10', '007', '1e1', '10.0', '2.50e1', '10.000000000000000000']) {
    assert.is((await rest.get(`${API}/anomalies?limit=${text}`)).status, 200, text);
    assert.is((await connectJson('AnomalyService/ListAnomalies', { limit: text })).status, 200, text);
  }
  // A 64-bit one, decimal digits only, in quotes as in the query.
  for (const text of ['1e1', '%2B1', '-1']) {
    const r = await rest.get(`${API}/anomalies?after_sequence=${text}`);
    assertError(r, 400, 'invalid_argument', 'after_sequence');
    assert.is(r.json.message, `after_sequence: must be an unsigned 64-bit integer, got '${decodeURIComponent(text)}'`);
    assertError(await connectJson('AnomalyService/ListAnomalies', { afterSequence: decodeURIComponent(text) }), 400, 'invalid_argument', 'after_sequence');
  }
});

test('an enum parameter takes the value\'s number as JSON does, with the same refusal of a number the enum does not define', async () => {
  const all = names(await rest.getOk(`${API}/metrics?prefix=query_values`));
  assert.equal(all, ['query_values_gauge', 'query_values_total']);
  for (const type of ['1', 'counter', 'METRIC_TYPE_COUNTER']) {
    assert.equal(names(await rest.getOk(`${API}/metrics?prefix=query_values&type=${type}`)), ['query_values_total'], type);
  }
  assert.equal(names((await connectJson('MetricsService/ListMetrics', { prefix: 'query_values', type: 1 })).json), ['query_values_total']);
  assert.equal(names(await rest.getOk(`${API}/metrics?prefix=query_values&type=2`)), ['query_values_gauge']);
  // 0 is the zero value, METRIC_TYPE_UNSPECIFIED: no filter, as in JSON.
  for (const type of ['0', 'unspecified']) assert.equal(names(await rest.getOk(`${API}/metrics?prefix=query_values&type=${type}`)), all, type);
  assert.equal(names((await connectJson('MetricsService/ListMetrics', { prefix: 'query_values', type: 0 })).json), all);

  for (const [path, method, json] of [
    ['metrics?type=99', 'MetricsService/ListMetrics', { type: 99 }],
    ['anomalies?severity=9', 'AnomalyService/ListAnomalies', { severity: 9 }],
    ['anomalies?min_severity=-1', 'AnomalyService/ListAnomalies', { minSeverity: -1 }],
  ] as const) {
    const r = await rest.get(`${API}/${path}`);
    const viaJson = await connectJson(method, json);
    assertError(viaJson, 400, 'invalid_argument', Object.keys(json)[0] === 'minSeverity' ? 'min_severity' : Object.keys(json)[0]!);
    assertError(r, 400, 'invalid_argument', path.split(/[?=]/)[1]!);
    assert.is(r.json.message, viaJson.json.message, path);
    // The refusal lists the names a JSON body takes.
    assert.match(r.json.message, /; expected one of [A-Z]+_[A-Z_]+(, [A-Z]+_[A-Z_]+)+$/, path);
  }
  const format = await connectJson('MetricsService/ExportMetrics', { format: 7 });
  assert.is(format.json.message, 'format: unknown value 7; expected one of EXPORT_FORMAT_JSON, EXPORT_FORMAT_PROMETHEUS');
  const high = await rest.getOk(`${API}/anomalies?severity=high&min_severity=medium`);
  const numbered = await rest.getOk(`${API}/anomalies?severity=3&min_severity=2`);
  assert.equal(numbered.anomalies, high.anomalies);
  assert.equal((await rest.getOk(`${API}/anomalies?severity=3.0&min_severity=2e0`)).anomalies, high.anomalies);
  // Neither a number nor a name: refused listing the names. (1.0000000000000001 was taken as 1, a
  // counter, where JSON refuses it.)
  for (const type of ['1.5', '1.0000000000000001', '3000000000', 'bogus']) {
    const r = await rest.get(`${API}/metrics?type=${type}`);
    assertError(r, 400, 'invalid_argument', 'type');
    assert.is(r.json.message, `type: unknown value '${type}'; expected one of counter, gauge, histogram, summary`);
  }
});

test.run();
