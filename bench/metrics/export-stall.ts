/**
 * How long a large export holds up other calls, over the real service:
 *   npm run bench:metrics-export -- [--rounds 3]
 * Starts the service from src/ (tsx), fills RS3GW_METRICS_MAX_TOTAL_SERIES (100,000 series: 100
 * counters of 1,000 label values), then, one export at a time, keeps a cheap call (REST GetMetric
 * of an unlabelled gauge) going back to back and prints the longest it took while the export ran.
 * The baseline is the same probe for the same time with no export running, in the same run.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { MetricsService } from '../../gen/ts/rs3gw/observability/v1/metrics_pb.js';
import { unaryCaller } from '../support/grpc-unary.js';

const args = new Map<string, string>();
for (let i = 2; i < process.argv.length; i += 2) args.set(process.argv[i]!.replace(/^--/, ''), process.argv[i + 1]!);
const ROUNDS = Number(args.get('rounds') ?? 3);
const METRICS = 100;
const SERIES = 1_000;

const cli = fileURLToPath(new URL('../../src/cli.ts', import.meta.url));
// No periodic snapshot during the run: its own yields would be measured too.
const child = spawn(process.execPath, ['--import', 'tsx', cli, 'serve', '--port', '0'], {
  env: { ...process.env, RS3GW_HOST: '127.0.0.1', RS3GW_METRICS_SNAPSHOT_INTERVAL: '86400', RS3GW_PROFILING_ENABLED: 'false' },
  stdio: ['ignore', 'pipe', 'inherit'],
});
const base = await new Promise<string>((resolve, reject) => {
  let out = '';
  child.stdout!.on('data', (d: Buffer) => {
    out += d.toString();
    const m = /listening on (http:\/\/\S+)/.exec(out);
    if (m) resolve(m[1]!);
  });
  child.once('exit', (code) => reject(new Error(`the service exited with ${code}`)));
});
const api = `${base}/api/observability`;

async function post(path: string, body: unknown): Promise<void> {
  const r = await fetch(`${api}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  if (!r.ok) throw new Error(`${path}: ${r.status} ${await r.text()}`);
}

await post('/metrics', { name: 'probe_gauge', type: 'METRIC_TYPE_GAUGE', description: 'probe' });
for (let m = 1; m < METRICS; m++) {
  await post('/metrics', { name: `fill_${m}`, type: 'METRIC_TYPE_COUNTER', description: 'fill', label_names: ['id'] });
  await post('/metrics/batch', { records: Array.from({ length: SERIES }, (_, k) => ({ name: `fill_${m}`, value: 1, labels: { id: `value-${k}` } })) });
}
// The last metric takes 999 series: with the probe's one, 100,000 in all.
await post('/metrics', { name: 'fill_0', type: 'METRIC_TYPE_COUNTER', description: 'fill', label_names: ['id'] });
await post('/metrics/batch', { records: Array.from({ length: SERIES - 1 }, (_, k) => ({ name: 'fill_0', value: 1, labels: { id: `value-${k}` } })) });

const grpcExport = unaryCaller(base.replace(/^http:\/\//, ''), MetricsService.method.exportMetrics, { 'grpc.max_receive_message_length': -1 });
const connectPath = `${base}/rs3gw.observability.v1.MetricsService/ExportMetrics`;

/** Runs `work` with the probe going back to back; the probe's longest call, ms. */
async function withProbe(work: () => Promise<number>): Promise<{ ms: number; bytes: number; probeMs: number }> {
  let running = true;
  let longest = 0;
  const probe = (async () => {
    while (running) {
      const t = performance.now();
      await (await fetch(`${api}/metrics/probe_gauge`)).arrayBuffer();
      longest = Math.max(longest, performance.now() - t);
    }
  })();
  await new Promise((resolve) => setTimeout(resolve, 100));
  longest = 0;
  const start = performance.now();
  const bytes = await work();
  const ms = performance.now() - start;
  running = false;
  await probe;
  return { ms, bytes, probeMs: longest };
}

const get = (path: string, init?: RequestInit) => async () => (await (await fetch(path, init)).arrayBuffer()).byteLength;
const EXPORTS: Array<[string, () => Promise<number>]> = [
  ['baseline (no export, 500 ms)', async () => (await new Promise((resolve) => setTimeout(resolve, 500)), 0)],
  ['/metrics (Prometheus text)', get(`${base}/metrics`)],
  ['REST ExportMetrics format=prometheus', get(`${api}/metrics-export?format=prometheus`)],
  ['REST ExportMetrics format=json', get(`${api}/metrics-export?format=json`)],
  ['Connect JSON ExportMetrics', get(connectPath, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' })],
  ['Connect binary ExportMetrics', get(connectPath, { method: 'POST', headers: { 'content-type': 'application/proto' }, body: new Uint8Array(0) })],
  // grpc-js hands back the decoded message, not its bytes: no size for this row.
  ['native gRPC ExportMetrics', async () => (await grpcExport.call({}), 0)],
];

console.log(`${METRICS} metrics, ${METRICS * SERIES} series; longest cheap REST call during each export over ${ROUNDS} rounds (worst, median)`);
const rows = new Map<string, Array<{ ms: number; bytes: number; probeMs: number }>>(EXPORTS.map(([name]) => [name, []]));
await withProbe(get(`${api}/metrics-export?format=json`)); // warm-up: JIT
for (let round = 0; round < ROUNDS; round++) {
  for (const [name, work] of EXPORTS) rows.get(name)!.push(await withProbe(work));
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
for (const [name, runs] of rows) {
  const probe = runs.map((r) => r.probeMs);
  const bytes = runs[0]!.bytes ? `, ${(runs[0]!.bytes / 1e6).toFixed(1)} MB` : '';
  console.log(`  ${name.padEnd(38)} stall ${Math.max(...probe).toFixed(0).padStart(4)} ms worst, ${median(probe).toFixed(0).padStart(4)} ms median; export ${median(runs.map((r) => r.ms)).toFixed(0)} ms${bytes}`);
}
grpcExport.close();
child.kill('SIGTERM');
