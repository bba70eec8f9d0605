import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ObservabilityError } from '../../../src/core/errors.js';
import { AnomalyEngine, inferAnomalyType, type AnomalyEngineOptions } from '../../../src/core/anomaly/index.js';
import { FakeClock } from '../../support/fake-clock.js';
import { WallAndMonotonic } from '../../support/wall-and-monotonic.js';
import { normal, timeAt } from './signals.js';

function engine(opts: Partial<AnomalyEngineOptions> = {}): { engine: AnomalyEngine; clock: FakeClock } {
  const clock = new FakeClock();
  return { engine: new AnomalyEngine({ clock, ...opts }), clock };
}

function throwsError(fn: () => unknown, kind: string, field: string): ObservabilityError {
  try {
    fn();
  } catch (e) {
    assert.instance(e, ObservabilityError);
    const err = e as ObservabilityError;
    assert.is(err.kind, kind, err.message);
    assert.is(err.field, field, err.message);
    assert.ok(err.message.startsWith(`${field}: `), err.message);
    return err;
  }
  assert.unreachable(`expected ${kind} on ${field}`);
  throw new Error('unreachable');
}

/** Feeds `n` samples alternating around `level`: a steady baseline that raises no anomaly. */
function warm(e: AnomalyEngine, metric: string, n: number, level = 100): void {
  for (let i = 0; i < n; i++) assert.is(e.record(metric, level + (i % 2 === 0 ? -1 : 1), timeAt(i)).anomaly, undefined);
}

test('record validates the metric name, value and time, naming the field', () => {
  const { engine: e } = engine();
  throwsError(() => e.record('', 1), 'invalid_argument', 'metric');
  throwsError(() => e.record('x'.repeat(201), 1), 'invalid_argument', 'metric');
  throwsError(() => e.record('9bad', 1), 'invalid_argument', 'metric');
  throwsError(() => e.record('has space', 1), 'invalid_argument', 'metric');
  throwsError(() => e.record('ok', Number.NaN), 'invalid_argument', 'value');
  throwsError(() => e.record('ok', Number.POSITIVE_INFINITY), 'invalid_argument', 'value');
  throwsError(() => e.record('ok', 1, Number.NaN), 'invalid_argument', 'time_ms');
  assert.is(e.metricCount, 0);
  assert.ok(e.record('http:requests.total-x_1', 1));
});

test('a sample is scored against the baseline before it joins it; time defaults to the clock', () => {
  const { engine: e, clock } = engine();
  warm(e, 'api_latency_ms', 300);
  const before = e.record('api_latency_ms', 100, timeAt(300));
  const spike = e.record('api_latency_ms', 400, timeAt(301));
  // The spike's expected value is the old level, not pulled up by the spike itself.
  assert.ok(Math.abs(spike.expected - before.expected) < 1, `${spike.expected} vs ${before.expected}`);
  assert.ok(spike.value > spike.upper && spike.lower < spike.expected);
  assert.ok(spike.deviationSigma > 50, `${spike.deviationSigma}`);
  assert.ok(spike.anomaly);
  const event = spike.anomaly!;
  assert.is(event.anomalyType, 'latency_spike');
  assert.is(event.severity, 'critical');
  assert.is(event.direction, 'above');
  assert.is(event.detector, 'ensemble/spike');
  assert.is(event.timeMs, timeAt(301));
  assert.is(event.detectedAtMs, clock.nowMs());
  assert.is(event.sequence, 1);
  assert.is(spike.samplesSeen, 302);
  assert.is(spike.warmingUp, false);
  clock.advance(5000);
  assert.is(e.record('api_latency_ms', 100).timeMs, clock.nowMs());
});

