/**
 * GET /metrics as a Prometheus server scrapes it: process metrics, the RPC duration histogram by
 * method and code (REST calls included), the business KPIs and custom metrics; promtool accepts the
 * text format, and OpenMetrics is served when the scraper asks for it.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { runCommand, type RunningServer } from '../support/server.js';
import { parseExposition } from '../core/metrics/exposition-format.js';
import { API, Rest, assertError, startRestServer } from './support/rest-http.js';

let server: RunningServer;
let rest: Rest;

const HEALTH_CALLS = 3;

test.before(async () => {
  server = await startRestServer();
  rest = new Rest(server.url);
  for (let i = 0; i < HEALTH_CALLS; i++) await rest.getOk(`${API}/health`);
  assert.is((await rest.get(`${API}/metrics/no_such_metric`)).status, 404);
  assert.is((await rest.post(`${API}/anomalies/samples`, { metric: 'x', value: 'NaN' })).status, 400);
  await rest.postOk(`${API}/metrics`, { name: 'cache_hits', type: 'METRIC_TYPE_COUNTER', description: 'Cache hits', label_names: ['tier'] });
  await rest.postOk(`${API}/metrics/record`, { name: 'cache_hits', value: 7, labels: { tier: 'ram' } });
  await rest.postOk(`${API}/business-metrics/events`, {
    events: [{ operation: 'S3_OPERATION_GET_OBJECT', bucket: 'photos', user: 'alice', status_code: 200, bytes_out: '2048', latency: '0.020s' }],
  });
});

test.after(async () => {
  await server.stop();
});

async function scrape(accept?: string): Promise<{ response: Response; text: string }> {
  const response = await fetch(`${server.url}/metrics`, { headers: accept ? { accept } : {} });
  return { response, text: await response.text() };
}

/** The value of the one sample of `name` whose labels include every given pair. */
function sample(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  for (const line of text.split('\n')) {
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})? (\S+)$/.exec(line);
    if (!m || m[1] !== name) continue;
    const got = Object.fromEntries([...(m[3] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map((x) => [x[1], x[2]]));
    if (Object.entries(labels).every(([k, v]) => got[k] === v)) return Number(m[4]);
  }
  return undefined;
}

const rpc = (method: string, code: string, service: string) => ({
  service: `rs3gw.observability.v1.${service}`,
  method,
  protocol: 'rest',
  code,
});

test('Prometheus text with process and Node.js metrics', async () => {
  const { response, text } = await scrape();
  assert.is(response.status, 200);
  assert.is(response.headers.get('content-type'), 'text/plain; version=0.0.4; charset=utf-8');
  assert.match(text, /^# TYPE process_cpu_seconds_total counter$/m);
  assert.ok(sample(text, 'process_cpu_seconds_total')! > 0, 'CPU seconds measured');
  assert.ok(sample(text, 'process_resident_memory_bytes')! > 10 * 1024 * 1024, 'resident memory measured');
  assert.ok(sample(text, 'nodejs_heap_size_used_bytes')! > 0);
  assert.ok(sample(text, 'process_start_time_seconds')! > Date.now() / 1000 - 3600);
});

/** utime and stime of a process from /proc/<pid>/stat (fields 14 and 15), in microseconds. */
function procCpuMicros(pid: number): { user: number; system: number } {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return { user: Number(fields[11]) * TICK_US, system: Number(fields[12]) * TICK_US };
}
const TICK_US = 1e6 / Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }));

test('process CPU seconds are the CPU time since the process started, as /proc/<pid>/stat counts it', async () => {
  // prom-client's own counters started at their registration, about half a second short.
  const pid = server.process.pid!;
  const before = procCpuMicros(pid);
  const { text } = await scrape();
  const after = procCpuMicros(pid);
  // /proc truncates each of user and system to whole clock ticks; the scrape itself takes CPU.
  const within = (name: string, low: number, high: number) => {
    const micros = Math.round(sample(text, name)! * 1e6);
    assert.ok(micros >= low && micros < high, `${name} ${micros} us, /proc/${pid}/stat ${low}..${high} us`);
  };
  within('process_cpu_user_seconds_total', before.user, after.user + TICK_US);
  within('process_cpu_system_seconds_total', before.system, after.system + TICK_US);
  within('process_cpu_seconds_total', before.user + before.system, after.user + after.system + 2 * TICK_US);
});

