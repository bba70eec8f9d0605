/**
 * The shipped detector: a small ensemble over one shared baseline, each member turned into a
 * scale-free "surprise" by its own self-calibrating gate, combined by taking the largest.
 *
 * Baseline: a robust local level, or a seasonal profile when that predicts clearly better (model
 * selection on mean absolute error, as in Holt-Winters vs. simple smoothing). Members read the
 * residual of the chosen baseline:
 *  - spike:           |r| / scale                        (points far from normal, up or down)
 *  - level_shift:     |mean of last ~shiftWindow r| / scale (smaller but lasting deviations)
 *  - variance_change: short / long mean of r^2             (noisier, or bursts of spikes)
 *  - flatline:        run of identical values              (stuck metrics)
 * One alarm per event, then `restSamples` of rest (as CAD-OSE and KNN-CAD do on NAB), which only a
 * much larger event breaks.
 */
import { FlatlineTracker } from './flatline-tracker.js';
import { RobustBaseline } from './robust-baseline.js';
import { RobustScale } from './robust-scale.js';
import { SeasonMemory } from './season-memory.js';
import { SeasonalProfile } from './seasonal-profile.js';
import { SurpriseGate } from './surprise-gate.js';
import type { Detector, DetectorMember, DetectorOutput, DetectorSettings, Direction } from './types.js';

/** Mean absolute deviation to standard deviation for Gaussian data: sqrt(pi / 2). */
const MAD_TO_SIGMA = Math.sqrt(Math.PI / 2);
/** Residuals feeding the shift and variance members are clipped wider than the baseline's. */
const MEMBER_CLIP_FACTOR = 3;
/** Gates start learning halfway through warm-up, once the baseline has settled somewhat. */
const GATE_LEARNING_START = 0.5;
/**
 * A rest mutes the rest of its event, not a much larger one: a point whose spike surprise reaches
 * this many alarm margins times that of the point that began the rest (taken as at least 1, the
 * normal maximum) alarms anyway and begins a new rest. So a weak alarm (a small lasting shift, a
 * point inside the normal range) cannot hide a real incident right after it.
 */
const REST_BREAK = 2;

export class EnsembleDetector implements Detector {
  readonly name = 'ensemble';
  private readonly local: RobustBaseline;
  private readonly seasonal: SeasonalProfile | null;
  private readonly seasonalSpread: RobustScale;
  private readonly flat: FlatlineTracker;
  private readonly spikeGate: SurpriseGate;
  private readonly shiftGate: SurpriseGate;
  private readonly varianceGate: SurpriseGate;
  private readonly gateMemory: SeasonMemory | null;
  private appliedMemory: number;
  private readonly out: DetectorOutput;
  private readonly errorAlpha: number;
  private readonly shiftAlpha: number;
  private readonly varShortAlpha: number;
  private readonly varLongAlpha: number;
  private n = 0;
  private seasonalN = 0;
  private localError = 0;
  private seasonalError = 0;
  private useSeasonal = false;
  private shiftMean = 0;
  private varShort = 0;
  private varLong = 0;
  private restLeft = 0;
  /** Spike surprise of the point that began the current rest (at least 1). */
  private restStrength = 1;

