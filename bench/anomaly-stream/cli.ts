// Run: npx tsx bench/anomaly-stream/cli.ts [--subscribers 1000] [--connections 10] [--rate 10] [--seconds 10]
//        [--metrics 1000] [--batch 100] [--ingest-batches 200] [--concurrency 4] [--queue N]
// (needs the built server: `npm run build`, or RS3GW_TEST_CLI=.build/NAME/src/cli.js)
//
// WatchAnomalies at scale (issue 3). Starts the real server, opens --subscribers WatchAnomalies
// streams over gRPC (the TS client, spread over --connections HTTP/2 connections, in a child
// process), waits until every one is caught up, then:
//   1. steady: drives anomalies at --rate events/s for --seconds, in RecordSamples batches of
//      --batch samples over --metrics metrics (each metric spikes every 20th sample), and measures
//      per event per subscriber the delay from the anomaly's detected_at (server clock, same
//      machine; millisecond resolution, so delays read up to 1 ms long) to receipt;
//   2. flat out: sends --ingest-batches batches as fast as --concurrency callers get answers, with
//      the subscribers attached; this raises events faster than they can be delivered, so
//      subscribers whose queue (--queue, the server's default 1024) fills are told what they missed.
// Ingest throughput is also measured before the subscribers are opened and after they are closed,
// in the same run. Each delivery phase ends when every subscriber accounts for every event
// (delivered + missed), or after 120 s. Prints delays p50/p99/max, events delivered and missed,
// ingest throughput, CPU use, and the server's memory (RSS from /proc/<pid>/status, V8 heap from
// GetProfile) before the subscribers, with them idle, and after each phase. The machine's load
// average is printed too: on a shared machine, other work skews every figure.
import { fork, type ChildProcess } from 'node:child_process';
import { availableParallelism, loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { createObservabilityClient, type ObservabilityClient } from '../../clients/ts/client.js';
import { startServer } from '../../test/support/server.js';
import { DelayHistogram } from './histogram.js';
import { SpikeLoad } from './load.js';
import { cpuSecondsOf, memoryOf } from './proc.js';
import type { FromSubscribers, PhaseReport, ToSubscribers } from './subscribers.js';

const { values: opts } = parseArgs({
  options: {
    subscribers: { type: 'string', default: '1000' },
    connections: { type: 'string', default: '10' },
    rate: { type: 'string', default: '10' },
    seconds: { type: 'string', default: '10' },
    metrics: { type: 'string', default: '1000' },
    batch: { type: 'string', default: '100' },
    'ingest-batches': { type: 'string', default: '200' },
    concurrency: { type: 'string', default: '4' },
    queue: { type: 'string' },
  },
});

function positiveInt(name: string, text: string | undefined): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1) throw new Error(`--${name}: must be a positive integer (got ${text})`);
  return n;
}

const SUBSCRIBERS = positiveInt('subscribers', opts.subscribers);
const CONNECTIONS = Math.min(SUBSCRIBERS, positiveInt('connections', opts.connections));
const RATE = positiveInt('rate', opts.rate);
const SECONDS = positiveInt('seconds', opts.seconds);
const METRICS = positiveInt('metrics', opts.metrics);
const BATCH = positiveInt('batch', opts.batch);
const INGEST_BATCHES = positiveInt('ingest-batches', opts['ingest-batches']);
const CONCURRENCY = positiveInt('concurrency', opts.concurrency);
if (BATCH % 20 !== 0 || METRICS % BATCH !== 0) throw new Error('--batch must be a multiple of 20 and divide --metrics');
/** Steady-rate batches not answered yet; past this the driver waits (and falls behind its rate). */
const MAX_IN_FLIGHT = 16;
const SETTLE_TIMEOUT_MS = 120_000;

// ---------------------------------------------------------------------------------------------

