import type { Priority } from '../../../src/core/resource/admission/types.js';
import type { PhaseMetrics } from './metrics.js';

/** A metric over seeds: median and the 5–95 % range. Null stands for "never happened". */
export interface Stat {
  median: number | null;
  p5: number | null;
  p95: number | null;
}

/**
 * Linear-interpolated quantile where null counts as +infinity (a time that never came); a quantile
 * that touches an infinite value is null.
 */
export function quantile(values: (number | null)[], q: number): number | null {
  if (values.length === 0) return null;
  const sorted = values.map((v) => (v === null ? Infinity : v)).sort((a, b) => a - b);
  const pos = q * (sorted.length - 1);
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  const w = pos - lo;
  if (!Number.isFinite(sorted[lo]) || (w > 0 && !Number.isFinite(sorted[hi]))) return null;
  return w === 0 ? sorted[lo] : sorted[lo] * (1 - w) + sorted[hi] * w;
}

export function stat(values: (number | null)[]): Stat {
  return { median: quantile(values, 0.5), p5: quantile(values, 0.05), p95: quantile(values, 0.95) };
}

export interface PhaseSummary {
  index: number;
  load: number;
  seconds: number;
  overload: boolean;
  idealRejection: number;
  goodput: Stat;
  /** Goodput of each seed, in the scenario's seed order (for paired comparisons). */
  goodputBySeed: number[];
  sloGoodput: Stat;
  p50Ms: Stat;
  p99Ms: Stat;
  p999Ms: Stat;
  unloadedP99Ms: Stat;
  p99AfterConvergenceRatio: Stat;
  rejectionRate: Stat;
  excessRejection: Stat;
  timeoutRate: Stat;
  convergenceS: Stat;
  recoveryS: Stat;
  limitCv: Stat;
  busyShare: Stat;
  /** Only for scenarios that mix priorities: share of each priority's arrivals served in time. */
  byPriority?: Partial<Record<Priority, { servedRate: Stat; rejectionRate: Stat }>>;
}

const STAT_KEYS = [
  'goodput', 'sloGoodput', 'p50Ms', 'p99Ms', 'p999Ms', 'unloadedP99Ms', 'p99AfterConvergenceRatio',
  'rejectionRate', 'excessRejection', 'timeoutRate', 'convergenceS', 'recoveryS', 'limitCv', 'busyShare',
] as const;

/** Summarises one controller's per-seed phase metrics (runs[seed][phase]). */
export function summarisePhases(runs: PhaseMetrics[][], priorities: Record<Priority, number>): PhaseSummary[] {
  const mixed = priorities.normal < 1;
  return runs[0].map((first, index) => {
    const perSeed = runs.map((r) => r[index]);
    const summary = {
      index,
      load: first.load,
      seconds: first.seconds,
      overload: first.overload,
      idealRejection: first.idealRejection,
    } as PhaseSummary;
    for (const key of STAT_KEYS) summary[key] = stat(perSeed.map((m) => m[key]));
    summary.goodputBySeed = perSeed.map((m) => m.goodput);
    if (mixed) {
      summary.byPriority = {};
      for (const p of ['critical', 'normal', 'sheddable'] as const) {
        if (priorities[p] === 0) continue;
        summary.byPriority[p] = {
          servedRate: stat(perSeed.map((m) => m.byPriority[p].servedRate)),
          rejectionRate: stat(perSeed.map((m) => m.byPriority[p].rejectionRate)),
        };
      }
    }
    return summary;
  });
}
