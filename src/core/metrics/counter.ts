/** Counters: monotonically increasing values, recorded with `inc` and a non-negative amount. */
import { Counter } from 'prom-client';
import { invalidArgument } from '../errors.js';
import { scalarReading, type MetricKind } from './kind.js';

export const counterKind: MetricKind = {
  type: 'counter',
  ops: ['inc'],
  defaultOp: 'inc',
  statistics: ['value'],
  options: () => ({}),
  create: (name, help, labelNames) => new Counter({ name, help, labelNames, registers: [] }),
  checkValue(_op, value, field) {
    if (value < 0) throw invalidArgument(field, 'a counter only increases: must be >= 0');
  },
  apply(metric, labels, _op, value) {
    (metric as Counter).inc(labels, value);
  },
  ...scalarReading,
};
