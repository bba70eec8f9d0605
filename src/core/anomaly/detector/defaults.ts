/**
 * Shipped detector configuration. Windows are in samples; the only time-based value is the season
 * (a day), whose phase comes from timestamps. See src/core/anomaly/README.md for where each comes from.
 */
import type { DetectorSettings, DetectorTuning } from './types.js';

export const DEFAULT_DETECTOR_TUNING: Readonly<DetectorTuning> = Object.freeze({
  levelWindow: 20,
  shiftWindow: 8,
  varianceShortWindow: 16,
  varianceLongWindow: 500,
  surpriseMemory: 20_000,
  alarmMargin: 1.15,
  clip: 4,
  scaleFloor: 0.25,
  flatMinRun: 10,
  seasonPeriodMs: 86_400_000,
  seasonSlots: 288,
  seasonAlpha: 0.3,
  seasonPreference: 0.7,
});

export const DEFAULT_DETECTOR_SETTINGS: Readonly<DetectorSettings> = Object.freeze({
  minSamples: 100,
  windowSize: 100,
  restSamples: 100,
  tuning: DEFAULT_DETECTOR_TUNING,
});
