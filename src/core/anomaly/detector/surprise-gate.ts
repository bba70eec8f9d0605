/**
 * Self-calibrating alarm threshold for one non-negative statistic: the statistic is divided by the
 * largest value it took in normal operation (a maximum that decays by a factor 1 - 1/memory per
 * sample). A ratio at or above `margin` means "clearly beyond anything seen lately", whatever the
 * units, noise shape or autocorrelation of the series.
 *
 * A young gate's maximum is too small: the largest of k values grows with k (like sqrt(2 ln k) for
 * Gaussian-like tails), so right after warm-up ordinary values would look "beyond anything seen".
 * Until the gate has seen as many independent values as its decaying maximum effectively spans (its
 * horizon), the maximum's excess over the statistic's mean is stretched by sqrt(ln horizon / ln k):
 * an extreme-value allowance that shrinks to nothing as values come in.
 *
 * While the detector is alarming or resting, a statistic above the alarm threshold (as it stood
 * when the anomaly began) is learned as the geometric mean of the two: a one-off anomaly barely
 * desensitises the gate, so the next distinct event is still caught, while a pattern that keeps
 * recurring is learned within a few occurrences. Lasting changes are absorbed by the baselines.
 *
 * A gate that has learned nothing but zeros (a perfectly constant series: every residual is exactly
 * 0 and the scale sits at the detector's resolution floor, ~1e-12 of the level) compares with
 * `MIN_REFERENCE`, one scale unit, instead of its maximum of 0: any change larger than that
 * resolution (an error count at 0 that jumps, a gauge stuck at 100 that drops) is beyond anything
 * seen, while a constant series, whose statistics stay exactly 0, is never flagged, nor is rounding
 * noise (the detector reads a residual within its resolution as 0, so no gate learns it).
 */
const MIN_REFERENCE = 1;

export class SurpriseGate {
  private max = 0;
  /** What a statistic is compared with: the maximum, stretched by the allowance while young. */
  private reference = 0;
  /** The alarm threshold when the current anomaly began (-1 outside anomalies). */
  private cap = -1;
  private keep: number;
  /** Values learned after which the gate is mature (no allowance), and ln(1 + horizon). */
  private readonly matureAfter: number;
  private readonly logHorizon: number;
  /** Values learned and their mean, tracked until the gate is mature. */
  private learned = 0;
  private mean = 0;

  /**
   * @param correlation values per independent value of the statistic: 1 for a point statistic,
   *   (2 - a) / a for an exponentially weighted mean with weight a (its variance inflation).
   */
  constructor(
    memory: number,
    private readonly margin: number,
    private readonly correlation: number,
  ) {
    this.keep = 1 - 1 / memory;
    const horizon = maximumHorizon(memory / correlation);
    this.logHorizon = Math.log1p(horizon);
    this.matureAfter = horizon * correlation;
  }

  /**
   * Sets the samples over which the maximum decays (the detector lengthens it to span seasons, see
   * season-memory.ts); the young-gate allowance keeps the horizon of the constructor's memory.
   */
  remember(memory: number): void {
    this.keep = 1 - 1 / memory;
  }

  /** Ratio of `stat` to the normal maximum, with the allowance while young (`MIN_REFERENCE` while it is 0). */
  ratio(stat: number): number {
    return stat / (this.reference > 0 ? this.reference : MIN_REFERENCE);
  }

  /**
   * Learns `stat`; `anomalous` while the detector is alarming or resting; `atFloor` when the scale
   * it was measured against sat at the detector's resolution floor (the series had been constant).
   */
  learn(stat: number, anomalous: boolean, atFloor: boolean): void {
    let s = stat;
    // Against the resolution floor a statistic's size means nothing later (the next one is measured
    // against a real scale): a gate that knows only zeros learns at most the threshold, in an
    // anomaly and also where the change could not alarm (in warm-up). Learned whole, the first error
    // of a counter at 0 (10^12 scale units) hid every later incident, 50 errors at once included.
    if (!anomalous) {
      this.cap = -1;
      if (atFloor && this.reference === 0 && s > this.margin * MIN_REFERENCE) s = this.margin * MIN_REFERENCE;
    } else {
      if (this.cap < 0) this.cap = this.margin * (this.reference > 0 ? this.reference : MIN_REFERENCE);
      if (s > this.cap) s = this.reference > 0 ? Math.sqrt(s * this.cap) : this.cap;
    }
    const decayed = this.max * this.keep;
    this.max = s > decayed ? s : decayed;
    if (this.learned >= this.matureAfter) {
      this.reference = this.max;
      return;
    }
    this.learned++;
    this.mean += (s - this.mean) / this.learned;
    const excess = this.max - this.mean;
    const allowance = Math.sqrt(this.logHorizon / Math.log1p(this.learned / this.correlation));
    this.reference = excess > 0 && allowance > 1 ? this.mean + excess * allowance : this.max;
  }
}

/**
 * Independent values over which a maximum decaying by 1 - 1/m per value effectively ranges: for
 * Gaussian-like tails a value j steps old has raised the maximum by ~sqrt(2 ln j) and decayed by
 * e^(-j/m), a trade-off that peaks where j ln j = m / 2 (about 1,400 for m = 20,000).
 */
function maximumHorizon(m: number): number {
  const target = m / 2;
  let h = target > 1 ? target : 1;
  // Fixed-point iteration h = target / ln(1 + h) converges in a few steps.
  for (let i = 0; i < 20; i++) h = Math.max(1, target / Math.log1p(h));
  return h;
}
