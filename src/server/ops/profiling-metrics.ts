/**
 * Continuous profiling's retention on /metrics: stored profiles dropped to keep within
 * RS3GW_PROFILING_MAX_PROFILES and RS3GW_PROFILING_MAX_PROFILE_BYTES, so that an operator can see
 * that a time range asked of the store may be gone; read from the profiler when scraped.
 */
import type { MetricsEngine } from '../../core/metrics/index.js';
import type { ContinuousProfiler } from '../../core/profiling/pprof/index.js';

export function profilingRetentionMetrics(metrics: MetricsEngine, continuous: Pick<ContinuousProfiler, 'stats'>): void {
  metrics.builtin.counter({
    name: 'rs3gw_profiling_continuous_profiles_evicted_total',
    help: 'Stored background CPU profiles dropped, oldest first, to keep within RS3GW_PROFILING_MAX_PROFILES and RS3GW_PROFILING_MAX_PROFILE_BYTES',
    collect() {
      this.reset();
      this.inc(continuous.stats().evictedProfiles);
    },
  });
}
