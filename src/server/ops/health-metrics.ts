/**
 * Health on /metrics: the verdict GetHealthReport gives, one series per status with 1 for the
 * current one (a state set, so `rs3gw_health_status{status="unhealthy"} == 1` is an alert rule),
 * and the grpc.health.v1 Watch streams open.
 */
import type { AnomalyEngine } from '../../core/anomaly/index.js';
import { assessHealth, healthInputsOf, RECENT_ANOMALY_MS, type HealthStatus } from '../../core/health/assess.js';
import type { MetricsEngine } from '../../core/metrics/index.js';
import type { ResourceManager } from '../../core/resource/manager.js';

const STATUSES: readonly HealthStatus[] = ['healthy', 'degraded', 'unhealthy'];

/** The verdict from the same inputs as the health report's. */
function currentStatus(manager: ResourceManager, anomalies: AnomalyEngine): HealthStatus {
  // Only high and critical anomalies count towards the verdict: no need to read the others.
  const severe = anomalies.history({ detectedWithinMs: RECENT_ANOMALY_MS, minSeverity: 'high', limit: anomalies.limits.historyCapacity });
  return assessHealth(healthInputsOf(manager.status(), severe.map((e) => e.severity))).status;
}

export function healthMetrics(metrics: MetricsEngine, manager: ResourceManager, anomalies: AnomalyEngine, healthWatchers: () => number): void {
  metrics.builtin.gauge({
    name: 'rs3gw_health_status',
    help: 'Health verdict of GetHealthReport: 1 for the current status (healthy, degraded or unhealthy), 0 for the others',
    labelNames: ['status'],
    collect() {
      const current = currentStatus(manager, anomalies);
      for (const status of STATUSES) this.set({ status }, status === current ? 1 : 0);
    },
  });
  metrics.builtin.gauge({
    name: 'rs3gw_health_watch_subscribers',
    help: 'grpc.health.v1 Health/Watch streams open',
    collect() {
      this.set(healthWatchers());
    },
  });
}
