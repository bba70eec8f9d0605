/**
 * What continuous profiling at its default rate costs the real service:
 *   npm run bench:profiling -- [--rounds 3] [--round-seconds 60] [--connections 4] [--streams 16]
 * Needs h2load (Debian: apt-get install nghttp2-client), a load generator in C, so that the service
 * rather than the generator sets the throughput.
 * Two instances of the service run side by side, one with RS3GW_PROFILING_CONTINUOUS=false and one
 * with it true at the default rate (a 10 s CPU profile every 60 s). h2load sends the same gRPC call
 * (AnomalyService/RecordSamples, 20 samples) as fast as the instance answers, to one instance at a
 * time, in ABBA order to cancel drift, for rounds of a whole profiling interval; the throughput of
 * each mode is printed with their ratio, and each instance's CPU time per request, which is steadier.
 * Where `taskset` exists the services run on the last core and h2load on the others.
 */
import { create, toBinary } from '@bufbuild/protobuf';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { RecordSamplesRequestSchema } from '../../gen/ts/rs3gw/observability/v1/anomaly_pb.js';
import { processCpuSeconds } from '../support/grpc-unary.js';

const { values } = parseArgs({
  options: {
    rounds: { type: 'string', default: '3' },
    'round-seconds': { type: 'string', default: '60' },
    connections: { type: 'string', default: '4' },
    streams: { type: 'string', default: '16' },
  },
});
const ROUNDS = Number(values.rounds);
const ROUND_SECONDS = Number(values['round-seconds']);
const CLI = fileURLToPath(new URL('../../src/cli.ts', import.meta.url));
const PATH = '/rs3gw.observability.v1.AnomalyService/RecordSamples';

/** The gRPC request body: a length-prefixed RecordSamplesRequest. */
function requestBodyFile(): string {
  const message = toBinary(
    RecordSamplesRequestSchema,
    create(RecordSamplesRequestSchema, { samples: Array.from({ length: 20 }, (_, k) => ({ metric: `svc_latency_ms_${k}`, value: 20 + (k % 9) })) }),
  );
  const frame = Buffer.alloc(5 + message.length);
  frame.writeUInt32BE(message.length, 1);
  frame.set(message, 5);
  const file = join(tmpdir(), `rs3gw-overhead-${process.pid}.bin`);
  writeFileSync(file, frame);
  return file;
}

/** Services on the last core, the load generator on the others; undefined when not pinning. */
function pinning(): { service: string; load: string } | undefined {
  const cores = availableParallelism();
  if (cores < 2) return undefined;
  try {
    execFileSync('taskset', ['-V'], { stdio: 'ignore' });
    return { service: String(cores - 1), load: `0-${cores - 2}` };
  } catch {
    return undefined;
  }
}
const PIN = pinning();
const pinned = (cpus: string | undefined, command: string[]) => (cpus === undefined ? command : ['taskset', '-c', cpus, ...command]);

async function startInstance(continuous: boolean): Promise<{ child: ChildProcess; url: string }> {
  const [command, ...args] = pinned(PIN?.service, [process.execPath, '--import', 'tsx', CLI, 'serve', '--port', '0']);
  const child = spawn(command!, args, {
    env: { ...process.env, RS3GW_PROFILING_CONTINUOUS: String(continuous) },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const url = await new Promise<string>((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (d: Buffer) => {
      out += d;
      const m = /listening on (http:\/\/[^\s]+)/.exec(out);
      if (m) resolve(m[1]!);
    });
    child.once('exit', (code) => reject(new Error(`service exited with ${code}`)));
  });
  return { child, url };
}

/** Runs h2load against `url` for `seconds`; returns the requests that succeeded. */
function h2load(url: string, body: string, seconds: number): number {
  const [command, ...args] = pinned(PIN?.load, [
    'h2load', '-D', String(seconds), '-c', values.connections!, '-m', values.streams!,
    '-d', body, '-H', 'content-type: application/grpc', '-H', 'te: trailers', `${url}${PATH}`,
  ]);
  const out = execFileSync(command!, args, { encoding: 'utf8', maxBuffer: 1 << 24 });
  const m = /requests: \d+ total, \d+ started, \d+ done, (\d+) succeeded, (\d+) failed/.exec(out);
  if (!m) throw new Error(`unexpected h2load output:\n${out}`);
  if (Number(m[2]) > 0) throw new Error(`${m[2]} requests failed:\n${out}`);
  return Number(m[1]);
}

try {
  execFileSync('h2load', ['--version'], { stdio: 'ignore' });
} catch {
  throw new Error('h2load is needed: apt-get install nghttp2-client');
}
const body = requestBodyFile();
const off = await startInstance(false);
const on = await startInstance(true);
console.log(
  `continuous profiling off vs on (default rate): ${ROUNDS} x ABBA rounds of ${ROUND_SECONDS} s, h2load ${values.connections} connections x ${values.streams} streams, ` +
    (PIN ? `services on core ${PIN.service}, h2load on ${PIN.load}` : 'no CPU pinning'),
);
for (const instance of [off, on]) h2load(instance.url, body, 5); // warm-up: JIT, connections
const totals = { off: { requests: 0, seconds: 0, cpu: 0 }, on: { requests: 0, seconds: 0, cpu: 0 } };
const offRates: number[] = [];
for (let r = 0; r < ROUNDS; r++) {
  for (const mode of r % 2 === 0 ? (['off', 'on'] as const) : (['on', 'off'] as const)) {
    const instance = mode === 'off' ? off : on;
    const cpuBefore = processCpuSeconds(instance.child.pid!);
    const requests = h2load(instance.url, body, ROUND_SECONDS);
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
console.log(`throughput off ${rateOff.toFixed(1)} req/s, on ${rateOn.toFixed(1)} req/s, ratio on/off ${(rateOn / rateOff).toFixed(4)} (loss ${((1 - rateOn / rateOff) * 100).toFixed(2)}%)`);
console.log(`service CPU per request off ${cpuOff.toFixed(1)} us, on ${cpuOn.toFixed(1)} us (${(((cpuOn - cpuOff) / cpuOff) * 100).toFixed(2)}%)`);
if (offRates.length > 1) {
  const spread = ((Math.max(...offRates) - Math.min(...offRates)) / rateOff) * 100;
  console.log(`noise: the off rounds differ by ${spread.toFixed(1)}% among themselves`);
}
