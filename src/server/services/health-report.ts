/** HealthReportService: one report over the four engines, with the verdict from core/health. */
import { HealthReportService, HealthStatusSchema } from '../../../gen/ts/rs3gw/observability/v1/health_report_pb.js';
import type { AnomalyEngine } from '../../core/anomaly/index.js';
import type { BusinessMetrics } from '../../core/business/index.js';
import type { Clock } from '../../core/clock.js';
import { ObservabilityError } from '../../core/errors.js';
import { currentHealth } from '../../core/health/assess.js';
import { bindService, type ServiceBinding } from '../pipeline/handlers.js';
import { anomalySummary } from './anomaly.js';
import { enumNumber, timestamp } from './convert.js';
import type { continuousProfilingStatus, measureProcess } from './profiling.js';
import { businessReportOut } from './metrics.js';
import { resourceStatusOut, type ResourceDeps } from './resource.js';

export interface HealthReportDeps {
  clock: Clock;
  /** This service's own measurement, as GetProfile reports it. */
  measureSelf: () => ReturnType<typeof measureProcess>;
  /** Continuous profiling's state, so captures that fail or are skipped show here too. */
  continuousProfiling: () => ReturnType<typeof continuousProfilingStatus>;
  business: BusinessMetrics;
  anomalies: AnomalyEngine;
  anomalyHistoryCapacity: number;
  resources: ResourceDeps;
}

export function healthReportBinding(deps: HealthReportDeps): ServiceBinding {
  return bindService(HealthReportService, {
    getHealthReport() {
      const nowMs = deps.clock.nowMs();
      const status = deps.resources.manager.status();
      const verdict = currentHealth(status, deps.anomalies);
      // A part that cannot be read (the service's own /proc/<pid>, say) is left out, saying why,
      // rather than failing the whole report.
      // So are the pressure readings the last sample failed to take, which then decide nothing.
      const unavailable: string[] = Object.entries(status.pressure.unavailable ?? {}).map(([name, why]) => `resources.pressure.${name}: ${why}`);
      // Only what the engines report as unreadable (ObservabilityError); anything else is a bug,
      // which fails the call and is logged as an internal error.
      const part = <T>(field: string, read: () => T): T | undefined => {
        try {
          return read();
        } catch (error) {
          if (!(error instanceof ObservabilityError)) throw error;
          unavailable.push(`${field}: ${error.message}`);
          return undefined;
        }
      };
      return {
        status: enumNumber(HealthStatusSchema, verdict.status),
        timestamp: timestamp(nowMs),
        profiling: part('profiling', deps.measureSelf),
        businessMetrics: part('business_metrics', () => businessReportOut(deps.business.report(nowMs))),
        anomalies: part('anomalies', () => anomalySummary(deps.anomalies, deps.anomalyHistoryCapacity)),
        resources: part('resources', () => resourceStatusOut(deps.resources, status)),
        reasons: verdict.reasons,
        continuousProfiling: part('continuous_profiling', deps.continuousProfiling),
        unavailable,
      };
    },
  });
}
