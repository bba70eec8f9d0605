/**
 * The read-only REST paths of the five services against the real server: proto JSON with proto
 * field names and defaults, and figures that are measured, not placeholders.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { RunningServer } from '../support/server.js';
import { API, Rest, startRestServer, assertError, assertSnakeCase, durationMs, field, int, timeMs, type Json } from './support/rest-http.js';

let server: RunningServer;
let rest: Rest;

test.before(async () => {
  server = await startRestServer();
  rest = new Rest(server.url);
});

test.after(async () => {
  await server.stop();
});

function assertRecent(value: Json, what: string): void {
  const ms = timeMs(value);
  assert.ok(Math.abs(Date.now() - ms) < 60_000, `${what} is the present time, got ${value}`);
}

/** A ProcessProfile of this service, as GetProfile and the health report give it. */
function assertSelfMeasurement(p: Json, what: string): void {
  assertSnakeCase(p);
  assertRecent(p.timestamp, `${what}.timestamp`);
  assert.ok(p.pid > 0, `${what}.pid`);
  assert.is(p.pid, server.process.pid, `${what} measures the service process`);
  assert.is(p.command, 'node');
  const cpu = field(p, 'cpu');
  for (const k of ['usage_percent', 'usage_percent_of_machine', 'available_cores']) assert.type(cpu[k], 'number', `cpu.${k}`);
  assert.ok(cpu.usage_percent >= 0 && cpu.usage_percent_of_machine >= 0);
  assert.ok(cpu.available_cores > 0, 'available cores measured');
  assert.ok(int(cpu.total_time_us) > 0, 'a running node process has used CPU time');
  assert.is(int(cpu.total_time_us), int(cpu.user_time_us) + int(cpu.system_time_us), 'total = user + system');
  assert.ok(['CPU_MEASUREMENT_BASIS_INTERVAL', 'CPU_MEASUREMENT_BASIS_SINCE_START'].includes(cpu.basis), cpu.basis);
  assert.ok(durationMs(cpu.interval) > 0, 'cpu interval');
  assert.ok(cpu.threads >= 1, 'threads');
  const memory = field(p, 'memory');
  const rss = int(memory.rss_bytes);
  assert.ok(rss > 10 * 1024 * 1024, `rss_bytes of a node process is tens of MB, got ${rss}`);
  assert.ok(int(memory.virtual_bytes) >= rss, 'virtual >= resident');
  assert.ok(int(memory.peak_rss_bytes) >= rss, 'peak >= current');
  assert.ok(int(memory.heap_used_bytes) > 0, 'heap used, for this service');
  assert.ok(int(memory.heap_limit_bytes) > int(memory.heap_used_bytes), 'heap limit above heap used');
  const io = field(p, 'io');
  assert.is(io.read_ops, '0', 'no I/O recorded through RecordIo yet; default emitted');
  assert.is(io.read_latency_p99_us, 0);
  assert.is(io.process.available, true, `kernel I/O counters readable: ${io.process.reason}`);
  assert.ok(int(io.process.logical_read_bytes) > 0, 'the process has read something (its own code)');
  assert.ok(int(io.process.read_syscalls) > 0);
}

test('GET /profiling measures the service itself', async () => {
  const r = await rest.get(`${API}/profiling`);
  assert.is(r.status, 200);
  assert.match(r.headers.get('content-type')!, /^application\/json/);
  assertSelfMeasurement(r.json, 'profile');
  // response_body: "profile" -> the ProcessProfile itself, not wrapped.
  assert.not.ok('profile' in r.json);
});

test('GET /profiling?pid=0 and the proto enum form of format give the same measurement', async () => {
  const p = await rest.getOk(`${API}/profiling?pid=0&format=PROFILE_FORMAT_JSON`);
  assertSelfMeasurement(p, 'profile');
  const short = await rest.getOk(`${API}/profiling?format=json`);
  assert.is(short.pid, p.pid);
});

test('GET /profiling/processes lists the service as alive and self', async () => {
  const body = await rest.getOk(`${API}/profiling/processes`);
  assertSnakeCase(body);
  assert.equal(body.processes, [{ pid: server.process.pid, command: 'node', self: true, alive: true, error: '' }]);
});

test('GET /profiling/snapshots returns the start-up snapshot with its interval and retention', async () => {
  const body = await rest.getOk(`${API}/profiling/snapshots?limit=5&since=2020-01-01T00:00:00Z`);
  assertSnakeCase(body);
  assert.is(body.interval, '60s', 'RS3GW_PROFILING_INTERVAL default');
  assert.is(body.retention, 100, 'RS3GW_PROFILING_MAX_SNAPSHOTS default');
  assert.ok(body.snapshots.length >= 1 && body.snapshots.length <= 5, `snapshots: ${body.snapshots.length}`);
  const s = body.snapshots[0];
  assert.is(s.pid, server.process.pid);
  assert.ok(int(s.memory.rss_bytes) > 0);
  assert.ok(int(s.cpu.total_time_us) > 0);
  const future = await rest.getOk(`${API}/profiling/snapshots?since=${new Date(Date.now() + 3_600_000).toISOString()}`);
  assert.equal(future.snapshots, [], 'since= after every snapshot returns none');
});

