/**
 * Self-calibrating alarm threshold for one non-negative statistic: the statistic is divided by the
 * largest value it took recently (a maximum that decays by a factor 1 - 1/memory per sample). A
 * ratio above the alarm margin means "clearly beyond anything seen lately", whatever the units,
 * noise shape or autocorrelation of the series. Anomalies raise the maximum too, so a lasting change
 * stops alarming once it is the new normal.
 */
export class SurpriseGate {
  private max = 0;
  private readonly keep: number;

  constructor(memory: number) {
    this.keep = 1 - 1 / memory;
  }

  /** Ratio of `stat` to the recent maximum (0 while there is none). */
  ratio(stat: number): number {
    return this.max > 0 ? stat / this.max : 0;
  }

  learn(stat: number): void {
    const decayed = this.max * this.keep;
    this.max = stat > decayed ? stat : decayed;
  }
}