/** The child process holding the subscribers (subscribers.ts), driven over IPC. */
class SubscriberProcess {
  private readonly child: ChildProcess;
  private readonly replies: FromSubscribers[] = [];
  private waiter: (() => void) | undefined;

  constructor() {
    this.child = fork(fileURLToPath(new URL('./subscribers.ts', import.meta.url)), [], { stdio: 'inherit' });
    this.child.on('message', (m: FromSubscribers) => {
      this.replies.push(m);
      this.waiter?.();
    });
    this.child.on('exit', (code) => {
      if (code !== 0) {
        console.error(`subscriber process exited with ${code}`);
        process.exit(1);
      }
    });
  }

  get pid(): number {
    return this.child.pid!;
  }

  send(m: ToSubscribers): void {
    this.child.send(m);
  }

  async reply<K extends FromSubscribers['kind']>(kind: K): Promise<Extract<FromSubscribers, { kind: K }>> {
    for (;;) {
      const i = this.replies.findIndex((r) => r.kind === kind);
      if (i >= 0) return this.replies.splice(i, 1)[0] as Extract<FromSubscribers, { kind: K }>;
      await new Promise<void>((resolve) => (this.waiter = resolve));
    }
  }

  /** Ends the process if it is still running (after an error). */
  kill(): void {
    if (this.child.exitCode === null) {
      this.child.removeAllListeners('exit');
      this.child.kill();
    }
  }
}

interface IngestRow {
  name: string;
  subscribers: number;
  samples: number;
  events: number;
  seconds: number;
  batchP50Ms: number;
  batchP99Ms: number;
  serverCpuSeconds: number;
}

interface DeliveryRow {
  name: string;
  events: number;
  report: PhaseReport;
  /** From the first batch to the moment every subscriber had accounted for every event. */
  seconds: number;
  serverCpuSeconds: number;
  subscriberCpuSeconds: number;
}

interface MemoryRow {
  when: string;
  rssMiB: number;
  peakRssMiB: number;
  heapUsedMiB: number;
}

