/**
 * An anomaly event's type follows the way it went: the metric's type when the anomaly goes the way
 * that type describes (latency, errors, CPU, memory: above; throughput: below), else `other`, with
 * `direction` saying which way. And `direction` is the side of the expected value the alarming
 * sample is on, for a variance-change alarm as for a spike.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ANOMALY_TYPES, AnomalyEngine, eventAnomalyType, type AnomalyEvent, type StreamItem } from '../../../src/core/anomaly/index.js';
import { FakeClock } from '../../support/fake-clock.js';
import { normal, timeAt } from './signals.js';

function engine(historyCapacity?: number): AnomalyEngine {
  return new AnomalyEngine({ clock: new FakeClock(), ...(historyCapacity === undefined ? {} : { limits: { historyCapacity } }) });
}

/** `n` samples alternating around `level` (a steady baseline), then `value`: the anomaly it raises. */
function jump(e: AnomalyEngine, metric: string, level: number, value: number, n = 300): AnomalyEvent {
  const step = level / 100;
  for (let i = 0; i < n; i++) assert.is(e.record(metric, level + (i % 2 === 0 ? -step : step), timeAt(i)).anomaly, undefined, `${metric}[${i}]`);
  const a = e.record(metric, value, timeAt(n));
  assert.ok(a.anomaly, `${metric}: ${level} then ${value} raises an anomaly`);
  return a.anomaly!;
}

test('the rule: a metric type is the event type only in the direction it describes; storage, request rate and other in any', () => {
  const expected: Record<string, Record<'above' | 'below' | 'flat', string>> = {
    latency_spike: { above: 'latency_spike', below: 'other', flat: 'other' },
    error_rate_increase: { above: 'error_rate_increase', below: 'other', flat: 'other' },
    cpu_spike: { above: 'cpu_spike', below: 'other', flat: 'other' },
    memory_spike: { above: 'memory_spike', below: 'other', flat: 'other' },
    throughput_drop: { above: 'other', below: 'throughput_drop', flat: 'other' },
    storage_growth_anomaly: { above: 'storage_growth_anomaly', below: 'storage_growth_anomaly', flat: 'storage_growth_anomaly' },
    request_rate_anomaly: { above: 'request_rate_anomaly', below: 'request_rate_anomaly', flat: 'request_rate_anomaly' },
    other: { above: 'other', below: 'other', flat: 'other' },
  };
  assert.equal(Object.keys(expected).sort(), [...ANOMALY_TYPES].sort(), 'every type is covered');
  for (const type of ANOMALY_TYPES) {
    for (const direction of ['above', 'below', 'flat'] as const) {
      assert.is(eventAnomalyType(type, direction), expected[type][direction], `${type} ${direction}`);
    }
  }
});

test("the reviewer's cases: the event's type follows the way the value moved, the metric's type does not change", () => {
  const e = engine();
  const cases: Array<[string, number, number, string, string]> = [
    ['throughput_mbps', 100, 1000, 'other', 'above'],
    ['throughput_down_mbps', 100, 10, 'throughput_drop', 'below'],
    ['error_rate', 0.2, 0, 'other', 'below'],
    ['error_rate_up', 0.2, 2, 'error_rate_increase', 'above'],
    ['cpu_usage_percent', 50, 2, 'other', 'below'],
    ['cpu_usage_up_percent', 50, 99, 'cpu_spike', 'above'],
    ['memory_rss_bytes', 1e9, 1e8, 'other', 'below'],
    ['get_latency_ms', 50, 0.5, 'other', 'below'],
    ['put_latency_ms', 50, 500, 'latency_spike', 'above'],
    ['disk_bytes_stored', 1e9, 1e8, 'storage_growth_anomaly', 'below'],
    ['requests_per_second', 100, 1, 'request_rate_anomaly', 'below'],
  ];
  for (const [metric, level, value, type, direction] of cases) {
    const event = jump(e, metric, level, value);
    assert.is(event.anomalyType, type, metric);
    assert.is(event.direction, direction, metric);
  }
  // The metric's configured (here inferred) type is what it was.
  assert.is(e.statistics('throughput_mbps')[0]!.config.anomalyType, 'throughput_drop');
  assert.is(e.statistics('get_latency_ms')[0]!.config.anomalyType, 'latency_spike');
  assert.is(e.statistics('error_rate')[0]!.config.anomalyType, 'error_rate_increase');
});

