/**
 * What the engine needs to know about one metric type; counter.ts, gauge.ts, histogram.ts and
 * summary.ts each implement it on top of the matching prom-client class.
 */
import type { Metric } from 'prom-client';
import { invalidArgument } from '../errors.js';
import { seriesKey, plainLabels } from './labels.js';
import type { Labels, MetricDefinition, MetricType, RecordOp, ScalarSeries, Series } from './types.js';

/** One value line as prom-client's `metric.get()` reports it. */
export interface PromValue {
  value: number;
  labels: Record<string, string | number | undefined>;
  metricName?: string;
}

export interface KindOptions {
  buckets?: number[];
  quantiles?: number[];
}

/** Statistic of a series that snapshots store and trends follow. */
export type Statistic = 'value' | 'count' | 'sum';

export interface MetricKind {
  readonly type: MetricType;
  /** Label the type emits itself, so users may not declare it (`le`, `quantile`). */
  readonly reservedLabel?: string;
  readonly ops: readonly RecordOp[];
  readonly defaultOp: RecordOp;
  /** Statistics stored per series in snapshots; the first one is the default for trends. */
  readonly statistics: readonly Statistic[];
  /** Validates and fills in the type-specific options of a definition. */
  options(def: MetricDefinition): KindOptions;
  /** A prom-client instrument registered in no registry (the engine registers it). */
  create(name: string, help: string, labelNames: string[], options: KindOptions): Metric;
  /** Type-specific value rules beyond "finite" (e.g. counters never decrease). */
  checkValue(op: RecordOp, value: number, field: string): void;
  /** The running figure of a series that a record changes: `value` (counter, gauge) or `sum` (histogram, summary). */
  readonly running: 'value' | 'sum';
  /** That figure after a record; the engine refuses a record that would make it infinite. */
  next(current: number, op: RecordOp, value: number): number;
  apply(metric: Metric, labels: Labels, op: RecordOp, value: number): void;
  /** Parses prom-client's value lines into one entry per series. */
  read(values: PromValue[]): Series[];
  pick(series: Series, statistic: Statistic): number;
  /** The single figure of the JSON export: unlabelled value or sum over series. */
  total(series: Series[]): number;
}

/** Refuses an option of the definition that the metric type does not have (a non-empty list). */
export function refuseOption(def: MetricDefinition, option: 'buckets' | 'quantiles'): void {
  const given = def[option];
  if (given === undefined || (Array.isArray(given) && given.length === 0)) return;
  const owner = option === 'buckets' ? 'histogram' : 'summary';
  throw invalidArgument(option, `a ${def.type} has no ${option} (only a ${owner} has)`);
}

/** Groups value lines by their series labels (without the kind's own `le`/`quantile` label). */
export function groupBySeries<S>(
  values: PromValue[],
  reservedLabel: string | undefined,
  init: (labels: Labels) => S,
  add: (series: S, value: PromValue) => void,
): S[] {
  const bySeries = new Map<string, S>();
  let previous: { labels: PromValue['labels']; series: S } | undefined;
  for (const value of values) {
    // A series' lines come one after another: comparing with the previous line's labels spares
    // building the key of every bucket line (long label values made that cost series x buckets x bytes).
    if (previous && sameSeries(previous.labels, value.labels, reservedLabel)) {
      add(previous.series, value);
      continue;
    }
    const labels = plainLabels(value.labels, reservedLabel);
    const key = seriesKey(labels);
    let series = bySeries.get(key);
    if (!series) {
      series = init(labels);
      bySeries.set(key, series);
    }
    previous = { labels: value.labels, series };
    add(series, value);
  }
  return [...bySeries.values()];
}

/** Whether two value lines carry the same labels, `omit` aside. */
function sameSeries(a: PromValue['labels'], b: PromValue['labels'], omit: string | undefined): boolean {
  let count = 0;
  for (const name in b) {
    if (name === omit) continue;
    if (a[name] !== b[name]) return false;
    count += 1;
  }
  for (const name in a) if (name !== omit) count -= 1;
  return count === 0;
}

/**
 * The sum over series, as a finite number: series each finite can add up past the largest double
 * (two counters at 1e308), which JSON would carry as the string "Infinity". Such a sum is taken
 * scaled down by the largest magnitude, and what is still beyond the range reads as the largest
 * double of its sign.
 */
export function sumOf<S>(series: S[], pick: (s: S) => number): number {
  const total = series.reduce((sum, s) => sum + pick(s), 0);
  if (Number.isFinite(total)) return total;
  const largest = series.reduce((max, s) => Math.max(max, Math.abs(pick(s))), 0);
  const scaled = series.reduce((sum, s) => sum + pick(s) / largest, 0) * largest;
  return Math.min(Number.MAX_VALUE, Math.max(-Number.MAX_VALUE, scaled));
}

/** How counters and gauges read: one value per series, summed for a total. */
export const scalarReading: Pick<MetricKind, 'read' | 'pick' | 'total'> = {
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
