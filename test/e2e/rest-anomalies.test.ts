/**
 * Anomaly detection over REST: samples and batches in, anomalies out, filters in every spelling the
 * REST mapping accepts, configuration, statistics and reset; the bad inputs; and the caps
 * RS3GW_ANOMALY_MAX_METRICS and RS3GW_ANOMALY_HISTORY_SIZE as a user meets them.
 */
import { toBinary } from '@bufbuild/protobuf';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createObservabilityClient } from '../../clients/ts/client.js';
import { GetStatisticsResponseSchema } from '../../gen/ts/rs3gw/observability/v1/anomaly_pb.js';
import type { RunningServer } from '../support/server.js';
import { API, Rest, assertError, assertSnakeCase, int, startRestServer, timeMs, type Json } from './support/rest-http.js';

let server: RunningServer;
let rest: Rest;

/** Sample times one second apart from a fixed start, so the detector sees the same series every run. */
const T0 = Date.parse('2026-01-01T00:00:00Z');
const at = (i: number) => new Date(T0 + i * 1000).toISOString();

/** A steady series (100 +- 1 in a fixed pattern) of `n` samples starting at index `from`. */
function steady(metric: string, n: number, from = 0): Json[] {
  return Array.from({ length: n }, (_, k) => ({ metric, value: 100 + ((from + k) % 3) - 1, time: at(from + k) }));
}

test.before(async () => {
  server = await startRestServer();
  rest = new Rest(server.url);
});

test.after(async () => {
  await server.stop();
});

test('a sample is judged against its baseline; the first ones are warm-up', async () => {
  const r = await rest.postOk(`${API}/anomalies/samples`, { metric: 'gw.get_latency_ms', value: 12.5, time: at(0) });
  assertSnakeCase(r);
  const a = r.assessment;
  assert.is(a.metric, 'gw.get_latency_ms');
  assert.is(a.value, 12.5);
  assert.is(timeMs(a.time), T0);
  assert.is(a.warming_up, true);
  assert.is(a.samples_seen, '1');
  assert.type(a.score, 'number');
  assert.not.ok('anomaly' in a, 'no anomaly during warm-up');
  const now = await rest.postOk(`${API}/anomalies/samples`, { metric: 'gw.get_latency_ms', value: 13 });
  assert.ok(Math.abs(timeMs(now.assessment.time) - Date.now()) < 60_000, 'time defaults to now');
  assert.is(now.assessment.samples_seen, '2');
});

test('configuring a metric returns the whole configuration; unset fields keep their value', async () => {
  const r = await rest.postOk(`${API}/anomalies/config`, { metric: 'api_latency_ms', config: { min_samples: 30, rest_samples: 5 } });
  assertSnakeCase(r);
  const c = r.config;
  assert.is(c.anomaly_type, 'ANOMALY_TYPE_LATENCY_SPIKE', 'type inferred from the name');
  assert.is(c.min_samples, 30);
  assert.is(c.rest_samples, 5);
  assert.is(c.window_size, 100, 'default kept');
  assert.equal(c.severity_thresholds, { low_sigma: 2, medium_sigma: 3, high_sigma: 4, critical_sigma: 5 });
  assert.is(c.detector_parameters.alarm_margin, 1.15);
  const again = await rest.postOk(`${API}/anomalies/config`, { metric: 'api_latency_ms', config: { severity_thresholds: { critical_sigma: 6 } } });
  assert.is(again.config.min_samples, 30, 'kept');
  assert.equal(again.config.severity_thresholds, { low_sigma: 2, medium_sigma: 3, high_sigma: 4, critical_sigma: 6 });
});

test('a spike after a steady baseline raises an anomaly above the expected band', async () => {
  const samples = [...steady('api_latency_ms', 60), { metric: 'api_latency_ms', value: 1000, time: at(60) }];
  const r = await rest.postOk(`${API}/anomalies/samples/batch`, { samples });
  assertSnakeCase(r);
  assert.is(r.assessments.length, 61, 'one assessment per sample, in order');
  assert.equal(
    r.assessments.map((a: Json) => a.value),
    samples.map((s) => s.value),
  );
  assert.is(r.assessments[0].warming_up, true);
  assert.is(r.assessments[59].warming_up, false, 'past min_samples=30');
  const spike = r.assessments[60];
  assert.ok(spike.anomaly, `the spike raises an anomaly: ${JSON.stringify(spike)}`);
  const an = spike.anomaly;
  assert.is(an.metric_name, 'api_latency_ms');
  assert.is(an.current_value, 1000);
  assert.is(an.anomaly_type, 'ANOMALY_TYPE_LATENCY_SPIKE');
  assert.is(an.severity, 'ANOMALY_SEVERITY_CRITICAL');
  assert.is(an.direction, 'ANOMALY_DIRECTION_ABOVE');
  assert.ok(an.deviation_sigma > 6, `deviation ${an.deviation_sigma}`);
  assert.ok(Math.abs(an.baseline_mean - 100) < 2, `baseline ${an.baseline_mean}`);
  assert.ok(an.lower_bound < 100 && an.upper_bound > 100 && an.upper_bound < 1000);
  assert.ok(an.score > 0.5 && an.score <= 1);
  assert.is(timeMs(an.sample_time), timeMs(at(60)));
  assert.ok(int(an.sequence) >= 1);
  assert.type(an.detector, 'string');
});

