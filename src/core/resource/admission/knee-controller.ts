import { invalidArgument } from '../../errors.js';
import { LoadWindow, type WindowSummary } from './load-window.js';
import type { AdmissionController, Permit, Priority, ReleaseOutcome } from './types.js';

export interface KneeOptions {
  initialLimit: number;
  minLimit: number;
  maxLimit: number;
  /** Queue allowed beyond the knee, as a share of the knee and as a fixed number of slots. */
  headroom: number;
  queueSlots: number;
  /** A window closes after this many completions and at least two base round trips. */
  windowSamples: number;
  minWindowMs: number;
  maxWindowMs: number;
  /** Re-measure the base round trip this often while saturated, this far below the knee. */
  probeIntervalMs: number;
  probeDepth: number;
  /** Share of the limit kept back from sheddable traffic, and added for critical traffic. */
  priorityReserve: number;
}

export const KNEE_DEFAULTS: KneeOptions = {
  initialLimit: 20,
  minLimit: 2,
  maxLimit: 10_000,
  headroom: 0.15,
  queueSlots: 3,
  windowSamples: 40,
  minWindowMs: 20,
  maxWindowMs: 1000,
  probeIntervalMs: 10_000,
  probeDepth: 0.1,
  priorityReserve: 0.1,
};

/** A probe holds the limit at or below the knee to measure the round trip without a queue. */
type ProbeState =
  | { phase: 'off' }
  | { phase: 'draining'; limit: number; startedMs: number }
  | { phase: 'measuring'; limit: number; startedMs: number; fromMs: number; rttSum: number; samples: number };

/**
 * Tracks the concurrency knee: the number of requests in flight beyond which the server only
 * queues. By Little's law the busy servers are inflight x baseRtt / rtt; the limit sits a little
 * above that knee so the server never idles and the queue stays short.
 */
export class KneeController implements AdmissionController {
  readonly name = 'knee';
  readonly limitUnit = 'concurrency' as const;
  private readonly o: KneeOptions;
  private count = 0;
  private knee: number;
  private baseRttMs: number | undefined;
  private window: LoadWindow;
  private probe: ProbeState = { phase: 'off' };
  private lastProbeMs: number;

  constructor(nowMs: number, options: Partial<KneeOptions> = {}) {
    this.o = checkKneeOptions({ ...KNEE_DEFAULTS, ...options });
    this.knee = (this.o.initialLimit - this.o.queueSlots) / (1 + this.o.headroom);
    this.window = new LoadWindow(nowMs, 0);
    this.lastProbeMs = nowMs;
  }

  get limit(): number {
    if (this.probe.phase !== 'off') return this.probe.limit;
    return this.clamp(this.knee * (1 + this.o.headroom) + this.o.queueSlots);
  }

  get inflight(): number {
    return this.count;
  }

  tryAcquire(nowMs: number, priority: Priority = 'normal'): Permit | undefined {
    this.maybeRoll(nowMs);
    const limit = this.limit;
    const reserve = Math.max(1, Math.round(this.o.priorityReserve * limit));
    const cap = priority === 'critical' ? limit + reserve : priority === 'sheddable' ? limit - reserve : limit;
    if (this.count >= Math.floor(cap)) {
      this.window.addRejection();
      return undefined;
    }
    this.count += 1;
    this.window.inflightChanged(nowMs, this.count);
    return { startMs: nowMs, priority, inflight: this.count };
  }

  release(permit: Permit, outcome: ReleaseOutcome): void {
    this.count = Math.max(0, this.count - 1);
    this.window.inflightChanged(outcome.nowMs, this.count);
    if (!outcome.failed) {
      const rtt = Math.max(0, outcome.nowMs - permit.startMs);
      this.window.addSample(rtt);
      this.recordProbeSample(permit, rtt, outcome.nowMs);
    }
    this.maybeRoll(outcome.nowMs);
  }

  tick(nowMs: number): void {
    this.maybeRoll(nowMs);
  }

