/**
 * What the custom metrics cost at the edge of their default budget:
 *   npm run bench:metrics
 * For each workload, custom metrics are recorded until the engine refuses a series (the exposition
 * budget), then a scrape, a snapshot and a JSON export are each timed, with the longest stall of the
 * event loop meanwhile (the largest gap between 1 ms timers): what other calls wait at most.
 */
import { MetricsEngine } from '../../src/core/metrics/index.js';

interface Workload {
  name: string;
  buckets: number;
  labels: number;
  labelLength: number;
}

const WORKLOADS: Workload[] = [
  { name: 'default buckets, 1 short label', buckets: 11, labels: 1, labelLength: 4 },
  { name: '64 buckets, 1 short label', buckets: 64, labels: 1, labelLength: 4 },
  { name: '64 buckets, 16 labels of 1,024 characters', buckets: 64, labels: 16, labelLength: 1024 },
];

function fill({ buckets, labels, labelLength }: Workload): { engine: MetricsEngine; series: number } {
  const engine = new MetricsEngine({ defaultMetrics: false });
  const labelNames = Array.from({ length: labels }, (_, i) => `l${i}`);
  let series = 0;
  for (let m = 0; ; m++) {
    engine.register({ name: `h${m}`, type: 'histogram', description: 'd', labelNames, buckets: Array.from({ length: buckets }, (_, i) => i + 1) });
    for (let s = 0; s < 1000; s++) {
      const values = Object.fromEntries(labelNames.map((l) => [l, String(s).padStart(labelLength, 'x')]));
      try {
        engine.record({ name: `h${m}`, value: s % 70, labels: values });
      } catch {
        return { engine, series };
      }
      series += 1;
    }
  }
}

async function timed(work: () => Promise<unknown>): Promise<{ ms: number; stallMs: number }> {
  let last = performance.now();
  let stallMs = 0;
  let running = true;
  const tick = () => {
    const now = performance.now();
    stallMs = Math.max(stallMs, now - last);
    last = now;
    if (running) setTimeout(tick, 1);
  };
  setTimeout(tick, 1);
  const start = performance.now();
  await work();
  const end = performance.now();
  running = false;
  return { ms: end - start, stallMs: Math.max(stallMs, end - last) };
}

const fmt = ({ ms, stallMs }: { ms: number; stallMs: number }) => `${ms.toFixed(0)} ms (longest stall ${stallMs.toFixed(0)} ms)`;

for (const workload of WORKLOADS) {
  const { engine, series } = fill(workload);
  const { customCells, customExpositionBytes } = engine.stats();
  const bytes = Buffer.byteLength((await engine.scrape(false)).body);
  console.log(`${workload.name}: ${series} series, ${customCells} lines, ${(bytes / 1e6).toFixed(1)} MB (${(customExpositionBytes / 1e6).toFixed(1)} MB counted)`);
  console.log(`  scrape ${fmt(await timed(() => engine.scrape(false)))}`);
  console.log(`  snapshot ${fmt(await timed(() => engine.snapshot()))}`);
  console.log(`  JSON export ${fmt(await timed(() => engine.exportJson()))}`);
}
