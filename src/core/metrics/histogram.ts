/** Histograms: observations counted into cumulative buckets, recorded with `observe`. */
import { Histogram } from 'prom-client';
import { invalidArgument } from '../errors.js';
import { groupBySeries, sumOf, type MetricKind } from './kind.js';
import type { HistogramSeries } from './types.js';

/** prom-client's default upper bounds (seconds-scale request durations). */
export const DEFAULT_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
/** Every bucket is stored per series, so the count multiplies the series cap. */
export const MAX_BUCKETS = 64;

export function checkBuckets(buckets: unknown, field = 'buckets'): number[] {
  if (buckets === undefined || (Array.isArray(buckets) && buckets.length === 0)) return [...DEFAULT_BUCKETS];
  if (!Array.isArray(buckets)) throw invalidArgument(field, 'must be a list of upper bounds');
  if (buckets.length > MAX_BUCKETS) throw invalidArgument(field, `at most ${MAX_BUCKETS} buckets`);
  buckets.forEach((bound: unknown, i) => {
    if (typeof bound !== 'number' || !Number.isFinite(bound)) {
      throw invalidArgument(`${field}[${i}]`, 'must be a finite number (+Inf is implicit)');
    }
    if (i > 0 && bound <= buckets[i - 1]) throw invalidArgument(`${field}[${i}]`, 'buckets must be strictly increasing');
  });
  return [...buckets] as number[];
}

export const histogramKind: MetricKind = {
  type: 'histogram',
  reservedLabel: 'le',
  ops: ['observe'],
  defaultOp: 'observe',
  statistics: ['count', 'sum'],
  options: (def) => ({ buckets: checkBuckets(def.buckets) }),
  create: (name, help, labelNames, options) =>
    new Histogram({ name, help, labelNames, buckets: options.buckets, registers: [] }),
  checkValue() {},
  apply(metric, labels, _op, value) {
    (metric as Histogram).observe(labels, value);
  },
  read: (values) =>
    groupBySeries<HistogramSeries>(
      values,
      'le',
      (labels) => ({ labels, count: 0, sum: 0, buckets: [] }),
      (series, v) => {
        const le = v.labels.le;
        if (le !== undefined) {
          // The +Inf bucket repeats `count`; it is left out so every upper bound is a finite number.
          if (le !== '+Inf') series.buckets.push({ upperBound: Number(le), cumulativeCount: v.value });
        } else if (v.metricName?.endsWith('_sum')) series.sum = v.value;
        else if (v.metricName?.endsWith('_count')) series.count = v.value;
      },
    ),
  pick: (series, statistic) => (statistic === 'sum' ? (series as HistogramSeries).sum : (series as HistogramSeries).count),
  total: (series) => sumOf(series as HistogramSeries[], (s) => s.count),
};
