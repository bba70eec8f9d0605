import { invalidArgument } from '../../errors.js';
import { LoadWindow, type WindowSummary } from './load-window.js';
import type { AdmissionController, Permit, Priority, ReleaseOutcome } from './types.js';

export interface KneeOptions {
  initialLimit: number;
  minLimit: number;
  maxLimit: number;
  /** Queue allowed beyond the knee: a share of the knee plus a fixed number of slots. */
  headroom: number;
  queueSlots: number;
  /** A window closes after this many completions and at least two base round trips. */
  windowSamples: number;
  minWindowMs: number;
  maxWindowMs: number;
  /** Requests in a probe cohort, whose round trips measure the base without a queue. */
  probeCohort: number;
  /** While saturated, re-measure the base this often, this far below the knee. */
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
  probeCohort: 48,
  probeIntervalMs: 10_000,
  probeDepth: 0.1,
  priorityReserve: 0.1,
};

/** How far the busy-server estimate may move in one window before a probe re-checks the base. */
const SURPRISE_LOW = 0.75;
const SURPRISE_HIGH = 1.33;
/** A window counts as saturated when requests were refused and inflight stayed near the limit. */
const SATURATED_SHARE = 0.85;
/** Below this share of the knee the round trip is taken as the base (little queueing). */
const UNLOADED_SHARE = 0.8;
/** Round trips this far above the base mean a queue has formed, refused or not. */
const QUEUEING_RATIO = 1.25;
const KNEE_GAIN = 0.3;
/** Weight of a routine probe's cohort in the base; a surprise probe replaces the base outright. */
const PROBE_GAIN = 0.5;
const BASE_GAIN = 0.2;
const PEAK_DECAY = 0.98;
/** A probe cohort that has not come back after this long is abandoned. */
const PROBE_TIMEOUT_MS = 60_000;

interface KneePermit extends Permit {
  readonly cohort: number;
}

/**
 * A probe holds the limit at or below the knee until a cohort of requests has been admitted: they
 * start service at once, so their round trips are the base. Later arrivals queue behind them in
 * FIFO order and do not disturb the measurement, so the limit is restored as soon as the cohort is in.
 */
type Probe =
  | { phase: 'off' }
  | { phase: 'draining'; id: number; surprise: boolean; limit: number; startedMs: number }
  | (ProbeCohort & { phase: 'admitting'; limit: number })
  | (ProbeCohort & { phase: 'awaiting' });

interface ProbeCohort {
  id: number;
  /** Started because the round trip jumped: its result replaces the base instead of refining it. */
  surprise: boolean;
  startedMs: number;
  admitted: number;
  done: number;
  rttSum: number;
  rttCount: number;
}

/**
 * Adaptive concurrency limit that tracks the knee: the number of requests in flight beyond which
 * the server only queues. By Little's law the busy servers are inflight x baseRtt / rtt; the limit
 * sits a little above the knee so the server never idles while the queue stays short. A change in
 * round trip at a steady limit is a change in service time, not in queue, so it triggers a probe
 * that re-measures the base instead of a cut.
 */
export class KneeController implements AdmissionController {
  readonly name = 'knee';
  readonly limitUnit = 'concurrency' as const;
  private readonly o: KneeOptions;
  private count = 0;
  private knee: number | undefined;
  private baseRttMs: number | undefined;
  private current: number;
  private peakInflight = 0;
  private window: LoadWindow;
  private lastSaturated: WindowSummary | undefined;
  private probe: Probe = { phase: 'off' };
  private probeIds = 0;
  private lastProbeMs: number;

  constructor(nowMs: number, options: Partial<KneeOptions> = {}) {
    this.o = checkKneeOptions({ ...KNEE_DEFAULTS, ...options });
    this.current = this.o.initialLimit;
    this.window = new LoadWindow(nowMs, 0);
    this.lastProbeMs = nowMs;
  }

  get limit(): number {
    const p = this.probe;
    return p.phase === 'draining' || p.phase === 'admitting' ? p.limit : this.current;
  }

  get inflight(): number {
    return this.count;
  }

  /** The estimated knee (busy servers at saturation), once the server has been saturated. */
  get estimatedKnee(): number | undefined {
    return this.knee;
  }

  /** The estimated round trip without queueing. */
  get baseRtt(): number | undefined {
    return this.baseRttMs;
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
    let cohort = 0;
    const p = this.probe;
    if (p.phase === 'admitting') {
      cohort = p.id;
      p.admitted += 1;
      if (p.admitted >= this.o.probeCohort) this.probe = { ...p, phase: 'awaiting' };
    }
    const permit: KneePermit = { startMs: nowMs, priority, inflight: this.count, cohort };
    return permit;
  }

  release(permit: Permit, outcome: ReleaseOutcome): void {
    const now = outcome.nowMs;
    this.count = Math.max(0, this.count - 1);
    this.window.inflightChanged(now, this.count);
    const rtt = Math.max(0, now - permit.startMs);
    if (!outcome.failed) this.window.addSample(rtt);
    const p = this.probe;
    if (p.phase === 'draining' && this.count <= p.limit) {
      this.probe = { ...p, phase: 'admitting', admitted: 0, done: 0, rttSum: 0, rttCount: 0 };
    } else if ((p.phase === 'admitting' || p.phase === 'awaiting') && (permit as KneePermit).cohort === p.id) {
      p.done += 1;
      if (!outcome.failed) {
        p.rttSum += rtt;
        p.rttCount += 1;
      }
      if (p.phase === 'awaiting' && p.done >= p.admitted) this.finishProbe(p, now);
    }
    this.maybeRoll(now);
  }

