/**
 * Histograms: observations counted into cumulative buckets, recorded with `observe`.
 *
 * User histograms are not prom-client `Histogram`s: prom-client files an observation above every bound
 * under the bound `-1` (its "no bucket" marker), so a histogram with the bound -1 counted those values
 * as <= -1. `BucketHistogram` finds the bucket by index instead, so any finite bounds count exactly;
 * it offers what prom-client's registries read from a metric (name, help, type, `get()`, `reset()`).
 */
import type { Metric } from 'prom-client';
import { invalidArgument } from '../errors.js';
import { groupBySeries, refuseOption, sumOf, type MetricKind, type PromValue } from './kind.js';
import { seriesKey } from './labels.js';
import type { HistogramSeries, Labels } from './types.js';

/** prom-client's default upper bounds (seconds-scale request durations). */
export const DEFAULT_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
/** Every bucket is stored per series, so the count multiplies the series cap. */
const MAX_BUCKETS = 64;

function checkBuckets(buckets: unknown, field = 'buckets'): number[] {
  if (buckets === undefined || (Array.isArray(buckets) && buckets.length === 0)) return [...DEFAULT_BUCKETS];
  if (!Array.isArray(buckets)) throw invalidArgument(field, 'must be a list of upper bounds');
  if (buckets.length > MAX_BUCKETS) throw invalidArgument(field, `at most ${MAX_BUCKETS} buckets`);
  buckets.forEach((bound: unknown, i) => {
    if (typeof bound !== 'number' || !Number.isFinite(bound)) {
      throw invalidArgument(`${field}[${i}]`, 'must be a finite number (+Inf is implicit)');
    }
    if (i > 0 && bound <= buckets[i - 1]) throw invalidArgument(`${field}[${i}]`, 'buckets must be strictly increasing');
  });
  // -0 and 0 are the same bound; 0 is how every exposition writes it.
  return (buckets as number[]).map((bound) => (bound === 0 ? 0 : bound));
}

interface BucketSeries {
  labels: Labels;
  /** Observations per bucket, not cumulative; the last slot counts those above every bound (+Inf). */
  counts: Float64Array;
  sum: number;
  count: number;
}

/** A histogram over fixed, strictly increasing, finite upper bounds. */
class BucketHistogram {
  readonly type = 'histogram';
  readonly aggregator = 'sum';
  private readonly series = new Map<string, BucketSeries>();

  constructor(
    readonly name: string,
    readonly help: string,
    readonly labelNames: readonly string[],
    readonly upperBounds: readonly number[],
  ) {
    this.reset();
  }

  /** Adds an observation to the series of `labels` (the engine has checked the labels and the value). */
  observe(labels: Labels, value: number): void {
    const key = seriesKey(labels);
    let series = this.series.get(key);
    if (!series) {
      series = this.fresh(labels);
      this.series.set(key, series);
    }
    series.counts[bucketIndex(this.upperBounds, value)] += 1;
    series.sum += value;
    series.count += 1;
  }

  /** The value lines prom-client's registries write: cumulative buckets with `le`, then `_sum` and `_count`. */
  async get(): Promise<{ name: string; help: string; type: 'histogram'; aggregator: 'sum'; values: PromValue[] }> {
    const values: PromValue[] = [];
    const bucket = `${this.name}_bucket`;
    for (const { labels, counts, sum, count } of this.series.values()) {
      let cumulative = 0;
      this.upperBounds.forEach((bound, i) => {
        cumulative += counts[i];
        values.push({ labels: { ...labels, le: bound }, value: cumulative, metricName: bucket });
      });
      values.push({ labels: { ...labels, le: '+Inf' }, value: count, metricName: bucket });
      values.push({ labels: { ...labels }, value: sum, metricName: `${this.name}_sum` });
      values.push({ labels: { ...labels }, value: count, metricName: `${this.name}_count` });
    }
    return { name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values };
  }

  reset(): void {
    this.series.clear();
    // An unlabelled histogram exposes its one series from the start, as prom-client's does.
    if (this.labelNames.length === 0) this.series.set(seriesKey({}), this.fresh({}));
  }

  private fresh(labels: Labels): BucketSeries {
    return { labels: { ...labels }, counts: new Float64Array(this.upperBounds.length + 1), sum: 0, count: 0 };
  }
}

/** Index of the first bound >= value (binary search); `bounds.length` when the value is above them all. */
function bucketIndex(bounds: readonly number[], value: number): number {
  let lo = 0;
  let hi = bounds.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (value <= bounds[mid]) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

export const histogramKind: MetricKind = {
  type: 'histogram',
  reservedLabel: 'le',
  ops: ['observe'],
  defaultOp: 'observe',
  statistics: ['count', 'sum'],
  options: (def) => {
    refuseOption(def, 'quantiles');
    return { buckets: checkBuckets(def.buckets) };
  },
  create: (name, help, labelNames, options) =>
    new BucketHistogram(name, help, labelNames, options.buckets ?? DEFAULT_BUCKETS) as unknown as Metric,
  checkValue() {},
  running: 'sum',
  next: (current, _op, value) => current + value,
  apply(metric, labels, _op, value) {
    (metric as unknown as BucketHistogram).observe(labels, value);
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
