/** Gauges: values that go up and down, recorded with `set` (default), `inc` or `dec`. */
import { Gauge } from 'prom-client';
import { refuseOption, scalarReading, type MetricKind } from './kind.js';

export const gaugeKind: MetricKind = {
  type: 'gauge',
  ops: ['set', 'inc', 'dec'],
  defaultOp: 'set',
  statistics: ['value'],
  options: (def) => {
    refuseOption(def, 'buckets');
    refuseOption(def, 'quantiles');
    return {};
  },
  create: (name, help, labelNames) => new Gauge({ name, help, labelNames, registers: [] }),
  checkValue() {},
  running: 'value',
  // The same arithmetic as prom-client's (dec adds the negated value).
  next: (current, op, value) => (op === 'set' ? value : op === 'dec' ? current + -value : current + value),
  apply(metric, labels, op, value) {
    const gauge = metric as Gauge;
    if (op === 'inc') gauge.inc(labels, value);
    else if (op === 'dec') gauge.dec(labels, value);
    else gauge.set(labels, value);
  },
  ...scalarReading,
};
