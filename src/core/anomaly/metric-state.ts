/** Everything the engine keeps for one metric: its config, detector and summary statistics. */
import { createDetector } from './detector/factory.js';
import type { Detector } from './detector/types.js';
import type { MetricConfig } from './types.js';

export class MetricState {
  detector: Detector;
  count = 0;
  mean = 0;
  /** Sum of squared deviations (Welford). */
  m2 = 0;
  min = Number.POSITIVE_INFINITY;
  max = Number.NEGATIVE_INFINITY;
  lastValue = Number.NaN;
  anomalyCount = 0;
  /** Time of the most recently recorded sample (its own time, or the clock's when it had none). */
  lastSampleTimeMs = 0;

  constructor(public config: MetricConfig) {
    this.detector = MetricState.detectorFor(config);
  }

  static detectorFor(config: MetricConfig): Detector {
    return createDetector({
      minSamples: config.minSamples,
      windowSize: config.windowSize,
      restSamples: config.restSamples,
      tuning: config.detector,
    });
  }

  observe(value: number, sampleTimeMs: number): void {
    this.count++;
    const d = value - this.mean;
    this.mean += d / this.count;
    this.m2 += d * (value - this.mean);
    if (value < this.min) this.min = value;
    if (value > this.max) this.max = value;
    this.lastValue = value;
    this.lastSampleTimeMs = sampleTimeMs;
  }

  /** Forgets everything learned; keeps the config. */
  reset(): void {
    this.detector = MetricState.detectorFor(this.config);
    this.count = 0;
    this.mean = 0;
    this.m2 = 0;
    this.min = Number.POSITIVE_INFINITY;
    this.max = Number.NEGATIVE_INFINITY;
    this.lastValue = Number.NaN;
    this.anomalyCount = 0;
    this.lastSampleTimeMs = 0;
  }

  stdDev(): number {
    return this.count > 1 ? Math.sqrt(this.m2 / (this.count - 1)) : 0;
  }
}
