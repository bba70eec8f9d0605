import { ConcurrencyLimitController, type Sample } from './concurrency-limiter.js';

/**
 * Netflix concurrency-limits VegasLimit: estimate the queue as L (1 - rttNoLoad / rtt) and keep it
 * between alpha = 3 lg and beta = 6 lg, lg = max(1, floor(log10 L)). rttNoLoad is the lowest rtt
 * seen, re-probed (reset to the current rtt) every 30 L samples.
 */
export class VegasController extends ConcurrencyLimitController {
  readonly name = 'vegas';
  static readonly INITIAL = 20;
  static readonly MAX = 1000;
  static readonly PROBE_MULTIPLIER = 30;
  private estimated = VegasController.INITIAL;
  private rttNoLoad = 0;
  private probeCount = 0;

  get limit(): number {
    return this.estimated;
  }

  protected onSample(s: Sample): void {
    const rtt = s.rttMs;
    if (rtt <= 0) return;
    this.probeCount += 1;
    if (this.probeCount >= VegasController.PROBE_MULTIPLIER * Math.floor(this.estimated)) {
      this.probeCount = 0;
      this.rttNoLoad = rtt;
      return;
    }
    if (this.rttNoLoad === 0 || rtt < this.rttNoLoad) {
      this.rttNoLoad = rtt;
      return;
    }
    const limit = Math.floor(this.estimated);
    const lg = Math.max(1, Math.floor(Math.log10(limit)));
    const queue = Math.ceil(this.estimated * (1 - this.rttNoLoad / rtt));
    let next: number;
    if (s.dropped) next = this.estimated - lg;
    else if (s.inflight * 2 < this.estimated) return;
    else if (queue <= lg) next = this.estimated + 6 * lg;
    else if (queue < 3 * lg) next = this.estimated + lg;
    else if (queue > 6 * lg) next = this.estimated - lg;
    else return;
    this.estimated = Math.max(1, Math.min(VegasController.MAX, next));
  }
}
