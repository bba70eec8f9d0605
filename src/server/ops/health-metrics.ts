/**
 * Health on /metrics: the verdict GetHealthReport gives, one series per status with 1 for the
 * current one (a state set, so `rs3gw_health_status{status="unhealthy"} == 1` is an alert rule),
 * and the grpc.health.v1 Watch streams open.
 */
import type { AnomalyEngine } from '../../core/anomaly/index.js';
import { currentHealth, type HealthStatus } from '../../core/health/assess.js';
import type { MetricsEngine } from '../../core/metrics/index.js';
import type { ResourceManager } from '../../core/resource/manager.js';

const STATUSES: readonly HealthStatus[] = ['healthy', 'degraded', 'unhealthy'];

export function healthMetrics(metrics: MetricsEngine, manager: ResourceManager, anomalies: AnomalyEngine, healthWatchers: () => number): void {
  metrics.builtin.gauge({
    name: 'rs3gw_health_status',
    help: 'Health verdict of GetHealthReport: 1 for the current status (healthy, degraded or unhealthy), 0 for the others',
    labelNames: ['status'],
    collect() {
      const current = currentHealth(manager.status(), anomalies).status;
      for (const status of STATUSES) this.set({ status }, status === current ? 1 : 0);
    },
  });
  metrics.builtin.gauge({
    name: 'rs3gw_health_watch_subscribers',
    help: 'grpc.health.v1 Health/Watch streams open (at most RS3GW_HEALTH_MAX_WATCHERS)',
    collect() {
      this.set(healthWatchers());
    },
  });
}