test('ListAnomalies filters by type, severity and time in every accepted spelling', async () => {
  // A second metric of another inferred type (cpu_spike), with a downward drop: not a CPU spike.
  await rest.postOk(`${API}/anomalies/config`, { metric: 'cpu_usage_percent', config: { min_samples: 30 } });
  const drop = [...steady('cpu_usage_percent', 60), { metric: 'cpu_usage_percent', value: -500, time: at(60) }];
  const last = (await rest.postOk(`${API}/anomalies/samples/batch`, { samples: drop })).assessments[60];
  assert.ok(last.anomaly, 'the drop raises an anomaly');
  assert.is(last.anomaly.anomaly_type, 'ANOMALY_TYPE_OTHER');
  assert.is(last.anomaly.direction, 'ANOMALY_DIRECTION_BELOW');

  const list = async (q: string) => {
    const r = await rest.getOk(`${API}/anomalies${q}`);
    assertSnakeCase(r);
    return r.anomalies as Json[];
  };
  const all = await list('');
  assert.ok(all.length >= 2);
  const seqs = all.map((a) => int(a.sequence));
  assert.equal([...seqs].sort((a, b) => b - a), seqs, 'newest first');
  assert.is(int((await rest.getOk(`${API}/anomalies`)).last_sequence), seqs[0]);

  for (const type of ['latency_spike', 'LatencySpike', 'LATENCY_SPIKE', 'ANOMALY_TYPE_LATENCY_SPIKE']) {
    const got = await list(`?type=${type}`);
    assert.ok(got.length >= 1, type);
    assert.ok(got.every((a) => a.anomaly_type === 'ANOMALY_TYPE_LATENCY_SPIKE'), type);
  }
  assert.equal(await list('?type=cpu_spike'), [], 'the CPU drop is not a CPU spike');
  assert.equal((await list('?type=other')).map((a) => a.metric_name), ['cpu_usage_percent']);
  for (const severity of ['critical', 'Critical', 'ANOMALY_SEVERITY_CRITICAL']) {
    const got = await list(`?severity=${severity}`);
    assert.ok(got.length >= 2 && got.every((a) => a.severity === 'ANOMALY_SEVERITY_CRITICAL'), severity);
  }
  assert.ok((await list('?min_severity=high')).every((a) => ['ANOMALY_SEVERITY_HIGH', 'ANOMALY_SEVERITY_CRITICAL'].includes(a.severity)));
  assert.equal(await list('?severity=High&min_severity=critical'), [], 'both filters apply');
  assert.ok((await list('?metric=api_latency_ms')).every((a) => a.metric_name === 'api_latency_ms'));
  assert.is((await list('?limit=1')).length, 1);
  assert.equal((await list('?limit=1'))[0].sequence, all[0].sequence, 'limit keeps the newest');
  assert.equal(await list(`?after_sequence=${seqs[0]}`), []);
  // after_sequence pages forward: the oldest `limit` after it, so a poller skips nothing.
  const oldest = seqs[seqs.length - 1];
  assert.equal((await list(`?after_sequence=${oldest}&limit=1`)).map((a) => int(a.sequence)), [seqs[seqs.length - 2]]);
  const paged: number[] = [oldest];
  for (let cursor = oldest; ; ) {
    const page = (await list(`?after_sequence=${cursor}&limit=1`)).map((a) => int(a.sequence));
    if (page.length === 0) break;
    paged.push(...page);
    cursor = page[0];
  }
  assert.equal(paged, [...seqs].reverse(), 'every anomaly, once, in order');
  assert.equal((await list(`?after_sequence=${seqs[0] - 1}`)).map((a) => a.sequence), [all[0].sequence]);
  // after_sequence=0 given is set (unset lists the newest): a pager starting from 0 gets the oldest
  // page first and reads the whole history, over REST and gRPC alike.
  assert.equal((await list('?after_sequence=0&limit=1')).map((a) => int(a.sequence)), [oldest], 'the oldest page first');
  const fromZero: number[] = [];
  for (let cursor = 0; ; ) {
    const page = (await list(`?after_sequence=${cursor}&limit=1`)).map((a) => int(a.sequence));
    if (page.length === 0) break;
    fromZero.push(...page);
    cursor = page[0];
  }
  assert.equal(fromZero, [...seqs].reverse(), 'every anomaly from 0, once, in order');
  const grpc = createObservabilityClient(server.url, { protocol: 'grpc' });
  const first = await grpc.anomalies.listAnomalies({ afterSequence: 0n, limit: 1 });
  assert.equal(first.anomalies.map((a) => Number(a.sequence)), [oldest], 'gRPC: after_sequence 0 is the oldest page');
  const newest = await grpc.anomalies.listAnomalies({ limit: 1 });
  assert.equal(newest.anomalies.map((a) => Number(a.sequence)), [seqs[0]], 'gRPC: unset is the newest');
  // since= compares with the sample time: both spikes were at T0 + 60 s.
  assert.ok((await list(`?since=${at(60)}`)).length >= 2);
  assert.equal(await list(`?since=${at(61)}`), []);
  assert.equal(await list('?since=2026-01-01T00:01:00.001Z'), []);
  // Exactly, not rounded to the millisecond: a tenth of one after the sample time leaves it out.
  assert.equal(await list('?since=2026-01-01T00:01:00.0001Z'), []);
  assert.ok((await list('?since=2026-01-01T00:00:59.999999999Z')).length >= 2);
});

