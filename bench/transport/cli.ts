/**
 * Server CPU per unary gRPC call, for the one-port design and its alternatives, measured in one run:
 *   npm run bench:transport -- [--calls 20000] [--concurrency 32] [--rounds 3] [--variants front-door,grpc-js,connect-h2]
 * The client is @grpc/grpc-js in this process; each server variant runs in a child process and its
 * CPU time (utime+stime from /proc/<pid>/stat) is read before and after a fixed number of calls.
 * Method: AnomalyService/RecordSample with a small request (microseconds of engine work).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { AnomalyService, type RecordSampleRequestSchema, type RecordSampleResponseSchema } from '../../gen/ts/rs3gw/observability/v1/anomaly_pb.js';
import { processCpuSeconds, unaryCaller, type UnaryCaller } from '../support/grpc-unary.js';

const args = new Map<string, string>();
for (let i = 2; i < process.argv.length; i += 2) args.set(process.argv[i]!.replace(/^--/, ''), process.argv[i + 1]!);
const CALLS = Number(args.get('calls') ?? 20_000);
const CONCURRENCY = Number(args.get('concurrency') ?? 32);
const ROUNDS = Number(args.get('rounds') ?? 3);
const VARIANTS = (args.get('variants') ?? 'front-door,grpc-js,connect-h2').split(',');

async function startVariant(variant: string): Promise<{ child: ChildProcess; port: number }> {
  const script = fileURLToPath(new URL('./server.ts', import.meta.url));
  const child = spawn(process.execPath, ['--import', 'tsx', script, variant], { stdio: ['ignore', 'pipe', 'inherit'] });
  const port = await new Promise<number>((resolve, reject) => {
    child.stdout!.on('data', (d: Buffer) => {
      const m = /ready (\d+)/.exec(d.toString());
      if (m) resolve(Number(m[1]));
    });
    child.once('exit', (code) => reject(new Error(`${variant} exited with ${code}`)));
  });
  return { child, port };
}

async function drive(c: UnaryCaller<typeof RecordSampleRequestSchema, typeof RecordSampleResponseSchema>, calls: number): Promise<number> {
  let next = 0;
  const started = performance.now();
  const worker = async () => {
    while (next < calls) {
      const i = next++;
      await c.call({ metric: `bench_latency_ms_${i % 64}`, value: 20 + (i % 7) });
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  return calls / ((performance.now() - started) / 1000);
}

const results = new Map<string, { cpuUsPerCall: number[]; rps: number[] }>(VARIANTS.map((v) => [v, { cpuUsPerCall: [], rps: [] }]));
for (let round = 0; round < ROUNDS; round++) {
  for (const variant of VARIANTS) {
    const { child, port } = await startVariant(variant);
    const c = unaryCaller(`127.0.0.1:${port}`, AnomalyService.method.recordSample);
    await drive(c, Math.min(2000, CALLS)); // warm-up: JIT, connections
    const before = processCpuSeconds(child.pid!);
    const rps = await drive(c, CALLS);
    const after = processCpuSeconds(child.pid!);
    c.close();
    child.kill('SIGTERM');
    await new Promise((resolve) => child.once('exit', resolve));
    results.get(variant)!.cpuUsPerCall.push(((after - before) * 1e6) / CALLS);
    results.get(variant)!.rps.push(rps);
  }
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const base = median(results.get('grpc-js')!.cpuUsPerCall);
console.log(`unary gRPC RecordSample, ${CALLS} calls x ${ROUNDS} rounds, concurrency ${CONCURRENCY} (medians)`);
console.log('variant        server CPU us/call   vs grpc-js   calls/s');
for (const variant of VARIANTS) {
  const r = results.get(variant)!;
  const cpu = median(r.cpuUsPerCall);
  console.log(`${variant.padEnd(14)} ${cpu.toFixed(1).padStart(17)}   ${(cpu / base).toFixed(2).padStart(9)}x   ${median(r.rps).toFixed(0).padStart(7)}`);
}