test('a perfectly flat series raises a critical anomaly when it moves; a constant one never does', () => {
  const { engine: e } = engine();
  const flat = (metric: string, n: number, v: number) => {
    for (let i = 0; i < n; i++) assert.is(e.record(metric, v, timeAt(i)).anomaly, undefined, `${metric}[${i}]`);
  };
  // 100x spike on a flat gauge, an error count at 0 that jumps, a flat rate that collapses.
  const cases: Array<[string, number, number, number, 'above' | 'below']> = [
    ['flat_spike', 250, 10, 1000, 'above'],
    ['upload_errors', 200, 0, 50, 'above'],
    ['request_rate', 200, 100, 1, 'below'],
  ];
  for (const [metric, n, level, value, direction] of cases) {
    flat(metric, n, level);
    const a = e.record(metric, value, timeAt(n));
    assert.is(a.warmingUp, false);
    assert.ok(a.score > 0.99, `${metric}: score ${a.score}`);
    assert.ok(a.anomaly, `${metric}: ${level} x ${n}, then ${value} raises an anomaly`);
    assert.is(a.anomaly!.severity, 'critical', metric);
    assert.is(a.anomaly!.direction, direction, metric);
    assert.is(a.anomaly!.detector, 'ensemble/spike', metric);
  }
  // The same spike recurring on the flat gauge is reported again, and nothing else is (a day after
  // a spike, its phase is not expected to spike again).
  const again: Array<[number, string]> = [];
  for (let i = 251; i < 2000; i++) {
    const anomaly = e.record('flat_spike', i % 400 === 0 ? 1000 : 10, timeAt(i)).anomaly;
    if (anomaly) again.push([i, anomaly.detector]);
  }
  assert.equal(again.slice(0, 2), [[400, 'ensemble/spike'], [800, 'ensemble/spike']]);
  assert.ok(again.every(([i]) => i % 400 === 0), `alarms at ${again.map(([i]) => i)}`);
  // Constant series stay silent whatever their level; rounding-size changes are not anomalies.
  for (const level of [0, 18, -3e5, 1e100]) flat(`constant_${String(level).replace(/[^0-9a-z]/g, '_')}`, 5000, level);
  // A change within the resolution (1e-12 of the level), kept, flipped back and forth, is no anomaly
  // either: neither the first such sample nor those after it.
  const roundings: Array<[string, number, number]> = [
    ['rounding', 0.3, 0.1 + 0.2],
    ['rounding_gib', 7, 7.000000000000001],
    ['rounding_petabyte', 1e15, 1e15 + 1],
  ];
  for (const [metric, level, changed] of roundings) {
    flat(metric, 200, level);
    const raised: number[] = [];
    for (let i = 200; i < 1200; i++) {
      const value = i < 600 || (i >= 900 && i % 3 === 0) ? changed : level;
      if (e.record(metric, value, timeAt(i)).anomaly) raised.push(i);
    }
    assert.equal(raised, [], `${metric}: ${level}, then ${changed}`);
  }
});

test('values beyond 1e100 in magnitude are refused; up to it a metric never turns to NaN', () => {
  const { engine: e } = engine();
  for (const v of [1e308, -1e308, Number.MAX_VALUE, 1.0000001e100, -2e100]) throwsError(() => e.record('huge', v), 'invalid_argument', 'value');
  throwsError(() => e.recordBatch([{ metric: 'huge', value: 1 }, { metric: 'huge', value: 1.7e308 }]), 'invalid_argument', 'samples[1].value');
  assert.is(e.metricCount, 0, 'nothing recorded');
  // The largest accepted values, alternating, then ordinary ones: every output stays finite.
  for (let i = 0; i < 600; i++) {
    const v = i < 300 ? (i % 2 === 0 ? 1e100 : -1e100) : 5 + (i % 7);
    const a = e.record('huge', v, timeAt(i));
    for (const [k, x] of Object.entries({ score: a.score, expected: a.expected, lower: a.lower, upper: a.upper, deviationSigma: a.deviationSigma })) {
      assert.ok(Number.isFinite(x), `sample ${i}: ${k} = ${x}`);
    }
  }
  const [s] = e.statistics('huge');
  assert.ok(Number.isFinite(s.mean) && Number.isFinite(s.stdDev), `mean ${s.mean}, std_dev ${s.stdDev}`);
});

test('warming up: no anomalies below min_samples', () => {
  const { engine: e } = engine();
  e.configure('cpu_usage', { minSamples: 50 });
  for (let i = 0; i < 50; i++) {
    const a = e.record('cpu_usage', i % 5 === 0 ? 1000 : 1, timeAt(i));
    assert.ok(a.warmingUp);
    assert.is(a.anomaly, undefined);
  }
  assert.is(e.record('cpu_usage', 1, timeAt(50)).warmingUp, false);
});

