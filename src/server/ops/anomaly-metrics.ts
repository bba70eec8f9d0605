/**
 * Anomalies on /metrics: detected by severity, WatchAnomalies streams open, the events slow
 * subscribers missed, and metrics tracked against their limit with the samples it refused (a full
 * detector refuses new metrics, which only their senders would otherwise see); read from the
 * engine when scraped.
 */
import { SEVERITIES, type AnomalyEngine } from '../../core/anomaly/index.js';
import type { MetricsEngine } from '../../core/metrics/index.js';

export function anomalyMetrics(metrics: MetricsEngine, anomalies: AnomalyEngine): void {
  metrics.builtin.counter({
    name: 'rs3gw_anomalies_detected_total',
    help: 'Anomalies detected since start-up, by severity (low, medium, high, critical)',
    labelNames: ['severity'],
    collect() {
      const detected = anomalies.detectedBySeverity();
      this.reset();
      for (const severity of SEVERITIES) this.inc({ severity }, detected[severity]);
    },
  });
  metrics.builtin.gauge({
    name: 'rs3gw_anomaly_watch_subscribers',
    help: 'WatchAnomalies streams open (at most RS3GW_ANOMALY_MAX_SUBSCRIBERS)',
    collect() {
      this.set(anomalies.subscriberCount);
    },
  });
  metrics.builtin.gauge({
    name: 'rs3gw_anomaly_metrics_tracked',
    help: 'Metrics the anomaly detector tracks (at most rs3gw_anomaly_metrics_limit)',
    collect() {
      this.set(anomalies.metricCount);
    },
  });
  metrics.builtin.gauge({
    name: 'rs3gw_anomaly_metrics_limit',
    help: 'Metrics the anomaly detector tracks at most (RS3GW_ANOMALY_MAX_METRICS); samples of new metrics beyond it are refused',
    collect() {
      this.set(anomalies.limits.maxMetrics);
    },
  });
  metrics.builtin.counter({
    name: 'rs3gw_anomaly_samples_refused_at_metric_limit_total',
    help: 'Samples refused because they named a new metric when the anomaly detector tracked RS3GW_ANOMALY_MAX_METRICS metrics or RS3GW_ANOMALY_MAX_SEASON_SLOTS had too few slots left for its default seasonal profile (a refused batch counts all its samples)',
    collect() {
      this.reset();
      this.inc(anomalies.samplesRefusedAtMetricLimit);
    },
  });
  metrics.builtin.counter({
    name: 'rs3gw_anomaly_watch_missed_events_total',
    help: 'Anomalies WatchAnomalies subscribers missed because they read too slowly (their queue, RS3GW_ANOMALY_SUBSCRIBER_QUEUE, was full, or their replay was outrun); each was told how many',
    collect() {
      this.reset();
      this.inc(anomalies.droppedForSubscribers);
    },
  });
}