  constructor(private readonly settings: DetectorSettings) {
    const t = settings.tuning;
    this.errorAlpha = 1 / settings.windowSize;
    this.shiftAlpha = 1 / t.shiftWindow;
    this.varShortAlpha = 1 / t.varianceShortWindow;
    this.varLongAlpha = 1 / t.varianceLongWindow;
    this.local = new RobustBaseline(1 / t.levelWindow, this.errorAlpha, t.clip, t.scaleFloor, 1 / t.surpriseMemory);
    this.seasonal = t.seasonSlots > 0 ? new SeasonalProfile(t.seasonPeriodMs, t.seasonSlots, t.seasonAlpha) : null;
    this.seasonalSpread = new RobustScale(this.errorAlpha, t.clip, t.scaleFloor, 1 / t.surpriseMemory);
    this.flat = new FlatlineTracker(t.flatMinRun);
    this.spikeGate = new SurpriseGate(t.surpriseMemory, t.alarmMargin, 1);
    this.shiftGate = new SurpriseGate(t.surpriseMemory, t.alarmMargin, ewmaCorrelation(this.shiftAlpha));
    this.varianceGate = new SurpriseGate(t.surpriseMemory, t.alarmMargin, ewmaCorrelation(this.varShortAlpha));
    this.gateMemory = t.seasonSlots > 0 ? new SeasonMemory(t.surpriseMemory, t.seasonPeriodMs, t.alarmMargin) : null;
    this.appliedMemory = t.surpriseMemory;
    this.out = {
      score: 0,
      alarm: false,
      level: 0,
      expected: 0,
      sigma: 0,
      deviationSigma: 0,
      member: 'spike',
      baseline: 'local',
      direction: 'above',
      warmingUp: true,
    };
  }