  private recordProbeSample(permit: Permit, rtt: number, nowMs: number): void {
    const p = this.probe;
    if (p.phase === 'draining' && this.count <= p.limit) {
      this.probe = { phase: 'measuring', limit: p.limit, startedMs: p.startedMs, fromMs: nowMs, rttSum: 0, samples: 0 };
      return;
    }
    if (p.phase !== 'measuring' || permit.startMs < p.fromMs) return;
    p.rttSum += rtt;
    p.samples += 1;
    if (p.samples >= this.o.windowSamples) this.finishProbe(nowMs);
  }

  private finishProbe(nowMs: number): void {
    const p = this.probe;
    if (p.phase === 'measuring' && p.samples > 0) {
      this.baseRttMs = p.rttSum / p.samples;
      this.knee = Math.max(this.knee, p.limit);
    }
    this.probe = { phase: 'off' };
    this.lastProbeMs = nowMs;
    this.window.roll(nowMs);
  }

  private maybeRoll(nowMs: number): void {
    if (this.probe.phase !== 'off' && nowMs - this.probe.startedMs > 2 * this.o.maxWindowMs) {
      // Traffic dried up or service is very slow: keep what was measured rather than hold the limit down.
      this.finishProbe(nowMs);
    }
    const minSpan = Math.max(this.o.minWindowMs, 2 * (this.baseRttMs ?? 0));
    const elapsed = this.window.elapsedMs(nowMs);
    const full = this.window.sampleCount >= this.o.windowSamples && elapsed >= minSpan;
    if (!full && elapsed < this.o.maxWindowMs) return;
    const w = this.window.roll(nowMs);
    if (w.samples > 0 && this.probe.phase === 'off') this.learn(w, nowMs);
  }

  private learn(w: WindowSummary, nowMs: number): void {
    if (this.baseRttMs === undefined) {
      this.baseRttMs = w.meanRttMs;
      return;
    }
    const busy = (w.meanInflight * this.baseRttMs) / Math.max(w.meanRttMs, 1e-9);
    const saturated = w.rejections > 0;
    if (!saturated) {
      // Little queueing below the knee: the round trip is the base.
      if (w.meanInflight <= 0.8 * this.knee) this.baseRttMs += 0.2 * (w.meanRttMs - this.baseRttMs);
      this.knee = Math.max(this.knee, busy);
      return;
    }
    const surprise = busy < 0.75 * this.knee || busy > 1.33 * this.knee;
    if (surprise) {
      this.startProbe(Math.min(busy, this.knee), nowMs);
    } else if (nowMs - this.lastProbeMs >= this.o.probeIntervalMs) {
      this.startProbe(this.knee * (1 - this.o.probeDepth), nowMs);
    } else {
      this.knee += 0.3 * (busy - this.knee);
    }
  }

  private startProbe(target: number, nowMs: number): void {
    const limit = Math.max(this.o.minLimit, Math.floor(target));
    this.probe =
      this.count <= limit
        ? { phase: 'measuring', limit, startedMs: nowMs, fromMs: nowMs, rttSum: 0, samples: 0 }
        : { phase: 'draining', limit, startedMs: nowMs };
  }

  private clamp(limit: number): number {
    return Math.min(this.o.maxLimit, Math.max(this.o.minLimit, limit));
  }
}

function checkKneeOptions(o: KneeOptions): KneeOptions {
  for (const [key, value] of Object.entries(o)) {
    if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
      throw invalidArgument(key, 'must be a finite number >= 0');
    }
  }
  if (o.minLimit < 1) throw invalidArgument('minLimit', 'must be >= 1');
  if (o.maxLimit < o.minLimit) throw invalidArgument('maxLimit', 'must be >= minLimit');
  if (o.initialLimit < o.minLimit || o.initialLimit > o.maxLimit) {
    throw invalidArgument('initialLimit', 'must lie within [minLimit, maxLimit]');
  }
  if (o.probeDepth >= 1) throw invalidArgument('probeDepth', 'must be < 1');
  return o;
}
