/**
 * A prom-client `Registry` that files its metrics in a Map. prom-client's own registry files them in
 * a plain object, so a metric named after an `Object.prototype` property (`constructor`, `toString`,
 * `valueOf`, `__proto__`, ...) looks registered already and is refused, although it is a valid
 * Prometheus name. Only the methods that touch that object are replaced; exposition is prom-client's.
 */
import { Registry, type Metric, type PrometheusContentType, type RegistryContentType } from 'prom-client';

type MetricObjects = ReturnType<Registry['getMetricsAsArray']>;

const nameOf = (metric: Metric): string => (metric as unknown as { name: string }).name;

export class NameMapRegistry<T extends RegistryContentType = PrometheusContentType> extends Registry<T> {
  private readonly byName = new Map<string, Metric>();

  override getMetricsAsArray(): MetricObjects {
    return [...this.byName.values()] as unknown as MetricObjects;
  }

  override registerMetric<N extends string>(metric: Metric<N>): void {
    const name = nameOf(metric as Metric);
    const known = this.byName.get(name);
    if (known !== undefined && known !== metric) throw new Error(`A metric with the name ${name} has already been registered.`);
    this.byName.set(name, metric as Metric);
  }

  override clear(): void {
    super.clear();
    this.byName.clear();
  }

  override removeSingleMetric(name: string): void {
    this.byName.delete(name);
  }

  override getSingleMetric<N extends string>(name: string): Metric<N> | undefined {
    return this.byName.get(name) as Metric<N> | undefined;
  }

  override getSingleMetricAsString(name: string): Promise<string> {
    const metric = this.byName.get(name);
    if (metric === undefined) return Promise.reject(new Error(`No metric named ${name}`));
    return (this as unknown as { getMetricsAsString(m: Metric): Promise<string> }).getMetricsAsString(metric);
  }

  override resetMetrics(): void {
    for (const metric of this.byName.values()) metric.reset();
  }
}
