/**
 * GetTrend windows and the storage growth day are intervals: with the server's wall clock stepped
 * back or forward while it runs (libfaketime), trends keep their snapshots in the order taken and
 * the growth history spans the time that passed.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { API, Rest, eventually, timeMs, type Json } from './support/rest-http.js';
import { startSteppableServer } from './support/wall-clock.js';

test('trend points stay in the order taken, and windows keep their snapshots, across wall-clock steps', async () => {
  const server = await startSteppableServer({ RS3GW_METRICS_SNAPSHOT_INTERVAL: '1' });
  try {
    const rest = new Rest(server.url);
    const trend = (window: string) => rest.getOk(`${API}/metrics/queue_depth/trend?window=${window}`);
    await rest.postOk(`${API}/metrics`, { name: 'queue_depth', type: 'METRIC_TYPE_GAUGE', description: 'Queue depth' });
    // Sets the gauge and waits for a snapshot that holds the value (every point but the last is one).
    const set = async (value: number) => {
      await rest.postOk(`${API}/metrics/record`, { name: 'queue_depth', value, operation: 'RECORD_OPERATION_SET' });
      await eventually(`a snapshot of ${value}`, async () => ((await trend('1h')).points.slice(0, -1).some((p: Json) => p.value === value) ? true : undefined));
    };
    const times = (t: Json) => t.points.map((p: Json) => timeMs(p.time));
    const ascending = (xs: number[]) => xs.every((x, i) => i === 0 || x > xs[i - 1]!);

    await set(10);
    await set(20);
    server.step('-30s');
    await set(30);
    const back = await trend('1h');
    assert.is(back.start_value, 10);
    assert.ok(ascending(times(back)), `after a step back, times ${JSON.stringify(back.points)}`);
    assert.ok(back.points.map((p: Json) => p.value).every((v: number, i: number, vs: number[]) => i === 0 || v >= vs[i - 1]!), 'values in the order set');

    server.step('+2h');
    const forward = await trend('1h');
    assert.is(forward.start_value, 10, 'after a step forward of 2 h, the last seconds are in a 1 h window');
    assert.ok(forward.points.length >= back.points.length, `${forward.points.length} points`);
    assert.ok(ascending(times(forward)));

    server.step('-2h');
    const short = await trend('10s');
    assert.ok(short.points.length >= 3, `after a step back of 2 h, a 10 s window holds the last snapshots: ${short.points.length} points`);
  } finally {
    await server.stop();
  }
});

test('storage growth spans monotonic time: wall-clock steps neither shrink nor stretch it', async () => {
  const server = await startSteppableServer();
  try {
    const rest = new Rest(server.url);
    const put = () =>
      rest.postOk(`${API}/business-metrics/events`, { events: [{ operation: 'S3_OPERATION_PUT_OBJECT', bucket: 'b', status_code: 200, bytes_in: '1000000000' }] });
    const storage = async () => (await rest.getOk(`${API}/business-metrics`)).storage_utilization as Json;
    await rest.postOk(`${API}/business-metrics/storage`, { buckets: '1', objects: '1', total_bytes: '1000000000000' });
    await put();
    const before = parseFloat((await storage()).growth_rate_window);
    server.step('-1h');
    await put();
    let s = await storage();
    // On the wall clock the history would start an hour ahead of now: a span of 0.
    assert.ok(parseFloat(s.growth_rate_window) >= before, `after a step back: ${s.growth_rate_window}, before ${before}s`);
    server.step('+3h');
    s = await storage();
    // On the wall clock the history would span two hours and fit a rate from seconds of writes.
    assert.ok(parseFloat(s.growth_rate_window) < 600, `after a step forward of 2 h: ${s.growth_rate_window}`);
    assert.not.ok('growth_rate_bytes_per_day' in s, `no rate before an hour of history: ${JSON.stringify(s)}`);
  } finally {
    await server.stop();
  }
});

test.run();
