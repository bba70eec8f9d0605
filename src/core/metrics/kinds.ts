/** The metric kinds by type name. */
import { counterKind } from './counter.js';
import { gaugeKind } from './gauge.js';
import { histogramKind } from './histogram.js';
import type { MetricKind } from './kind.js';
import { summaryKind } from './summary.js';
import type { MetricType } from './types.js';

export const KINDS: Record<MetricType, MetricKind> = {
  counter: counterKind,
  gauge: gaugeKind,
  histogram: histogramKind,
  summary: summaryKind,
};

export function isMetricType(type: unknown): type is MetricType {
  return typeof type === 'string' && Object.prototype.hasOwnProperty.call(KINDS, type);
}
