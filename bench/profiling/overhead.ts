// Run: node --import tsx bench/profiling/overhead.ts [--rounds 2] [--round-seconds 60] [--connections 8] [--warmup-seconds 10]
//
// Throughput cost of continuous CPU profiling at its default rate (a 10 s capture every 60 s).
// A child process serves request-like work (JSON parse/serialise, SHA-256) over node:http; this
// process drives it with keep-alive connections for fixed-length rounds, alternating profiling
// off and on (ABBA order, to cancel drift), and prints requests/s off and on and their ratio.
// Rounds should last a whole profiling interval (60 s) so that "on" holds the default duty cycle.
// On a shared machine throughput swings between rounds; the server's CPU time per request (all its
// threads, V8's sampler included) is printed too, as a steadier measure of the same cost.
import { type ChildProcess, fork } from 'node:child_process';
import { createHash } from 'node:crypto';
import { Agent, createServer, request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { ContinuousProfiler, type ContinuousProfilerStats } from '../../src/core/profiling/pprof/index.js';

type ToChild = { cmd: 'profiling'; on: boolean };
type ProfilingReply = { profiling: boolean; stats: ContinuousProfilerStats; cpuMicros: number };
type FromChild = { port: number } | ProfilingReply;

/** One request's work: what a metadata-heavy gateway call does besides I/O. */
function handle(body: string): string {
  const order = JSON.parse(body) as { id: string; items: { sku: string; qty: number; price: number }[] };
  let digest = order.id;
  for (let i = 0; i < 20; i++) digest = createHash('sha256').update(digest).update(body).digest('hex');
  const total = order.items.reduce((sum, item) => sum + item.qty * item.price, 0);
  return JSON.stringify({ id: order.id, digest, total, lines: order.items.map((it) => ({ ...it, subtotal: it.qty * it.price })) });
}

function serve(): void {
  const profiler = new ContinuousProfiler();
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const out = handle(Buffer.concat(chunks).toString('utf8'));
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(out) });
      res.end(out);
    });
  });
  server.keepAliveTimeout = 60_000;
  server.listen(0, '127.0.0.1', () => process.send?.({ port: (server.address() as AddressInfo).port } satisfies FromChild));
  process.on('message', async (msg: ToChild) => {
    if (msg.on) profiler.start();
    else await profiler.stop();
    const cpu = process.cpuUsage();
    process.send?.({ profiling: profiler.running, stats: profiler.stats(), cpuMicros: cpu.user + cpu.system } satisfies FromChild);
  });
  process.on('disconnect', () => process.exit(0));
}

function ask(child: ChildProcess, msg: ToChild): Promise<ProfilingReply> {
  return new Promise((resolve) => {
    child.once('message', (reply: FromChild) => resolve(reply as ProfilingReply));
    child.send(msg);
  });
}

const body = JSON.stringify({
  id: 'order-42',
  items: Array.from({ length: 25 }, (_, i) => ({ sku: `sku-${i}`, qty: (i % 5) + 1, price: 9.99 + i })),
});

/** Keeps `connections` requests in flight for `seconds`; returns completions per second. */
async function drive(port: number, connections: number, seconds: number): Promise<number[]> {
  const agent = new Agent({ keepAlive: true, maxSockets: connections });
  const perSecond = new Array<number>(seconds).fill(0);
  const start = performance.now();
  const end = start + seconds * 1000;
  const one = (): Promise<void> =>
    new Promise((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port, path: '/work', method: 'POST', agent, headers: { 'content-type': 'application/json' } }, (res) => {
        res.resume();
        res.on('end', resolve);
      });
      req.on('error', reject);
      req.end(body);
    });
  await Promise.all(
    Array.from({ length: connections }, async () => {
      while (performance.now() < end) {
        await one();
        const second = Math.floor((performance.now() - start) / 1000);
        if (second < seconds) perSecond[second]++;
      }
    }),
  );
  agent.destroy();
  return perSecond;
}

