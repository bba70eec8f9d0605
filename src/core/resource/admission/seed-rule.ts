import { invalidArgument } from '../../errors.js';
import { KNEE_DEFAULTS } from './knee-controller.js';
import { TokenBucket } from './token-bucket.js';
import type { AdmissionController, Permit, Priority, ReleaseOutcome } from './types.js';

/**
 * rs3gw's documented adaptive rate limit: a token bucket of R requests per second whose rate is
 * adjusted every interval from that interval's completions (x0.9 when success < 95 %, else x0.95
 * when mean latency > 1 s, else x1.1 when success > 99 % and latency < 100 ms), within [min, max].
 */
export interface SeedRuleOptions {
  initialRps: number;
  minRps: number;
  maxRps: number;
  /** false keeps the rate fixed at `initialRps` (RS3GW_ADAPTIVE_RATE_LIMIT=false). */
  adaptive: boolean;
  adjustIntervalMs: number;
  /** Bucket capacity in seconds of rate. */
  burstSeconds: number;
}

const SEED_RULE_DEFAULTS: SeedRuleOptions = {
  initialRps: 1000,
  minRps: 100,
  maxRps: 10000,
  adaptive: true,
  adjustIntervalMs: 5000,
  burstSeconds: 0.1,
};

const SUCCESS_FLOOR = 0.95;
const SUCCESS_GOOD = 0.99;
const LATENCY_HIGH_MS = 1000;
const LATENCY_GOOD_MS = 100;

/**
 * The rule's bucket, which priorities meet as the adaptive controller's limit (see `reserveFor`):
 * traffic of normal priority alone, as the rule knows it, meets the bucket unchanged.
 */
export class SeedRuleController implements AdmissionController {
  readonly name = 'seed';
  readonly limitUnit = 'rps' as const;
  private readonly options: SeedRuleOptions;
  private readonly bucket: TokenBucket;
  private rps: number;
  /** The highest `rps` may go: where it stood when a hold began (`holdLimit`), else unbounded. */
  private ceiling = Number.POSITIVE_INFINITY;
  private inflightCount = 0;
  private windowStartMs: number;
  private completions = 0;
  private successes = 0;
  private latencySumMs = 0;

  constructor(nowMs: number, options: Partial<SeedRuleOptions> = {}) {
    this.options = checkSeedRuleOptions({ ...SEED_RULE_DEFAULTS, ...options });
    this.rps = this.options.initialRps;
    this.bucket = new TokenBucket(this.rps, this.burstFor(this.rps), nowMs);
    this.windowStartMs = nowMs;
  }

  /** The rate, to a thousandth of a request per second: 1000 x 1.1 reports 1100, not 1100.0000000000002. */
  get limit(): number {
    return Math.round(this.rps * 1000) / 1000;
  }

  get inflight(): number {
    return this.inflightCount;
  }

  tryAcquire(nowMs: number, priority: Priority = 'normal'): Permit | undefined {
    this.adjustIfDue(nowMs);
    if (!this.bucket.tryTake(nowMs, this.reserveFor(priority))) return undefined;
    this.inflightCount += 1;
    return { startMs: nowMs, priority, inflight: this.inflightCount };
  }

  release(permit: Permit, outcome: ReleaseOutcome): void {
    this.inflightCount = Math.max(0, this.inflightCount - 1);
    this.completions += 1;
    if (!outcome.dropped && !outcome.failed) this.successes += 1;
    this.latencySumMs += Math.max(0, outcome.nowMs - permit.startMs);
    this.adjustIfDue(outcome.nowMs);
  }

  tick(nowMs: number): void {
    this.adjustIfDue(nowMs);
  }

  holdLimit(held: boolean): void {
    this.ceiling = held ? this.rps : Number.POSITIVE_INFINITY;
  }

  private adjustIfDue(nowMs: number): void {
    const interval = this.options.adjustIntervalMs;
    if (nowMs - this.windowStartMs < interval) return;
    if (this.options.adaptive && this.completions > 0) this.adjust(nowMs);
    // Keep a steady cadence under regular ticks, but do not replay intervals after a long gap.
    this.windowStartMs = nowMs - this.windowStartMs < 2 * interval ? this.windowStartMs + interval : nowMs;
    this.completions = 0;
    this.successes = 0;
    this.latencySumMs = 0;
  }

  private adjust(nowMs: number): void {
    const success = this.successes / this.completions;
    const meanLatency = this.latencySumMs / this.completions;
    let factor = 1;
    if (success < SUCCESS_FLOOR) factor = 0.9;
    else if (meanLatency > LATENCY_HIGH_MS) factor = 0.95;
    else if (success > SUCCESS_GOOD && meanLatency < LATENCY_GOOD_MS) factor = 1.1;
    if (factor === 1) return;
    const { minRps, maxRps } = this.options;
    this.rps = Math.min(maxRps, Math.max(minRps, Math.min(this.ceiling, this.rps * factor)));
    this.bucket.reconfigure(this.rps, this.burstFor(this.rps), nowMs);
  }

  /**
   * Tokens a priority leaves in the bucket, as the adaptive controller's caps beside its limit, with
   * the burst for the limit: sheddable traffic leaves a share (at least one token, while the bucket
   * holds more than one), critical traffic may borrow a share (at least two), so that under overload
   * the lower priorities give way. Normal traffic, alone or unmarked, meets the rule's bucket as is.
   */
  private reserveFor(priority: Priority): number {
    const burst = this.bucket.burst;
    if (priority === 'sheddable') return Math.min(burst - 1, Math.max(1, Math.round(KNEE_DEFAULTS.sheddableReserve * burst)));
    if (priority === 'critical') return -Math.max(2, Math.round(KNEE_DEFAULTS.criticalExtra * burst));
    return 0;
  }

  private burstFor(rps: number): number {
    return Math.max(1, rps * this.options.burstSeconds);
  }
}

function checkSeedRuleOptions(o: SeedRuleOptions): SeedRuleOptions {
  const positive: (keyof SeedRuleOptions)[] = ['initialRps', 'minRps', 'maxRps', 'adjustIntervalMs', 'burstSeconds'];
  for (const key of positive) {
    const v = o[key];
    if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0) {
      throw invalidArgument(key, 'must be a finite number > 0');
    }
  }
  // A fixed rate never moves: the bounds of the adaptation are not read, nor checked.
  if (!o.adaptive) return o;
  if (o.minRps > o.maxRps) throw invalidArgument('minRps', `must not exceed maxRps (${o.maxRps})`);
  if (o.initialRps < o.minRps || o.initialRps > o.maxRps) {
    throw invalidArgument('initialRps', `must lie within [minRps, maxRps] = [${o.minRps}, ${o.maxRps}]`);
  }
  return o;
}
