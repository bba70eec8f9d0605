/**
 * Writes a NAB-layout corpus of synthetic service-like series (seeded, so reproducible), to check
 * that the shipped detector generalises beyond NAB's files:
 *   tsx bench/nab/synthetic.ts --out /tmp/synth
 *   npm run bench:nab -- --data /tmp/synth/data --windows /tmp/synth/windows.json --out /tmp/synth-out
 * Windows follow NAB's rule: centred on each anomaly onset, 10% of the rows split between anomalies.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { prng } from './noise.js';

const FIVE_MIN = 300_000;
const DAY = 86_400_000;
const START = Date.UTC(2024, 0, 1); // a Monday

function gaussian(rand: () => number): () => number {
  return () => Math.sqrt(-2 * Math.log(1 - rand())) * Math.cos(2 * Math.PI * rand());
}

function poisson(rand: () => number, lambda: number): number {
  // Knuth for small rates, normal approximation above.
  if (lambda > 30) return Math.max(0, Math.round(lambda + Math.sqrt(lambda) * gaussian(rand)()));
  const l = Math.exp(-lambda);
  let k = 0;
  let p = 1;
  do {
    k++;
    p *= rand();
  } while (p > l);
  return k - 1;
}

interface Synthetic {
  category: string;
  file: string;
  stepMs: number;
  values: number[];
  /** Rows where an anomaly starts. */
  anomalies: number[];
}

function daily(i: number, stepMs: number): number {
  return Math.sin((2 * Math.PI * ((i * stepMs) % DAY)) / DAY - Math.PI / 2);
}

function build(): Synthetic[] {
  const out: Synthetic[] = [];
  const n = 4032;
  const series = (category: string, file: string, seed: number, stepMs: number, rows: number, f: (i: number, g: () => number, r: () => number) => number, anomalies: number[]) => {
    const rand = prng(seed);
    const g = gaussian(rand);
    out.push({ category, file, stepMs, values: Array.from({ length: rows }, (_, i) => f(i, g, rand)), anomalies });
  };
  const spikes = [1500, 2500, 3500];
  series('synthLatency', 'latency_spikes.csv', 1, FIVE_MIN, n, (i, g) => 50 * Math.exp(0.2 * g()) * (1 + 0.2 * daily(i, FIVE_MIN)) * (spikes.some((s) => i >= s && i < s + 3) ? 4 : 1), spikes);
  series('synthLatency', 'latency_heavy_tail.csv', 2, FIVE_MIN, n, (_i, g) => 50 * Math.exp(0.6 * g()), []);
  series('synthLatency', 'latency_degradation.csv', 3, FIVE_MIN, n, (i, g) => 80 * Math.exp(0.15 * g()) * (i >= 2600 && i < 2700 ? 1.6 : 1), [2600]);
  series('synthCpu', 'cpu_level_shifts.csv', 4, FIVE_MIN, n, (i, g) => (i < 2000 ? 30 : i < 3300 ? 55 : 35) + 3 * g(), [2000, 3300]);
  series('synthCpu', 'cpu_variance_change.csv', 5, FIVE_MIN, n, (i, g) => 40 + (i < 2500 ? 2 : 8) * g(), [2500]);
  series('synthCpu', 'cpu_slow_drift_then_jump.csv', 6, FIVE_MIN, n, (i, g) => 20 + (30 * i) / n + (i >= 3000 ? 15 : 0) + 2 * g(), [3000]);
  series('synthRequests', 'requests_daily_drop.csv', 7, FIVE_MIN, n, (i, _g, r) => poisson(r, 1000 * (1 + 0.6 * daily(i, FIVE_MIN)) * (i >= 2950 && i < 2974 ? 0.5 : 1)), [2950]);
  series('synthRequests', 'requests_daily_no_anomaly.csv', 8, FIVE_MIN, n, (i, _g, r) => poisson(r, 400 * (1 + 0.8 * daily(i, FIVE_MIN))), []);
  series('synthRequests', 'requests_daily_one_minute.csv', 9, 60_000, 14_400, (i, _g, r) => poisson(r, 200 * (1 + 0.5 * daily(i, 60_000)) * (i >= 11_000 && i < 11_060 ? 1.8 : 1)), [11_000]);
  series('synthRequests', 'errors_poisson_burst.csv', 10, FIVE_MIN, n, (i, _g, r) => poisson(r, i >= 2800 && i < 2810 ? 15 : 2), [2800]);
  series('synthStorage', 'stuck_gauge.csv', 11, FIVE_MIN, n, (i, g) => (i >= 2500 && i < 2560 ? 0 : Math.round((60 + 5 * g()) * 100) / 100), [2500]);
  series('synthStorage', 'disk_growth_rate_change.csv', 12, FIVE_MIN, n, (i, g) => 1000 + 0.5 * i + (i >= 2500 ? 1.5 * (i - 2500) : 0) + 2 * g(), [2500]);
  series('synthStorage', 'memory_sawtooth_leak.csv', 13, FIVE_MIN, n, (i, g) => 500 + ((i % 288) * 300) / 288 + (i >= 3000 ? (i - 3000) * 2 : 0) + 5 * g(), [3000]);
  return out;
}

function timestamp(ms: number): string {
  return new Date(ms).toISOString().replace('T', ' ').slice(0, 19);
}

function main(): void {
  const args = process.argv.slice(2);
  const outIndex = args.indexOf('--out');
  const outDir = outIndex >= 0 ? args[outIndex + 1] : '/tmp/nab-synthetic';
  const windows: Record<string, Array<[string, string]>> = {};
  for (const s of build()) {
    const times = s.values.map((_, i) => timestamp(START + i * s.stepMs));
    mkdirSync(join(outDir, 'data', s.category), { recursive: true });
    const lines = ['timestamp,value', ...s.values.map((v, i) => `${times[i]},${v}`)];
    writeFileSync(join(outDir, 'data', s.category, s.file), `${lines.join('\n')}\n`);
    const width = s.anomalies.length ? Math.floor((0.1 * s.values.length) / s.anomalies.length) : 0;
    windows[`${s.category}/${s.file}`] = s.anomalies.map((a) => {
      const l = Math.max(0, a - Math.floor(width / 2));
      const r = Math.min(s.values.length - 1, l + width - 1);
      return [`${times[l]}.000000`, `${times[r]}.000000`];
    });
  }
  writeFileSync(join(outDir, 'windows.json'), `${JSON.stringify(windows, null, 1)}\n`);
  console.log(`wrote ${Object.keys(windows).length} series to ${outDir}`);
}

main();
