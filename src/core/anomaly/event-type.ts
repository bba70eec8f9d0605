/**
 * The type of an anomaly event. A metric's type (configured, or inferred from its name) names the
 * way that is bad for it: latency, errors, CPU and memory going up, throughput going down. An event
 * has that type only when it goes that way; the other way, or a flat line, is `other`, and the
 * event's `direction` says which way it went. Storage growth and request rate anomalies are bad
 * either way, so their events keep the metric's type whatever the direction.
 */
import type { AnomalyType, Direction } from './types.js';

/** The direction each metric type describes; absent: any direction. */
const DESCRIBED_DIRECTION: Partial<Record<AnomalyType, Direction>> = {
  latency_spike: 'above',
  error_rate_increase: 'above',
  cpu_spike: 'above',
  memory_spike: 'above',
  throughput_drop: 'below',
};

/** Type of an anomaly going `direction` on a metric of type `metricType`. */
export function eventAnomalyType(metricType: AnomalyType, direction: Direction): AnomalyType {
  const described = DESCRIBED_DIRECTION[metricType];
  return described === undefined || described === direction ? metricType : 'other';
}
