/**
 * False alarms of the shipped anomaly engine on noise-only series, where every alarm is false:
 *   tsx bench/nab/false-alarms.ts [--runs N] [--length N] [--spike-runs N]
 * 1. Per noise family, `runs` seeded series of `length` samples (5-minute steps) through
 *    AnomalyEngine.record with the shipped defaults; prints alarms per 10,000 samples after warm-up:
 *    overall, within the first 500 samples after warm-up (a fresh metric), and after those.
 * 2. "Fresh metric, then an incident": `spike-runs` series of 300 noise samples, then one value 50x
 *    the family's level. Prints the false alarms raised before the spike and how the spike was
 *    reported (a false alarm late in warm-up must not mute it).
 */
import { systemClock } from '../../src/core/clock.js';
import { AnomalyEngine, DEFAULT_METRIC_CONFIG, SEVERITIES, type Severity } from '../../src/core/anomaly/index.js';
import { NOISE_FAMILIES, type NoiseFamily } from './noise.js';

const STEP_MS = 300_000;
const T0 = Date.UTC(2024, 0, 1);
/** Samples after warm-up counted as "early" (a fresh metric's first hours). */
const EARLY = 500;
const SPIKE_AFTER = 300;
const SPIKE_FACTOR = 50;
/** Seeds of the spike scenario start here, apart from the long runs' seeds. */
const SPIKE_SEED_BASE = 1_000_000;

function option(args: string[], name: string, fallback: number): number {
  const i = args.indexOf(name);
  if (i < 0) return fallback;
  const v = Number(args[i + 1]);
  if (!Number.isInteger(v) || v < 1) throw new Error(`${name} needs a positive integer`);
  return v;
}

interface LongRunCounts {
  early: number;
  earlySamples: number;
  later: number;
  laterSamples: number;
  members: Map<string, number>;
}

function longRuns(family: NoiseFamily, runs: number, length: number): LongRunCounts {
  const warm = DEFAULT_METRIC_CONFIG.minSamples;
  const c: LongRunCounts = { early: 0, earlySamples: 0, later: 0, laterSamples: 0, members: new Map() };
  for (let run = 0; run < runs; run++) {
    const next = family.series(run + 1);
    const engine = new AnomalyEngine({ clock: systemClock });
    for (let i = 0; i < length; i++) {
      const a = engine.record('noise', next(), T0 + i * STEP_MS);
      const early = i >= warm && i < warm + EARLY;
      if (early) c.earlySamples++;
      else if (i >= warm) c.laterSamples++;
      if (a.anomaly === undefined) continue;
      if (early) c.early++;
      else c.later++;
      const member = a.anomaly.detector.replace(/^ensemble\//, '');
      c.members.set(member, (c.members.get(member) ?? 0) + 1);
    }
  }
  return c;
}

interface SpikeCounts {
  runsWithFalseAlarm: number;
  falseAlarms: number;
  detected: number;
  severities: Map<Severity, number>;
}

function spikeRuns(family: NoiseFamily, runs: number): SpikeCounts {
  const c: SpikeCounts = { runsWithFalseAlarm: 0, falseAlarms: 0, detected: 0, severities: new Map() };
  for (let run = 0; run < runs; run++) {
    const next = family.series(SPIKE_SEED_BASE + run);
    const engine = new AnomalyEngine({ clock: systemClock });
    let falseAlarms = 0;
    for (let i = 0; i < SPIKE_AFTER; i++) if (engine.record('noise', next(), T0 + i * STEP_MS).anomaly) falseAlarms++;
    c.falseAlarms += falseAlarms;
    if (falseAlarms > 0) c.runsWithFalseAlarm++;
    const event = engine.record('noise', SPIKE_FACTOR * family.level, T0 + SPIKE_AFTER * STEP_MS).anomaly;
    if (event === undefined) continue;
    c.detected++;
    c.severities.set(event.severity, (c.severities.get(event.severity) ?? 0) + 1);
  }
  return c;
}

const per10k = (alarms: number, samples: number): string => (samples > 0 ? ((10_000 * alarms) / samples).toFixed(1) : 'n/a').padStart(9);

function main(): void {
  const args = process.argv.slice(2);
  const runs = option(args, '--runs', 100);
  const length = option(args, '--length', 10_000);
  const spikes = option(args, '--spike-runs', 1000);
  const warm = DEFAULT_METRIC_CONFIG.minSamples;
  if (length <= warm) throw new Error(`--length must exceed the warm-up (${warm} samples)`);

  console.log(`alarms per 10,000 samples on noise only (${runs} series x ${length} samples per family, shipped defaults, warm-up ${warm})`);
  console.log(`family             overall  first ${EARLY}    later   alarms by member`);
  let all = { early: 0, earlySamples: 0, later: 0, laterSamples: 0 };
  for (const family of NOISE_FAMILIES) {
    const c = longRuns(family, runs, length);
    all = {
      early: all.early + c.early,
      earlySamples: all.earlySamples + c.earlySamples,
      later: all.later + c.later,
      laterSamples: all.laterSamples + c.laterSamples,
    };
    const members = [...c.members.entries()].sort((a, b) => b[1] - a[1]).map(([m, n]) => `${m} ${n}`).join(', ');
    console.log(
      `${family.name.padEnd(16)} ${per10k(c.early + c.later, c.earlySamples + c.laterSamples)} ${per10k(c.early, c.earlySamples)} ${per10k(c.later, c.laterSamples)}   ${members || '-'}`,
    );
  }
  console.log(`${'all families'.padEnd(16)} ${per10k(all.early + all.later, all.earlySamples + all.laterSamples)} ${per10k(all.early, all.earlySamples)} ${per10k(all.later, all.laterSamples)}`);

  console.log(`\nfresh metric, then an incident: ${SPIKE_AFTER} noise samples, then one value ${SPIKE_FACTOR}x the level (${spikes} runs per family)`);
  console.log('family           runs with false alarm  false alarms  spikes detected  severity of detected spikes');
  for (const family of NOISE_FAMILIES) {
    const c = spikeRuns(family, spikes);
    const severity = SEVERITIES.filter((s) => c.severities.has(s)).map((s) => `${s} ${c.severities.get(s)}`).join(', ');
    console.log(
      `${family.name.padEnd(16)} ${String(c.runsWithFalseAlarm).padStart(21)}  ${String(c.falseAlarms).padStart(12)}  ${`${c.detected}/${spikes}`.padStart(15)}  ${severity || '-'}`,
    );
  }
}

main();
