/**
 * The service's two prom-client registries: Prometheus text (0.0.4) and OpenMetrics (1.0.0). Every
 * metric is registered in both.
 *
 * Counters need care: prom-client's OpenMetrics registry renames a counter object in place (it strips
 * `_total` from `metric.name` on every scrape), which would make the same object lose its `_total` in
 * the Prometheus text output afterwards. The OpenMetrics registry therefore gets a read-only view of
 * each counter that carries the family name itself; the text registry gets the counter.
 */
import { Registry, type Counter, type Metric, type OpenMetricsContentType } from 'prom-client';
import { familyName } from './names.js';
import type { MetricType } from './types.js';

export interface ScrapeResult {
  contentType: string;
  body: string;
}

export class Expositions {
  readonly prometheus = new Registry();
  readonly openMetrics = openMetricsRegistry();

  add(type: MetricType, name: string, metric: Metric): void {
    this.prometheus.registerMetric(metric);
    this.openMetrics.registerMetric(type === 'counter' ? openMetricsCounterView(name, metric as Counter) : metric);
  }

  async scrape(openMetrics: boolean): Promise<ScrapeResult> {
    const registry = openMetrics ? this.openMetrics : this.prometheus;
    return { contentType: registry.contentType, body: fixNaN(await registry.metrics()) };
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
function openMetricsRegistry(): Registry<OpenMetricsContentType> {
  const registry = new Registry<OpenMetricsContentType>();
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
