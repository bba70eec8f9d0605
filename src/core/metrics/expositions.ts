/**
 * The service's two prom-client registries: Prometheus text (0.0.4) and OpenMetrics (1.0.0). Every
 * metric is registered in both.
 *
 * Counters need care: prom-client's OpenMetrics registry renames a counter object in place (it strips
 * `_total` from `metric.name` on every scrape), which would make the same object lose its `_total` in
 * the Prometheus text output afterwards. The OpenMetrics registry therefore gets a read-only view of
 * each counter that carries the family name itself; the text registry gets the counter.
 *
 * Negative values: OpenMetrics has a histogram's or summary's `_sum` be a counter (never negative,
 * never falling), which a sum of values that may be negative is not, and forbids negative summary
 * quantiles. So the OpenMetrics registry gets a view of each histogram and summary that, once the
 * metric may hold a negative value (a histogram with a negative bucket bound from the start, any
 * histogram or summary from its first negative record on, for good so that the lines do not come and
 * go), leaves out a histogram's `_sum` and `_count` (OpenMetrics allows `_count` only beside a
 * `_sum`; the count is the `+Inf` bucket) and a summary's `_sum` and quantiles (its `_count`
 * remains). The text format, which has no such rules, keeps them all.
 *
 * Both registries file metrics by name in a Map (registry.ts), and a metric is added to both or to
 * neither.
 */
import { Registry, type Counter, type Metric, type OpenMetricsContentType } from 'prom-client';
import type { PromValue } from './kind.js';
import { familyName } from './names.js';
import { NameMapRegistry } from './registry.js';
import type { MetricType } from './types.js';

export interface ScrapeResult {
  contentType: string;
  body: string;
}

export class Expositions {
  readonly prometheus: NameMapRegistry = new NameMapRegistry();
  readonly openMetrics = openMetricsRegistry();
  /** Histograms and summaries that have recorded a negative value. */
  private readonly signed = new Set<string>();

  add(type: MetricType, name: string, metric: Metric): void {
    const view =
      type === 'counter'
        ? openMetricsCounterView(name, metric as Counter)
        : type === 'histogram' || type === 'summary'
          ? openMetricsDistributionView(type, metric, hasNegativeBound(metric) ? () => true : () => this.signed.has(name))
          : metric;
    const wasKnown = this.prometheus.getSingleMetric(name) === metric;
    this.prometheus.registerMetric(metric);
    try {
      this.openMetrics.registerMetric(view);
    } catch (err) {
      if (!wasKnown) this.prometheus.removeSingleMetric(name);
      throw err;
    }
  }

  /** Tells that the histogram or summary `name` has recorded a negative value (see the header). */
  recordedNegative(name: string): void {
    this.signed.add(name);
  }

  /** Stops (throwing the signal's reason) once `signal` aborts. */
  async scrape(openMetrics: boolean, signal?: AbortSignal): Promise<ScrapeResult> {
    const registry = openMetrics ? this.openMetrics : this.prometheus;
    return { contentType: registry.contentType, body: fixNaN(await registry.metrics(signal)) };
  }
}

/**
 * prom-client writes NaN as `Nan` (e.g. the event-loop lag mean before its first sample); OpenMetrics
 * only accepts `NaN`. Sample lines never start with `#` and hold no raw newline (label values are escaped).
 */
export function fixNaN(body: string): string {
  return body.replace(/^([^#\n].*) Nan$/gm, '$1 NaN');
}

/** prom-client's typings omit the constructor's content-type argument; `setContentType` is typed. */
function openMetricsRegistry(): NameMapRegistry<OpenMetricsContentType> {
  const registry = new NameMapRegistry<OpenMetricsContentType>();
  registry.setContentType(Registry.OPENMETRICS_CONTENT_TYPE);
  return registry;
}

/** What a registry reads from a metric: its name and type, `get()` for values, `reset()`. */
function openMetricsCounterView(name: string, counter: Counter): Metric {
  const family = familyName('counter', name);
  const view = {
    name: family,
    type: 'counter',
    get: async () => ({ ...(await counter.get()), name: family }),
    reset: () => counter.reset(),
  };
  return view as unknown as Metric;
}

/** prom-client histograms and `BucketHistogram`s both carry their bounds as `upperBounds`. */
function hasNegativeBound(metric: Metric): boolean {
  const bounds = (metric as unknown as { upperBounds?: readonly number[] }).upperBounds;
  return Array.isArray(bounds) && bounds.some((bound) => bound < 0);
}

/**
 * A histogram's or summary's OpenMetrics view: while `signed()` holds, without the lines that would
 * be invalid for negative values (see the header).
 */
function openMetricsDistributionView(type: 'histogram' | 'summary', metric: Metric, signed: () => boolean): Metric {
  const { name, help } = metric as unknown as { name: string; help: string };
  const sum = `${name}_sum`;
  const count = `${name}_count`;
  const omitted = (v: PromValue) =>
    v.metricName === sum || (type === 'histogram' ? v.metricName === count : v.labels.quantile !== undefined);
  // Asked after reading, so values that hold a negative record are never let through whole.
  const filtered = <T extends { values: unknown[] }>(data: T): T =>
    signed() ? { ...data, values: data.values.filter((v) => !omitted(v as PromValue)) } : data;
  // prom-client's histograms hand the registry their labels shared by all of a series' lines
  // (getForPromString), which it formats once per series: kept, and filtered the same way.
  const forPromString = (metric as { getForPromString?: () => Promise<{ values: unknown[] }> }).getForPromString?.bind(metric);
  const view = {
    name,
    help,
    type,
    get: async () => filtered(await metric.get()),
    ...(forPromString ? { getForPromString: async () => filtered(await forPromString()) } : {}),
    reset: () => metric.reset(),
  };
  return view as unknown as Metric;
}