test('statistics describe each baseline; reset forgets it; delete frees the metric', async () => {
  const s = await rest.getOk(`${API}/anomalies/statistics?metric=api_latency_ms`);
  assertSnakeCase(s);
  assert.is(s.statistics.length, 1);
  const st = s.statistics[0];
  assert.is(st.metric, 'api_latency_ms');
  assert.is(st.count, '61');
  assert.is(st.min, 99);
  assert.is(st.max, 1000);
  assert.is(st.last_value, 1000);
  assert.ok(int(st.anomaly_count) >= 1);
  assert.is(timeMs(st.last_update_time), T0 + 60_000, 'the time of the last sample (at(60)), not when it was received');
  assert.is(st.config.min_samples, 30);
  const every = await rest.getOk(`${API}/anomalies/statistics`);
  assert.equal(
    every.statistics.map((x: Json) => x.metric),
    ['api_latency_ms', 'cpu_usage_percent', 'gw.get_latency_ms'],
    'all metrics, by name',
  );

  assert.equal(await rest.postOk(`${API}/anomalies/reset`, { metric: 'api_latency_ms' }), {});
  const reset = (await rest.getOk(`${API}/anomalies/statistics?metric=api_latency_ms`)).statistics[0];
  assert.is(reset.count, '0');
  assert.is(reset.config.min_samples, 30, 'reset keeps the configuration');
  assert.equal(await rest.postOk(`${API}/anomalies/reset`, { metric: 'api_latency_ms', delete: true }), {});
  assertError(await rest.get(`${API}/anomalies/statistics?metric=api_latency_ms`), 404, 'not_found', 'metric');
  assert.ok((await rest.getOk(`${API}/anomalies?metric=api_latency_ms`)).anomalies.length >= 1, 'its past anomalies stay in the history');
});

