/**
 * Continuous profiling on /metrics, read from the profiler when scraped: its captures by outcome,
 * and the stored profiles dropped to keep within RS3GW_PROFILING_MAX_PROFILES and
 * RS3GW_PROFILING_MAX_PROFILE_BYTES, so that an operator can see that a time range asked of the
 * store may be gone.
 */
import type { MetricsEngine } from '../../core/metrics/index.js';
import type { ContinuousProfiler } from '../../core/profiling/pprof/index.js';

export function continuousProfilingMetrics(metrics: MetricsEngine, continuous: Pick<ContinuousProfiler, 'stats'>): void {
  metrics.builtin.counter({
    name: 'rs3gw_profiling_continuous_captures_total',
    help: 'Background CPU profile captures by outcome: completed, failed, skipped (due while the one before still waited or ran: behind an on-demand capture, or longer than the interval), or oversized (not stored: larger alone than RS3GW_PROFILING_MAX_PROFILE_BYTES)',
    labelNames: ['outcome'],
    collect() {
      const s = continuous.stats();
      this.reset();
      this.inc({ outcome: 'completed' }, s.completedCaptures);
      this.inc({ outcome: 'failed' }, s.failedCaptures);
      this.inc({ outcome: 'skipped' }, s.skippedCaptures);
      this.inc({ outcome: 'oversized' }, s.oversizedCaptures);
    },
  });
  metrics.builtin.counter({
    name: 'rs3gw_profiling_continuous_profiles_evicted_total',
    help: 'Stored background CPU profiles dropped, oldest first, to keep within RS3GW_PROFILING_MAX_PROFILES and RS3GW_PROFILING_MAX_PROFILE_BYTES',
    collect() {
      this.reset();
      this.inc(continuous.stats().evictedProfiles);
    },
  });
}
