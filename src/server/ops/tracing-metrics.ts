/**
 * Tracing on /metrics: spans dropped because an export queue was full (a collector too slow for the
 * load), which stderr says once a minute, and spans lost in exports that failed (a collector down or
 * refusing), which stderr says once a batch without their number; read from the tracer when scraped.
 */
import type { MetricsEngine } from '../../core/metrics/index.js';
import type { Tracing } from '../../telemetry/tracing.js';

export function tracingMetrics(metrics: MetricsEngine, tracing: Pick<Tracing, 'droppedSpans' | 'failedSpans'>): void {
  metrics.builtin.counter({
    name: 'rs3gw_tracing_spans_dropped_total',
    help: 'Spans dropped since start-up because the export queue (OTEL_BSP_MAX_QUEUE_SIZE) was full',
    collect() {
      this.reset();
      this.inc(tracing.droppedSpans());
    },
  });
  metrics.builtin.counter({
    name: 'rs3gw_tracing_spans_export_failed_total',
    help: 'Spans lost since start-up in exports that failed: the collector unreachable, silent past the exporter timeout, or refusing after its retries',
    collect() {
      this.reset();
      this.inc(tracing.failedSpans());
    },
  });
}
