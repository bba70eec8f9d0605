/**
 * Self-calibrating alarm threshold for one non-negative statistic: the statistic is divided by the
 * largest value it took in normal operation (a maximum that decays by a factor 1 - 1/memory per
 * sample). A ratio at or above `margin` means "clearly beyond anything seen lately", whatever the
 * units, noise shape or autocorrelation of the series.
 *
 * While the detector is alarming or resting, a statistic above the alarm threshold (as it stood
 * when the anomaly began) is learned as the geometric mean of the two: a one-off anomaly barely
 * desensitises the gate, so the next distinct event is still caught, while a pattern that keeps
 * recurring is learned within a few occurrences. Lasting changes are absorbed by the baselines.
 */
export class SurpriseGate {
  private max = 0;
  /** The alarm threshold when the current anomaly began (-1 outside anomalies). */
  private cap = -1;
  private readonly keep: number;

  constructor(
    memory: number,
    private readonly margin: number,
  ) {
    this.keep = 1 - 1 / memory;
  }

  /** Ratio of `stat` to the normal maximum (0 while there is none). */
  ratio(stat: number): number {
    return this.max > 0 ? stat / this.max : 0;
  }

  /** Learns `stat`; `anomalous` while the detector is alarming or resting. */
  learn(stat: number, anomalous: boolean): void {
    let s = stat;
    if (!anomalous) {
      this.cap = -1;
    } else {
      if (this.cap < 0) this.cap = this.margin * this.max;
      if (this.cap > 0 && s > this.cap) s = Math.sqrt(s * this.cap);
    }
    const decayed = this.max * this.keep;
    this.max = s > decayed ? s : decayed;
  }
}
