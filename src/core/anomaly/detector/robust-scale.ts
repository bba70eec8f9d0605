/**
 * Robust spread of residuals: an exponentially weighted mean of Huber-clipped absolute residuals
 * (robust exponential smoothing, Gelper, Fried & Croux 2010). Where most residuals are exactly zero
 * (sparse spikes on a flat line) the clipped mean collapses, so, as the modified z-score does when
 * the MAD is 0, a fraction of the plain mean absolute residual stands in as a floor: the larger of
 * that mean over the scale's window and over the gates' memory. Over the window alone, the floor
 * decayed through every quiet stretch, so each sparse event (an error counter at 0 that reads 1
 * once an hour) was measured against a scale shrunk by e^(gap / window): the longest gap so far
 * always looked beyond anything seen, at hundreds of sigma.
 */
/** Clipping starts once a few residuals have given the scale a meaning. */
const WARM_CLIP_SAMPLES = 10;

export class RobustScale {
  private clipped = 0;
  private meanAbs = 0;
  private slowMeanAbs = 0;
  private n = 0;

  constructor(
    private readonly alpha: number,
    private readonly clip: number,
    private readonly floorFraction: number,
    /** Weight of the slow mean absolute residual (1 / the gates' memory). */
    private slowAlpha: number,
  ) {}

  /** Follows the gates' memory, in samples, when the detector lengthens it. */
  remember(memory: number): void {
    this.slowAlpha = 1 / memory;
  }

  /** Current scale (mean-absolute-deviation units), never below `tiny`. */
  value(tiny: number): number {
    const floor = this.floorFraction * (this.meanAbs > this.slowMeanAbs ? this.meanAbs : this.slowMeanAbs);
    const s = this.clipped > floor ? this.clipped : floor;
    return s > tiny ? s : tiny;
  }

  /** Learns from residual `r`; returns `r` clipped to `clip` scales (as it was before this update). */
  update(r: number, tiny: number): number {
    this.n++;
    const abs = r < 0 ? -r : r;
    const limit = this.clip * this.value(tiny);
    const clippedAbs = abs > limit && this.n > WARM_CLIP_SAMPLES ? limit : abs;
    // Early on, running means (alpha = 1/n) instead of a cold exponential start.
    const a = this.alpha > 1 / this.n ? this.alpha : 1 / this.n;
    this.clipped += a * (clippedAbs - this.clipped);
    this.meanAbs += a * (abs - this.meanAbs);
    const b = this.slowAlpha > 1 / this.n ? this.slowAlpha : 1 / this.n;
    this.slowMeanAbs += b * (abs - this.slowMeanAbs);
    return r < 0 ? -clippedAbs : clippedAbs;
  }
}