test('a change of how a metric learns starts its warm-up again; a new type or thresholds keep what was learned', () => {
  const { engine: e } = engine();
  warm(e, 'm', 300);
  e.configure('m', { anomalyType: 'cpu_spike', severityThresholds: { low: 2, medium: 3, high: 4, critical: 6 } });
  assert.is(e.record('m', 100, timeAt(300)).warmingUp, false, 'type and thresholds: learned state kept');
  e.configure('m', { restSamples: 50 });
  const after = e.record('m', 200, timeAt(301));
  assert.ok(after.warmingUp, 'rest_samples changed: warming up again');
  assert.is(after.anomaly, undefined);
  assert.is(after.samplesSeen, 302, 'samples_seen counts all');
});

test('severity follows the deviation and the configured thresholds', () => {
  const { engine: e } = engine();
  e.configure('disk_used', { severityThresholds: { low: 10, medium: 1000, high: 2000, critical: 3000 } });
  warm(e, 'disk_used', 300);
  const a = e.record('disk_used', 130, timeAt(300));
  assert.ok(a.anomaly, 'anomaly raised');
  assert.is(a.anomaly!.severity, 'low');
  assert.is(a.anomaly!.anomalyType, 'storage_growth_anomaly');
});

test('sequences are strictly increasing and unique across metrics', () => {
  const { engine: e } = engine();
  warm(e, 'a_latency', 300);
  warm(e, 'b_errors', 300);
  const s1 = e.record('a_latency', 1000, timeAt(400)).anomaly!.sequence;
  const s2 = e.record('b_errors', 1000, timeAt(400)).anomaly!.sequence;
  assert.is(s2, s1 + 1);
  assert.is(e.lastSequence, s2);
});

test('recordBatch validates everything first: a bad batch changes nothing', () => {
  const { engine: e } = engine();
  e.record('x', 1);
  throwsError(
    () => e.recordBatch([{ metric: 'x', value: 2 }, { metric: 'y', value: 3 }, { metric: 'z', value: 1 }, { metric: 'w', value: Number.NaN }]),
    'invalid_argument',
    'samples[3].value',
  );
  throwsError(() => e.recordBatch([{ metric: 'x', value: 2 }, { metric: 'bad name', value: 3 }]), 'invalid_argument', 'samples[1].metric');
  assert.is(e.metricCount, 1);
  assert.is(e.statistics('x')[0].count, 1);
  const out = e.recordBatch([{ metric: 'x', value: 2 }, { metric: 'y', value: 3, timeMs: 5 }]);
  assert.equal(out.map((a) => [a.metric, a.value, a.samplesSeen]), [['x', 2, 2], ['y', 3, 1]]);
  assert.is(out[1].timeMs, 5);
});

test('recordBatch size is capped', () => {
  const { engine: e } = engine({ limits: { maxBatchSize: 3 } });
  throwsError(() => e.recordBatch(Array.from({ length: 4 }, () => ({ metric: 'x', value: 1 }))), 'invalid_argument', 'samples');
  assert.is(e.recordBatch(Array.from({ length: 3 }, () => ({ metric: 'x', value: 1 }))).length, 3);
});

test('the number of metrics is capped, also for batches and configure; delete frees a slot', () => {
  const { engine: e } = engine({ limits: { maxMetrics: 3 } });
  e.record('m1', 1);
  e.record('m2', 1);
  e.record('m3', 1);
  throwsError(() => e.record('m4', 1), 'resource_exhausted', 'metric');
  throwsError(() => e.configure('m4', { minSamples: 5 }), 'resource_exhausted', 'metric');
  throwsError(() => e.recordBatch([{ metric: 'm1', value: 1 }, { metric: 'm5', value: 1 }]), 'resource_exhausted', 'samples');
  assert.is(e.metricCount, 3);
  assert.is(e.statistics('m1')[0].count, 1, 'the rejected batch did not apply its first sample');
  e.record('m1', 2);
  e.delete('m2');
  e.record('m4', 1);
  assert.equal(e.statistics().map((s) => s.metric), ['m1', 'm3', 'm4']);
});

