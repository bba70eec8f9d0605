/**
 * A prom-client `Registry` that files its metrics in a Map. prom-client's own registry files them in
 * a plain object, so a metric named after an `Object.prototype` property (`constructor`, `toString`,
 * `valueOf`, `hasOwnProperty`, ...) looks registered already and is refused, although it is a valid
 * Prometheus name. Only the methods that touch that object are replaced, and `metrics()`, which
 * writes a chunk of lines at a time with a turn of the event loop between chunks (prom-client's
 * writes everything in one go, a stall as long as the whole exposition takes); the text is prom-client's.
 */
import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import { Registry, type Metric, type PrometheusContentType, type RegistryContentType } from 'prom-client';

type MetricObjects = ReturnType<Registry['getMetricsAsArray']>;

const nameOf = (metric: Metric): string => (metric as unknown as { name: string }).name;

/**
 * Work written between two turns of the event loop, in characters of label values plus LINE_WORK
 * per line (what a line costs besides its labels): a few milliseconds.
 */
const CHUNK_WORK = 512 * 1024;
const LINE_WORK = 128;
/** What a metric's own rendering costs besides its lines (reading it, its HELP and TYPE): some 30 µs. */
const FAMILY_WORK = 16 * LINE_WORK;

interface MetricData {
  name: string;
  type: string;
  values?: Array<{ labels?: Record<string, unknown> }>;
}

type Readable = Metric & { name: string; type: string; getForPromString?: () => Promise<MetricData> };

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
    return this.metricAsString(metric);
  }

  /**
   * The same text as prom-client's `metrics()`, joined the same way. Stops (throwing the signal's
   * reason) at the next chunk once `signal` aborts: no one is left to read it.
   */
  override async metrics(signal?: AbortSignal): Promise<string> {
    const openMetrics = this.contentType === Registry.OPENMETRICS_CONTENT_TYPE;
    const parts: string[] = [];
    // Shared by all metrics: a turn per chunk of work, not per metric. A turn a metric made a scrape
    // of a thousand small metrics take a thousand turns, each behind every other caller's chunk:
    // 10-20 s beside a few other scrapes and exports.
    const budget = { work: 0 };
    for (const metric of this.getMetricsAsArray() as unknown as Readable[]) {
      // prom-client's own step: OpenMetrics names a counter family without `_total`.
      if (openMetrics && metric.type === 'counter') metric.name = metric.name.replace(/_total$/, '');
      parts.push(await this.writeInChunks(metric, budget, signal));
    }
    return openMetrics ? `${parts.join('\n')}\n# EOF\n` : `${parts.join('\n\n')}\n`;
  }

  private metricAsString(metric: Metric): Promise<string> {
    return (this as unknown as { getMetricsAsString(m: Metric): Promise<string> }).getMetricsAsString(metric);
  }

  /** prom-client's text of one metric, whose lines can be many (buckets x series) and long (labels). */
  private async writeInChunks(metric: Readable, budget: { work: number }, signal: AbortSignal | undefined): Promise<string> {
    const openMetrics = this.contentType === Registry.OPENMETRICS_CONTENT_TYPE;
    const data = metric.getForPromString ? await metric.getForPromString() : ((await metric.get()) as unknown as MetricData);
    const values = data.values ?? [];
    const chunks: string[] = [];
    let start = 0;
    do {
      let end = start;
      // A chunk takes at least one line, as a later chunk's header is cut off.
      budget.work += FAMILY_WORK;
      while (end < values.length && (end === start || budget.work < CHUNK_WORK)) budget.work += lineWork(values[end++]);
      const slice = { ...data, values: values.slice(start, end) };
      const text = await this.metricAsString({ get: async () => slice } as unknown as Metric);
      // Each chunk's text starts with the metric's `# HELP` and `# TYPE` lines (escaped: no raw newline).
      chunks.push(start > 0 ? text.slice(text.indexOf('\n', text.indexOf('\n') + 1) + 1) : openMetrics ? escapeHelpQuotes(text) : text);
      start = end;
      if (budget.work >= CHUNK_WORK) {
        budget.work = 0;
        await yieldToEventLoop();
        signal?.throwIfAborted();
      }
    } while (start < values.length);
    return chunks.join('\n');
  }

  override resetMetrics(): void {
    for (const metric of this.byName.values()) metric.reset();
  }
}

/**
 * OpenMetrics escapes `"` in HELP as `\"` (besides `\\` and `\n`, which prom-client escapes); the
 * Prometheus text format does not. `text` starts with the `# HELP` line, whose name holds no `"`,
 * and whose help, escaped already, no raw newline: only that line changes.
 */
function escapeHelpQuotes(text: string): string {
  const end = text.indexOf('\n');
  const help = end < 0 ? text : text.slice(0, end);
  return help.includes('"') ? help.replace(/"/g, '\\"') + (end < 0 ? '' : text.slice(end)) : text;
}

function lineWork(value: { labels?: Record<string, unknown> }): number {
  let work = LINE_WORK;
  for (const label in value.labels) work += String(value.labels[label]).length;
  return work;
}
