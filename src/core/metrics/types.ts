/** Shapes shared by the metrics engine's modules and its callers (the MetricsService handlers). */

export type MetricType = 'counter' | 'gauge' | 'histogram' | 'summary';

/** How a record changes a series: counters `inc`; gauges `set` | `inc` | `dec`; histograms and summaries `observe`. */
export type RecordOp = 'inc' | 'dec' | 'set' | 'observe';

/** Label name -> label value. */
export type Labels = Record<string, string>;

/** Where a metric comes from: registered by a user, or maintained by the service (business KPIs). */
export type MetricOrigin = 'custom' | 'kpi';

export interface MetricDefinition {
  name: string;
  type: MetricType;
  description: string;
  labelNames?: string[];
  /** Histogram upper bounds; empty or absent means prom-client's defaults. */
  buckets?: number[];
  /** Summary quantiles in (0,1); empty or absent means prom-client's defaults. */
  quantiles?: number[];
  /** Unit of the values (e.g. `bytes`). Kept in the descriptor; prom-client writes no `# UNIT` line. */
  unit?: string;
}

export interface MetricDescriptor {
  /** Canonical name. Counters always end in `_total` (see names.ts). */
  name: string;
  type: MetricType;
  description: string;
  labelNames: string[];
  buckets?: number[];
  quantiles?: number[];
  unit: string;
  origin: MetricOrigin;
}

export interface RecordRequest {
  name: string;
  value: number;
  labels?: Labels;
  op?: RecordOp;
}

export interface ScalarSeries {
  labels: Labels;
  value: number;
}

export interface BucketCount {
  upperBound: number;
  /** Cumulative: observations <= upperBound (Prometheus style). The +Inf bucket equals `count`. */
  count: number;
}

export interface HistogramSeries {
  labels: Labels;
  count: number;
  sum: number;
  buckets: BucketCount[];
}

export interface QuantileValue {
  quantile: number;
  value: number;
}

export interface SummarySeries {
  labels: Labels;
  count: number;
  sum: number;
  quantiles: QuantileValue[];
}

export type Series = ScalarSeries | HistogramSeries | SummarySeries;

export interface MetricReading {
  descriptor: MetricDescriptor;
  series: Series[];
}