test('anomaly types are inferred from names and can be overridden', () => {
  const cases: Array<[string, string]> = [
    ['http_request_duration_seconds', 'latency_spike'],
    ['rtt_ms', 'latency_spike'],
    ['s3_errors_total', 'error_rate_increase'],
    ['upload_failures', 'error_rate_increase'],
    ['network_bandwidth', 'throughput_drop'],
    ['bytes_per_second', 'throughput_drop'],
    ['process_cpu_seconds', 'cpu_spike'],
    ['heap_used', 'memory_spike'],
    ['process_rss', 'memory_spike'],
    ['disk_free', 'storage_growth_anomaly'],
    ['bytes_stored', 'storage_growth_anomaly'],
    ['http_requests', 'request_rate_anomaly'],
    ['qps', 'request_rate_anomaly'],
    ['temperature', 'other'],
    ['requestLatencyMs', 'latency_spike'],
    ['nodejs_heap_size_used_bytes', 'memory_spike'],
    ['go_memstats_alloc_bytes', 'memory_spike'],
    ['cache_hit_rate', 'request_rate_anomaly'],
    ['error_rate', 'error_rate_increase'],
    ['login_failed', 'error_rate_increase'],
    ['failing_requests', 'error_rate_increase'],
    ['JVMHeapUsed', 'memory_spike'],
    ['RSSBytes', 'memory_spike'],
    ['ru_maxrss', 'memory_spike'],
    ['shmem_bytes', 'memory_spike'],
    ['offheap_bytes', 'memory_spike'],
    ['tcp_srtt_ms', 'latency_spike'],
    ['QPSTotal', 'request_rate_anomaly'],
    // Words that only contain a stem: no memory, request-rate or error metrics.
    ['inf_active_members', 'other'],
    ['cheap_items', 'other'],
    ['generated_reports', 'other'],
    ['moderate_load', 'other'],
    ['failover_count', 'other'],
  ];
  for (const [name, type] of cases) assert.is(inferAnomalyType(name), type, name);
  const { engine: e } = engine();
  assert.is(e.getConfig('heap_used').anomalyType, 'memory_spike');
  assert.is(e.configure('heap_used', { anomalyType: 'other' }).anomalyType, 'other');
  assert.is(e.getConfig('heap_used').anomalyType, 'other');
});

test('configure validates every field and names it; a bad patch changes nothing', () => {
  const { engine: e } = engine();
  const before = e.configure('m', { minSamples: 20 });
  throwsError(() => e.configure('m', { minSamples: 0 }), 'invalid_argument', 'config.min_samples');
  throwsError(() => e.configure('m', { minSamples: 1.5 }), 'invalid_argument', 'config.min_samples');
  throwsError(() => e.configure('m', { windowSize: 1 }), 'invalid_argument', 'config.window_size');
  throwsError(() => e.configure('m', { restSamples: -1 }), 'invalid_argument', 'config.rest_samples');
  throwsError(() => e.configure('m', { anomalyType: 'nope' as never }), 'invalid_argument', 'config.anomaly_type');
  throwsError(() => e.configure('m', { severityThresholds: { low: 0 } }), 'invalid_argument', 'config.severity_thresholds.low_sigma');
  throwsError(() => e.configure('m', { severityThresholds: { medium: 2 } }), 'invalid_argument', 'config.severity_thresholds.medium_sigma');
  throwsError(() => e.configure('m', { severityThresholds: { critical: 4 } }), 'invalid_argument', 'config.severity_thresholds.critical_sigma');
  throwsError(() => e.configure('m', { detector: { alarmMargin: 0.5 } }), 'invalid_argument', 'config.detector_parameters.alarm_margin');
  throwsError(() => e.configure('m', { detector: { seasonSlots: 1_000_000 } }), 'invalid_argument', 'config.detector_parameters.season_slots');
  throwsError(() => e.configure('m', { detector: { varianceLongWindow: 10 } }), 'invalid_argument', 'config.detector_parameters.variance_long_window');
  throwsError(() => e.configure('m', { detector: { seasonAlpha: Number.NaN } }), 'invalid_argument', 'config.detector_parameters.season_alpha');
  throwsError(() => e.configure('m', { detector: { bogus: 1 } as never }), 'invalid_argument', 'config.detector_parameters.bogus');
  throwsError(() => e.configure('m', { bogus: 1 } as never), 'invalid_argument', 'config.bogus');
  assert.equal(e.getConfig('m'), before);
  const after = e.configure('m', { severityThresholds: { critical: 9 }, detector: { seasonSlots: 0 } });
  assert.equal(after.severityThresholds, { low: 2, medium: 3, high: 4, critical: 9 });
  assert.is(after.detector.seasonSlots, 0);
  assert.is(after.minSamples, 20);
});