test('GET /profiling/profiles is empty without continuous profiling', async () => {
  assert.equal(await rest.getOk(`${API}/profiling/profiles`), { profiles: [] });
  assert.equal(await rest.getOk(`${API}/profiling/profiles?type=cpu&limit=10`), { profiles: [] });
});

test('GET /resources reports the measured pressure signals and the admission state', async () => {
  const r = await rest.get(`${API}/resources`);
  assert.is(r.status, 200);
  const s = r.json;
  assertSnakeCase(s);
  // response_body: "status" -> the ResourceStatus itself.
  assert.not.ok('status' in s);
  assertRecent(s.timestamp, 'timestamp');
  assert.ok(s.cpu_usage >= 0 && s.cpu_usage <= 1, `cpu_usage ${s.cpu_usage}`);
  assert.ok(s.memory_usage > 0 && s.memory_usage < 1, `memory_usage ${s.memory_usage}`);
  assert.is(s.active_requests, 0);
  assert.is(s.window, '60s', 'RS3GW_RESOURCE_WINDOW default');
  assert.is(s.admission.controller, 'adaptive', 'the project controller is the default, named as RS3GW_ADMISSION_CONTROLLER names it');
  assert.ok(s.admission.limit > 0);
  assert.equal(
    s.priorities.map((p: Json) => p.priority),
    ['PRIORITY_CRITICAL', 'PRIORITY_NORMAL', 'PRIORITY_SHEDDABLE'],
  );
  const p = s.pressure;
  assert.ok(p.cpu.available_cores > 0);
  assert.type(p.cpu.source, 'string');
  assert.ok(int(p.memory.used_bytes) > 0 && int(p.memory.limit_bytes) > int(p.memory.used_bytes), 'memory measured');
  assert.ok(int(p.heap.used_bytes) > 0 && int(p.heap.limit_bytes) > 0, 'heap measured');
  assert.type(p.psi.available, 'boolean');
  assert.ok(p.event_loop.delay_p99_ms >= 0);
  assert.ok(p.overload >= 0 && p.overload <= 1);
  assert.ok(s.pool.recommended_threads >= s.pool.min_threads && s.pool.recommended_threads <= s.pool.max_threads);
  assert.is(s.pool.min_threads, 4, 'RS3GW_MIN_THREADS default');
  assert.is(s.pool.target_cpu, 0.75, 'RS3GW_TARGET_CPU default');
  assert.ok(s.pool.reason.length > 0);
});

test('GET /business-metrics without traffic: zero figures, emitted, and the default prices', async () => {
  const r = await rest.get(`${API}/business-metrics`);
  assert.is(r.status, 200);
  const b = r.json;
  assertSnakeCase(b);
  // response_body: "report".
  assert.not.ok('report' in b);
  assertRecent(b.timestamp, 'timestamp');
  assert.is(b.storage_utilization.total_bytes, '0');
  assert.is(b.data_transfer.rate_window, '60s');
  assert.is(b.request_patterns.total_requests, '0');
  for (const p of ['p50', 'p95', 'p99']) assert.not.ok(`${p}_latency_ms` in b.request_patterns, `${p}: no request, no latency (not 0)`);
  assert.not.ok('growth_rate_bytes_per_day' in b.storage_utilization, 'no growth rate before an hour of history');
  assert.equal([b.user_activity.evicted_users, b.user_activity.max_tracked_users, b.user_activity.active_users_last_hour_estimated], ['0', 10_000, false]);
  assert.is(Object.keys(b.request_patterns.requests_by_operation).length, 10, 'every operation listed');
  assert.equal(b.user_activity.top_users, []);
  assert.equal(b.cost_estimate, {
    storage_usd_per_month: 0,
    transfer_out_usd: 0,
    requests_usd: 0,
    total_usd: 0,
    prices: { storage_usd_per_gib_month: 0.023, transfer_out_usd_per_gib: 0.09, requests_usd_per_thousand: 0.0004 },
  });
});

test('GET /anomalies, /anomalies/statistics and /metrics on a new server', async () => {
  const a = await rest.getOk(`${API}/anomalies`);
  assertSnakeCase(a);
  assert.equal(a.anomalies, []);
  assert.is(a.last_sequence, '0');
  assertRecent(a.timestamp, 'timestamp');
  assert.equal(await rest.getOk(`${API}/anomalies/statistics`), { statistics: [], next_page_token: '' });
  const m = await rest.getOk(`${API}/metrics`);
  assertSnakeCase(m);
  // The business KPIs are listed beside the custom metrics.
  const names = m.metrics.map((d: Json) => d.name);
  assert.ok(names.includes('rs3gw_requests_total'), names.join(', '));
  assert.equal([...names].sort(), names, 'sorted by name');
});

