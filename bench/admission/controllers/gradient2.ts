import { ConcurrencyLimitController, type Sample } from './concurrency-limiter.js';

/** Netflix's ExpAvgMeasurement: plain average over a warm-up, then an EMA with factor 2 / (window + 1). */
class ExpAverage {
  private value = 0;
  private count = 0;
  constructor(
    private readonly window: number,
    private readonly warmup: number,
  ) {}
  add(sample: number): number {
    if (this.count < this.warmup) {
      this.count += 1;
      this.value += (sample - this.value) / this.count;
    } else {
      const f = 2 / (this.window + 1);
      this.value = this.value * (1 - f) + sample * f;
    }
    return this.value;
  }
  scale(factor: number): void {
    this.value *= factor;
  }
}

/**
 * Netflix concurrency-limits Gradient2Limit: gradient = clamp(1.5 longRtt / shortRtt, 0.5, 1),
 * new = L gradient + 4, smoothed by 0.2, skipped while less than half the limit is in use.
 */
export class Gradient2Controller extends ConcurrencyLimitController {
  readonly name = 'gradient2';
  static readonly INITIAL = 20;
  static readonly MIN = 20;
  static readonly MAX = 200;
  static readonly SMOOTHING = 0.2;
  static readonly QUEUE_SIZE = 4;
  static readonly TOLERANCE = 1.5;
  private estimated = Gradient2Controller.INITIAL;
  private readonly longRtt = new ExpAverage(600, 10);

  get limit(): number {
    return this.estimated;
  }

  protected onSample(s: Sample): void {
    const shortRtt = s.rttMs;
    if (shortRtt <= 0) return;
    const longRtt = this.longRtt.add(shortRtt);
    // After a long overload the long average lags far behind: pull it down faster.
    if (longRtt / shortRtt > 2) this.longRtt.scale(0.95);
    if (s.inflight < this.estimated / 2) return;
    const gradient = Math.max(0.5, Math.min(1, (Gradient2Controller.TOLERANCE * longRtt) / shortRtt));
    const proposed = this.estimated * gradient + Gradient2Controller.QUEUE_SIZE;
    const smoothed = this.estimated * (1 - Gradient2Controller.SMOOTHING) + proposed * Gradient2Controller.SMOOTHING;
    this.estimated = Math.max(Gradient2Controller.MIN, Math.min(Gradient2Controller.MAX, smoothed));
  }
}