test('engine defaults and limits are validated', () => {
  throwsError(() => new AnomalyEngine({ clock: new FakeClock(), limits: { maxMetrics: 0 } }), 'invalid_argument', 'limits.max_metrics');
  throwsError(() => new AnomalyEngine({ clock: new FakeClock(), defaults: { minSamples: -3 } }), 'invalid_argument', 'defaults.min_samples');
  const e = new AnomalyEngine({ clock: new FakeClock(), defaults: { minSamples: 7 } });
  assert.is(e.getConfig('anything').minSamples, 7);
});

test('seasonal slots are capped across metrics: more is resource_exhausted naming the field and the setting', () => {
  const { engine: e } = engine({ limits: { maxMetrics: 100, maxSeasonSlots: 1_000 }, limitSettings: { maxSeasonSlots: 'RS3GW_ANOMALY_MAX_SEASON_SLOTS' } });
  const field = 'config.detector_parameters.season_slots';
  e.configure('weekly', { detector: { seasonSlots: 600 } });
  const refusal = throwsError(() => e.configure('other', { detector: { seasonSlots: 401 } }), 'resource_exhausted', field);
  assert.match(refusal.message, /limited to 1000 across all metrics and 600 are held by others; "other" asks for 401\..*raise RS3GW_ANOMALY_MAX_SEASON_SLOTS$/);
  assert.is(e.metricCount, 1, 'a refused metric is not created');
  // Growing a metric's own profile counts only what it adds; shrinking one frees slots.
  throwsError(() => e.configure('weekly', { detector: { seasonSlots: 1_001 } }), 'resource_exhausted', field);
  assert.is(e.getConfig('weekly').detector.seasonSlots, 600, 'a refused patch changes nothing');
  e.configure('weekly', { detector: { seasonSlots: 1_000 } });
  e.configure('weekly', { detector: { seasonSlots: 100 } });
  e.configure('other', { detector: { seasonSlots: 600 } });
  assert.is(e.seasonSlotCount, 700);
  // Metrics created by samples take the default profile (288 slots) from the same budget.
  e.record('first_by_sample', 1);
  assert.is(e.seasonSlotCount, 988);
  throwsError(() => e.record('second_by_sample', 1), 'resource_exhausted', 'metric');
  throwsError(() => e.recordBatch([{ metric: 'weekly', value: 1 }, { metric: 'new_in_batch', value: 1 }]), 'resource_exhausted', 'samples');
  assert.is(e.statistics('weekly')[0].count, 0, 'a refused batch records nothing');
  // Without a profile a metric holds no slots; resetting keeps them, deleting frees them.
  e.configure('flat', { detector: { seasonSlots: 0 } });
  e.reset('other');
  assert.is(e.seasonSlotCount, 988);
  e.delete('other');
  assert.is(e.seasonSlotCount, 388);
  e.record('second_by_sample', 1);
  assert.is(e.seasonSlotCount, 676);
});

