/** The detector contract: one value at a time, O(1) work and bounded memory per metric. */

/** Which part of the ensemble raised (or would raise) the alarm. */
export type DetectorMember = 'spike' | 'level_shift' | 'variance_change' | 'flatline';

/** The baseline the residuals were measured against: recent level, or the same phase of past periods. */
export type BaselineKind = 'local' | 'seasonal';

export type Direction = 'above' | 'below' | 'flat';

export interface DetectorOutput {
  /** How surprising the point is, 0..1 (0.5 = as surprising as the most surprising recent point). */
  score: number;
  /** True when this point starts an anomaly event (then the detector rests). */
  alarm: boolean;
  /** Robust local level before this point (the expected value when the baseline is local). */
  level: number;
  /** Value the baseline expected for this point (before the point joined it). */
  expected: number;
  /** Baseline spread as a Gaussian-equivalent standard deviation. */
  sigma: number;
  /** (value - expected) / sigma. */
  deviationSigma: number;
  /** Strongest member for this point; the one that fired when `alarm`. */
  member: DetectorMember;
  baseline: BaselineKind;
  direction: Direction;
  /** Below `minSamples`: the point only trains the detector. */
  warmingUp: boolean;
}

export interface Detector {
  /** Ensemble name, reported with the member that fired. */
  readonly name: string;
  /**
   * Scores `value` against the baseline learned from earlier points, then learns from it.
   * The returned object is reused by the next call: copy what must be kept.
   */
  update(value: number, timeMs: number): DetectorOutput;
}

/** Tuning of the ensemble; every field is validated by `validateDetectorTuning`. */
export interface DetectorTuning {
  /** Samples of memory of the local level (exponential smoothing, alpha = 1/levelWindow). */
  levelWindow: number;
  /** Samples averaged by the level-shift member. */
  shiftWindow: number;
  /** Short and long memories (samples) of the residual-variance member. */
  varianceShortWindow: number;
  varianceLongWindow: number;
  /** Samples over which the recent maximum surprise of each member decays (by 1/e). */
  surpriseMemory: number;
  /** A member alarms when its statistic exceeds its recent maximum by this factor. */
  alarmMargin: number;
  /** Huber clipping of residuals, in scales. */
  clip: number;
  /** Fraction of the plain mean absolute residual that floors the robust scale. */
  scaleFloor: number;
  /** Shortest run of identical values reported as a stuck value. */
  flatMinRun: number;
  /** Season length (ms); phases come from sample timestamps. */
  seasonPeriodMs: number;
  /** Phase slots per season; 0 turns the seasonal baseline off. Memory is ~17 bytes per slot. */
  seasonSlots: number;
  /** Weight of the newest period in each slot's expected value. */
  seasonAlpha: number;
  /** The seasonal baseline is used while its mean error is below this fraction of the local one. */
  seasonPreference: number;
}

export interface DetectorSettings {
  /** Points that only train the detector before it may alarm. */
  minSamples: number;
  /** Samples of memory of the scale and error estimates. */
  windowSize: number;
  /** Points after an alarm during which no new alarm is raised. */
  restSamples: number;
  tuning: DetectorTuning;
}
