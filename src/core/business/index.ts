/** Public surface of the business KPIs for the server's wiring. */
export {
  BusinessMetrics,
  DEFAULT_BUSINESS_LIMITS,
  type BusinessLimits,
  type BusinessMetricsOptions,
  type BusinessReport,
} from './business-metrics.js';
export { DEFAULT_PRICES, type CostEstimate, type Prices } from './costs.js';
export { OPERATIONS, type Operation, type RequestEvent } from './events.js';
export { RELATIVE_ERROR as LATENCY_RELATIVE_ERROR } from './latency-histogram.js';
export type { StorageUsage } from './storage-tracker.js';
export type { UserUsage } from './user-tracker.js';