test('samples of new metrics refused for seasonal slots are counted as refused at the metric limit, which says it is reached', () => {
  const clock = new FakeClock();
  const e = new AnomalyEngine({ clock, intervals: clock, limits: { maxMetrics: 5 } });
  e.configure('weekly', { detector: { seasonSlots: 5 * 288 } });
  assert.is(e.metricCount, 1);
  assert.is(e.newMetricsRefused, true, 'one metric of five, but no slots left for a new one');
  assert.equal([e.samplesRefusedAtMetricLimit, e.msSinceNewMetricRefused('maxSeasonSlots')], [0, undefined]);
  throwsError(() => e.record('fresh', 1), 'resource_exhausted', 'metric');
  throwsError(() => e.recordBatch([{ metric: 'weekly', value: 1 }, { metric: 'fresh', value: 1 }]), 'resource_exhausted', 'samples');
  // A configuration is no sample: refused, not counted.
  throwsError(() => e.configure('other', { detector: { seasonSlots: 1 } }), 'resource_exhausted', 'config.detector_parameters.season_slots');
  assert.is(e.samplesRefusedAtMetricLimit, 3);
  clock.advance(1_000);
  assert.equal([e.msSinceNewMetricRefused('maxSeasonSlots'), e.msSinceNewMetricRefused('maxMetrics')], [1_000, undefined]);
  // Known metrics are still taken, and a new one once slots are free.
  e.record('weekly', 1);
  e.configure('weekly', { detector: { seasonSlots: 4 * 288 } });
  assert.is(e.newMetricsRefused, false);
  e.record('fresh', 1);
  assert.is(e.newMetricsRefused, true, 'the slots are held again');
});

test('by default every metric up to maxMetrics can keep the default seasonal profile, and no more slots', () => {
  assert.is(new AnomalyEngine({ clock: new FakeClock() }).limits.maxSeasonSlots, 10_000 * 288);
  const { engine: e } = engine({ limits: { maxMetrics: 3 } });
  assert.is(e.limits.maxSeasonSlots, 3 * 288);
  for (const m of ['a', 'b', 'c']) e.record(m, 1);
  e.configure('c', { detector: { seasonSlots: 0 } });
  throwsError(() => e.configure('a', { detector: { seasonSlots: 289 + 288 } }), 'resource_exhausted', 'config.detector_parameters.season_slots');
  e.configure('a', { detector: { seasonSlots: 288 + 288 } });
  throwsError(() => new AnomalyEngine({ clock: new FakeClock(), limits: { maxSeasonSlots: 0 } }), 'invalid_argument', 'limits.max_season_slots');
});

test('cap refusals name the setting that raises the cap', () => {
  const limitSettings = { maxMetrics: 'RS3GW_ANOMALY_MAX_METRICS', maxSubscribers: 'RS3GW_ANOMALY_MAX_SUBSCRIBERS' };
  const { engine: e } = engine({ limits: { maxMetrics: 1, maxSubscribers: 1 }, limitSettings });
  e.record('a', 1);
  assert.throws(() => e.record('b', 1), /^metric: metric limit reached \(1 metrics\); delete unused metrics or raise RS3GW_ANOMALY_MAX_METRICS$/);
  assert.throws(() => e.configure('b', {}), /raise RS3GW_ANOMALY_MAX_METRICS$/);
  e.subscribe();
  assert.throws(() => e.subscribe(), /^subscribers: at most 1 concurrent subscribers; raise RS3GW_ANOMALY_MAX_SUBSCRIBERS$/);
  // Without names (a library user), the refusal names the engine's limit.
  const { engine: bare } = engine({ limits: { maxMetrics: 1 } });
  bare.record('a', 1);
  assert.throws(() => bare.record('b', 1), /raise limits\.max_metrics$/);
});

test('statistics per metric; unknown metric is not found', () => {
  const { engine: e, clock } = engine();
  [2, 4, 4, 4, 5, 5, 7, 9].forEach((v) => e.record('m', v));
  clock.advance(1000);
  e.record('n', 1);
  const [s] = e.statistics('m');
  assert.is(s.count, 8);
  assert.is(s.mean, 5);
  assert.ok(Math.abs(s.stdDev - Math.sqrt(32 / 7)) < 1e-12);
  assert.is(s.min, 2);
  assert.is(s.max, 9);
  assert.is(s.lastValue, 9);
  assert.is(s.anomalyCount, 0);
  assert.is(s.lastSampleTimeMs, clock.nowMs() - 1000, 'a sample without a time is taken at the clock');
  assert.is(e.statistics('n')[0].lastSampleTimeMs, clock.nowMs());
  // The time of the most recent sample, not when the server received it.
  e.record('n', 2, Date.UTC(2020, 5, 1));
  assert.is(e.statistics('n')[0].lastSampleTimeMs, Date.UTC(2020, 5, 1));
  assert.is(s.config.anomalyType, 'other');
  throwsError(() => e.statistics('missing'), 'not_found', 'metric');
});