test('bad samples, filters and configurations are refused naming the field', async () => {
  const sample = (body: Json) => rest.post(`${API}/anomalies/samples`, body);
  assertError(await sample({ metric: 'm', value: 'NaN' }), 400, 'invalid_argument', 'value');
  assertError(await sample({ metric: 'm', value: 'Infinity' }), 400, 'invalid_argument', 'value');
  assertError(await sample({ metric: 'm', value: '-Infinity' }), 400, 'invalid_argument', 'value');
  // Finite, but beyond what the detector's arithmetic holds (alternating +-1e308 used to turn the
  // metric's expected value, bounds and deviation into NaN for good).
  assertError(await sample({ metric: 'm', value: 1e308 }), 400, 'invalid_argument', 'value');
  assertError(await sample({ metric: 'm', value: -1.5e100 }), 400, 'invalid_argument', 'value');
  assertError(await rest.post(`${API}/anomalies/samples/batch`, { samples: [{ metric: 'm', value: 1e100 }, { metric: 'm', value: -1e308 }] }), 400, 'invalid_argument', 'samples[1].value');
  // JSON.stringify writes NaN as null: a null value is refused, not recorded as 0, on REST and on
  // Connect JSON, in a sample, in a batch and in a custom metric's record.
  assertError(await sample({ metric: 'm', value: null }), 400, 'invalid_argument', 'value');
  assert.match((await sample({ metric: 'm', value: null })).json.message, /must be a number, got null/);
  assertError(await rest.post(`${API}/anomalies/samples/batch`, { samples: [{ metric: 'm', value: 1 }, { metric: 'm', value: null }] }), 400, 'invalid_argument', 'samples[1].value');
  assertError(await rest.post(`${API}/metrics/record`, { name: 'm', value: null }), 400, 'invalid_argument', 'value');
  // Integers too: a byte count computed as NaN is no 0 bytes stored.
  assertError(await rest.post(`${API}/business-metrics/storage`, { buckets: 1, objects: 1, total_bytes: null }), 400, 'invalid_argument', 'total_bytes');
  const connectJson = await fetch(`${server.url}/rs3gw.observability.v1.AnomalyService/RecordSample`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ metric: 'm', value: 0 / 0 }),
  });
  assert.is(connectJson.status, 400);
  assert.match(((await connectJson.json()) as { message: string }).message, /^value: must be a number, got null/);
  // A number beyond a double's range, which JSON.parse reads as Infinity, is named as such (it
  // said "got null", how JSON writes Infinity, though no null was sent).
  const tooLarge = await fetch(`${server.url}${API}/anomalies/samples`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"metric":"m","value":-1e400}' });
  assert.is(tooLarge.status, 400);
  assert.match(((await tooLarge.json()) as { message: string }).message, /^value: must be a number .*, got a number beyond the range of a double \(read as -Infinity\)$/);
  assertError(await rest.get(`${API}/anomalies/statistics?metric=m`), 404, 'not_found', 'metric');
  assertError(await sample({ metric: '', value: 1 }), 400, 'invalid_argument', 'metric');
  assertError(await sample({ metric: '9lives', value: 1 }), 400, 'invalid_argument', 'metric');
  assertError(await sample({ metric: 'has space', value: 1 }), 400, 'invalid_argument', 'metric');
  assertError(await sample({ metric: 'x'.repeat(201), value: 1 }), 400, 'invalid_argument', 'metric');

  assertError(await rest.get(`${API}/anomalies?type=bogus`), 400, 'invalid_argument', 'type');
  assertError(await rest.get(`${API}/anomalies?severity=severe`), 400, 'invalid_argument', 'severity');
  assertError(await rest.get(`${API}/anomalies?min_severity=7`), 400, 'invalid_argument', 'min_severity');
  assertError(await rest.get(`${API}/anomalies?limit=10001`), 400, 'invalid_argument', 'limit');
  assertError(await rest.get(`${API}/anomalies?limit=-1`), 400, 'invalid_argument', 'limit');
  assertError(await rest.get(`${API}/anomalies?limit=many`), 400, 'invalid_argument', 'limit');
  assertError(await rest.get(`${API}/anomalies?since=yesterday`), 400, 'invalid_argument', 'since');
  assertError(await rest.get(`${API}/anomalies?after_sequence=-2`), 400, 'invalid_argument', 'after_sequence');
  assertError(await rest.get(`${API}/anomalies?metric=bad%20name`), 400, 'invalid_argument', 'metric');
  assertError(await rest.get(`${API}/anomalies?limit=1&limit=2`), 400, 'invalid_argument', 'limit');
  assertError(await rest.get(`${API}/anomalies/statistics?metric=never_seen`), 404, 'not_found', 'metric');

  const configure = (config: Json) => rest.post(`${API}/anomalies/config`, { metric: 'cfg_test', config });
  assertError(await configure({ detector_parameters: { no_such_knob: 1 } }), 400, 'invalid_argument', 'config.detector_parameters.no_such_knob');
  // Parameters are named as GetStatistics lists them: another spelling of one is no second name for it.
  assertError(await configure({ detector_parameters: { season_slots: 7, seasonSlots: 9 } }), 400, 'invalid_argument', 'config.detector_parameters.seasonSlots');
  assertError(await configure({ anomaly_type: 99 }), 400, 'invalid_argument', 'config.anomaly_type');
  // Errors name the request's own fields, not the engine's.
  assertError(await configure({ severity_thresholds: { low_sigma: 9 } }), 400, 'invalid_argument', 'config.severity_thresholds.medium_sigma');
  assert.match((await configure({ severity_thresholds: { low_sigma: 9 } })).json.message, /must be greater than low_sigma/);
  assertError(await configure({ severity_thresholds: { low_sigma: -1 } }), 400, 'invalid_argument', 'config.severity_thresholds.low_sigma');
  assertError(await configure({ detector_parameters: { clip: 'NaN' } }), 400, 'invalid_argument', 'config.detector_parameters.clip');
  assertError(await configure({ detector_parameters: { variance_long_window: 3 } }), 400, 'invalid_argument', 'config.detector_parameters.variance_long_window');
  assertError(await rest.post(`${API}/anomalies/reset`, { metric: 'never_seen' }), 404, 'not_found', 'metric');
});

