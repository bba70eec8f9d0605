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
  /** Histogram upper bounds (finite, strictly increasing); empty or absent means prom-client's defaults. Histograms only. */
  buckets?: number[];
  /** Summary quantiles in (0,1); empty or absent means 0.5, 0.9, 0.99. Summaries only. */
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
  /** Series (label sets) the metric has now. */
  seriesCount: number;
  /** When the metric was registered (ms since epoch, engine clock). */
  createdMs: number;
}

export interface RecordRequest {
  name: string;
  value: number;
  labels?: Labels;
  /** Default per type: counter `inc`, gauge `set`, histogram/summary `observe`. Errors name it `operation` (proto field). */
  op?: RecordOp;
}

export interface ScalarSeries {
  labels: Labels;
  value: number;
}

export interface BucketCount {
  upperBound: number;
  /** Observations <= upperBound (Prometheus style). The +Inf bucket, equal to `count`, is left out. */
  cumulativeCount: number;
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
