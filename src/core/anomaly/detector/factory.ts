/** The one place that decides which detector the service (and the NAB runner) uses. */
import { EnsembleDetector } from './ensemble-detector.js';
import type { Detector, DetectorSettings } from './types.js';

/** Builds a detector for validated settings (see `validateMetricConfig`). */
export function createDetector(settings: DetectorSettings): Detector {
  return new EnsembleDetector(settings);
}