async function main(): Promise<void> {
  const server = await startServer({
    RS3GW_ANOMALY_MAX_SUBSCRIBERS: String(SUBSCRIBERS + 10),
    RS3GW_ANOMALY_MAX_METRICS: String(Math.max(10_000, METRICS)),
    ...(opts.queue !== undefined && { RS3GW_ANOMALY_SUBSCRIBER_QUEUE: String(positiveInt('queue', opts.queue)) }),
  });
  const pid = server.process.pid!;
  const client: ObservabilityClient = createObservabilityClient(server.url, { protocol: 'grpc' });
  const load = SpikeLoad.named(client, METRICS, BATCH);
  const ingestRows: IngestRow[] = [];
  const deliveryRows: DeliveryRow[] = [];
  const memoryRows: MemoryRow[] = [];
  const loadBefore = loadavg()[0]!;
  let lastSequence = 0;
  let subscribers: SubscriberProcess | undefined;

  async function measureMemory(when: string): Promise<void> {
    const { profile } = await client.profiling.getProfile({});
    const { rssMiB, peakRssMiB } = memoryOf(pid);
    memoryRows.push({ when, rssMiB, peakRssMiB, heapUsedMiB: Number(profile?.memory?.heapUsedBytes ?? NaN) / 2 ** 20 });
  }

  async function timedBatch(delays: DelayHistogram): Promise<number> {
    const started = performance.now();
    const r = await load.batch();
    delays.record(performance.now() - started);
    lastSequence = Math.max(lastSequence, r.lastSequence);
    return r.events;
  }

  /** Closed loop: CONCURRENCY callers send INGEST_BATCHES batches in all, each as soon as answered. */
  async function flatOut(name: string, subscriberCount: number): Promise<IngestRow> {
    const delays = new DelayHistogram();
    const cpu0 = cpuSecondsOf(pid);
    const started = performance.now();
    let sent = 0;
    let events = 0;
    await Promise.all(
      Array.from({ length: CONCURRENCY }, async () => {
        while (sent < INGEST_BATCHES) {
          sent++;
          const raised = await timedBatch(delays);
          events += raised;
        }
      }),
    );
    return ingestRow(name, subscriberCount, INGEST_BATCHES * BATCH, events, started, delays, cpu0);
  }

  /** Open loop at RATE events/s for SECONDS: a batch every eventsPerBatch / RATE seconds. */
  async function steady(name: string, subscriberCount: number): Promise<IngestRow> {
    const delays = new DelayHistogram();
    const intervalMs = (1000 * load.eventsPerBatch) / RATE;
    const batches = Math.max(1, Math.round((SECONDS * 1000) / intervalMs));
    const cpu0 = cpuSecondsOf(pid);
    const started = performance.now();
    const inFlight = new Set<Promise<void>>();
    let events = 0;
    for (let k = 0; k < batches; k++) {
      const wait = started + k * intervalMs - performance.now();
      if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
      while (inFlight.size >= MAX_IN_FLIGHT) await Promise.race(inFlight);
      const p: Promise<void> = timedBatch(delays).then((n) => {
        events += n;
        inFlight.delete(p);
      });
      inFlight.add(p);
    }
    await Promise.all(inFlight);
    return ingestRow(name, subscriberCount, batches * BATCH, events, started, delays, cpu0);
  }

  /** Records one ingest phase's figures. */
  function ingestRow(name: string, subscribers: number, samples: number, events: number, started: number, delays: DelayHistogram, cpu0: number): IngestRow {
    const d = delays.summary();
    const row = {
      name,
      subscribers,
      samples,
      events,
      seconds: (performance.now() - started) / 1000,
      batchP50Ms: d.p50Ms,
      batchP99Ms: d.p99Ms,
      serverCpuSeconds: cpuSecondsOf(pid) - cpu0,
    };
    ingestRows.push(row);
    return row;
  }

  /** Runs `drive` as one delivery phase, then waits until every subscriber accounts for its events. */
  async function deliveryPhase(subs: SubscriberProcess, name: string, drive: () => Promise<IngestRow>): Promise<void> {
    subs.send({ cmd: 'phase', afterSequence: lastSequence });
    const serverCpu0 = cpuSecondsOf(pid);
    const subscriberCpu0 = cpuSecondsOf(subs.pid);
    const started = performance.now();
    const ingest = await drive();
    subs.send({ cmd: 'settle', events: ingest.events, timeoutMs: SETTLE_TIMEOUT_MS });
    const report = await subs.reply('settled');
    deliveryRows.push({
      name,
      events: ingest.events,
      report,
      seconds: (performance.now() - started) / 1000,
      serverCpuSeconds: cpuSecondsOf(pid) - serverCpu0,
      subscriberCpuSeconds: cpuSecondsOf(subs.pid) - subscriberCpu0,
    });
    await measureMemory(`after ${name}`);
  }

  try {
    console.log(`server pid ${pid} at ${server.url}; ${METRICS} metrics, batches of ${BATCH} samples (${load.eventsPerBatch} events each)`);
    await load.setUp();
    await measureMemory('before subscribers');
    await flatOut('flat out, before', 0);

    subscribers = new SubscriberProcess();
    subscribers.send({ cmd: 'open', url: server.url, streams: SUBSCRIBERS, connections: CONNECTIONS });
    const live = await subscribers.reply('live');
    console.log(`${live.streams} subscribers on ${CONNECTIONS} HTTP/2 connections caught up in ${live.ms.toFixed(0)} ms`);
    await measureMemory(`${SUBSCRIBERS} subscribers idle`);

    const subs = subscribers;
    await deliveryPhase(subs, `steady ${RATE} events/s`, () => steady(`steady ${RATE} events/s`, SUBSCRIBERS));
    await deliveryPhase(subs, 'flat out', () => flatOut('flat out', SUBSCRIBERS));

    subs.send({ cmd: 'close' });
    await subs.reply('closed');
    await flatOut('flat out, after', 0);
    await measureMemory('subscribers closed');
  } finally {
    subscribers?.kill();
    const code = await server.stop();
    if (code !== 0) console.error(`server exited with ${code}:\n${server.output()}`);
  }
  console.log(`machine: ${availableParallelism()} cores, load average (1 min) ${loadBefore.toFixed(1)} at start, ${loadavg()[0]!.toFixed(1)} at end`);
  printTables(ingestRows, deliveryRows, memoryRows);
}

