/**
 * Streams NAB series through the service's own AnomalyEngine with its shipped defaults, one row at a
 * time, and writes `<out>/<category>/<file>.csv` (timestamp,value,anomaly_score,alarm).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { systemClock } from '../../src/core/clock.js';
import { AnomalyEngine, DEFAULT_DETECTOR_SETTINGS, createDetector, type AnomalyEngineOptions } from '../../src/core/anomaly/index.js';
import type { NabSeries } from './corpus.js';

interface SeriesResult {
  series: NabSeries;
  /** Assessment.score per row. */
  scores: Float64Array;
  /** 1 where the engine emitted an anomaly event for the row. */
  alarms: Float64Array;
}

/** A metric name the engine accepts, derived from the file name. */
function metricName(series: NabSeries): string {
  return `nab_${series.file.replace(/\.csv$/, '').replace(/[^a-zA-Z0-9_:.-]/g, '_')}`;
}

/** Runs one series with the shipped defaults, or with `defaults` overriding them (sensitivity checks). */
export function runSeries(series: NabSeries, defaults?: AnomalyEngineOptions['defaults']): SeriesResult {
  const engine = new AnomalyEngine({ clock: systemClock, defaults });
  const metric = metricName(series);
  const scores = new Float64Array(series.rows);
  const alarms = new Float64Array(series.rows);
  for (let i = 0; i < series.rows; i++) {
    const a = engine.record(metric, series.values[i], series.timeMs[i]);
    scores[i] = a.score;
    alarms[i] = a.anomaly === undefined ? 0 : 1;
  }
  return { series, scores, alarms };
}

export function writeResult(outDir: string, r: SeriesResult): void {
  const path = join(outDir, r.series.category, r.series.file);
  mkdirSync(dirname(path), { recursive: true });
  const lines = ['timestamp,value,anomaly_score,alarm'];
  for (let i = 0; i < r.series.rows; i++) lines.push(`${r.series.timestamps[i]},${r.series.values[i]},${r.scores[i]},${r.alarms[i]}`);
  writeFileSync(path, `${lines.join('\n')}\n`);
}

/** Rows per second through the shipped detector alone (no engine bookkeeping, no I/O), best of `rounds`. */
export function detectorThroughput(corpus: NabSeries[], rounds = 5): number {
  let rows = 0;
  for (const s of corpus) rows += s.rows;
  let best = 0;
  for (let round = 0; round < rounds; round++) {
    const start = process.hrtime.bigint();
    let alarms = 0;
    for (const s of corpus) {
      const d = createDetector(DEFAULT_DETECTOR_SETTINGS);
      for (let i = 0; i < s.rows; i++) if (d.update(s.values[i], s.timeMs[i]).alarm) alarms++;
    }
    const seconds = Number(process.hrtime.bigint() - start) / 1e9;
    if (alarms < 0) throw new Error('unreachable'); // keeps the loop observable to the optimiser
    best = Math.max(best, rows / seconds);
  }
  return best;
}

/** Rows per second through AnomalyEngine.record (what the service pays per sample), best of `rounds`. */
export function engineThroughput(corpus: NabSeries[], rounds = 3): number {
  let rows = 0;
  for (const s of corpus) rows += s.rows;
  let best = 0;
  for (let round = 0; round < rounds; round++) {
    const start = process.hrtime.bigint();
    for (const s of corpus) runSeries(s);
    best = Math.max(best, rows / (Number(process.hrtime.bigint() - start) / 1e9));
  }
  return best;
}
