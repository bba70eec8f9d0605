/**
 * The service's two prom-client registries: Prometheus text (0.0.4) and OpenMetrics (1.0.0). Every
 * metric is registered in both.
 *
 * Counters need care: prom-client's OpenMetrics registry renames a counter object in place (it strips
 * `_total` from `metric.name` on every scrape), which would make the same object lose its `_total` in
 * the Prometheus text output afterwards. The OpenMetrics registry therefore gets a read-only view of
 * each counter that carries the family name itself; the text registry gets the counter.
 *
 * Histograms with a negative bucket bound: OpenMetrics forbids `_sum` then (the sum of values that may
 * be negative is not a counter), and allows `_count` only beside a `_sum`, so the OpenMetrics registry
 * gets a view without both (the count is the `+Inf` bucket); the text format, which has no such
 * rule, keeps them.
 *
 * Both registries file metrics by name in a Map (registry.ts), and a metric is added to both or to
 * neither.
 */
import { Registry, type Counter, type Metric, type OpenMetricsContentType } from 'prom-client';
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

  add(type: MetricType, name: string, metric: Metric): void {
    const view =
      type === 'counter'
        ? openMetricsCounterView(name, metric as Counter)
        : type === 'histogram' && hasNegativeBound(metric)
          ? openMetricsSumlessView(metric)
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

/** A histogram without its `_sum` and `_count` lines, for OpenMetrics when a bound is negative. */
function openMetricsSumlessView(histogram: Metric): Metric {
  const { name, help } = histogram as unknown as { name: string; help: string };
  const omitted = new Set([`${name}_sum`, `${name}_count`]);
  const view = {
    name,
    help,
    type: 'histogram',
    get: async () => {
      const data = await histogram.get();
      return { ...data, values: data.values.filter((v) => !omitted.has((v as { metricName?: string }).metricName ?? '')) };
    },
    reset: () => histogram.reset(),
  };
  return view as unknown as Metric;
}