function printTables(ingestRows: IngestRow[], deliveryRows: DeliveryRow[], memoryRows: MemoryRow[]): void {
  const f = (n: number, digits = 1) => (Number.isFinite(n) ? n.toFixed(digits) : 'n/a');
  const pct = (cpu: number, seconds: number) => `${f((100 * cpu) / seconds, 0)}%`;
  const row = (cells: Array<[string, number]>) => console.log(cells.map(([text, width], i) => (i === 0 ? text.padEnd(width) : text.padStart(width))).join(''));

  console.log(`\ningest: RecordSamples, ${BATCH} samples a batch; flat out = ${CONCURRENCY} callers, ${INGEST_BATCHES} batches`);
  row([['phase', 24], ['subs', 6], ['samples/s', 11], ['events/s', 10], ['batch p50 ms', 14], ['p99 ms', 9], ['server CPU', 12], ['µs/sample', 11]]);
  for (const r of ingestRows) {
    row([
      [r.name, 24],
      [String(r.subscribers), 6],
      [f(r.samples / r.seconds, 0), 11],
      [f(r.events / r.seconds, 0), 10],
      [f(r.batchP50Ms), 14],
      [f(r.batchP99Ms), 9],
      [pct(r.serverCpuSeconds, r.seconds), 12],
      [f((1e6 * r.serverCpuSeconds) / r.samples, 2), 11],
    ]);
  }

  console.log(`\ndelivery to ${SUBSCRIBERS} subscribers: delay from detected_at to receipt; CPU over the phase until all accounted for`);
  console.log('(server CPU per delivery includes the ingest of the phase; CPU time is less skewed by other work than wall time)');
  row([
    ['phase', 24],
    ['events', 8],
    ['delivered', 11],
    ['missed', 10],
    ['lost', 7],
    ['p50 ms', 10],
    ['p99 ms', 10],
    ['max ms', 10],
    ['phase s', 9],
    ['server CPU', 12],
    ['µs/delivery', 13],
    ['subs CPU', 10],
  ]);
  for (const r of deliveryRows) {
    const lost = r.events * SUBSCRIBERS - r.report.delivered - r.report.missed;
    row([
      [r.name, 24],
      [String(r.events), 8],
      [String(r.report.delivered), 11],
      [String(r.report.missed), 10],
      [String(lost), 7],
      [f(r.report.delay.p50Ms), 10],
      [f(r.report.delay.p99Ms), 10],
      [f(r.report.delay.maxMs), 10],
      [f(r.seconds), 9],
      [pct(r.serverCpuSeconds, r.seconds), 12],
      [f((1e6 * r.serverCpuSeconds) / r.report.delivered), 13],
      [pct(r.subscriberCpuSeconds, r.seconds), 10],
    ]);
    if (r.report.unsettled > 0) {
      console.log(`  ${r.report.unsettled} subscribers had not accounted for every event after ${SETTLE_TIMEOUT_MS / 1000} s: "lost" counts events still on their way`);
    }
  }

  console.log('\nserver memory');
  row([['when', 30], ['RSS MiB', 9], ['peak MiB', 10], ['V8 heap MiB', 13]]);
  for (const m of memoryRows) row([[m.when, 30], [f(m.rssMiB), 9], [f(m.peakRssMiB), 10], [f(m.heapUsedMiB), 13]]);
}

main().catch((error: Error) => {
  console.error(error);
  process.exit(1);
});
