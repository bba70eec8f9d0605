import type { Priority } from '../../../src/core/resource/admission/types.js';
import { TICK_MS, WINDOW_MS, type RunRecord } from './simulate.js';
import { capacityRps, phaseBoundsMs, serviceMultiplierAt, type Scenario } from './scenario.js';

/** Completions within this many ms count towards SLO goodput. */
const SLO_MS = 250;
/** Step between candidate windows of convergence and recovery (WINDOW_MS long). */
const WINDOW_STEP_MS = 100;
/** Convergence needs p99 within this factor of the unloaded p99 and at least this goodput. */
const P99_FACTOR = 2;
const CONVERGED_GOODPUT = 0.9;
/** The limit's coefficient of variation is taken over this much of the end of each phase. */
const LIMIT_CV_MS = 30_000;

/** One phase of one run. Times that never happened are null. */
export interface PhaseMetrics {
  index: number;
  load: number;
  seconds: number;
  overload: boolean;
  /** The rejection share an ideal controller needs: max(0, 1 - mu_eff / lambda). */
  idealRejection: number;
  goodput: number;
  sloGoodput: number;
  p50Ms: number | null;
  p99Ms: number | null;
  p999Ms: number | null;
  /** p99 of what each arrival would take on an idle server. */
  unloadedP99Ms: number;
  /** p99 of successes completed after convergence, over the unloaded p99 (overload phases). */
  p99AfterConvergenceRatio: number | null;
  rejectionRate: number;
  excessRejection: number;
  timeoutRate: number;
  convergenceS: number | null;
  recoveryS: number | null;
  limitCv: number | null;
  /** Share of the workers' time spent serving requests: what goodput would be at zero contention. */
  busyShare: number;
  byPriority: Record<Priority, { arrivals: number; servedRate: number | null; rejectionRate: number | null }>;
}

/** Nearest-rank percentile of an ascending array; null when empty. */
export function percentile(sorted: ArrayLike<number>, q: number): number | null {
  if (sorted.length === 0) return null;
  const rank = Math.max(1, Math.ceil(q * sorted.length));
  return sorted[rank - 1];
}

/** Requests the server can complete between a and b (ms), capacity events included. */
export function capacityBetween(s: Scenario, a: number, b: number): number {
  const cuts = new Set<number>([a, b]);
  for (const e of s.capacityEvents) {
    for (const t of [e.atS * 1000, (e.atS + e.seconds) * 1000]) if (t > a && t < b) cuts.add(t);
  }
  const points = [...cuts].sort((x, y) => x - y);
  const perMs = capacityRps(s) / 1000;
  let total = 0;
  for (let i = 0; i + 1 < points.length; i++) {
    total += (perMs * (points[i + 1] - points[i])) / serviceMultiplierAt(s, points[i]);
  }
  return total;
}

/**
 * Offered rate of a phase in requests per ms while arrivals are on. On/off patterns are judged at
 * their on-rate: a burst longer than the deadline cannot be queued away, so that is what an ideal
 * controller has to refuse.
 */
function offeredPerMs(s: Scenario, phase: number): number {
  return (s.phases[phase].load * capacityRps(s)) / 1000;
}