test('the RPC duration histogram counts REST calls by method and code', async () => {
  const { text } = await scrape();
  assert.match(text, /^# TYPE rs3gw_rpc_server_duration_seconds histogram$/m);
  const health = rpc('GetHealthReport', 'ok', 'HealthReportService');
  assert.is(sample(text, 'rs3gw_rpc_server_duration_seconds_count', health), HEALTH_CALLS);
  assert.is(sample(text, 'rs3gw_rpc_server_duration_seconds_bucket', { ...health, le: '+Inf' }), HEALTH_CALLS);
  assert.ok(sample(text, 'rs3gw_rpc_server_duration_seconds_sum', health)! > 0);
  assert.is(sample(text, 'rs3gw_rpc_server_duration_seconds_count', rpc('GetMetric', 'not_found', 'MetricsService')), 1);
  assert.is(sample(text, 'rs3gw_rpc_server_duration_seconds_count', rpc('RecordSample', 'invalid_argument', 'AnomalyService')), 1);
  assert.is(sample(text, 'rs3gw_rpc_server_duration_seconds_count', rpc('RegisterMetric', 'ok', 'MetricsService')), 1);
  // Buckets are cumulative.
  const buckets = text
    .split('\n')
    .filter((l) => l.startsWith('rs3gw_rpc_server_duration_seconds_bucket{') && l.includes('method="GetHealthReport"'))
    .map((l) => Number(l.split(' ').pop()));
  assert.ok(buckets.length > 5);
  assert.equal([...buckets].sort((a, b) => a - b), buckets, 'non-decreasing');
});

test('a REST call refused while its request is read is counted with its code too', async () => {
  // The caller got a 400 from ListAnomalies; an operator watching error rates must see it.
  assert.is((await rest.get(`${API}/anomalies?limit=lots`)).status, 400);
  assert.is((await rest.post(`${API}/anomalies/samples`, '{"metric": ')).status, 400);
  const { text } = await scrape();
  assert.is(sample(text, 'rs3gw_rpc_server_duration_seconds_count', rpc('ListAnomalies', 'invalid_argument', 'AnomalyService')), 1, 'bad query parameter');
  assert.is(sample(text, 'rs3gw_rpc_server_duration_seconds_count', rpc('RecordSample', 'invalid_argument', 'AnomalyService')), 2, 'NaN value and malformed JSON');
});

test('business KPIs and custom metrics are exposed', async () => {
  const { text } = await scrape();
  assert.is(sample(text, 'rs3gw_requests_total', { operation: 'get_object', status_class: '2xx' }), 1);
  assert.is(sample(text, 'rs3gw_transfer_bytes_total', { direction: 'out' }), 2048);
  assert.is(sample(text, 'rs3gw_request_duration_seconds_count', { operation: 'get_object' }), 1);
  assert.is(sample(text, 'rs3gw_active_users', { window: '1h' }), 1);
  assert.match(text, /^# HELP cache_hits_total Cache hits$/m);
  assert.match(text, /^# TYPE cache_hits_total counter$/m);
  assert.is(sample(text, 'cache_hits_total', { tier: 'ram' }), 7);
});

test('promtool check metrics accepts the exposition', async () => {
  const { text } = await scrape();
  const run = await runCommand('promtool', ['check', 'metrics'], { input: text });
  // Exit 1 is a parse error; exit 3 means lint findings only. The only findings accepted are
  // prom-client's default Node.js gauges named *_total (upstream names that dashboards use);
  // nothing the service defines may draw one.
  const findings = (run.stdout + run.stderr).split('\n').filter((l) => l.trim() !== '');
  assert.ok(run.code === 0 || run.code === 3, `promtool exit ${run.code}: ${findings.join('\n')}`);
  for (const f of findings) assert.match(f, /^nodejs_\w+_total non-counter metrics should not have "_total" suffix$/, `promtool: ${f}`);
});

test('OpenMetrics when the scraper asks for it', async () => {
  const { response, text } = await scrape('application/openmetrics-text; version=1.0.0; charset=utf-8');
  assert.is(response.status, 200);
  assert.is(response.headers.get('content-type'), 'application/openmetrics-text; version=1.0.0; charset=utf-8');
  assert.ok(text.endsWith('# EOF\n'), `ends with # EOF: ${JSON.stringify(text.slice(-40))}`);
  assert.is(text.match(/^# EOF$/gm)!.length, 1);
  // Counter families drop _total; their samples keep it.
  assert.match(text, /^# TYPE cache_hits counter$/m);
  assert.is(sample(text, 'cache_hits_total', { tier: 'ram' }), 7);
  assert.match(text, /^# TYPE rs3gw_rpc_server_duration_seconds histogram$/m);
  assert.is(sample(text, 'rs3gw_rpc_server_duration_seconds_count', rpc('GetHealthReport', 'ok', 'HealthReportService')), HEALTH_CALLS);
  // A Prometheus server's usual Accept header, which prefers OpenMetrics.
  const prom = await scrape('application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1');
  assert.match(prom.response.headers.get('content-type')!, /^application\/openmetrics-text/);
});

test('promtool, which reads the text format only, reads the OpenMetrics exposition with lint findings only', async () => {
  const { text } = await scrape('application/openmetrics-text; version=1.0.0');
  const run = await runCommand('promtool', ['check', 'metrics'], { input: text });
  const findings = (run.stdout + run.stderr).split('\n').filter((l) => l.trim() !== '');
  assert.ok(run.code === 0 || run.code === 3, `promtool exit ${run.code}: ${findings.join('\n')}`);
  // OpenMetrics puts a counter's HELP on its family name, which the text format does not expect.
  for (const f of findings) assert.match(f, /^(nodejs_\w+_total non-counter metrics should not have "_total" suffix|\w+_total no help text)$/, `promtool: ${f}`);
});

test('HELP is escaped as each format requires: \\ and \\n in both, and " as \\" in OpenMetrics', async () => {
  const help = 'Help with \\ backslash and\nnewline and "quotes"';
  await rest.postOk(`${API}/metrics`, { name: 'rv_weird', type: 'METRIC_TYPE_COUNTER', description: help, label_names: ['v'] });
  await rest.postOk(`${API}/metrics/record`, { name: 'rv_weird', value: 2, labels: { v: 'quote " back \\ nl \n end' } });
  await rest.postOk(`${API}/metrics`, { name: 'rv_quoted_gauge', type: 'METRIC_TYPE_GAUGE', description: '"all" "quoted"' });

  const om = await scrape('application/openmetrics-text; version=1.0.0');
  assert.ok(om.text.includes('\n# HELP rv_weird Help with \\\\ backslash and\\nnewline and \\"quotes\\"\n# TYPE rv_weird counter\n'), 'OpenMetrics HELP');
  assert.ok(om.text.includes('\n# HELP rv_quoted_gauge \\"all\\" \\"quoted\\"\n'), 'OpenMetrics HELP');
  assert.ok(om.text.includes('\nrv_weird_total{v="quote \\" back \\\\ nl \\n end"} 2\n'), 'label values as before');
  // No OpenMetrics HELP line holds a " that is not escaped.
  for (const line of om.text.split('\n').filter((l) => l.startsWith('# HELP '))) assert.not.match(line.replace(/\\./g, ''), /"/, line);
  const x = parseExposition(om.text, true);
  assert.is(x.families.get('rv_weird')?.help, help);
  assert.is(x.families.get('rv_quoted_gauge')?.help, '"all" "quoted"');

  const text = await scrape();
  assert.ok(text.text.includes('\n# HELP rv_weird_total Help with \\\\ backslash and\\nnewline and "quotes"\n'), 'text HELP: " is itself');
  assert.is(parseExposition(text.text, false).families.get('rv_weird_total')?.help, help);
  const run = await runCommand('promtool', ['check', 'metrics'], { input: text.text });
  assert.ok(run.code === 0 || run.code === 3, `promtool exit ${run.code}: ${run.stdout}${run.stderr}`);
});

test('negative values leave OpenMetrics valid: no _sum (and _count) once a histogram recorded one, no _sum or quantiles for a summary', async () => {
  const OM = 'application/openmetrics-text; version=1.0.0';
  const define = (name: string, type: string, extra: object) => rest.postOk(`${API}/metrics`, { name, type, description: 'd', ...extra });
  const record = (name: string, value: number) => rest.postOk(`${API}/metrics/record`, { name, value });
  await define('rv_temp_delta', 'METRIC_TYPE_HISTOGRAM', { buckets: [1, 5] });
  await define('rv_sneg', 'METRIC_TYPE_SUMMARY', { quantiles: [0.5] });
  await define('rv_spos', 'METRIC_TYPE_SUMMARY', { quantiles: [0.5] });
  await record('rv_temp_delta', 4);
  await record('rv_spos', 2);
  const before = parseExposition((await scrape(OM)).text, true);
  assert.is(before.value('rv_temp_delta_sum'), 4, 'a histogram without negative records keeps its _sum');

  // The sum falls to 2 (no counter then), then below zero; the quantile is negative.
  await record('rv_temp_delta', -2);
  await record('rv_sneg', -3);
  const fallen = parseExposition((await scrape(OM)).text, true);
  assert.is(fallen.value('rv_temp_delta_sum'), undefined, 'no _sum once a negative value was recorded');
  assert.is(fallen.value('rv_temp_delta_count'), undefined, 'no _count without _sum');
  assert.is(fallen.value('rv_temp_delta_bucket', { le: '1' }), 1);
  assert.is(fallen.value('rv_temp_delta_bucket', { le: '+Inf' }), 2, 'the count is the +Inf bucket');
  await record('rv_temp_delta', -5);
  const om = parseExposition((await scrape(OM)).text, true);
  assert.is(om.value('rv_temp_delta_bucket', { le: '+Inf' }), 3);
  assert.not.ok(om.samples.some((s) => s.name === 'rv_sneg' || s.name === 'rv_sneg_sum'), 'no quantiles or _sum of the summary');
  assert.is(om.value('rv_sneg_count'), 1, 'the summary keeps its _count');
  assert.equal([om.value('rv_spos', { quantile: '0.5' }), om.value('rv_spos_sum')], [2, 2], 'a summary without negative records keeps them');

  const text = parseExposition((await scrape()).text, false);
  assert.equal([text.value('rv_temp_delta_sum'), text.value('rv_temp_delta_count')], [-3, 3], 'the text format keeps them');
  assert.equal([text.value('rv_sneg', { quantile: '0.5' }), text.value('rv_sneg_sum')], [-3, -3]);
});

test('Accept is read as HTTP has it: q-values, q=0 as "not this", media types in any case', async () => {
  const TEXT = 'text/plain; version=0.0.4; charset=utf-8';
  const OPEN = 'application/openmetrics-text; version=1.0.0; charset=utf-8';
  const cases: Array<[string, string]> = [
    ['application/openmetrics-text;q=0,text/plain', TEXT],
    ['text/plain;version=0.0.4;q=1,application/openmetrics-text;version=1.0.0;q=0.1', TEXT],
    ['APPLICATION/OPENMETRICS-TEXT;version=1.0.0', OPEN],
    ['application/openmetrics-text;Q=0.2, TEXT/PLAIN;q=0.1', OPEN],
    // Named beats reached by a wildcard at the same q; a full tie is the Prometheus text format.
    ['application/openmetrics-text, */*', OPEN],
    ['text/plain, application/openmetrics-text', TEXT],
    ['*/*', TEXT],
    ['application/*;q=0.5', OPEN],
    // Java's HttpURLConnection default, with its lone * and its q=.2.
    ['text/html, image/gif, image/jpeg, *; q=.2, */*; q=.2', TEXT],
    // A quoted parameter may hold commas and semicolons.
    ['text/plain;x="a,b;q=0";q=0.3, application/openmetrics-text;q=0.2', TEXT],
  ];
  for (const [accept, type] of cases) {
    const { response } = await scrape(accept);
    assert.is(response.status, 200, accept);
    assert.is(response.headers.get('content-type'), type, accept);
    assert.is(response.headers.get('vary'), 'accept', accept);
  }
});

test('an Accept that takes neither format is 406, and a q that is not a number from 0 to 1 is 400, both naming accept', async () => {
  for (const accept of ['application/json', 'text/plain;q=0', 'application/openmetrics-text;q=0, text/*;q=0']) {
    assertError(await rest.get('/metrics', { accept }), 406, 'unimplemented', 'accept');
  }
  for (const accept of ['text/plain;q=2', 'text/plain;q=abc', 'application/openmetrics-text;q=-1']) {
    assertError(await rest.get('/metrics', { accept }), 400, 'invalid_argument', 'accept');
  }
});

test('HEAD answers the headers only; other methods are 405 with Allow', async () => {
  const head = await fetch(`${server.url}/metrics`, { method: 'HEAD' });
  assert.is(head.status, 200);
  assert.is(head.headers.get('content-type'), 'text/plain; version=0.0.4; charset=utf-8');
  assert.is(await head.text(), '');
  const post = await fetch(`${server.url}/metrics`, { method: 'POST', body: '' });
  assert.is(post.status, 405);
  assert.is(post.headers.get('allow'), 'GET, HEAD');
  assertError(await rest.request('POST', '/metrics', ''), 405, 'unimplemented', /POST is not allowed on \/metrics/);
});

test.run();
