/**
 * Leave-one-category-out check of the shipped configuration. For each category, the knobs that
 * matter most are picked on the OTHER categories (a small grid, alarm column, standard profile),
 * then that pick and the shipped configuration are scored on the held-out category:
 *   tsx bench/nab/loco.ts [--data DIR] [--windows FILE]
 * A held-out score far below the shipped one would mean the shipped values were fitted to it.
 */
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadNabCorpus, NAB_PROFILES, runCorpusCli, type NabSeries } from './corpus.js';
import { runSeries } from './runner.js';
import { scoreCorpus } from './scorer.js';
import type { AnomalyEngineOptions } from '../../src/core/anomaly/index.js';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

function option(args: string[], name: string, fallback: string): string {
  const i = args.indexOf(name);
  return i >= 0 && i + 1 < args.length ? args[i + 1] : fallback;
}

type Defaults = NonNullable<AnomalyEngineOptions['defaults']>;

function grid(): Array<{ label: string; defaults: Defaults }> {
  const out: Array<{ label: string; defaults: Defaults }> = [];
  for (const alarmMargin of [1.1, 1.15, 1.2, 1.3]) {
    for (const surpriseMemory of [5_000, 10_000, 20_000]) {
      for (const restSamples of [50, 100, 200]) {
        out.push({
          label: `margin ${alarmMargin} memory ${surpriseMemory} rest ${restSamples}`,
          defaults: { restSamples, detector: { alarmMargin, surpriseMemory } },
        });
      }
    }
  }
  return out;
}

function main(): void {
  const args = process.argv.slice(2);
  const dataDir = resolve(option(args, '--data', join(repoRoot, '..', 'shared', 'nab', 'data')));
  const windowsFile = resolve(option(args, '--windows', join(repoRoot, '..', 'shared', 'nab', 'windows.json')));
  const corpus = loadNabCorpus(dataDir, windowsFile);
  const profile = NAB_PROFILES.standard;
  const score = (series: NabSeries[], alarms: Map<string, Float64Array>): number =>
    scoreCorpus(series.map((s) => ({ series: s, scores: alarms.get(s.name)! })), 'standard', profile, 1).score;
  const runAll = (defaults?: Defaults): Map<string, Float64Array> => new Map(corpus.map((s) => [s.name, runSeries(s, defaults).alarms]));

  const shipped = runAll();
  const candidates = grid().map((c) => ({ ...c, alarms: runAll(c.defaults) }));
  const categories = [...new Set(corpus.map((s) => s.category))].filter((c) => corpus.some((s) => s.category === c && s.windows.length > 0));
  console.log('held-out category          shipped  picked-on-others  (pick)');
  for (const held of categories) {
    const train = corpus.filter((s) => s.category !== held);
    const test = corpus.filter((s) => s.category === held);
    let best = candidates[0];
    for (const c of candidates) if (score(train, c.alarms) > score(train, best.alarms)) best = c;
    console.log(`${held.padEnd(26)} ${score(test, shipped).toFixed(1).padStart(7)}  ${score(test, best.alarms).toFixed(1).padStart(16)}  (${best.label})`);
  }
}

runCorpusCli(main);
