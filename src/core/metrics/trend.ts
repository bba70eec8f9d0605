/** Trend of one series statistic over a window of snapshot points. */
import type { SnapshotPoint } from './snapshots.js';

export interface TrendSummary {
  start: number;
  end: number;
  change: number;
  /** change / |start| * 100; null when start is 0 (no meaningful ratio). */
  percentChange: number | null;
  min: number;
  max: number;
  mean: number;
  /** Least-squares slope in units per second; null with fewer than two distinct timestamps. */
  slopePerSecond: number | null;
  /**
   * change, percentChange or slopePerSecond is beyond the largest double, and reads as the largest
   * double of its sign: the answers hold numbers only, as the values do (records stay finite).
   */
  saturated: boolean;
  samples: number;
  points: SnapshotPoint[];
}

/** Summarises points sorted by time; `points` must not be empty. */
export function summarizeTrend(points: SnapshotPoint[]): TrendSummary {
  const values = points.map((p) => p.value);
  const start = values[0];
  const end = values[values.length - 1];
  const change = end - start;
  const percentChange = start === 0 ? null : percentOf(change, start, end);
  const slopePerSecond = leastSquaresSlope(points, 1000);
  return {
    start,
    end,
    change: saturate(change),
    percentChange: percentChange === null ? null : saturate(percentChange),
    min: Math.min(...values),
    max: Math.max(...values),
    mean: meanOf(values),
    slopePerSecond: slopePerSecond === null ? null : saturate(slopePerSecond),
    saturated: [change, percentChange, slopePerSecond].some((figure) => figure !== null && !Number.isFinite(figure)),
    samples: points.length,
    points,
  };
}

/**
 * change / |start| in percent. A change beyond the largest double (from -1.7e308 to 1.7e308: 200 %)
 * is taken as end / |start| - sign(start), where the two have opposite signs and nothing cancels.
 */
function percentOf(change: number, start: number, end: number): number {
  return (Number.isFinite(change) ? change / Math.abs(start) : end / Math.abs(start) - Math.sign(start)) * 100;
}

/** ±Infinity as the largest double of its sign. */
function saturate(figure: number): number {
  return Math.min(Number.MAX_VALUE, Math.max(-Number.MAX_VALUE, figure));
}

/**
 * The mean, also of values whose sum exceeds the largest double (each is finite, so their mean is):
 * then taken scaled down by the largest magnitude (summing each value over the count piled up
 * rounding, and a constant 1.7e308 read below itself). Within the values' range either way.
 */
function meanOf(values: readonly number[]): number {
  const sum = values.reduce((a, b) => a + b, 0);
  let min = Infinity;
  let max = -Infinity;
  for (const v of values) {
    min = Math.min(min, v);
    max = Math.max(max, v);
  }
  const largest = Math.max(Math.abs(min), Math.abs(max));
  const mean = Number.isFinite(sum) ? sum / values.length : (values.reduce((a, b) => a + b / largest, 0) / values.length) * largest;
  return Math.min(max, Math.max(min, mean));
}

/**
 * Slope of value against time, per `perMs` milliseconds; null without spread in time. Values near
 * the largest double overflow the sums (a constant 1.7e308 read NaN): those are fitted scaled down
 * by the largest magnitude, which changes the slope by that factor alone.
 */
function leastSquaresSlope(points: readonly SnapshotPoint[], perMs: number): number | null {
  if (points.length < 2) return null;
  const slope = slopeOfScaled(points, 1);
  if (slope === null || Number.isFinite(slope)) return slope === null ? null : slope * perMs;
  let largest = 0;
  for (const p of points) largest = Math.max(largest, Math.abs(p.value));
  return (slopeOfScaled(points, largest) as number) * largest * perMs;
}

/** Least-squares slope per millisecond of value / `scale` against time; null without spread in time. */
function slopeOfScaled(points: readonly SnapshotPoint[], scale: number): number | null {
  // Times relative to the first point keep the sums small enough for exact doubles.
  const t0 = points[0].timestampMs;
  let sumT = 0;
  let sumV = 0;
  for (const p of points) {
    sumT += p.timestampMs - t0;
    sumV += p.value / scale;
  }
  const meanT = sumT / points.length;
  const meanV = sumV / points.length;
  let covariance = 0;
  let variance = 0;
  for (const p of points) {
    const dt = p.timestampMs - t0 - meanT;
    covariance += dt * (p.value / scale - meanV);
    variance += dt * dt;
  }
  return variance === 0 ? null : covariance / variance;
}
