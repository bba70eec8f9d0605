/** Loads a NAB-layout folder: `<dir>/<category>/<file>.csv` series plus a windows.json label file. */
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { CostProfile, LabelledSeries } from './scorer.js';

/** NAB's three cost profiles (profiles.json; tnWeight is never used by the scorer). */
export const NAB_PROFILES: Record<string, CostProfile> = {
  standard: { tpWeight: 1.0, fnWeight: 1.0, fpWeight: 0.11 },
  reward_low_FP_rate: { tpWeight: 1.0, fnWeight: 1.0, fpWeight: 0.22 },
  reward_low_FN_rate: { tpWeight: 1.0, fnWeight: 2.0, fpWeight: 0.11 },
};

export interface NabSeries extends LabelledSeries {
  /** `<category>/<file>.csv`, the key used in windows.json. */
  name: string;
  category: string;
  file: string;
  timestamps: string[];
  timeMs: Float64Array;
  values: Float64Array;
}

type WindowLabels = Record<string, Array<[string, string]>>;

export function readWindows(path: string): WindowLabels {
  return JSON.parse(readFileSync(path, 'utf8')) as WindowLabels;
}

function parseTimestamp(ts: string): number {
  return Date.parse(`${ts.replace(' ', 'T')}Z`);
}

function stripFraction(ts: string): string {
  return ts.replace(/\.0+$/, '');
}

function readSeries(dataDir: string, name: string, labels: WindowLabels): NabSeries {
  const [category, file] = name.split('/');
  const lines = readFileSync(join(dataDir, name), 'utf8').split(/\r?\n/).filter((l) => l.length > 0);
  const rows = lines.length - 1;
  const timestamps: string[] = new Array(rows);
  const timeMs = new Float64Array(rows);
  const values = new Float64Array(rows);
  const rowOf = new Map<string, number>();
  for (let i = 0; i < rows; i++) {
    const line = lines[i + 1];
    const comma = line.indexOf(',');
    timestamps[i] = line.slice(0, comma);
    timeMs[i] = parseTimestamp(timestamps[i]);
    values[i] = Number(line.slice(comma + 1));
    rowOf.set(timestamps[i], i);
  }
  const windows: Array<[number, number]> = (labels[name] ?? []).map(([start, end]) => {
    const l = rowOf.get(stripFraction(start));
    const r = rowOf.get(stripFraction(end));
    if (l === undefined || r === undefined) throw new Error(`${name}: window [${start}, ${end}] does not match a row`);
    return [l, r];
  });
  return { name, category, file, rows, timestamps, timeMs, values, windows };
}

/** Every series under `dataDir`, sorted by name, with its windows from `labels`. */
export function readCorpus(dataDir: string, labels: WindowLabels): NabSeries[] {
  const names: string[] = [];
  for (const category of readdirSync(dataDir).sort()) {
    const dir = join(dataDir, category);
    if (!statSync(dir).isDirectory()) continue;
    for (const file of readdirSync(dir).sort()) if (file.endsWith('.csv')) names.push(`${category}/${file}`);
  }
  return names.map((name) => readSeries(dataDir, name, labels));
}

/** A corpus path that does not exist; its message is the one line the CLIs print. */
class MissingCorpusError extends Error {}

/**
 * The corpus under `dataDir` labelled by `windowsFile`. It is not in the repository (the CLIs look
 * in ../shared/nab beside it by default), so a clone elsewhere gets a MissingCorpusError naming the
 * missing path and the flags that point at the corpus, rather than a stack trace.
 */
export function loadNabCorpus(dataDir: string, windowsFile: string): NabSeries[] {
  for (const [path, flag] of [
    [windowsFile, '--windows'],
    [dataDir, '--data'],
  ] as const) {
    if (!existsSync(path)) {
      throw new MissingCorpusError(
        `NAB corpus: ${path} not found (${flag}): the corpus is not in this repository (by default it is read from ../shared/nab beside it); point --data at its data directory and --windows at its windows.json`,
      );
    }
  }
  return readCorpus(dataDir, readWindows(windowsFile));
}

/** Runs a corpus CLI's main, printing a MissingCorpusError as one line (exit code 1). */
export function runCorpusCli(main: () => void): void {
  try {
    main();
  } catch (error) {
    if (!(error instanceof MissingCorpusError)) throw error;
    console.error(error.message);
    process.exitCode = 1;
  }
}