test('a configured type follows the same rule; a flat line on a latency metric is other and flat', () => {
  const e = engine();
  e.configure('queue_depth', { anomalyType: 'throughput_drop' });
  assert.is(jump(e, 'queue_depth', 100, 1000).anomalyType, 'other');
  e.configure('queue_depth_b', { anomalyType: 'throughput_drop' });
  assert.is(jump(e, 'queue_depth_b', 100, 10).anomalyType, 'throughput_drop');
  assert.is(e.statistics('queue_depth')[0]!.config.anomalyType, 'throughput_drop');

  // Noise, then a value that sticks: the flat-line member fires.
  const g = normal(7);
  let flat: AnomalyEvent | undefined;
  for (let i = 0; i < 1000 && flat === undefined; i++) {
    const a = e.record('stuck_latency_ms', i < 400 ? 50 + 5 * g() : 42, timeAt(i)).anomaly;
    if (a && i >= 400) flat = a;
  }
  assert.ok(flat, 'the stuck value is reported');
  assert.is(flat!.detector, 'ensemble/flatline');
  assert.is(flat!.direction, 'flat');
  assert.is(flat!.anomalyType, 'other');
});

test('history and subscriptions filter on the event type, the type index of dropped events too', async () => {
  const e = engine(2);
  const live = e.subscribe({ type: 'throughput_drop' });
  const it = live[Symbol.asyncIterator]();
  assert.equal((await it.next()).value, { kind: 'caught_up', lastSequence: 0 });
  const rise = jump(e, 'throughput_mbps', 100, 1000);
  const fall = jump(e, 'bandwidth_mbps', 100, 10);
  assert.equal(e.history({ type: 'throughput_drop' }).map((x) => x.sequence), [fall.sequence]);
  assert.equal(e.history({ type: 'other' }).map((x) => x.sequence), [rise.sequence]);
  assert.equal(((await it.next()).value as StreamItem & { kind: 'anomaly' }).event.sequence, fall.sequence, 'the rise is not streamed');
  live.close();
  // Two more events push the rise and the fall out of a history of 2: a filtered resume counts
  // only the matching dropped one.
  jump(e, 'other_a', 100, 1000);
  jump(e, 'other_b', 100, 1000);
  const resumed = e.subscribe({ resumeAfterSequence: 0, type: 'throughput_drop' });
  const first = (await resumed[Symbol.asyncIterator]().next()).value as StreamItem;
  assert.equal(first, { kind: 'gap', missed: 1, reason: 'history_expired' });
  resumed.close();
});

test('a variance-change alarm is on the side of the alarming sample, as a spike is', () => {
  const seen = { below: 0, above: 0 };
  for (const [value, direction] of [[0.5, 'below'], [100, 'above']] as const) {
    for (let seed = 1; seed <= 40; seed++) {
      const e = engine();
      const g = normal(seed);
      for (let i = 0; i < 300; i++) e.record('level', 50 + 5 * g(), timeAt(i));
      const a = e.record('level', value, timeAt(300));
      if (a.anomaly === undefined) continue;
      assert.is(a.anomaly.direction, direction, `seed ${seed}: 50 +- 5, then ${value}: ${a.anomaly.detector}`);
      if (a.anomaly.detector === 'ensemble/variance_change') seen[direction]++;
    }
  }
  assert.ok(seen.below >= 5 && seen.above >= 5, `variance-change alarms below ${seen.below}, above ${seen.above}`);
});

test.run();
