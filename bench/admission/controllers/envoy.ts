import { ConcurrencyLimitController, type Sample } from './concurrency-limiter.js';
import { percentile } from '../engine/metrics.js';

/**
 * Envoy's adaptive-concurrency gradient controller. Every 100 ms window:
 * gradient = clamp(1.25 minRTT / p50(sample rtts), 0.5, 2), limit = floor(L g + sqrt(L g)) in [3, 1000].
 * minRTT is the p50 of 50 requests measured with the limit pinned to 3: at start, every 60 s, and
 * at once after 5 consecutive windows at the minimum. As in Envoy (min_rtt_epoch_), requests sent
 * before the latest minRTT measurement began are no samples: those queued under the old limit
 * would otherwise be measured as the minRTT.
 */
export class EnvoyGradientController extends ConcurrencyLimitController {
  readonly name = 'envoy';
  static readonly MIN = 3;
  static readonly MAX = 1000;
  static readonly BUFFER = 0.25;
  static readonly WINDOW_MS = 100;
  static readonly MIN_RTT_INTERVAL_MS = 60_000;
  static readonly MIN_RTT_REQUESTS = 50;
  /** Bounds the samples kept between two windows if ticks stop coming. */
  static readonly MAX_SAMPLES = 65_536;
  private current = EnvoyGradientController.MIN;
  private minRttMs = 0;
  private sampling = true;
  private deferredLimit = EnvoyGradientController.MIN;
  private nextMinRttAtMs = 0;
  private windowEndMs: number;
  private consecutiveAtMin = 0;
  private samples: number[] = [];
  /** When the latest minRTT measurement began: requests sent before it are not sampled. */
  private epochMs: number;

  constructor(nowMs: number) {
    super();
    this.windowEndMs = nowMs + EnvoyGradientController.WINDOW_MS;
    this.epochMs = nowMs;
  }

  get limit(): number {
    return this.current;
  }

  tick(nowMs: number): void {
    if (!this.sampling && nowMs >= this.nextMinRttAtMs) this.enterMinRttSampling(nowMs);
    if (this.sampling || nowMs < this.windowEndMs) return;
    this.windowEndMs = nowMs + EnvoyGradientController.WINDOW_MS;
    if (this.samples.length === 0) return;
    const sampleRtt = percentile(Float64Array.from(this.samples).sort(), 0.5)!;
    this.samples = [];
    const buffered = this.minRttMs * (1 + EnvoyGradientController.BUFFER);
    const gradient = Math.max(0.5, Math.min(2, buffered / sampleRtt));
    const scaled = this.current * gradient;
    const next = Math.floor(scaled + Math.sqrt(scaled));
    this.current = Math.max(EnvoyGradientController.MIN, Math.min(EnvoyGradientController.MAX, next));
    this.consecutiveAtMin = this.current === EnvoyGradientController.MIN ? this.consecutiveAtMin + 1 : 0;
    if (this.consecutiveAtMin >= 5) this.enterMinRttSampling(nowMs);
  }

  protected onSample(s: Sample): void {
    if (s.nowMs - s.rttMs < this.epochMs) return;
    if (this.samples.length < EnvoyGradientController.MAX_SAMPLES) this.samples.push(s.rttMs);
    if (this.sampling && this.samples.length >= EnvoyGradientController.MIN_RTT_REQUESTS) {
      this.minRttMs = percentile(Float64Array.from(this.samples).sort(), 0.5)!;
      this.samples = [];
      this.sampling = false;
      this.current = this.deferredLimit;
      this.nextMinRttAtMs = s.nowMs + EnvoyGradientController.MIN_RTT_INTERVAL_MS;
      this.windowEndMs = s.nowMs + EnvoyGradientController.WINDOW_MS;
    }
  }

  private enterMinRttSampling(nowMs: number): void {
    this.sampling = true;
    this.epochMs = nowMs;
    this.consecutiveAtMin = 0;
    this.deferredLimit = this.current;
    this.current = EnvoyGradientController.MIN;
    this.samples = [];
  }
}
