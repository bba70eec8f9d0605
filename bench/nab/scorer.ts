/**
 * Port of the Numenta Anomaly Benchmark scorer (NAB v1.1: sweeper.py, optimizer.py, runner.normalize),
 * following /work/shared/nab/README.md. Only row order and window positions matter; the detector's
 * output is a score per row, compared with one corpus-wide threshold.
 */

export interface CostProfile {
  tpWeight: number;
  fnWeight: number;
  fpWeight: number;
}

/** One labelled series: its row count and its windows as inclusive [startRow, endRow] pairs. */
export interface LabelledSeries {
  name: string;
  rows: number;
  windows: Array<[number, number]>;
}

/** A scored row: detector score, sweep weight, and the corpus-unique window id (null outside windows). */
interface ScoredRow {
  score: number;
  weight: number;
  windowId: string | null;
}

interface ThresholdScore {
  threshold: number;
  raw: number;
}

export function probationRows(rows: number): number {
  return Math.min(Math.floor(0.15 * rows), 0.15 * 5000);
}

function scaledSigmoid(pos: number): number {
  return pos > 3 ? -1 : 2 / (1 + Math.exp(5 * pos)) - 1;
}

const MAX_TP = scaledSigmoid(-1);

/** Sweep weights for every row of one series, probation rows included (callers drop them). */
export function rowWeights(series: LabelledSeries, profile: CostProfile): Array<{ weight: number; windowIndex: number }> {
  const out: Array<{ weight: number; windowIndex: number }> = new Array(series.rows);
  let next = 0;
  let cur = -1;
  let prevRight = -1;
  let prevWidth = 0;
  for (let i = 0; i < series.rows; i++) {
    if (cur < 0 && next < series.windows.length && series.windows[next][0] === i) {
      cur = next;
      next++;
    }
    if (cur >= 0) {
      const [left, right] = series.windows[cur];
      const width = right - left + 1;
      const pos = -(right - i + 1) / width;
      out[i] = { weight: (profile.tpWeight * scaledSigmoid(pos)) / MAX_TP, windowIndex: cur };
      if (i === right) {
        prevRight = right;
        prevWidth = width;
        cur = -1;
      }
    } else if (prevRight < 0) {
      out[i] = { weight: -profile.fpWeight, windowIndex: -1 };
    } else {
      const pos = Math.abs(i - prevRight) / (prevWidth - 1);
      out[i] = { weight: profile.fpWeight * scaledSigmoid(pos), windowIndex: -1 };
    }
  }
  return out;
}

/** The scored rows (probation removed) of one series, given its detector scores. */
function scoredRows(series: LabelledSeries, scores: ArrayLike<number>, profile: CostProfile): ScoredRow[] {
  if (scores.length !== series.rows) {
    throw new Error(`${series.name}: ${scores.length} scores for ${series.rows} rows`);
  }
  const weights = rowWeights(series, profile);
  const start = probationRows(series.rows);
  const out: ScoredRow[] = [];
  for (let i = 0; i < series.rows; i++) {
    if (i < start) continue;
    const { weight, windowIndex } = weights[i];
    out.push({
      score: scores[i],
      weight,
      windowId: windowIndex < 0 ? null : `${series.name}|${series.windows[windowIndex][0]}`,
    });
  }
  return out;
}

/** Exhaustive threshold sweep (optimizer.py): best raw score, ties going to the highest threshold. */
function optimiseThreshold(rows: ScoredRow[], profile: CostProfile): ThresholdScore {
  const sorted = [...rows].sort((a, b) => b.score - a.score);
  const parts = new Map<string, number>();
  for (const r of sorted) if (r.windowId !== null) parts.set(r.windowId, -profile.fnWeight);
  let partsSum = -profile.fnWeight * parts.size;
  let fpSum = 0;
  let curT = 1.1;
  let best: ThresholdScore = { threshold: curT, raw: partsSum };
  const consider = (threshold: number, raw: number): void => {
    if (raw > best.raw) best = { threshold, raw };
  };
  for (const r of sorted) {
    if (r.score !== curT) {
      consider(curT, partsSum + fpSum);
      curT = r.score;
    }
    if (r.windowId === null) {
      fpSum += r.weight;
    } else {
      const old = parts.get(r.windowId)!;
      if (r.weight > old) {
        parts.set(r.windowId, r.weight);
        partsSum += r.weight - old;
      }
    }
  }
  consider(curT, partsSum + fpSum);
  return best;
}

/** Raw score at a fixed threshold: a row is a detection iff score >= threshold. */
function scoreAtThreshold(rows: ScoredRow[], profile: CostProfile, threshold: number): number {
  const parts = new Map<string, number>();
  let fpSum = 0;
  for (const r of rows) {
    if (r.windowId !== null && !parts.has(r.windowId)) parts.set(r.windowId, -profile.fnWeight);
    if (r.score < threshold) continue;
    if (r.windowId === null) fpSum += r.weight;
    else parts.set(r.windowId, Math.max(parts.get(r.windowId)!, r.weight));
  }
  let sum = fpSum;
  for (const v of parts.values()) sum += v;
  return sum;
}

/** NAB normalisation: 100 for a perfect detector, 0 for the null detector (detects nothing). */
function normalise(raw: number, windows: number, profile: CostProfile): number {
  const perfect = windows * profile.tpWeight;
  const nullScore = -profile.fnWeight * windows;
  return (100 * (raw - nullScore)) / (perfect - nullScore);
}

interface ProfileResult {
  profile: string;
  threshold: number;
  raw: number;
  score: number;
}

/**
 * Scores a corpus under one profile. With `threshold` given the threshold is fixed (the detector's own
 * alarm decision); otherwise it is optimised over the whole corpus as NAB does.
 */
export function scoreCorpus(
  corpus: Array<{ series: LabelledSeries; scores: ArrayLike<number> }>,
  profileName: string,
  profile: CostProfile,
  threshold?: number,
): ProfileResult {
  const rows: ScoredRow[] = [];
  let windows = 0;
  for (const { series, scores } of corpus) {
    for (const r of scoredRows(series, scores, profile)) rows.push(r);
    windows += series.windows.length;
  }
  const best =
    threshold === undefined ? optimiseThreshold(rows, profile) : { threshold, raw: scoreAtThreshold(rows, profile, threshold) };
  return { profile: profileName, threshold: best.threshold, raw: best.raw, score: normalise(best.raw, windows, profile) };
}