test('statistics page by name, continuing after the last name even when metrics come and go', () => {
  const { engine: e } = engine();
  for (const m of ['d', 'b', 'a', 'e', 'c']) e.record(m, 1);
  const p1 = e.statisticsPage({ limit: 2 });
  assert.equal([p1.statistics.map((s) => s.metric), p1.nextAfter], [['a', 'b'], 'b']);
  e.delete('a');
  e.record('bb', 1);
  const p2 = e.statisticsPage({ limit: 2, after: p1.nextAfter });
  assert.equal([p2.statistics.map((s) => s.metric), p2.nextAfter], [['bb', 'c'], 'c']);
  const p3 = e.statisticsPage({ limit: 2, after: 'c' });
  assert.equal([p3.statistics.map((s) => s.metric), p3.nextAfter], [['d', 'e'], undefined], 'the last page has no cursor');
  assert.equal(e.statisticsPage({ limit: 2, after: 'zz' }).statistics, []);
  throwsError(() => e.statisticsPage({ limit: 0 }), 'invalid_argument', 'page_size');
  assert.equal(e.statistics().map((s) => s.metric), ['b', 'bb', 'c', 'd', 'e']);
});

test('reset forgets what was learned but keeps the config; delete removes the metric', () => {
  const { engine: e } = engine();
  e.configure('m', { minSamples: 10 });
  warm(e, 'm', 50);
  e.reset('m');
  const [s] = e.statistics('m');
  assert.is(s.count, 0);
  assert.is(s.config.minSamples, 10);
  assert.ok(e.record('m', 5).warmingUp);
  e.delete('m');
  throwsError(() => e.statistics('m'), 'not_found', 'metric');
  throwsError(() => e.reset('m'), 'not_found', 'metric');
  throwsError(() => e.delete('m'), 'not_found', 'metric');
});

/** Raises one anomaly on `metric` (a fresh metric warmed to normal, then a spike). */
function raise(e: AnomalyEngine, metric: string, t: number, spike = 1000): number {
  e.configure(metric, { minSamples: 20, restSamples: 0 });
  // Alternating +-1: a steady baseline on which nothing but the spike is surprising.
  for (let i = 0; i < 60; i++) assert.is(e.record(metric, i % 2 === 0 ? 99 : 101, t).anomaly, undefined);
  const a = e.record(metric, spike, t);
  assert.ok(a.anomaly, `anomaly on ${metric}`);
  return a.anomaly!.sequence;
}

test('history: newest first, filtered by type, severity, metric, time and sequence', () => {
  const { engine: e } = engine();
  raise(e, 'api_latency', 1000);
  raise(e, 'api_errors', 2000);
  raise(e, 'cpu_busy', 3000, 104);
  raise(e, 'api_latency2', 4000);
  assert.equal(e.history({ limit: 10 }).map((x) => x.sequence), [4, 3, 2, 1]);
  assert.equal(e.history({ limit: 2 }).map((x) => x.sequence), [4, 3]);
  assert.equal(e.history({ type: 'latency_spike', limit: 10 }).map((x) => x.metric), ['api_latency2', 'api_latency']);
  assert.equal(e.history({ metric: 'api_errors', limit: 10 }).map((x) => x.sequence), [2]);
  assert.equal(e.history({ sinceMs: 2000, limit: 10 }).map((x) => x.sequence), [4, 3, 2]);
  assert.equal(e.history({ afterSequence: 2, limit: 10 }).map((x) => x.sequence), [4, 3]);
  // With after_sequence, the oldest `limit` after it (newest first): paging forward skips none.
  assert.equal(e.history({ afterSequence: 0, limit: 2 }).map((x) => x.sequence), [2, 1]);
  assert.equal(e.history({ afterSequence: 1, limit: 2 }).map((x) => x.sequence), [3, 2]);
  assert.equal(e.history({ afterSequence: 3, limit: 2 }).map((x) => x.sequence), [4]);
  assert.equal(e.history({ afterSequence: 1, limit: 1, type: 'latency_spike' }).map((x) => x.sequence), [4]);
  const cpu = e.history({ metric: 'cpu_busy', limit: 1 })[0];
  assert.not.equal(cpu.severity, 'critical');
  assert.equal(e.history({ severity: cpu.severity, limit: 10 }).map((x) => x.metric), ['cpu_busy']);
  assert.equal(e.history({ minSeverity: 'critical', limit: 10 }).map((x) => x.sequence), [4, 2, 1]);
  throwsError(() => e.history({ limit: 0 }), 'invalid_argument', 'limit');
  throwsError(() => e.history({ severity: 'huge' as never, limit: 1 }), 'invalid_argument', 'severity');
  throwsError(() => e.history({ type: 'nope' as never, limit: 1 }), 'invalid_argument', 'type');
});

