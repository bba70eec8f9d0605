// Run: npm run bench:permits -- [--scenario retry|bursts|crash] [--seconds 30]
// (needs the built server: `npm run build`, or RS3GW_TEST_CLI=.build/NAME/src/cli.js)
//
// Clients following Acquire/Release against the real server, over gRPC, adapted from the review's
// load generator. An open-loop Poisson client offers work to a simulated backend (8 workers,
// exponential service of 50 ms mean, FIFO queue: capacity 160 requests/s); each request asks for
// a permit (normal priority), runs on the backend once admitted, and releases the permit when done.
//   retry: 5 s at 0.5x capacity, --seconds at 3x, 5 s at 0.5x; a refused request retries after
//          the retry_after it was given, up to 5 times. Reported for the 3x phase: Acquire calls per
//          request, the share of retries admitted, the requests admitted in the end, the median
//          hint, and the requests done within 250 ms of their first Acquire.
//   bursts: as retry, but --seconds of bursts: 1 s at 3x, then 3 s at 0.5x, and so on.
//   crash: 10 s at 0.5x, then --seconds at 1.5x; 5 s into it a second client takes every permit
//          it can (up to 3,000 Acquire calls) and exits without releasing any. Reported: how long
//          the load client was refused everything after the crash, its refusals over the 10 s
//          after, and what GetResources said 5 s after the crash.
// RS3GW_LOAD_SHEDDING_THRESHOLD=1 and RS3GW_PSI_THRESHOLD=99: the host's load (a shared machine) does not shed; admission alone decides.
import { parseArgs } from 'node:util';
import { createObservabilityClient, type ObservabilityClient } from '../../clients/ts/client.js';
import { Priority, RequestOutcome } from '../../gen/ts/rs3gw/observability/v1/resource_pb.js';
import { startServer } from '../../test/support/server.js';

const { values: opts } = parseArgs({
  options: { scenario: { type: 'string', default: 'retry' }, seconds: { type: 'string', default: '30' } },
});
const SECONDS = Number(opts.seconds);
if (!Number.isInteger(SECONDS) || SECONDS < 10) throw new Error(`--seconds: an integer of at least 10 (got ${opts.seconds})`);
const SCENARIOS = ['retry', 'bursts', 'crash'];
if (!SCENARIOS.includes(opts.scenario!)) throw new Error(`--scenario: one of ${SCENARIOS.join(', ')} (got ${opts.scenario})`);

