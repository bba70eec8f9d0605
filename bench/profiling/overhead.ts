/**
 * What continuous profiling at its default rate costs the real service:
 *   npm run bench:profiling -- [--rounds 2] [--round-seconds 60] [--concurrency 16]
 * Two instances of the service run side by side, one with RS3GW_PROFILING_CONTINUOUS=false and one
 * with it true at the default rate (a 10 s CPU profile every 60 s). A fixed request load (gRPC
 * RecordSamples and IngestRequestEvents batches and GetResources, in turn) is driven against one
 * instance at a time, in ABBA order to cancel drift, for rounds of a whole profiling interval, and
 * the throughput of each mode is printed with their ratio. On a shared machine throughput swings
 * between rounds, so each instance's CPU time per request is printed too: the same cost, measured
 * more steadily.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { AnomalyService } from '../../gen/ts/rs3gw/observability/v1/anomaly_pb.js';
import { MetricsService, S3Operation } from '../../gen/ts/rs3gw/observability/v1/metrics_pb.js';
import { ResourceService } from '../../gen/ts/rs3gw/observability/v1/resource_pb.js';
import { processCpuSeconds, unaryCaller } from '../support/grpc-unary.js';

const { values } = parseArgs({
  options: {
    rounds: { type: 'string', default: '2' },
    'round-seconds': { type: 'string', default: '60' },
    concurrency: { type: 'string', default: '16' },
  },
});
const ROUNDS = Number(values.rounds);
const ROUND_SECONDS = Number(values['round-seconds']);
const CONCURRENCY = Number(values.concurrency);
const CLI = fileURLToPath(new URL('../../src/cli.ts', import.meta.url));

interface Instance {
  child: ChildProcess;
  address: string;
}

async function startInstance(continuous: boolean): Promise<Instance> {
  const child = spawn(process.execPath, ['--import', 'tsx', CLI, 'serve', '--port', '0'], {
    env: { ...process.env, RS3GW_PROFILING_CONTINUOUS: String(continuous) },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const address = await new Promise<string>((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (d: Buffer) => {
      out += d;
      const m = /listening on http:\/\/([^\s]+)/.exec(out);
      if (m) resolve(m[1]!);
    });
    child.once('exit', (code) => reject(new Error(`service exited with ${code}`)));
  });
  return { child, address };
}

/** Keeps CONCURRENCY requests in flight for `seconds`; returns the number completed. */
async function drive(address: string, seconds: number): Promise<number> {
  const samples = unaryCaller(address, AnomalyService.method.recordSamples);
  const events = unaryCaller(address, MetricsService.method.ingestRequestEvents);
  const resources = unaryCaller(address, ResourceService.method.getResources);
  const end = performance.now() + seconds * 1000;
  let completed = 0;
  const worker = async (w: number) => {
    for (let i = 0; performance.now() < end; i++) {
      const kind = (w + i) % 3;
      if (kind === 0) {
        await samples.call({ samples: Array.from({ length: 20 }, (_, k) => ({ metric: `svc_latency_ms_${(w * 7 + k) % 50}`, value: 20 + ((i + k) % 9) })) });
      } else if (kind === 1) {
        await events.call({
          events: Array.from({ length: 20 }, (_, k) => ({
            operation: k % 3 === 0 ? S3Operation.PUT_OBJECT : S3Operation.GET_OBJECT,
            bucket: `bucket-${k % 5}`,
            user: `user-${(w + k) % 40}`,
            statusCode: k % 50 === 0 ? 503 : 200,
            bytesIn: BigInt(k % 3 === 0 ? 65_536 : 0),
            bytesOut: BigInt(k % 3 === 0 ? 0 : 131_072),
            latency: { seconds: 0n, nanos: 12_000_000 },
          })),
        });
      } else {
        await resources.call({});
      }
      completed++;
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, (_, w) => worker(w)));
  for (const c of [samples, events, resources]) c.close();
  return completed;
}

const off = await startInstance(false);
const on = await startInstance(true);
console.log(`continuous profiling off vs on (default rate), ${ROUNDS} x ABBA rounds of ${ROUND_SECONDS} s, ${CONCURRENCY} in flight`);
for (const instance of [off, on]) await drive(instance.address, 5); // warm-up: JIT, connections
const totals = { off: { requests: 0, seconds: 0, cpu: 0 }, on: { requests: 0, seconds: 0, cpu: 0 } };
const offRates: number[] = [];
for (let r = 0; r < ROUNDS; r++) {
  for (const mode of r % 2 === 0 ? (['off', 'on'] as const) : (['on', 'off'] as const)) {
    const instance = mode === 'off' ? off : on;
    const cpuBefore = processCpuSeconds(instance.child.pid!);
    const requests = await drive(instance.address, ROUND_SECONDS);
    const cpu = processCpuSeconds(instance.child.pid!) - cpuBefore;
    totals[mode].requests += requests;
    totals[mode].seconds += ROUND_SECONDS;
    totals[mode].cpu += cpu;
    if (mode === 'off') offRates.push(requests / ROUND_SECONDS);
    console.log(`round ${r + 1} ${mode.padEnd(3)} ${(requests / ROUND_SECONDS).toFixed(1)} req/s, service CPU ${((cpu * 1e6) / requests).toFixed(1)} us/req`);
  }
}
for (const instance of [off, on]) instance.child.kill('SIGTERM');

const rateOff = totals.off.requests / totals.off.seconds;
const rateOn = totals.on.requests / totals.on.seconds;
const cpuOff = (totals.off.cpu * 1e6) / totals.off.requests;
const cpuOn = (totals.on.cpu * 1e6) / totals.on.requests;
console.log(`throughput off ${rateOff.toFixed(1)} req/s, on ${rateOn.toFixed(1)} req/s, ratio on/off ${(rateOn / rateOff).toFixed(4)}`);
console.log(`service CPU per request off ${cpuOff.toFixed(1)} us, on ${cpuOn.toFixed(1)} us, cost ${(((cpuOn - cpuOff) / cpuOff) * 100).toFixed(2)}%`);
if (offRates.length > 1) {
  const spread = ((Math.max(...offRates) - Math.min(...offRates)) / rateOff) * 100;
  console.log(`noise: the off rounds differ by ${spread.toFixed(1)}% among themselves`);
}
