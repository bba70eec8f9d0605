/**
 * The custom metrics' budgets on /metrics: what they take of each cap and the cap, by budget, so
 * `used / limit` is one alert rule for all four. Only a refused RegisterMetric or record showed a
 * cap was reached, to its caller alone; lines and bytes were seen nowhere before.
 */
import type { MetricsEngine, MetricsLimits } from '../../core/metrics/index.js';

type BudgetLimits = Pick<MetricsLimits, 'maxMetrics' | 'maxTotalSeries' | 'maxTotalCells' | 'maxExpositionBytes'>;

const BUDGETS = ['metrics', 'series', 'lines', 'bytes'] as const;
type Budget = (typeof BUDGETS)[number];

export function customBudgetMetrics(metrics: MetricsEngine, limits: BudgetLimits): void {
  const limit: Record<Budget, number> = {
    metrics: limits.maxMetrics,
    series: limits.maxTotalSeries,
    lines: limits.maxTotalCells,
    bytes: limits.maxExpositionBytes,
  };
  metrics.builtin.gauge({
    name: 'rs3gw_metrics_custom_budget_used',
    help: 'What the custom metrics take of each budget: metrics registered, series, /metrics lines and /metrics bytes (an upper bound), against rs3gw_metrics_custom_budget_limit',
    labelNames: ['budget'],
    collect() {
      const s = metrics.stats();
      const used: Record<Budget, number> = { metrics: s.customMetrics, series: s.customSeries, lines: s.customCells, bytes: s.customExpositionBytes };
      for (const budget of BUDGETS) this.set({ budget }, used[budget]);
    },
  });
  metrics.builtin.gauge({
    name: 'rs3gw_metrics_custom_budget_limit',
    help: 'Caps of the custom metrics (RS3GW_METRICS_MAX_METRICS, _MAX_TOTAL_SERIES, _MAX_CELLS, _MAX_EXPOSITION_BYTES): a RegisterMetric or record that would go beyond one is refused',
    labelNames: ['budget'],
    collect() {
      for (const budget of BUDGETS) this.set({ budget }, limit[budget]);
    },
  });
}
