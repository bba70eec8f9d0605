/** Public surface of the business KPIs for the server's wiring. */
export {
  BusinessMetrics,
  type BusinessLimits,
  type BusinessReport,
} from './business-metrics.js';
export type { CostEstimate, Prices } from './costs.js';
export type { Operation, RequestEvent } from './events.js';
export { RELATIVE_ERROR as LATENCY_RELATIVE_ERROR } from './latency-histogram.js';