test('a batch with one bad sample records nothing', async () => {
  const before = (await rest.getOk(`${API}/anomalies/statistics?metric=cpu_usage_percent`)).statistics[0];
  const bad = await rest.post(`${API}/anomalies/samples/batch`, {
    samples: [
      { metric: 'cpu_usage_percent', value: 50 },
      { metric: 'brand_new_metric', value: 1 },
      { metric: 'cpu_usage_percent', value: 'NaN' },
    ],
  });
  assertError(bad, 400, 'invalid_argument', 'samples[2].value');
  const badName = await rest.post(`${API}/anomalies/samples/batch`, { samples: [{ metric: 'cpu_usage_percent', value: 1 }, { metric: '', value: 1 }] });
  assertError(badName, 400, 'invalid_argument', 'samples[1].metric');
  assert.equal((await rest.getOk(`${API}/anomalies/statistics?metric=cpu_usage_percent`)).statistics[0], before, 'baseline unchanged');
  assertError(await rest.get(`${API}/anomalies/statistics?metric=brand_new_metric`), 404, 'not_found', 'metric');
});

test('the health report summarises the anomalies', async () => {
  const h = await rest.getOk(`${API}/health`);
  const a = h.anomalies;
  const list = await rest.getOk(`${API}/anomalies`);
  assert.is(a.total_detected, list.last_sequence);
  assert.is(a.recent[0].sequence, list.anomalies[0].sequence);
  assert.ok(a.metrics_tracked >= 2);
  const bySeverity = Object.fromEntries(a.last_hour_by_severity.map((s: Json) => [s.severity, int(s.count)]));
  assert.equal(Object.keys(bySeverity), ['ANOMALY_SEVERITY_LOW', 'ANOMALY_SEVERITY_MEDIUM', 'ANOMALY_SEVERITY_HIGH', 'ANOMALY_SEVERITY_CRITICAL']);
  // Every anomaly so far was detected in this run, from samples dated months ago: they count as
  // detected in the last hour, and the severe ones as recent, by when they were detected.
  const all = await rest.getOk(`${API}/anomalies?limit=10000`);
  assert.is(int(a.last_hour), all.anomalies.length);
  const severe = all.anomalies.filter((x: Json) => ['ANOMALY_SEVERITY_HIGH', 'ANOMALY_SEVERITY_CRITICAL'].includes(x.severity)).length;
  assert.ok(severe >= 1, 'the spike test raised a critical anomaly');
  assert.is.not(h.status, 'HEALTH_STATUS_HEALTHY');
  assert.ok(h.reasons.includes(`${severe} high or critical anomalies in the last 5 minutes`), JSON.stringify(h.reasons));
});

/** The anomaly detector's metric limit as /metrics and the health report show it. */
async function metricLimitSeen(c: Rest): Promise<Json> {
  const r = await c.get('/metrics');
  assert.is(r.status, 200);
  const value = (name: string) => {
    const line = r.text.split('\n').find((l) => l.startsWith(`${name} `));
    assert.ok(line, `${name} is on /metrics`);
    return Number(line.slice(name.length + 1));
  };
  const health = (await c.getOk(`${API}/health`)).anomalies;
  return {
    tracked: value('rs3gw_anomaly_metrics_tracked'),
    limit: value('rs3gw_anomaly_metrics_limit'),
    refused: value('rs3gw_anomaly_samples_refused_at_metric_limit_total'),
    health: [health.metrics_tracked, health.metrics_limit, health.metrics_at_limit ?? false],
  };
}

