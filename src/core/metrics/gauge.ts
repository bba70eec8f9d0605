/** Gauges: values that go up and down, recorded with `set` (default), `inc` or `dec`. */
import { Gauge } from 'prom-client';
import { groupBySeries, sumOf, type MetricKind } from './kind.js';
import type { ScalarSeries } from './types.js';

export const gaugeKind: MetricKind = {
  type: 'gauge',
  ops: ['set', 'inc', 'dec'],
  defaultOp: 'set',
  statistics: ['value'],
  options: () => ({}),
  create: (name, help, labelNames) => new Gauge({ name, help, labelNames, registers: [] }),
  checkValue() {},
  apply(metric, labels, op, value) {
    const gauge = metric as Gauge;
    if (op === 'inc') gauge.inc(labels, value);
    else if (op === 'dec') gauge.dec(labels, value);
    else gauge.set(labels, value);
  },
  read: (values) =>
    groupBySeries<ScalarSeries>(
      values,
      undefined,
      (labels) => ({ labels, value: 0 }),
      (series, v) => {
        series.value = v.value;
      },
    ),
  pick: (series) => (series as ScalarSeries).value,
  total: (series) => sumOf(series as ScalarSeries[], (s) => s.value),
};