test('GET /health aggregates every engine, consistent with its verdict', async () => {
  const h = await rest.getOk(`${API}/health`);
  assertSnakeCase(h);
  assert.ok(['HEALTH_STATUS_HEALTHY', 'HEALTH_STATUS_DEGRADED', 'HEALTH_STATUS_UNHEALTHY'].includes(h.status), h.status);
  // The verdict depends on the machine's load; whatever it is, reasons explain a non-healthy one.
  if (h.status === 'HEALTH_STATUS_HEALTHY') assert.equal(h.reasons, []);
  else assert.ok(h.reasons.length > 0, `reasons for ${h.status}`);
  assertRecent(h.timestamp, 'timestamp');
  assertSelfMeasurement(h.profiling, 'health.profiling');
  assert.is(h.business_metrics.request_patterns.total_requests, '0');
  assert.is(h.anomalies.total_detected, '0');
  assert.is(h.anomalies.last_hour_by_severity.length, 4);
  assert.ok(int(h.resources.pressure.memory.used_bytes) > 0);
});

test('HEAD answers the headers of GET without a body', async () => {
  const r = await fetch(`${server.url}${API}/health`, { method: 'HEAD' });
  assert.is(r.status, 200);
  assert.match(r.headers.get('content-type')!, /^application\/json/);
  assert.ok(Number(r.headers.get('content-length')) > 100);
  assert.is(await r.text(), '');
});

test('GET /metrics-export gives JSON by default and Prometheus text on request', async () => {
  const j = await rest.getOk(`${API}/metrics-export`);
  assertSnakeCase(j);
  assertRecent(j.timestamp, 'timestamp');
  assert.is(j.metrics.rs3gw_requests_total.type, 'METRIC_TYPE_COUNTER');
  const r = await fetch(`${server.url}${API}/metrics-export?format=prometheus`);
  assert.is(r.status, 200);
  assert.is(r.headers.get('content-type'), 'text/plain; version=0.0.4; charset=utf-8');
  assert.match(await r.text(), /^# TYPE rs3gw_requests_total counter$/m);
});

test('bad query values on the read paths are refused naming the parameter', async () => {
  assertError(await rest.get(`${API}/profiling?format=bogus`), 400, 'invalid_argument', 'format');
  assertError(await rest.get(`${API}/profiling?pid=abc`), 400, 'invalid_argument', 'pid');
  assertError(await rest.get(`${API}/profiling?pid=1`), 403, 'permission_denied', 'pid');
  assertError(await rest.get(`${API}/profiling/snapshots?limit=10001`), 400, 'invalid_argument', 'limit');
  assertError(await rest.get(`${API}/profiling/snapshots?since=yesterday`), 400, 'invalid_argument', 'since');
  assertError(await rest.get(`${API}/profiling/profiles?limit=-1`), 400, 'invalid_argument', 'limit');
  assertError(await rest.get(`${API}/profiling/profiles/no-such-profile`), 404, 'not_found', 'id');
  assertError(await rest.get(`${API}/business-metrics?format=xml`), 400, 'invalid_argument', 'format');
  assertError(await rest.get(`${API}/metrics-export?format=xml`), 400, 'invalid_argument', 'format');
  assertError(await rest.get(`${API}/health?verbose=1`), 400, 'invalid_argument', 'verbose');
  assertError(await rest.get(`${API}/resources?x=1`), 400, 'invalid_argument', 'x');
  // A parameter's name is the client's input too: an error repeats at most 200 characters of it.
  const long = 'k'.repeat(600);
  assertError(await rest.get(`${API}/health?${long}=1`), 400, 'invalid_argument', /^k{200}… \(600 characters\): unknown query parameter$/);
  assertError(await rest.get(`/debug/pprof/heap?${long}=1`), 400, 'invalid_argument', /^k{200}… \(600 characters\): unknown query parameter/);
  // A parameter without a name: the error says so rather than echoing the empty name.
  assertError(await rest.get(`${API}/health?=1`), 400, 'invalid_argument', /^query: a parameter with an empty name$/);
  assertError(await rest.get(`${API}/anomalies?limit=1&=`), 400, 'invalid_argument', /^query: a parameter with an empty name$/);
  assertError(await rest.get(`${API}/anomalies?.limit=1`), 400, 'invalid_argument', /^query: a parameter name that begins with a dot, "\.limit"$/);
  assertError(await rest.get(`/debug/pprof/heap?=1`), 400, 'invalid_argument', /^query: a parameter with an empty name; this path takes gc, seconds, debug$/);
  // A field the path gives is refused in the query, not dropped without a word.
  for (const query of ['name=other', 'name=']) {
    assertError(await rest.get(`${API}/metrics/req_total?${query}`), 400, 'invalid_argument', /^name: is given in the path \("req_total"\), not as a query parameter too$/);
  }
  assertError(await rest.get(`${API}/profiling/profiles/p1?id=p2`), 400, 'invalid_argument', 'id');
  // An empty text parameter is no filter on nothing: it listed every metric's anomalies.
  for (const path of ['anomalies?metric=', 'anomalies/statistics?metric=', 'anomalies/statistics?page_token=']) {
    const field = path.slice(path.indexOf('?') + 1, -1);
    assertError(await rest.get(`${API}/${path}`), 400, 'invalid_argument', new RegExp(`^${field}: is given empty; leave the parameter out to set none$`));
  }
});

test.run();