  tick(nowMs: number): void {
    this.maybeRoll(nowMs);
  }

  private maybeRoll(nowMs: number): void {
    this.expireProbe(nowMs);
    const minSpan = Math.max(this.o.minWindowMs, 2 * (this.baseRttMs ?? 0));
    const elapsed = this.window.elapsedMs(nowMs);
    const full = this.window.sampleCount >= this.o.windowSamples && elapsed >= minSpan;
    if (!full && elapsed < this.o.maxWindowMs) return;
    const w = this.window.roll(nowMs);
    if (w.samples > 0) this.learn(w, nowMs);
  }

  private learn(w: WindowSummary, nowMs: number): void {
    this.peakInflight = Math.max(this.peakInflight * PEAK_DECAY, w.maxInflight);
    if (this.baseRttMs === undefined) {
      this.baseRttMs = w.meanRttMs;
      return;
    }
    const busy = (w.meanInflight * this.baseRttMs) / Math.max(w.meanRttMs, 1e-9);
    const queueing = w.meanRttMs > QUEUEING_RATIO * this.baseRttMs;
    const refused = w.rejections > 0 && w.meanInflight >= SATURATED_SHARE * this.limit;
    if (!queueing && !refused) {
      if (w.rejections > 0) {
        // Refusals in a bursty window: the knee is at least what was busy.
        if (this.knee !== undefined && busy > this.knee) this.knee = busy;
      } else {
        // Calm: well below the knee the round trip is the base, and the limit keeps room for
        // twice the recent peak so that bursts are not refused.
        if (w.meanInflight <= UNLOADED_SHARE * (this.knee ?? this.current / 2)) {
          this.baseRttMs += BASE_GAIN * (w.meanRttMs - this.baseRttMs);
        }
        if (this.knee !== undefined) this.knee = Math.max(this.knee, busy);
        this.current = this.clamp(Math.max(this.kneeLimit(), 2 * this.peakInflight));
      }
      return;
    }
    if (this.probe.phase !== 'off') return;
    this.lastSaturated = w;
    if (this.knee === undefined) {
      this.knee = busy;
    } else if (busy < SURPRISE_LOW * this.knee) {
      this.startProbe(Math.max(busy, SURPRISE_LOW * this.knee), true, nowMs);
      return;
    } else if (busy > SURPRISE_HIGH * this.knee) {
      this.startProbe(this.knee, true, nowMs);
      return;
    } else if (nowMs - this.lastProbeMs >= this.o.probeIntervalMs) {
      this.startProbe(this.knee * (1 - this.o.probeDepth), false, nowMs);
    } else {
      this.knee += KNEE_GAIN * (busy - this.knee);
    }
    this.current = this.kneeLimit();
  }

  private kneeLimit(): number {
    if (this.knee === undefined) return this.current;
    return this.clamp(this.knee * (1 + this.o.headroom) + this.o.queueSlots);
  }

  private startProbe(target: number, surprise: boolean, nowMs: number): void {
    const limit = Math.max(this.o.minLimit, Math.floor(target));
    const id = ++this.probeIds;
    this.lastProbeMs = nowMs;
    this.probe =
      this.count <= limit
        ? { phase: 'admitting', id, surprise, limit, startedMs: nowMs, admitted: 0, done: 0, rttSum: 0, rttCount: 0 }
        : { phase: 'draining', id, surprise, limit, startedMs: nowMs };
  }

  private finishProbe(p: Extract<Probe, { phase: 'awaiting' }>, nowMs: number): void {
    this.probe = { phase: 'off' };
    this.lastProbeMs = nowMs;
    if (p.rttCount === 0 || this.baseRttMs === undefined) return;
    const measured = p.rttSum / p.rttCount;
    const previous = this.baseRttMs;
    this.baseRttMs = p.surprise ? measured : previous + PROBE_GAIN * (measured - previous);
    const w = this.lastSaturated;
    if (p.surprise && w !== undefined) {
      this.knee = (w.meanInflight * this.baseRttMs) / Math.max(w.meanRttMs, 1e-9);
    } else if (this.knee !== undefined) {
      // The busy-server estimate scales with the base: rescale rather than re-measure it.
      this.knee *= this.baseRttMs / previous;
    }
    this.current = this.kneeLimit();
  }

  private expireProbe(nowMs: number): void {
    const p = this.probe;
    if (p.phase === 'off') return;
    const age = nowMs - p.startedMs;
    if ((p.phase === 'draining' || p.phase === 'admitting') && age > 2 * this.o.maxWindowMs) {
      // Traffic dried up: stop holding the limit down and use whatever the cohort measures.
      this.probe = p.phase === 'admitting' && p.admitted > 0 ? { ...p, phase: 'awaiting' } : { phase: 'off' };
    } else if (age > PROBE_TIMEOUT_MS) {
      this.probe = { phase: 'off' };
    }
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
  if (o.probeCohort < 1) throw invalidArgument('probeCohort', 'must be >= 1');
  return o;
}
