/**
 * Summaries: observations with client-side quantiles, recorded with `observe`. Quantiles come from
 * prom-client's t-digest over all observations since the metric was registered (no sliding window).
 */
import { Summary } from 'prom-client';
import { invalidArgument } from '../errors.js';
import { groupBySeries, sumOf, type MetricKind } from './kind.js';
import type { SummarySeries } from './types.js';

/** prom-client's default percentiles. */
export const DEFAULT_QUANTILES = [0.01, 0.05, 0.5, 0.9, 0.95, 0.99, 0.999];
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
  options: (def) => ({ quantiles: checkQuantiles(def.quantiles) }),
  create: (name, help, labelNames, options) =>
    new Summary({ name, help, labelNames, percentiles: options.quantiles, registers: [] }),
  checkValue() {},
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
