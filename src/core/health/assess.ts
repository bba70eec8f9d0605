/**
 * The overall health verdict from the engines' state. Degraded: the service is still serving but
 * something needs attention; unhealthy: it is refusing critical work or has no memory headroom
 * (the machine's or cgroup's memory, or the V8 old generation against its own limit).
 */
import type { AnomalyEngine, NewMetricLimit } from '../anomaly/index.js';
import { PRIORITIES, type Priority } from '../resource/admission/types.js';
import type { ResourceStatus } from '../resource/manager.js';

export type HealthStatus = 'healthy' | 'degraded' | 'unhealthy';

export interface HealthInputs {
  memoryPressure: boolean;
  /** Undefined when the last sample could not read memory: unknown, so it decides nothing. */
  memoryUtilization?: number;
  /** The V8 old generation's share of its own limit; undefined when it could not be read. */
  heapUtilization?: number;
  overload: number;
  shedding: Record<'critical' | 'normal' | 'sheddable', boolean>;
  /** Success rate over the resource window; undefined without completions. */
  successRate?: number;
  /** Completions in the resource window, which the success rate is taken over. */
  windowCompletions: number;
  /** Critical requests refused at the controller's limit or the permit cap in the resource window. */
  criticalRefusedAtCapacity: number;
  windowMs: number;
  /** High and critical anomalies detected in the last RECENT_ANOMALY_MS. */
  recentSevereAnomalies: number;
  /**
   * The anomaly detector's limits at which it refused samples of new metrics in the last
   * RECENT_ANOMALY_MS (those metrics go unwatched): `limit` as the reason says it ("3 metrics").
   */
  newMetricsRefusedAt: Array<{ limit: string; setting: string }>;
}

/** The verdict now, from the resource manager's status and the anomaly engine's recent detections. */
export function currentHealth(status: ResourceStatus, anomalies: AnomalyEngine): { status: HealthStatus; reasons: string[] } {
  return assessHealth(healthInputsOf(status, anomalies));
}

/** The inputs from the resource manager's status and the anomaly engine's recent detections. */
function healthInputsOf(status: ResourceStatus, anomalies: AnomalyEngine): HealthInputs {
  const recent = anomalies.detectedWithin(RECENT_ANOMALY_MS);
  return {
    memoryPressure: status.pressure.memoryPressure,
    memoryUtilization: status.pressure.memory?.utilization,
    heapUtilization: status.pressure.heap?.utilization,
    overload: status.pressure.overload,
    shedding: Object.fromEntries(PRIORITIES.map((p) => [p, status.shedding.byPriority[p].active])) as Record<Priority, boolean>,
    successRate: status.window.successRate,
    windowCompletions: status.window.completions,
    criticalRefusedAtCapacity: status.window.criticalRefusedAtCapacity,
    windowMs: status.window.windowMs,
    recentSevereAnomalies: recent.high + recent.critical,
    newMetricsRefusedAt: NEW_METRIC_LIMITS.filter((limit) => {
      const since = anomalies.msSinceNewMetricRefused(limit);
      return since !== undefined && since < RECENT_ANOMALY_MS;
    }).map((limit) => ({ limit: `${anomalies.limits[limit]} ${LIMIT_UNITS[limit]}`, setting: anomalies.settingOf(limit) })),
  };
}

const NEW_METRIC_LIMITS: readonly NewMetricLimit[] = ['maxMetrics', 'maxSeasonSlots'];
const LIMIT_UNITS: Record<NewMetricLimit, string> = { maxMetrics: 'metrics', maxSeasonSlots: 'seasonal profile slots' };

/** Anomalies this recent count towards the verdict. */
const RECENT_ANOMALY_MS = 5 * 60_000;
const LOW_SUCCESS_RATE = 0.95;
/**
 * The success rate counts only over at least this many completions in the window: with 20, one
 * failure (or one permit reclaimed at its lease) leaves it at 95 % or above, so no single request
 * makes the service DEGRADED for a window; it takes a failure rate, two failures in 20 or more.
 */
const MIN_COMPLETIONS_FOR_SUCCESS_RATE = 20;
const NO_MEMORY_HEADROOM = 0.98;

function assessHealth(h: HealthInputs): { status: HealthStatus; reasons: string[] } {
  const unhealthy: string[] = [];
  const degraded: string[] = [];
  if (h.shedding.critical) unhealthy.push('shedding critical requests');
  if (h.memoryUtilization !== undefined && h.memoryUtilization >= NO_MEMORY_HEADROOM) unhealthy.push(`memory ${(h.memoryUtilization * 100).toFixed(1)}% of its limit`);
  // The heap filling up ends the process (FATAL ERROR: heap limit) whatever the machine has free.
  if (h.heapUtilization !== undefined && h.heapUtilization >= NO_MEMORY_HEADROOM) {
    unhealthy.push(`V8 old generation ${(h.heapUtilization * 100).toFixed(1)}% of its limit`);
  }
  // Critical work refused for want of capacity is lost as surely as shed work (which has its own reasons).
  if (h.criticalRefusedAtCapacity > 0) {
    const n = h.criticalRefusedAtCapacity;
    degraded.push(`${n} critical request${n === 1 ? '' : 's'} refused at the concurrency limit or permit cap in the last ${Math.round(h.windowMs / 1000)} s`);
  }
  if (h.memoryPressure) degraded.push('under memory pressure');
  if (h.overload > 0) degraded.push(`overloaded (level ${h.overload.toFixed(2)})`);
  if (!h.shedding.critical && (h.shedding.normal || h.shedding.sheddable)) {
    degraded.push(`shedding ${h.shedding.normal ? 'normal and sheddable' : 'sheddable'} requests`);
  }
  if (h.successRate !== undefined && h.windowCompletions >= MIN_COMPLETIONS_FOR_SUCCESS_RATE && h.successRate < LOW_SUCCESS_RATE) degraded.push(`success rate ${(h.successRate * 100).toFixed(1)}%`);
  if (h.recentSevereAnomalies > 0) degraded.push(`${h.recentSevereAnomalies} high or critical anomalies in the last 5 minutes`);
  for (const { limit, setting } of h.newMetricsRefusedAt) {
    degraded.push(`samples of new metrics refused in the last 5 minutes at the anomaly detector's limit of ${limit} (${setting})`);
  }
  if (unhealthy.length > 0) return { status: 'unhealthy', reasons: [...unhealthy, ...degraded] };
  if (degraded.length > 0) return { status: 'degraded', reasons: degraded };
  return { status: 'healthy', reasons: [] };
}