test('RS3GW_ANOMALY_MAX_METRICS: the metric beyond the cap is refused with 429 and counted on /metrics; deleting one frees a slot', async () => {
  const capped = await startRestServer({ RS3GW_ANOMALY_MAX_METRICS: '3' });
  try {
    const c = new Rest(capped.url);
    assert.equal(await metricLimitSeen(c), { tracked: 0, limit: 3, refused: 0, health: [0, 3, false] });
    for (const m of ['m1', 'm2', 'm3']) await c.postOk(`${API}/anomalies/samples`, { metric: m, value: 1 });
    assert.equal(await metricLimitSeen(c), { tracked: 3, limit: 3, refused: 0, health: [3, 3, true] }, 'full, nothing refused yet');
    const REFUSING = "samples of new metrics refused in the last 5 minutes at the anomaly detector's limit of 3 metrics (RS3GW_ANOMALY_MAX_METRICS)";
    assert.not.ok((await c.getOk(`${API}/health`)).reasons.includes(REFUSING), 'full is not yet refusing');
    assertError(await c.post(`${API}/anomalies/samples`, { metric: 'm4', value: 1 }), 429, 'resource_exhausted', 'metric');
    assertError(await c.post(`${API}/anomalies/config`, { metric: 'm4', config: {} }), 429, 'resource_exhausted', 'metric');
    assertError(
      await c.post(`${API}/anomalies/samples/batch`, { samples: [{ metric: 'm1', value: 2 }, { metric: 'm4', value: 1 }] }),
      429,
      'resource_exhausted',
      'samples',
    );
    // One sample, then a batch of two refused whole; a configuration is not a sample.
    assert.equal(await metricLimitSeen(c), { tracked: 3, limit: 3, refused: 3, health: [3, 3, true] });
    // New metrics go unwatched: the verdict says so, and for how long it will.
    const refusing = await c.getOk(`${API}/health`);
    assert.is(refusing.status, 'HEALTH_STATUS_DEGRADED', refusing.reasons.join('; '));
    assert.ok(refusing.reasons.includes(REFUSING), refusing.reasons.join('; '));
    assert.is((await c.getOk(`${API}/anomalies/statistics?metric=m1`)).statistics[0].count, '1', 'the refused batch applied nothing');
    await c.postOk(`${API}/anomalies/samples`, { metric: 'm1', value: 2 });
    assert.equal((await c.getOk(`${API}/anomalies/statistics`)).statistics.map((s: Json) => s.metric), ['m1', 'm2', 'm3']);
    await c.postOk(`${API}/anomalies/reset`, { metric: 'm2', delete: true });
    await c.postOk(`${API}/anomalies/samples`, { metric: 'm4', value: 1 });
    assert.equal((await c.getOk(`${API}/anomalies/statistics`)).statistics.map((s: Json) => s.metric), ['m1', 'm3', 'm4']);
    await c.postOk(`${API}/anomalies/reset`, { metric: 'm4', delete: true });
    assert.equal(await metricLimitSeen(c), { tracked: 2, limit: 3, refused: 3, health: [2, 3, false] });
  } finally {
    await capped.stop();
  }
});

test('RS3GW_ANOMALY_MAX_SEASON_SLOTS: a new metric refused for want of slots is counted on /metrics and seen in the health report', async () => {
  const capped = await startRestServer({ RS3GW_ANOMALY_MAX_METRICS: '5' });
  try {
    const c = new Rest(capped.url);
    await c.postOk(`${API}/anomalies/config`, { metric: 'weekly', config: { detector_parameters: { season_slots: 1440 } } });
    // One metric of five, but the slots (288 x 5 by default) are all held: a new metric is refused.
    assert.equal(await metricLimitSeen(c), { tracked: 1, limit: 5, refused: 0, health: [1, 5, true] });
    const refused = await c.post(`${API}/anomalies/samples`, { metric: 'fresh', value: 1 });
    assertError(refused, 429, 'resource_exhausted', 'metric');
    assert.match(refused.text, /seasonal profile slots are limited to 1440 .*a new metric takes the default 288/);
    assertError(await c.post(`${API}/anomalies/samples/batch`, { samples: [{ metric: 'weekly', value: 1 }, { metric: 'fresh', value: 1 }] }), 429, 'resource_exhausted', 'samples');
    assert.equal(await metricLimitSeen(c), { tracked: 1, limit: 5, refused: 3, health: [1, 5, true] });
    const h = await c.getOk(`${API}/health`);
    assert.is(h.status, 'HEALTH_STATUS_DEGRADED', h.reasons.join('; '));
    assert.equal(h.reasons, ["samples of new metrics refused in the last 5 minutes at the anomaly detector's limit of 1440 seasonal profile slots (RS3GW_ANOMALY_MAX_SEASON_SLOTS)"]);
    // Fewer slots for the weekly metric leave room for a new one.
    await c.postOk(`${API}/anomalies/config`, { metric: 'weekly', config: { detector_parameters: { season_slots: 288 } } });
    assert.equal(await metricLimitSeen(c), { tracked: 1, limit: 5, refused: 3, health: [1, 5, false] });
    await c.postOk(`${API}/anomalies/samples`, { metric: 'fresh', value: 1 });
  } finally {
    await capped.stop();
  }
});

