/**
 * The business KPI series whose labels take a fixed set of values are on /metrics at 0 from the
 * start, so that Prometheus's rate() and increase() count the first burst of events: a series that
 * appears at its first event with the value 5 reads as no increase. GetBusinessMetrics, which is
 * not Prometheus, does not start listing anything that did not happen.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { RunningServer } from '../support/server.js';
import { parseExposition, type Exposition } from '../core/metrics/exposition-format.js';
import { API, Rest, startRestServer } from './support/rest-http.js';

const OPERATIONS = ['get_object', 'put_object', 'delete_object', 'head_object', 'list_objects', 'create_bucket', 'delete_bucket', 'copy_object', 'multipart_upload', 'other'];
const STATUS_CLASSES = ['1xx', '2xx', '3xx', '4xx', '5xx'];
const BUCKET_BOUNDS = 14;

let server: RunningServer;
let rest: Rest;

test.before(async () => {
  server = await startRestServer();
  rest = new Rest(server.url);
});

test.after(async () => {
  await server.stop();
});

async function scrape(openMetrics: boolean): Promise<{ text: string; x: Exposition }> {
  const accept = openMetrics ? 'application/openmetrics-text; version=1.0.0' : 'text/plain';
  const text = await (await fetch(`${server.url}/metrics`, { headers: { accept } })).text();
  return { text, x: parseExposition(text, openMetrics) };
}

const lines = (text: string, family: string) => text.split('\n').filter((l) => l.startsWith(`${family}{`) || l.startsWith(`${family}_`)).length;

test('before any event: every operation x status class, both directions and the latency histogram by operation at 0', async () => {
  for (const openMetrics of [false, true]) {
    const { text, x } = await scrape(openMetrics);
    const at = `openMetrics=${openMetrics}`;
    for (const operation of OPERATIONS) {
      for (const status_class of STATUS_CLASSES) assert.is(x.value('rs3gw_requests_total', { operation, status_class }), 0, `${operation} ${status_class} ${at}`);
      assert.is(x.value('rs3gw_request_duration_seconds_count', { operation }), 0, `${operation} count ${at}`);
      assert.is(x.value('rs3gw_request_duration_seconds_sum', { operation }), 0, `${operation} sum ${at}`);
      assert.is(x.value('rs3gw_request_duration_seconds_bucket', { operation, le: '+Inf' }), 0, `${operation} +Inf ${at}`);
    }
    for (const direction of ['in', 'out']) assert.is(x.value('rs3gw_transfer_bytes_total', { direction }), 0, `${direction} ${at}`);
    // What the preset adds, and no more: 50 + 2 + 10 x (14 buckets, +Inf, _sum, _count) sample lines.
    assert.is(x.samples.filter((s) => s.name === 'rs3gw_requests_total').length, OPERATIONS.length * STATUS_CLASSES.length, at);
    assert.is(x.samples.filter((s) => s.name === 'rs3gw_transfer_bytes_total').length, 2, at);
    assert.is(lines(text, 'rs3gw_request_duration_seconds'), OPERATIONS.length * (BUCKET_BOUNDS + 3), at);
    // The bucket label is open-ended: no series before a bucket is seen.
    assert.is(x.samples.filter((s) => s.name === 'rs3gw_bucket_requests_total').length, 0, at);
  }
});

test('a first burst of 5 server errors is an increase of 5 from the 0 scraped before it', async () => {
  const before = (await scrape(true)).x.value('rs3gw_requests_total', { operation: 'delete_object', status_class: '5xx' }) ?? Number.NaN;
  assert.is(before, 0, 'the series was scraped at 0 before its first event');
  const events = Array.from({ length: 5 }, () => ({ operation: 'S3_OPERATION_DELETE_OBJECT', bucket: 'b', user: 'u', status_code: 503, latency: '0.05s' }));
  await rest.postOk(`${API}/business-metrics/events`, { events });
  const { x } = await scrape(true);
  assert.is(x.value('rs3gw_requests_total', { operation: 'delete_object', status_class: '5xx' }), before + 5);
  assert.is(x.value('rs3gw_request_duration_seconds_count', { operation: 'delete_object' }), 5);
  assert.is(x.value('rs3gw_requests_total', { operation: 'delete_object', status_class: '2xx' }), 0, 'the others stay at 0');
  assert.is(x.value('rs3gw_bucket_requests_total', { bucket: 'b' }), 5);
});

test('GetBusinessMetrics in JSON lists only what happened: no bucket, user or byte from the preset', async () => {
  const report = await rest.getOk(`${API}/business-metrics`);
  const patterns = report.request_patterns;
  assert.is(Number(patterns.total_requests), 5);
  assert.equal(patterns.requests_by_bucket, { b: '5' });
  const nonZero = Object.entries(patterns.requests_by_operation).filter(([, n]) => Number(n) !== 0);
  assert.equal(nonZero, [['delete_object', '5']]);
  assert.is(Number(report.data_transfer.total_uploaded_bytes), 0);
  assert.is(Number(report.data_transfer.total_downloaded_bytes), 0);
  assert.equal(report.user_activity.top_users.map((u: { user: string }) => u.user), ['u']);
});

test.run();
