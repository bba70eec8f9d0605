/**
 * Summaries: observations with client-side quantiles, recorded with `observe`.
 *
 * Quantiles are over a sliding window, as in Prometheus's Go client (MaxAge 10 min, AgeBuckets 5):
 * prom-client's t-digests in a ring of SUMMARY_AGE_BUCKETS, one retired every
 * SUMMARY_MAX_AGE_SECONDS / SUMMARY_AGE_BUCKETS (2 min), so the quantiles describe the observations
 * of the last 8 to 10 minutes. While the window holds none (and before the first observation) the
 * quantiles are NaN in the expositions, as the Go client exposes them, and 0 in the JSON and proto
 * answers (metrics.proto: "0 while the window holds no observation"). `count` and `sum` cover every
 * observation since the metric was registered (they are counters, as Prometheus expects).
 */
import { Summary, type MetricObjectWithValues, type MetricValue } from 'prom-client';
import { invalidArgument } from '../errors.js';
import { groupBySeries, refuseOption, sumOf, type MetricKind } from './kind.js';
import { seriesKey } from './labels.js';
// Gives each summary's ring of age buckets distinct digests (prom-client 15 shares one).
import './summary-ring.js';
import type { Labels, SummarySeries } from './types.js';

/** What prom-client keeps per series of a summary: its labels and the window of observations. */
interface SummarySeriesState {
  labels: Labels;
  td: { size(): number };
}

/**
 * prom-client's Summary, whose quantiles of an empty window are NaN rather than 0: prom-client
 * writes `value || 0` for a quantile, so a p99 panel dropped to 0 whenever the metric was idle for
 * the window's length, and a summary never observed read 0 too. Count and sum are prom-client's.
 */
class WindowedSummary<T extends string = string> extends Summary<T> {
  override async get(): Promise<MetricObjectWithValues<MetricValue<T>>> {
    const states = Object.values((this as unknown as { hashMap: Record<string, SummarySeriesState> }).hashMap);
    // Read before prom-client's get(), in the same turn: a window only empties as time passes.
    const empty = new Set(states.filter((s) => s.td.size() === 0).map((s) => seriesKey(s.labels)));
    const data = await super.get();
    if (empty.size === 0) return data;
    const values = data.values.map((v) => {
      const { quantile, ...labels } = v.labels as Record<string, string | number>;
      return quantile !== undefined && empty.has(seriesKey(labels as Labels)) ? { ...v, value: Number.NaN } : v;
    });
    return { ...data, values };
  }
}

/** The quantiles of a summary registered without any (metrics.proto: "0.5, 0.9, 0.99 when empty"). */
const DEFAULT_QUANTILES = [0.5, 0.9, 0.99];
/** prom-client's default percentiles: those of a service summary created without any. */
export const PROM_CLIENT_QUANTILES = [0.01, 0.05, 0.5, 0.9, 0.95, 0.99, 0.999];
/** Observations older than this leave the quantiles (Go client's DefMaxAge). */
const SUMMARY_MAX_AGE_SECONDS = 600;
/** Steps the window slides in (Go client's DefAgeBuckets). */
const SUMMARY_AGE_BUCKETS = 5;
const MAX_QUANTILES = 16;

/** Quantiles in (0,1), returned sorted; duplicates are refused. */
function checkQuantiles(quantiles: unknown, field = 'quantiles'): number[] {
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
    new WindowedSummary({
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
        // An empty window's NaN (see WindowedSummary) is 0 here, as metrics.proto's SummaryQuantile says.
        if (quantile !== undefined) series.quantiles.push({ quantile: Number(quantile), value: Number.isNaN(v.value) ? 0 : v.value });
        else if (v.metricName?.endsWith('_sum')) series.sum = v.value;
        else if (v.metricName?.endsWith('_count')) series.count = v.value;
      },
    ),
  pick: (series, statistic) => (statistic === 'sum' ? (series as SummarySeries).sum : (series as SummarySeries).count),
  total: (series) => sumOf(series as SummarySeries[], (s) => s.count),
};
