/**
 * Local baseline: an exponentially weighted level updated with Huber-clipped residuals (robust
 * exponential smoothing, Gelper, Fried & Croux 2010). One spike barely moves it; a lasting shift is
 * absorbed within a few level windows, which is how a new normal is learned.
 */
import { RobustScale } from './robust-scale.js';

export class RobustBaseline {
  level = 0;
  readonly spread: RobustScale;
  private n = 0;

  constructor(
    private readonly levelAlpha: number,
    scaleAlpha: number,
    clip: number,
    scaleFloor: number,
    floorAlpha: number,
  ) {
    this.spread = new RobustScale(scaleAlpha, clip, scaleFloor, floorAlpha);
  }

  update(x: number, tiny: number): void {
    this.n++;
    if (this.n === 1) {
      this.level = x;
      return;
    }
    const clipped = this.spread.update(x - this.level, tiny);
    const a = this.levelAlpha > 1 / this.n ? this.levelAlpha : 1 / this.n;
    this.level += a * clipped;
  }
}