  update(x: number, timeMs: number): DetectorOutput {
    const s = this.settings;
    const t = s.tuning;
    const n = ++this.n;
    // The first sample defines the level; it is not scored against anything.
    if (n === 1) this.local.update(x, 0);
    // Relative floor so a perfectly constant series still has a usable (tiny) scale.
    const level = this.local.level;
    const tiny = 1e-12 * ((level < 0 ? -level : level) + 1);

    const seasonReady = this.seasonal !== null && this.seasonal.locate(timeMs);
    const seasonalExpected = seasonReady ? this.seasonal!.expectedValue() : 0;
    const seasonal = seasonReady && this.useSeasonal;
    const expected = seasonal ? seasonalExpected : level;
    const scale = seasonal ? this.seasonalSpread.value(tiny) : this.local.spread.value(tiny);
    // A residual within that floor is rounding (0.1 + 0.2 against 0.3, one byte of a petabyte), not a
    // change: read as 0 it leaves every statistic of a constant series at 0, so no gate learns it.
    const raw = x - expected;
    const r = (raw < 0 ? -raw : raw) <= tiny ? 0 : raw;

    // Member statistics, all measured before the point joins the baseline.
    const absR = r < 0 ? -r : r;
    const spike = absR / scale;
    const memberLimit = MEMBER_CLIP_FACTOR * t.clip * scale;
    const rc = r > memberLimit ? memberLimit : r < -memberLimit ? -memberLimit : r;
    const early = 1 / n;
    this.shiftMean += (this.shiftAlpha > early ? this.shiftAlpha : early) * (rc - this.shiftMean);
    const shift = (this.shiftMean < 0 ? -this.shiftMean : this.shiftMean) / scale;
    const rc2 = rc * rc;
    this.varShort += (this.varShortAlpha > early ? this.varShortAlpha : early) * (rc2 - this.varShort);
    this.varLong += (this.varLongAlpha > early ? this.varLongAlpha : early) * (rc2 - this.varLong);
    const variance = this.varShort / (this.varLong > tiny * tiny ? this.varLong : tiny * tiny);
    const stuck = this.flat.update(x, tiny);

    // Learn.
    if (n > 1) this.local.update(x, tiny);
    // The profile learns clipped residuals (robust Holt-Winters), so an anomalous day does not
    // come back as an expected shape the next day.
    let seasonalTarget = x;
    if (seasonReady) {
      seasonalTarget = seasonalExpected + this.seasonalSpread.update(x - seasonalExpected, tiny);
      this.seasonalN++;
      const a = this.errorAlpha > 1 / this.seasonalN ? this.errorAlpha : 1 / this.seasonalN;
      const eS = x - seasonalExpected;
      const eL = x - level;
      this.seasonalError += a * ((eS < 0 ? -eS : eS) - this.seasonalError);
      this.localError += a * ((eL < 0 ? -eL : eL) - this.localError);
      // Switch only on a window's worth of evidence, and only where the local baseline errs by a
      // material part of its own spread (on a flat series it errs by next to nothing, and the
      // profile's spread would collapse to the resolution floor); member memories restart in the
      // new units.
      const preferSeasonal =
        this.seasonalN >= s.windowSize &&
        this.seasonalError < t.seasonPreference * this.localError &&
        this.localError >= t.scaleFloor * this.local.spread.value(tiny);
      if (preferSeasonal !== this.useSeasonal) {
        this.useSeasonal = preferSeasonal;
        const ratio = (preferSeasonal ? this.seasonalSpread.value(tiny) : this.local.spread.value(tiny)) / scale;
        this.shiftMean = 0;
        this.varShort *= ratio * ratio;
        this.varLong *= ratio * ratio;
      }
    }
    if (this.seasonal !== null) this.seasonal.update(seasonalTarget);

    // Combine: the member furthest beyond its own recent maximum.
    const warmingUp = n <= s.minSamples;
    let best = 0;
    let member: DetectorMember = 'spike';
    let spikeRatio = 0;
    if (!warmingUp) {
      spikeRatio = this.spikeGate.ratio(spike);
      best = spikeRatio;
      const shiftRatio = this.shiftGate.ratio(shift);
      if (shiftRatio > best) {
        best = shiftRatio;
        member = 'level_shift';
      }
      const varianceRatio = this.varianceGate.ratio(variance);
      if (varianceRatio > best) {
        best = varianceRatio;
        member = 'variance_change';
      }
    } else {
      // Runs that started while learning are part of normal.
      this.flat.markFired();
    }

    let alarm = false;
    const breaksRest = spikeRatio >= REST_BREAK * t.alarmMargin * this.restStrength;
    if (this.restLeft > 0 && !breaksRest) {
      this.restLeft--;
    } else if (!warmingUp && (best >= t.alarmMargin || stuck)) {
      alarm = true;
      this.restLeft = s.restSamples;
      this.restStrength = spikeRatio > 1 ? spikeRatio : 1;
      if (stuck) {
        this.flat.markFired();
        if (best < t.alarmMargin) {
          member = 'flatline';
          best = t.alarmMargin;
        }
      }
    }

    const memory = this.gateMemory === null ? this.appliedMemory : this.gateMemory.update(timeMs);
    // Only a change of more than 1% is passed on: the interval's running mean moves a little every sample.
    if (memory > this.appliedMemory * 1.01 || memory < this.appliedMemory * 0.99) {
      this.appliedMemory = memory;
      this.spikeGate.remember(memory);
      this.shiftGate.remember(memory);
      this.varianceGate.remember(memory);
      this.local.spread.remember(memory);
      this.seasonalSpread.remember(memory);
    }
    if (n > GATE_LEARNING_START * s.minSamples) {
      const anomalous = alarm || this.restLeft > 0;
      const atFloor = scale <= tiny;
      this.spikeGate.learn(spike, anomalous, atFloor);
      this.shiftGate.learn(shift, anomalous, atFloor);
      this.varianceGate.learn(variance, anomalous, atFloor);
    }

    const out = this.out;
    out.score = best / (1 + best);
    out.alarm = alarm;
    out.level = level;
    out.expected = expected;
    out.sigma = scale * MAD_TO_SIGMA;
    out.deviationSigma = r / out.sigma;
    out.member = member;
    out.baseline = seasonal ? 'seasonal' : 'local';
    out.direction = directionOf(member, member === 'level_shift' ? this.shiftMean : r);
    out.warmingUp = warmingUp;
    return out;
  }
}

/** Samples per independent value of an exponentially weighted mean with weight `a` (its variance inflation). */
function ewmaCorrelation(a: number): number {
  return (2 - a) / a;
}

/**
 * Which side of the expected value the alarm is on: the sign of the level-shift average for a level
 * shift, else of the point's residual (a variance change, like a spike, is on the side of the point
 * that raised it); a flat line is `flat`.
 */
function directionOf(member: DetectorMember, signed: number): Direction {
  if (member === 'flatline') return 'flat';
  return signed < 0 ? 'below' : 'above';
}
