/**
 * Self-calibrating alarm threshold for one non-negative statistic: the statistic is divided by the
 * largest value it took in normal operation (a maximum that decays by a factor 1 - 1/memory per
 * sample). A ratio at or above `margin` means "clearly beyond anything seen lately", whatever the
 * units, noise shape or autocorrelation of the series.
 *
 * While the detector is alarming or resting, the maximum may rise only up to the alarm threshold
 * as it stood when the anomaly began:
 * an anomaly does not teach the gate that anomalies are normal, so the next distinct event is still
 * caught. Lasting changes are absorbed by the baselines instead, and the slow decay forgets the
 * rest.
 */
export class SurpriseGate {
  private max = 0;
  /** The maximum when the current anomaly began (-1 outside anomalies); caps learning during it. */
  private anchor = -1;
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

  /** Learns `stat`; during an anomaly (`anomalous`) it counts for at most the alarm threshold. */
  learn(stat: number, anomalous: boolean): void {
    let s = stat;
    if (!anomalous) {
      this.anchor = -1;
    } else {
      if (this.anchor < 0) this.anchor = this.max;
      const cap = this.margin * this.anchor;
      if (this.anchor > 0 && s > cap) s = cap;
    }
    const decayed = this.max * this.keep;
    this.max = s > decayed ? s : decayed;
  }
}
