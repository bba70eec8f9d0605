/**
 * Summaries: observations with client-side quantiles, recorded with `observe`.
 *
 * Quantiles are over a sliding window, as in Prometheus's Go client (MaxAge 10 min, AgeBuckets 5):
 * prom-client's t-digests in a ring of SUMMARY_AGE_BUCKETS, one retired every
 * SUMMARY_MAX_AGE_SECONDS / SUMMARY_AGE_BUCKETS (2 min), so the quantiles describe the observations
 * of the last 8 to 10 minutes, and read 0 while the window holds none. `count` and `sum` cover every
 * observation since the metric was registered (they are counters, as Prometheus expects).
 */
import { Summary } from 'prom-client';
import { invalidArgument } from '../errors.js';
import { groupBySeries, refuseOption, sumOf, type MetricKind } from './kind.js';
import type { SummarySeries } from './types.js';

/** The quantiles of a summary registered without any (metrics.proto: "0.5, 0.9, 0.99 when empty"). */
export const DEFAULT_QUANTILES = [0.5, 0.9, 0.99];
/** prom-client's default percentiles: those of a service summary created without any. */
export const PROM_CLIENT_QUANTILES = [0.01, 0.05, 0.5, 0.9, 0.95, 0.99, 0.999];
/** Observations older than this leave the quantiles (Go client's DefMaxAge). */
export const SUMMARY_MAX_AGE_SECONDS = 600;
/** Steps the window slides in (Go client's DefAgeBuckets). */
export const SUMMARY_AGE_BUCKETS = 5;
export const MAX_QUANTILES = 16;

/** Quantiles in (0,1), returned sorted; duplicates are refused. */
export function checkQuantiles(quantiles: unknown, field = 'quantiles'): number[] {
  if (quantiles === undefined || (Array.isArray(quantiles) && quantiles.length === 0)) return [...DEFAULT_QUANTILES];
  if (!Array.isArray(quantiles)) throw invalidArgument(field, 'must be a list of quantiles');
  if (quantiles.length > MAX_QUANTILES) throw invalidArgument(field, `at most ${MAX_QUANTILES} quantiles`);
  quantiles.forEach((q: unknown, i) => {
    if (typeof q !== 'number' || !(q > 0 && q < 1)) throw invalidArgument(`${field}[${i}]`, 'must be in (0, 1)');
    if (quantiles.indexOf(q) !== i) throw invalidArgument(`${field}[${i}]`, `${q} is repeated`);
  });
  return [...(quantiles as number[])].sort((a, b) => a - b);
}

export const summaryKind: MetricKind = {
  type: 'summary',
  reservedLabel: 'quantile',
  ops: ['observe'],
  defaultOp: 'observe',
  statistics: ['count', 'sum'],
  options: (def) => {
    refuseOption(def, 'buckets');
    return { quantiles: checkQuantiles(def.quantiles) };
  },
  create: (name, help, labelNames, options) =>
    new Summary({
      name,
      help,
      labelNames,
      percentiles: options.quantiles,
      maxAgeSeconds: SUMMARY_MAX_AGE_SECONDS,
      ageBuckets: SUMMARY_AGE_BUCKETS,
      registers: [],
    }),
  checkValue() {},
  running: 'sum',
  next: (current, _op, value) => current + value,
  apply(metric, labels, _op, value) {
    (metric as Summary).observe(labels, value);
  },
  read: (values) =>
    groupBySeries<SummarySeries>(
      values,
      'quantile',
      (labels) => ({ labels, count: 0, sum: 0, quantiles: [] }),
      (series, v) => {
        const quantile = v.labels.quantile;
        if (quantile !== undefined) series.quantiles.push({ quantile: Number(quantile), value: v.value });
        else if (v.metricName?.endsWith('_sum')) series.sum = v.value;
        else if (v.metricName?.endsWith('_count')) series.count = v.value;
      },
    ),
  pick: (series, statistic) => (statistic === 'sum' ? (series as SummarySeries).sum : (series as SummarySeries).count),
  total: (series) => sumOf(series as SummarySeries[], (s) => s.count),
};