test('RS3GW_ANOMALY_HISTORY_SIZE: the history never holds more than its size', async () => {
  const capped = await startRestServer({ RS3GW_ANOMALY_HISTORY_SIZE: '3' });
  try {
    const c = new Rest(capped.url);
    // Five metrics, each steady then one spike: five anomalies, of which the newest three are kept.
    const samples: Json[] = [];
    for (let m = 0; m < 5; m++) {
      samples.push(...steady(`svc${m}_latency_ms`, 150), { metric: `svc${m}_latency_ms`, value: 5000, time: at(150) });
    }
    const r = await c.postOk(`${API}/anomalies/samples/batch`, { samples });
    const raised = r.assessments.filter((a: Json) => a.anomaly).map((a: Json) => int(a.anomaly.sequence));
    assert.ok(raised.length >= 5, `anomalies raised: ${raised.length}`);
    const list = await c.getOk(`${API}/anomalies`);
    assert.is(int(list.last_sequence), raised.length, 'every anomaly got a sequence number');
    assert.is(list.anomalies.length, 3, 'only the history size is kept');
    assert.equal(list.anomalies.map((a: Json) => int(a.sequence)), [raised.length, raised.length - 1, raised.length - 2], 'the newest are kept');
    // limit follows the documented maximum (10,000), not the history size.
    assert.is((await c.getOk(`${API}/anomalies?limit=4`)).anomalies.length, 3);
    assert.is((await c.getOk(`${API}/anomalies?limit=10000`)).anomalies.length, 3);
    assertError(await c.get(`${API}/anomalies?limit=10001`), 400, 'invalid_argument', 'limit');
    assert.is((await c.getOk(`${API}/anomalies?limit=3`)).anomalies.length, 3);
    // The health report counts every anomaly detected, not the three the history still holds.
    const severities = r.assessments.filter((a: Json) => a.anomaly).map((a: Json) => a.anomaly.severity);
    const severe = severities.filter((s: string) => ['ANOMALY_SEVERITY_HIGH', 'ANOMALY_SEVERITY_CRITICAL'].includes(s)).length;
    assert.ok(severe >= 4, `severe anomalies raised: ${severe}`);
    const h = await c.getOk(`${API}/health`);
    assert.is(int(h.anomalies.last_hour), raised.length);
    const bySeverity = Object.fromEntries(h.anomalies.last_hour_by_severity.map((s: Json) => [s.severity, int(s.count)]));
    assert.is(bySeverity.ANOMALY_SEVERITY_CRITICAL, severities.filter((s: string) => s === 'ANOMALY_SEVERITY_CRITICAL').length);
    assert.ok(h.reasons.includes(`${severe} high or critical anomalies in the last 5 minutes`), JSON.stringify(h.reasons));
  } finally {
    await capped.stop();
  }
});