const sum = (xs: number[]): number => xs.reduce((a, b) => a + b, 0);

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      rounds: { type: 'string', default: '2' },
      'round-seconds': { type: 'string', default: '60' },
      connections: { type: 'string', default: '8' },
      'warmup-seconds': { type: 'string', default: '10' },
    },
  });
  const rounds = Number(values.rounds);
  const roundSeconds = Number(values['round-seconds']);
  const connections = Number(values.connections);
  const warmupSeconds = Number(values['warmup-seconds']);

  const child = fork(fileURLToPath(import.meta.url), ['serve']);
  const port = await new Promise<number>((resolve) => child.once('message', (m: FromChild) => resolve((m as { port: number }).port)));
  const profiler = new ContinuousProfiler();
  const { intervalMs, captureDurationMs } = profiler.config;
  console.log(
    `continuous profiling default: ${captureDurationMs / 1000} s capture every ${intervalMs / 1000} s at ${profiler.config.samplingIntervalUs} µs; ` +
      `${rounds} x (off, on) rounds of ${roundSeconds} s, ${connections} connections`,
  );
  if (roundSeconds * 1000 < intervalMs) console.log('note: rounds shorter than the interval over-weight capture time in "on" rounds');

  await drive(port, connections, warmupSeconds);
  const totals = { off: { requests: 0, seconds: 0, cpuMicros: 0 }, on: { requests: 0, seconds: 0, cpuMicros: 0 } };
  const duringCapture = { requests: 0, seconds: 0 };
  const offRounds: number[] = [];
  for (let r = 0; r < rounds; r++) {
    for (const on of r % 2 === 0 ? [false, true] : [true, false]) {
      const before = await ask(child, { cmd: 'profiling', on });
      const perSecond = await drive(port, connections, roundSeconds);
      const reply = await ask(child, { cmd: 'profiling', on: false });
      const mode = on ? 'on' : 'off';
      const cpuMicros = reply.cpuMicros - before.cpuMicros;
      totals[mode].requests += sum(perSecond);
      totals[mode].seconds += roundSeconds;
      totals[mode].cpuMicros += cpuMicros;
      if (!on) offRounds.push(sum(perSecond) / roundSeconds);
      if (on) {
        const captureSeconds = Math.min(roundSeconds, Math.ceil(captureDurationMs / 1000));
        duringCapture.requests += sum(perSecond.slice(0, captureSeconds));
        duringCapture.seconds += captureSeconds;
      }
      const captures = on ? `, captures ${reply.stats.completedCaptures - before.stats.completedCaptures}` : '';
      const cpuPerRequest = (cpuMicros / sum(perSecond)).toFixed(1);
      console.log(`round ${r + 1} ${mode.padEnd(3)} ${(sum(perSecond) / roundSeconds).toFixed(1)} req/s, server CPU ${cpuPerRequest} µs/req${captures}`);
    }
  }
  child.disconnect();

  const off = totals.off.requests / totals.off.seconds;
  const on = totals.on.requests / totals.on.seconds;
  const ratio = on / off;
  console.log(`profiling off: ${off.toFixed(1)} req/s`);
  console.log(`profiling on:  ${on.toFixed(1)} req/s`);
  console.log(`ratio on/off:  ${ratio.toFixed(4)} (throughput loss ${((1 - ratio) * 100).toFixed(2)}%, target < 1%)`);
  const spread = ((Math.max(...offRounds) - Math.min(...offRounds)) / off) * 100;
  console.log(`noise: off rounds differ by ${spread.toFixed(1)}% among themselves; a smaller on/off difference is within noise`);
  const cpuOff = totals.off.cpuMicros / totals.off.requests;
  const cpuOn = totals.on.cpuMicros / totals.on.requests;
  console.log(`server CPU per request: off ${cpuOff.toFixed(1)} µs, on ${cpuOn.toFixed(1)} µs (${(((cpuOn - cpuOff) / cpuOff) * 100).toFixed(2)}%)`);
  console.log(
    `while a capture runs: ${(duringCapture.requests / duringCapture.seconds).toFixed(1)} req/s ` +
      `(${((duringCapture.requests / duringCapture.seconds / off) * 100).toFixed(1)}% of off)`,
  );
}

if (process.argv[2] === 'serve') serve();
else await main();
