/**
 * Tracing on /metrics: spans dropped because an export queue was full (a collector too slow for the
 * load), which stderr says once a minute and a scrape can alert on; read from the tracer when scraped.
 */
import type { MetricsEngine } from '../../core/metrics/index.js';

export function tracingMetrics(metrics: MetricsEngine, droppedSpans: () => number): void {
  metrics.builtin.counter({
    name: 'rs3gw_tracing_spans_dropped_total',
    help: 'Spans dropped since start-up because the export queue (OTEL_BSP_MAX_QUEUE_SIZE) was full',
    collect() {
      this.reset();
      this.inc(droppedSpans());
    },
  });
}
