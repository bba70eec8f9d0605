/**
 * Anomalies on /metrics: detected by severity, WatchAnomalies streams open, and the events slow
 * subscribers missed; read from the engine when scraped.
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
  metrics.builtin.counter({
    name: 'rs3gw_anomaly_watch_missed_events_total',
    help: 'Anomalies WatchAnomalies subscribers missed because their queue (RS3GW_ANOMALY_SUBSCRIBER_QUEUE) was full; each was told how many',
    collect() {
      this.reset();
      this.inc(anomalies.droppedForSubscribers);
    },
  });
}