/** First index i with arr[i] >= x, or with arr[i] > x when `strict` (arr ascending). */
function lowerBound(arr: Float64Array, x: number, strict = false): number {
  let lo = 0;
  let hi = arr.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (arr[mid] < x || (strict && arr[mid] === x)) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Entries of an ascending array in [a, b). */
function countIn(arr: Float64Array, a: number, b: number): number {
  return lowerBound(arr, b) - lowerBound(arr, a);
}

/**
 * Answers, for windows of one run: how many successes, and is the p99 of completions within the
 * threshold (timed-out completions count as over it). Counts are exact wherever a window starts.
 */
class WindowProbe {
  private readonly withinPrefix: Uint32Array;
  constructor(
    private readonly rec: RunRecord,
    threshold: number,
  ) {
    this.withinPrefix = new Uint32Array(rec.successCount + 1);
    for (let i = 0; i < rec.successCount; i++) {
      this.withinPrefix[i + 1] = this.withinPrefix[i] + (rec.successLatencyMs[i] <= threshold ? 1 : 0);
    }
  }
  /**
   * Successes completed in [a, b), and whether the p99 of all completions then is within the
   * threshold. A window without completions passes only if the server held no request during it:
   * one still holding work it does not finish (a jammed queue) has not recovered.
   */
  successes(a: number, b: number): { count: number; p99Within: boolean } {
    const i = lowerBound(this.rec.successAtMs, a);
    const j = lowerBound(this.rec.successAtMs, b);
    const count = j - i;
    const within = this.withinPrefix[j] - this.withinPrefix[i];
    const completed = count + countIn(this.rec.timeoutAtMs, a, b);
    return { count, p99Within: completed === 0 ? this.heldNothing(a, b) : within >= Math.ceil(0.99 * completed) };
  }
  rejections(a: number, b: number): number {
    return countIn(this.rec.rejectionAtMs, a, b);
  }
  /** Whether [a, b) lies inside one recorded idle span. */
  private heldNothing(a: number, b: number): boolean {
    const k = lowerBound(this.rec.idleFromMs, a, true) - 1; // the last span starting at or before a
    return k >= 0 && this.rec.idleToMs[k] >= b;
  }
}

function sortedSlice(values: Float64Array): Float64Array {
  return Float64Array.from(values).sort();
}

function coefficientOfVariation(values: ArrayLike<number>): number | null {
  if (values.length === 0) return null;
  let sum = 0;
  for (let i = 0; i < values.length; i++) {
    if (!Number.isFinite(values[i])) return null;
    sum += values[i];
  }
  const mean = sum / values.length;
  if (mean <= 0) return null;
  let sq = 0;
  for (let i = 0; i < values.length; i++) sq += (values[i] - mean) ** 2;
  return Math.sqrt(sq / values.length) / mean;
}

/** Derives the spec's per-phase metrics from one run's record. */
export function phaseMetrics(s: Scenario, rec: RunRecord): PhaseMetrics[] {
  const bounds = phaseBoundsMs(s);
  const unloadedP99 = rec.unloadedLatencyByPhase.map((u) => percentile(sortedSlice(u), 0.99) ?? 0);
  const overloaded = s.phases.map((_, i) => {
    const muEffPerMs = capacityBetween(s, bounds[i], bounds[i + 1]) / (bounds[i + 1] - bounds[i]);
    return offeredPerMs(s, i) > muEffPerMs * (1 + 1e-9);
  });
  const phaseAt = (t: number): number => {
    let p = 0;
    while (p < s.phases.length - 1 && t >= bounds[p + 1]) p++;
    return p;
  };
  return s.phases.map((phase, index) => {
    const [start, end] = [bounds[index], bounds[index + 1]];
    const capacity = capacityBetween(s, start, end);
    const muEffPerMs = capacity / (end - start);
    const lambda = offeredPerMs(s, index);
    const overload = overloaded[index];
    const idealRejection = lambda > 0 ? Math.max(0, 1 - muEffPerMs / lambda) : 0;

    const i = lowerBound(rec.successAtMs, start);
    const j = lowerBound(rec.successAtMs, end);
    const latencies = rec.successLatencyMs.slice(i, j).sort();
    let slo = 0;
    for (let k = 0; k < latencies.length; k++) if (latencies[k] <= SLO_MS) slo++;
    const counts = rec.priorityCounts[index];
    const arrivals = counts.arrivals.reduce((a, b) => a + b, 0);
    const rejections = counts.rejections.reduce((a, b) => a + b, 0);
    const rejectionRate = arrivals > 0 ? rejections / arrivals : 0;
    const completed = latencies.length + rec.timeoutsByPhase[index];

    let convergenceS: number | null = null;
    let p99AfterConvergenceRatio: number | null = null;
    let recoveryS: number | null = null;
    if (overload) {
      const threshold = P99_FACTOR * unloadedP99[index];
      const probe = new WindowProbe(rec, threshold);
      for (let t = start; t + WINDOW_MS <= end; t += WINDOW_STEP_MS) {
        const w = probe.successes(t, t + WINDOW_MS);
        if (w.p99Within && w.count >= CONVERGED_GOODPUT * capacityBetween(s, t, t + WINDOW_MS)) {
          convergenceS = (t - start) / 1000;
          const after = rec.successLatencyMs.slice(lowerBound(rec.successAtMs, t), j).sort();
          const p99 = percentile(after, 0.99);
          p99AfterConvergenceRatio = p99 === null ? null : p99 / unloadedP99[index];
          break;
        }
      }
      // Recovery is only defined when the overload gives way to a phase the server can carry.
      if (index + 1 < s.phases.length && !overloaded[index + 1]) {
        recoveryS = recoveryAfter(rec, end, unloadedP99, phaseAt);
      }
    }
    const limits = rec.limitSamples.subarray(
      Math.ceil(Math.max(start, end - LIMIT_CV_MS) / TICK_MS),
      Math.ceil(end / TICK_MS),
    );
    const byPriority = {} as PhaseMetrics['byPriority'];
    (['critical', 'normal', 'sheddable'] as const).forEach((p, k) => {
      const n = counts.arrivals[k];
      byPriority[p] = {
        arrivals: n,
        servedRate: n > 0 ? counts.successes[k] / n : null,
        rejectionRate: n > 0 ? counts.rejections[k] / n : null,
      };
    });
    return {
      index,
      load: phase.load,
      seconds: phase.seconds,
      overload,
      idealRejection,
      goodput: capacity > 0 ? latencies.length / capacity : 0,
      sloGoodput: capacity > 0 ? slo / capacity : 0,
      p50Ms: percentile(latencies, 0.5),
      p99Ms: percentile(latencies, 0.99),
      p999Ms: percentile(latencies, 0.999),
      unloadedP99Ms: unloadedP99[index],
      p99AfterConvergenceRatio,
      rejectionRate,
      excessRejection: rejectionRate - idealRejection,
      timeoutRate: completed > 0 ? rec.timeoutsByPhase[index] / completed : 0,
      convergenceS,
      recoveryS,
      limitCv: coefficientOfVariation(limits),
      busyShare: rec.busyMsByPhase[index] / (s.workers * (end - start)),
      byPriority,
    };
  });
}

/**
 * Seconds from the end of an overload phase to the first rolling window (starting at or after it
 * and ending by the end of the run) whose p99 is within 2x the unloaded p99 of the phase it starts
 * in, with no rejections; null if there is none.
 */
function recoveryAfter(
  rec: RunRecord,
  overloadEnd: number,
  unloadedP99: number[],
  phaseAt: (t: number) => number,
): number | null {
  const probes = new Map<number, WindowProbe>();
  for (let t = overloadEnd; t + WINDOW_MS <= rec.endMs; t += WINDOW_STEP_MS) {
    const p = phaseAt(t);
    let probe = probes.get(p);
    if (!probe) {
      probe = new WindowProbe(rec, P99_FACTOR * unloadedP99[p]);
      probes.set(p, probe);
    }
    if (probe.rejections(t, t + WINDOW_MS) === 0 && probe.successes(t, t + WINDOW_MS).p99Within) {
      return (t - overloadEnd) / 1000;
    }
  }
  return null;
}
