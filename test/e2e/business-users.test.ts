/**
 * Business KPIs beyond the user table's 10,000 users, and with no data, over REST against the real
 * server: a heavy user survives a flood of one-off users in top_users, active users stay right
 * (within the stated HyperLogLog error) for 120,000 distinct users, the users replaced are on the
 * report and on /metrics, and latency percentiles of an empty window are absent rather than 0.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { RunningServer } from '../support/server.js';
import { API, Rest, startRestServer, type Json } from './support/rest-http.js';

/** The proto's stated bound: 3 relative standard errors of 1.625%, 99.7% of estimates. */
const STATED_ERROR = 3 * 0.01625;
const BATCH = 10_000;

let server: RunningServer;
let rest: Rest;

test.before(async () => {
  server = await startRestServer();
  rest = new Rest(server.url);
});

test.after(async () => {
  await server.stop();
});

const report = async () => (await rest.getOk(`${API}/business-metrics`)) as Json;
const ingest = async (events: Json[]) => {
  for (let i = 0; i < events.length; i += BATCH) await rest.postOk(`${API}/business-metrics/events`, { events: events.slice(i, i + BATCH) });
};
const get = (user: string) => ({ operation: 'S3_OPERATION_GET_OBJECT', bucket: 'photos', user, status_code: 200, latency: '0.005s' });
const sample = (text: string, name: string, labels = '') => {
  const line = text.split('\n').find((l) => l.startsWith(`${name}${labels} `));
  return line === undefined ? undefined : Number(line.split(' ').pop());
};

test('latency percentiles are absent, not 0, when the window holds no request', async () => {
  // Requests two minutes old: counted, but outside the 60 s window.
  const old = new Date(Date.now() - 120_000).toISOString();
  await ingest(Array.from({ length: 5 }, () => ({ ...get('probe'), time: old })));
  let q = (await report()).request_patterns;
  assert.is(q.total_requests, '5');
  for (const p of ['p50', 'p95', 'p99']) assert.not.ok(`${p}_latency_ms` in q, `${p}: ${JSON.stringify(q)}`);
  await ingest([get('probe')]);
  q = (await report()).request_patterns;
  assert.ok(q.p50_latency_ms > 4.9 && q.p50_latency_ms < 5.1, `p50 ${q.p50_latency_ms}`);
});

test('a heavy user stays first in top_users through a flood of 20,000 one-off users, its count going on', async () => {
  await ingest(Array.from({ length: 2_350 }, () => get('heavy')));
  // A credential-stuffing scan: one refused request for each of 20,000 access keys.
  await ingest(Array.from({ length: 20_000 }, (_, i) => ({ operation: 'S3_OPERATION_LIST_OBJECTS', bucket: 'photos', user: `AKIASCAN${i}`, status_code: 403 })));
  let u = (await report()).user_activity;
  assert.equal([u.top_users[0].user, u.top_users[0].requests, u.top_users[0].requests_error_bound], ['heavy', '2350', '0']);
  assert.equal([u.tracked_users, u.max_tracked_users], [10_000, 10_000]);
  assert.ok(Number(u.evicted_users) >= 10_000, `evicted ${u.evicted_users}`);
  await ingest([get('heavy')]);
  u = (await report()).user_activity;
  assert.equal([u.top_users[0].user, u.top_users[0].requests], ['heavy', '2351']);
});

test('120,000 distinct users: active users within the stated error, flagged as estimates, on the report and /metrics', async () => {
  await ingest(Array.from({ length: 100_000 }, (_, i) => get(`user${i}`)));
  // probe, heavy, the scan's 20,000 and these 100,000.
  const distinct = 120_002;
  const u = (await report()).user_activity;
  for (const [figure, estimated] of [
    [u.active_users_last_hour, u.active_users_last_hour_estimated],
    [u.active_users_last_day, u.active_users_last_day_estimated],
  ]) {
    assert.ok(Math.abs(figure / distinct - 1) <= STATED_ERROR, `${figure} for ${distinct}`);
    assert.is(estimated, true);
  }
  assert.is(u.evicted_users, String(distinct - 10_000));
  const text = await (await fetch(`${server.url}/metrics`)).text();
  assert.is(sample(text, 'rs3gw_active_users', '{window="1h"}'), u.active_users_last_hour);
  assert.is(sample(text, 'rs3gw_evicted_users_total'), distinct - 10_000);
  assert.is(sample(text, 'rs3gw_tracked_users'), 10_000);
});

test.run();
