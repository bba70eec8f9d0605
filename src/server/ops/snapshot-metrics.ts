/**
 * The metric snapshots held for GetTrend on /metrics: how many, and how many values of
 * RS3GW_METRICS_SNAPSHOT_MAX_VALUES they take, so that a retention cut short by the value budget shows.
 */
import type { MetricsEngine } from '../../core/metrics/index.js';

export function snapshotMetrics(metrics: MetricsEngine): void {
  metrics.builtin.gauge({
    name: 'rs3gw_metrics_snapshots',
    help: 'Metric snapshots held for trends (at most RS3GW_METRICS_SNAPSHOT_RETENTION; fewer when RS3GW_METRICS_SNAPSHOT_MAX_VALUES is reached)',
    collect() {
      this.set(metrics.stats().snapshots);
    },
  });
  metrics.builtin.gauge({
    name: 'rs3gw_metrics_snapshot_values',
    help: 'Values held over all metric snapshots, 8 bytes each (at most RS3GW_METRICS_SNAPSHOT_MAX_VALUES, save the newest snapshot)',
    collect() {
      this.set(metrics.stats().snapshotValues);
    },
  });
}
