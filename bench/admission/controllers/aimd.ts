import { ConcurrencyLimitController, type Sample } from './concurrency-limiter.js';

/**
 * Netflix concurrency-limits AIMDLimit: back off by 0.9 on a drop or an rtt over the timeout,
 * otherwise add one while at least half the limit is in use.
 */
export class AimdController extends ConcurrencyLimitController {
  readonly name = 'aimd';
  static readonly INITIAL = 20;
  static readonly MIN = 20;
  static readonly MAX = 200;
  static readonly BACKOFF = 0.9;
  static readonly TIMEOUT_MS = 5000;
  private current = AimdController.INITIAL;

  get limit(): number {
    return this.current;
  }

  protected onSample(s: Sample): void {
    let next = this.current;
    if (s.dropped || s.rttMs > AimdController.TIMEOUT_MS) next = Math.floor(next * AimdController.BACKOFF);
    else if (s.inflight * 2 >= next) next = next + 1;
    this.current = Math.min(AimdController.MAX, Math.max(AimdController.MIN, next));
  }
}