const WORKERS = 8;
const SERVICE_MS = 50;
const CAPACITY = (WORKERS * 1000) / SERVICE_MS;
const SLO_MS = 250;
const RETRIES = 5;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const median = (xs: number[]) => (xs.length === 0 ? NaN : [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!);

/** The simulated backend: WORKERS servers, FIFO queue. */
class Backend {
  private running = 0;
  private readonly queue: Array<() => void> = [];
  submit(done: () => void): void {
    this.queue.push(done);
    this.pump();
  }
  private pump(): void {
    while (this.running < WORKERS && this.queue.length > 0) {
      const done = this.queue.shift()!;
      this.running += 1;
      setTimeout(() => {
        this.running -= 1;
        done();
        this.pump();
      }, -Math.log(1 - Math.random()) * SERVICE_MS);
    }
  }
}

interface Phase {
  requests: number;
  admitted: number;
  acquireCalls: number;
  retries: number;
  retriesAdmitted: number;
  good: number;
  hints: number[];
  /** Times (ms since start) of admissions of the load client. */
  admissions: number[];
  refusalTimes: number[];
}
const newPhase = (): Phase => ({ requests: 0, admitted: 0, acquireCalls: 0, retries: 0, retriesAdmitted: 0, good: 0, hints: [], admissions: [], refusalTimes: [] });

const server = await startServer({ RS3GW_LOAD_SHEDDING_THRESHOLD: '1', RS3GW_PSI_THRESHOLD: '99' });
const clients: ObservabilityClient[] = Array.from({ length: 4 }, () => createObservabilityClient(server.url));
let next = 0;
const client = () => clients[next++ % clients.length]!.resources;
const backend = new Backend();
const start = performance.now();
const now = () => performance.now() - start;
let phase = newPhase();
/** Requests under way (to their release), awaited before the server stops. */
const underWay = new Set<Promise<unknown>>();
function track(p: Promise<unknown>): void {
  underWay.add(p);
  void p.finally(() => underWay.delete(p));
}

async function request(): Promise<void> {
  const p = phase;
  const arrived = now();
  p.requests += 1;
  for (let attempt = 0; ; attempt++) {
    const r = await client().acquire({ priority: Priority.NORMAL });
    p.acquireCalls += 1;
    if (attempt > 0) p.retries += 1;
    if (r.admitted) {
      p.admitted += 1;
      p.admissions.push(now());
      if (attempt > 0) p.retriesAdmitted += 1;
      await new Promise<void>((done) => backend.submit(done));
      if (now() - arrived <= SLO_MS) p.good += 1;
      await client().release({ permitId: r.permitId, outcome: RequestOutcome.SUCCESS });
      return;
    }
    p.refusalTimes.push(now());
    const hint = r.retryAfter ? Number(r.retryAfter.seconds) * 1000 + r.retryAfter.nanos / 1e6 : undefined;
    if (hint !== undefined) p.hints.push(hint);
    if (opts.scenario === 'crash' || attempt >= RETRIES || hint === undefined) return;
    await sleep(hint);
  }
}

/** Offers Poisson arrivals at `load` x capacity for `seconds`; returns the phase's figures. */
async function offer(load: number, seconds: number, p = newPhase()): Promise<Phase> {
  phase = p;
  const end = now() + seconds * 1000;
  let due = now();
  while (now() < end) {
    while (due <= now()) {
      track(request());
      due += (-Math.log(1 - Math.random()) * 1000) / (load * CAPACITY);
    }
    await sleep(1);
  }
  return p;
}

function retryReport(label: string, p: Phase): string {
  return (
    `${label}: ${p.requests} requests, Acquire calls per request ${(p.acquireCalls / p.requests).toFixed(2)}, ` +
    `retries admitted ${p.retriesAdmitted}/${p.retries} (${((100 * p.retriesAdmitted) / Math.max(1, p.retries)).toFixed(1)} %), ` +
    `requests admitted ${((100 * p.admitted) / p.requests).toFixed(1)} % (${(p.admitted / SECONDS).toFixed(0)}/s), ` +
    `done within ${SLO_MS} ms of their first Acquire ${(p.good / SECONDS).toFixed(0)}/s, retry_after median ${median(p.hints).toFixed(0)} ms`
  );
}

/** A client that takes every permit it can and exits without releasing them. */
async function crash(): Promise<number> {
  const c = createObservabilityClient(server.url).resources;
  let taken = 0;
  for (let i = 0; i < 3000; i++) if ((await c.acquire({ priority: Priority.NORMAL })).admitted) taken += 1;
  return taken;
}

try {
  console.log(`capacity ${CAPACITY}/s (${WORKERS} workers, exponential service ${SERVICE_MS} ms); server ${server.url}`);
  if (opts.scenario === 'retry') {
    await offer(0.5, 5);
    const p = await offer(3, SECONDS);
    await offer(0.5, 5);
    console.log(retryReport(`retry, ${SECONDS} s at 3x`, p));
  } else if (opts.scenario === 'bursts') {
    await offer(0.5, 5);
    const p = newPhase();
    for (let t = 0; t < SECONDS; t += 4) {
      await offer(3, 1, p);
      await offer(0.5, 3, p);
    }
    console.log(retryReport(`bursts, ${SECONDS} s of 1 s at 3x every 4 s`, p));
  } else {
    await offer(0.5, 10);
    const load = offer(1.5, SECONDS);
    await sleep(5000);
    const crashedAt = now();
    const taken = await crash();
    await sleep(5000);
    const s = (await client().getResources({})).status!;
    const p = await load;
    const after = p.admissions.filter((t) => t >= crashedAt);
    const firstAfter = after.find((t) => t > crashedAt + 100) ?? Infinity;
    const refusedAfter = p.refusalTimes.filter((t) => t >= crashedAt && t < crashedAt + 10_000).length;
    const admittedAfter = after.filter((t) => t < crashedAt + 10_000).length;
    // The longest stretch without an admission of the load client, from the crash on.
    let longest = 0;
    let prev = crashedAt;
    for (const t of [...after, now()]) {
      longest = Math.max(longest, t - prev);
      prev = t;
    }
    console.log(
      `crash at 1.5x: the crashed client took ${taken} permits; the load client's longest wait for an admission after it ${(longest / 1000).toFixed(1)} s ` +
        `(first admission ${firstAfter === Infinity ? 'none' : `${((firstAfter - crashedAt) / 1000).toFixed(1)} s after`}), refused ${((100 * refusedAfter) / Math.max(1, refusedAfter + admittedAfter)).toFixed(1)} % over the 10 s after; ` +
        `GetResources 5 s after: limit ${s.admission!.limit.toFixed(1)}, active ${s.activeRequests}, pending ${s.pendingRequests}, presumed lost ${s.presumedLostPermits}, ` +
        `success rate ${s.successRate.toFixed(3)}, pool '${s.pool!.reason}'`,
    );
  }
} finally {
  await Promise.allSettled([...underWay]);
  await server.stop();
}
// The clients' HTTP/2 sessions would keep the process alive.
process.exit(0);
