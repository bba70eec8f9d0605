/**
 * An anomaly's type and direction as a user meets them through the running server (the reviewer's
 * direction2.py and dirvar.py): the type is the metric's only when the anomaly goes the way that
 * type describes (throughput falling, latency rising), else ANOMALY_TYPE_OTHER; `direction` says
 * which way, for a variance-change alarm too; type filters (ListAnomalies, WatchAnomalies) select on
 * the anomaly's type, while ConfigureMetric and GetStatistics keep reporting the metric's.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createObservabilityClient } from '../../clients/ts/client.js';
import { AnomalyType, type WatchAnomaliesResponse } from '../../gen/ts/rs3gw/observability/v1/anomaly_pb.js';
import { normal } from '../core/anomaly/signals.js';
import type { RunningServer } from '../support/server.js';
import { StreamReader } from './support/rpc-helpers.js';
import { API, Rest, startRestServer, type Json } from './support/rest-http.js';

let server: RunningServer;
let rest: Rest;

/** Sample times one second apart from a fixed start, so the detector sees the same series every run. */
const T0 = Date.parse('2026-01-01T00:00:00Z');
const at = (i: number) => new Date(T0 + i * 1000).toISOString();

/** 300 samples alternating around `level` (1% either side), then `value`: the anomaly it raised. */
async function jump(metric: string, level: number, value: number): Promise<Json> {
  const samples = Array.from({ length: 300 }, (_, i) => ({ metric, value: level + (i % 2 === 0 ? -0.01 : 0.01) * level, time: at(i) }));
  samples.push({ metric, value, time: at(300) });
  const r = await rest.postOk(`${API}/anomalies/samples/batch`, { samples });
  const last = r.assessments[300];
  assert.ok(last.anomaly, `${metric}: ${level} then ${value} raises an anomaly: ${JSON.stringify(last)}`);
  assert.ok(r.assessments.slice(0, 300).every((a: Json) => !a.anomaly), `${metric}: nothing before the jump`);
  return last.anomaly;
}

const list = async (q: string): Promise<Json[]> => (await rest.getOk(`${API}/anomalies${q}`)).anomalies;

test.before(async () => {
  server = await startRestServer();
  rest = new Rest(server.url);
});

test.after(async () => {
  await server.stop();
});

test('a throughput rise is not a throughput drop; a fall is; a latency fall is other, below', async () => {
  const rise = await jump('throughput_mbps', 100, 1000);
  assert.is.not(rise.anomaly_type, 'ANOMALY_TYPE_THROUGHPUT_DROP');
  assert.is(rise.anomaly_type, 'ANOMALY_TYPE_OTHER');
  assert.is(rise.direction, 'ANOMALY_DIRECTION_ABOVE');

  const fall = await jump('throughput_down_mbps', 100, 10);
  assert.is(fall.anomaly_type, 'ANOMALY_TYPE_THROUGHPUT_DROP');
  assert.is(fall.direction, 'ANOMALY_DIRECTION_BELOW');

  const latency = await jump('get_latency_ms', 50, 0.5);
  assert.is(latency.anomaly_type, 'ANOMALY_TYPE_OTHER');
  assert.is(latency.direction, 'ANOMALY_DIRECTION_BELOW');
  const slow = await jump('put_latency_ms', 50, 500);
  assert.is(slow.anomaly_type, 'ANOMALY_TYPE_LATENCY_SPIKE');
  assert.is(slow.direction, 'ANOMALY_DIRECTION_ABOVE');

  const errors = await jump('error_rate', 0.2, 0);
  assert.is(errors.anomaly_type, 'ANOMALY_TYPE_OTHER');
  assert.is(errors.direction, 'ANOMALY_DIRECTION_BELOW');
  const cpu = await jump('cpu_usage_percent', 50, 2);
  assert.is(cpu.anomaly_type, 'ANOMALY_TYPE_OTHER');
  assert.is(cpu.direction, 'ANOMALY_DIRECTION_BELOW');
  const memory = await jump('memory_rss_bytes', 1e9, 1e8);
  assert.is(memory.anomaly_type, 'ANOMALY_TYPE_OTHER');
  assert.is(memory.direction, 'ANOMALY_DIRECTION_BELOW');

  // The metric keeps its type: ConfigureMetric and GetStatistics report what was inferred.
  const stats = await rest.getOk(`${API}/anomalies/statistics?metric=throughput_mbps`);
  assert.is(stats.statistics[0].config.anomaly_type, 'ANOMALY_TYPE_THROUGHPUT_DROP');
  const configured = await rest.postOk(`${API}/anomalies/config`, { metric: 'get_latency_ms', config: {} });
  assert.is(configured.config.anomaly_type, 'ANOMALY_TYPE_LATENCY_SPIKE');
});

test('ListAnomalies type=ThroughputDrop does not return the rise; type=other does', async () => {
  assert.equal(await list('?type=ThroughputDrop&metric=throughput_mbps'), []);
  const drops = await list('?type=ThroughputDrop');
  assert.equal(
    drops.map((a) => a.metric_name),
    ['throughput_down_mbps'],
  );
  const others = (await list('?type=other')).map((a) => a.metric_name);
  for (const metric of ['throughput_mbps', 'get_latency_ms', 'error_rate', 'cpu_usage_percent', 'memory_rss_bytes']) {
    assert.ok(others.includes(metric), `${metric} in ${others}`);
  }
  assert.equal((await list('?type=latency_spike')).map((a) => a.metric_name), ['put_latency_ms']);
});

test('WatchAnomalies type=THROUGHPUT_DROP streams the fall, not the rise', async () => {
  const client = createObservabilityClient(server.url, { protocol: 'grpc' });
  const watch = new StreamReader<WatchAnomaliesResponse>((signal) => client.anomalies.watchAnomalies({ type: AnomalyType.THROUGHPUT_DROP }, { signal }));
  try {
    assert.is((await watch.next('caught_up')).event.case, 'caughtUp');
    await jump('bandwidth_up_mbps', 100, 1000);
    const fall = await jump('bandwidth_down_mbps', 100, 10);
    const message = await watch.next('the fall');
    assert.is(message.event.case, 'anomaly');
    if (message.event.case !== 'anomaly') return;
    assert.is(message.event.value.metricName, 'bandwidth_down_mbps', 'the rise was not streamed');
    assert.is(String(message.event.value.sequence), fall.sequence);
  } finally {
    watch.close();
  }
});

test('a level falling from ~50 to 0.5 is below on every fresh metric, the variance-change alarms included', async () => {
  const directions: Record<string, number> = {};
  let variance = 0;
  for (let seed = 0; seed < 40; seed++) {
    const g = normal(seed + 1);
    const metric = `dv${seed}`;
    const samples = Array.from({ length: 300 }, (_, i) => ({ metric, value: 50 + 5 * g(), time: at(i) }));
    await rest.postOk(`${API}/anomalies/samples/batch`, { samples });
    const a = (await rest.postOk(`${API}/anomalies/samples`, { metric, value: 0.5, time: at(300) })).assessment;
    if (!a.anomaly) continue;
    assert.ok(a.value < a.lower_bound, `${metric}: 0.5 is below the band [${a.lower_bound}, ${a.upper_bound}]`);
    directions[a.anomaly.direction] = (directions[a.anomaly.direction] ?? 0) + 1;
    if (a.anomaly.detector === 'ensemble/variance_change') variance++;
  }
  assert.equal(Object.keys(directions), ['ANOMALY_DIRECTION_BELOW'], JSON.stringify(directions));
  assert.ok(variance >= 5, `variance-change alarms: ${variance}`);
});

test.run();