test('GetStatistics pages through all metrics by name; a page stays well under 4 MiB', async () => {
  const paged = await startRestServer();
  try {
    const c = new Rest(paged.url);
    // 1,200 metrics with the longest names allowed: the largest statistics entries there are.
    const names = Array.from({ length: 1200 }, (_, i) => `m${String(i).padStart(4, '0')}_${'x'.repeat(194)}`);
    await c.postOk(`${API}/anomalies/samples/batch`, { samples: names.map((metric, i) => ({ metric, value: i })) });
    const first = await c.getOk(`${API}/anomalies/statistics`);
    assertSnakeCase(first);
    assert.is(first.statistics.length, 500, 'default page size');
    assert.equal(first.statistics.map((s: Json) => s.metric), names.slice(0, 500));
    assert.type(first.next_page_token, 'string');
    assert.ok(first.next_page_token.length > 0);
    const all: string[] = [];
    let token = '';
    for (let pages = 0; ; pages++) {
      assert.ok(pages < 10, 'paging ends');
      const page = await c.getOk(`${API}/anomalies/statistics?page_size=450${token ? `&page_token=${encodeURIComponent(token)}` : ''}`);
      all.push(...page.statistics.map((s: Json) => s.metric));
      token = page.next_page_token;
      if (token === '') break;
    }
    assert.equal(all, names, 'every metric once, by name');
    assert.is((await c.getOk(`${API}/anomalies/statistics?page_size=5000`)).statistics.length, 1000, 'page_size above 1,000 is lowered to it');
    assert.is((await c.getOk(`${API}/anomalies/statistics?page_size=1200`)).next_page_token, (await c.getOk(`${API}/anomalies/statistics?page_size=1000`)).next_page_token);
    assertError(await c.get(`${API}/anomalies/statistics?page_size=-1`), 400, 'invalid_argument', 'page_size');
    assertError(await c.get(`${API}/anomalies/statistics?page_token=bogus`), 400, 'invalid_argument', 'page_token');
    // The largest page, in binary Protobuf as gRPC sends it: far from the 4 MiB default limit.
    const grpc = createObservabilityClient(paged.url, { protocol: 'grpc' });
    const biggest = await grpc.anomalies.getStatistics({ pageSize: 1000 });
    assert.is(biggest.statistics.length, 1000);
    const bytes = toBinary(GetStatisticsResponseSchema, biggest).length;
    assert.ok(bytes < 2 * 1024 * 1024, `${bytes} bytes for 1,000 metrics`);
    // One metric by name ignores paging.
    assert.is((await grpc.anomalies.getStatistics({ metric: names[7], pageSize: 1 })).statistics[0].metric, names[7]);
    // A page token with one metric would be dropped without a word: refused, naming both.
    const pairing = /^page_token: pages through all metrics, and is not taken with metric \(one metric has no pages\): send one or the other$/;
    const refused = await grpc.anomalies.getStatistics({ metric: names[7], pageToken: first.next_page_token }).then(
      () => undefined,
      (e: unknown) => e as { code: number; rawMessage: string },
    );
    assert.is(refused?.code, 3, 'INVALID_ARGUMENT');
    assert.match(refused!.rawMessage, pairing);
    assertError(await c.get(`${API}/anomalies/statistics?metric=${names[7]}&page_token=${encodeURIComponent(first.next_page_token)}`), 400, 'invalid_argument', pairing);
  } finally {
    await paged.stop();
  }
});

test('with RS3GW_ANOMALY_HISTORY_SIZE below 10 the health report still answers', async () => {
  const capped = await startRestServer({ RS3GW_ANOMALY_HISTORY_SIZE: '3' });
  try {
    const c = new Rest(capped.url);
    // GetHealthReport takes no parameter, so no size of the history may turn it into a 400.
    const h = await c.getOk(`${API}/health`);
    assert.is(h.anomalies.total_detected, '0');
    assert.equal(h.anomalies.recent, []);
  } finally {
    await capped.stop();
  }
});

test('a sample dated more than 60 s ahead of the server is refused, as request events are; less is taken as now', async () => {
  // It was accepted and stood as the metric's last_update_time until 2099 (or 9999-12-31).
  for (const time of ['2099-01-01T00:00:00Z', '9999-12-31T23:59:59.9999Z', new Date(Date.now() + 3_600_000).toISOString()]) {
    const r = await rest.post(`${API}/anomalies/samples`, { metric: 'future_single', value: 1, time });
    assertError(r, 400, 'invalid_argument', 'time');
    assert.is(r.json.message, 'time: is more than 60 s in the future', time);
  }
  assertError(await rest.get(`${API}/anomalies/statistics?metric=future_single`), 404, 'not_found', 'metric');

  // A client clock running a little fast: the sample counts, dated now.
  const sent = Date.now();
  const skewed = await rest.postOk(`${API}/anomalies/samples`, { metric: 'future_skewed', value: 1, time: new Date(sent + 30_000).toISOString() });
  const kept = timeMs(skewed.assessment.time);
  assert.ok(kept >= sent - 1_000 && kept <= Date.now() + 1_000, `taken as now: ${skewed.assessment.time}`);
  const stats = (await rest.getOk(`${API}/anomalies/statistics?metric=future_skewed`)).statistics[0];
  assert.is(timeMs(stats.last_update_time), kept);

  // A batch is all or nothing: one sample dated ahead refuses it, naming the sample, and its
  // metric, new, is not created.
  const batch = [...steady('future_batch', 3), { metric: 'future_batch', value: 1, time: '2099-01-01T00:00:00Z' }];
  const b = await rest.post(`${API}/anomalies/samples/batch`, { samples: batch });
  assertError(b, 400, 'invalid_argument', 'samples[3].time');
  assert.is(b.json.message, 'samples[3].time: is more than 60 s in the future');
  assertError(await rest.get(`${API}/anomalies/statistics?metric=future_batch`), 404, 'not_found', 'metric');
});

test.run();
