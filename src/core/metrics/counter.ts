/** Counters: monotonically increasing values, recorded with `inc` and a non-negative amount. */
import { Counter } from 'prom-client';
import { invalidArgument } from '../errors.js';
import { refuseOption, scalarReading, type MetricKind } from './kind.js';

export const counterKind: MetricKind = {
  type: 'counter',
  ops: ['inc'],
  defaultOp: 'inc',
  statistics: ['value'],
  options: (def) => {
    refuseOption(def, 'buckets');
    refuseOption(def, 'quantiles');
    return {};
  },
  create: (name, help, labelNames) => new Counter({ name, help, labelNames, registers: [] }),
  checkValue(_op, value, field) {
    if (value < 0) throw invalidArgument(field, 'a counter only increases: must be >= 0');
  },
  running: 'value',
  next: (current, _op, value) => current + value,
  apply(metric, labels, _op, value) {
    (metric as Counter).inc(labels, value);
  },
  ...scalarReading,
};
