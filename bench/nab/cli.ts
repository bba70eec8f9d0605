/**
 * NAB benchmark of the shipped anomaly detector.
 *   npm run bench:nab -- [--data DIR] [--windows FILE] [--out DIR]
 * DIR holds NAB category folders (default ../shared/nab/data beside the repo). Prints the three
 * profile scores for the `alarm` column as shipped (fixed threshold) and for `anomaly_score` with the
 * threshold optimised on the labels as NAB does, then throughput.
 */
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadNabCorpus, NAB_PROFILES, runCorpusCli } from './corpus.js';
import { detectorThroughput, engineThroughput, runSeries, writeResult } from './runner.js';
import { probationRows, scoreCorpus } from './scorer.js';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

function option(args: string[], name: string, fallback: string): string {
  const i = args.indexOf(name);
  if (i < 0) return fallback;
  if (i + 1 >= args.length) throw new Error(`${name} needs a value`);
  return args[i + 1];
}

function main(): void {
  const args = process.argv.slice(2);
  const dataDir = resolve(option(args, '--data', join(repoRoot, '..', 'shared', 'nab', 'data')));
  const windowsFile = resolve(option(args, '--windows', join(repoRoot, '..', 'shared', 'nab', 'windows.json')));
  const outDir = resolve(option(args, '--out', join(tmpdir(), 'rs3gw-nab')));

  const corpus = loadNabCorpus(dataDir, windowsFile);
  const results = corpus.map((s) => runSeries(s));
  for (const r of results) writeResult(outDir, r);
  const rows = corpus.reduce((n, s) => n + s.rows, 0);
  const windows = corpus.reduce((n, s) => n + s.windows.length, 0);
  console.log(`${corpus.length} series, ${rows} rows, ${windows} windows from ${dataDir}; results in ${outDir}`);

  console.log('\nper category (standard profile, alarm column):');
  for (const category of [...new Set(corpus.map((s) => s.category))]) {
    const sub = results.filter((r) => r.series.category === category);
    const w = sub.reduce((n, r) => n + r.series.windows.length, 0);
    let falseAlarms = 0;
    for (const r of sub) {
      const start = probationRows(r.series.rows);
      for (let i = start; i < r.series.rows; i++) {
        if (r.alarms[i] === 1 && !r.series.windows.some(([a, b]) => i >= a && i <= b)) falseAlarms++;
      }
    }
    const res = scoreCorpus(sub.map((r) => ({ series: r.series, scores: r.alarms })), 'standard', NAB_PROFILES.standard, 1);
    const score = w > 0 ? res.score.toFixed(1).padStart(6) : '   n/a';
    console.log(`  ${category.padEnd(24)} windows ${String(w).padStart(3)}  score ${score}  alarms outside windows ${falseAlarms}`);
  }

  if (windows === 0) {
    console.log('\nno labelled windows: normalised NAB scores are undefined (see the alarm counts above)');
  } else {
    console.log('\nprofile               alarm (as shipped)   anomaly_score (threshold optimised)');
    for (const [name, profile] of Object.entries(NAB_PROFILES)) {
      const shipped = scoreCorpus(results.map((r) => ({ series: r.series, scores: r.alarms })), name, profile, 1);
      const tuned = scoreCorpus(results.map((r) => ({ series: r.series, scores: r.scores })), name, profile);
      console.log(`${name.padEnd(20)}  ${shipped.score.toFixed(2).padStart(8)}             ${tuned.score.toFixed(2).padStart(8)} (threshold ${tuned.threshold.toFixed(4)})`);
    }
  }

  const detectorRate = detectorThroughput(corpus);
  const engineRate = engineThroughput(corpus);
  console.log(`\nthroughput: detector ${Math.round(detectorRate).toLocaleString('en-US')} rows/s, AnomalyEngine.record ${Math.round(engineRate).toLocaleString('en-US')} rows/s (one core)`);
}

runCorpusCli(main);