test('detections in a window are counted on the monotonic clock by severity, beyond the history, for up to an hour', () => {
  const clocks = new WallAndMonotonic();
  const e = new AnomalyEngine({ clock: clocks.wall, intervals: clocks.monotonic, limits: { historyCapacity: 2 } });
  for (let k = 0; k < 5; k++) raise(e, `m${k}`, k);
  assert.is(e.history({ limit: 10 }).length, 2);
  assert.equal(e.detectedWithin(5 * 60_000), { low: 0, medium: 0, high: 0, critical: 5 });
  clocks.wall.advance(-3_600_000); // a wall-clock step moves nothing
  clocks.advance(6 * 60_000);
  assert.equal(e.detectedWithin(5 * 60_000), { low: 0, medium: 0, high: 0, critical: 0 });
  assert.equal(e.detectedWithin(3_600_000), { low: 0, medium: 0, high: 0, critical: 5 });
  throwsError(() => e.detectedWithin(3_600_001), 'invalid_argument', 'within_ms');
  throwsError(() => e.detectedWithin(Number.NaN), 'invalid_argument', 'within_ms');
});

test('history is capped: the oldest events are dropped', () => {
  const { engine: e } = engine({ limits: { historyCapacity: 5 } });
  for (let k = 0; k < 8; k++) raise(e, `m${k}`, k);
  const all = e.history({ limit: 5 });
  assert.equal(all.map((x) => x.sequence), [8, 7, 6, 5, 4]);
  // The documented maximum of limit holds whatever the history size.
  assert.equal(e.history({ limit: 10_000 }).map((x) => x.sequence), [8, 7, 6, 5, 4]);
  throwsError(() => e.history({ limit: 10_001 }), 'invalid_argument', 'limit');
});

test('history pages hold 100 events unless asked, and at most 10,000 however large the history, in the words ListAnomalies answers with', () => {
  const { engine: e } = engine({ limits: { historyCapacity: 20_000 } });
  for (let k = 0; k < 101; k++) raise(e, `m${k}`, k);
  assert.is(e.history().length, 100);
  // The server passes ListAnomalies' limit through: the engine's refusal is what clients read.
  assert.is(throwsError(() => e.history({ limit: 10_001 }), 'invalid_argument', 'limit').message, 'limit: must be at most 10000, got 10001');
  assert.is(throwsError(() => e.history({ limit: 20_000 }), 'invalid_argument', 'limit').message, 'limit: must be at most 10000, got 20000');
  assert.is(throwsError(() => e.history({ limit: 0 }), 'invalid_argument', 'limit').message, 'limit: must be an integer in [1, 10000], got 0');
});

test('per-metric state is bounded by its config whatever the number of samples', () => {
  const { engine: e, clock } = engine();
  clock.set(timeAt(1_000_000)); // the samples span 9.5 years up to now: a sample dated later is refused
  e.configure('m', { detector: { seasonSlots: 10_080 } });
  throwsError(() => e.configure('m', { detector: { seasonSlots: 10_081 } }), 'invalid_argument', 'config.detector_parameters.season_slots');
  throwsError(() => e.configure('m', { windowSize: 10_000_001 }), 'invalid_argument', 'config.window_size');
  // A million samples leave one metric with one summary and no growing buffers.
  const g = normal(3);
  for (let i = 0; i < 1_000_000; i++) e.record('m', g(), timeAt(i));
  assert.is(e.metricCount, 1);
  assert.is(e.statistics('m')[0].count, 1_000_000);
});

test.run();
