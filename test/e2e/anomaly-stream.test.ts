/**
 * WatchAnomalies with a stalled subscriber (issue 3), against the real server: a subscriber that
 * stops reading must not slow RecordSamples nor delay a healthy subscriber; its server-side queue
 * (RS3GW_ANOMALY_SUBSCRIBER_QUEUE, here 8) overflows, and when it reads again it is told how many
 * events it missed (and can replay them from the history), then gets live events again.
 *
 * Two stalls: a raw node:http2 gRPC stream that is paused (HTTP/2 flow control fills), and a Connect
 * stream over HTTP/1.1 whose socket is paused (the loopback TCP buffers, about 4 MB, fill). Those
 * buffers absorb events before the server-side queue overflows, so the tests send many more.
 * A third test holds one gRPC subscriber up again and again: the server must not keep anything
 * per episode of backpressure.
 */
import { create, fromBinary, fromJsonString, toBinary } from '@bufbuild/protobuf';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { connect as http2Connect } from 'node:http2';
import { createObservabilityClient, type ObservabilityClient } from '../../clients/ts/client.js';
import {
  WatchAnomaliesRequestSchema,
  WatchAnomaliesResponseSchema,
  type RecordSamplesResponse,
  type WatchAnomaliesResponse,
} from '../../gen/ts/rs3gw/observability/v1/anomaly_pb.js';
import { startServer } from '../support/server.js';
import { raiseAnomaly, StreamReader } from './support/rpc-helpers.js';

const QUEUE = 8;
const WATCH_PATH = '/rs3gw.observability.v1.AnomalyService/WatchAnomalies';
/** Generous bounds: they catch a server that blocks, not one that is a little slow. */
const INGEST_TIMEOUT_MS = 40_000;
const DELIVERY_TIMEOUT_MS = 20_000;
const MAX_HEALTHY_DELAY_MS = 5_000;

// ---------------------------------------------------------------------------------------------
// What a subscriber received

/** The stream as one subscriber saw it: event sequences in order, and where `missed` came. */
class Received {
  readonly sequences: number[] = [];
  /** Each `missed` message: its count, its reason, and how many events had arrived before it. */
  readonly missed: Array<{ at: number; count: number; reason: string }> = [];
  caughtUp = false;
  /** Largest delay from an event's `detected_at` to its receipt, in ms. */
  maxDelayMs = 0;
  private readonly waiters: Array<() => void> = [];

  add(message: WatchAnomaliesResponse): void {
    const event = message.event;
    if (event.case === 'anomaly') {
      this.sequences.push(Number(event.value.sequence));
      const detected = event.value.detectedAt!;
      this.maxDelayMs = Math.max(this.maxDelayMs, Date.now() - (Number(detected.seconds) * 1000 + detected.nanos / 1e6));
    } else if (event.case === 'missed') {
      this.missed.push({ at: this.sequences.length, count: Number(event.value.count), reason: event.value.reason });
    } else if (event.case === 'caughtUp') {
      this.caughtUp = true;
    }
    for (const wake of this.waiters.splice(0)) wake();
  }

  get missedTotal(): number {
    return this.missed.reduce((n, m) => n + m.count, 0);
  }

  /** Replays the stream: each delivered event in place, each gap as `count` nulls. */
  timeline(): Array<number | null> {
    const out: Array<number | null> = [];
    let next = 0;
    for (const gap of this.missed) {
      out.push(...this.sequences.slice(next, gap.at), ...new Array<null>(gap.count).fill(null));
      next = gap.at;
    }
    out.push(...this.sequences.slice(next));
    return out;
  }

  /** Resolves once `done()` holds (checked after every message); rejects after `timeoutMs`. */
  until(done: () => boolean, what: string, timeoutMs = DELIVERY_TIMEOUT_MS): Promise<void> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`timed out waiting for ${what} (received ${this.sequences.length}, missed ${this.missedTotal})`)),
        timeoutMs,
      );
      const check = () => {
        if (done()) {
          clearTimeout(timer);
          resolve();
        } else this.waiters.push(check);
      };
      check();
    });
  }
}

// ---------------------------------------------------------------------------------------------
// Subscribers

/** The 5-byte gRPC / Connect envelope around one message. */
function envelope(bytes: Uint8Array): Buffer {
  const head = Buffer.alloc(5);
  head.writeUInt32BE(bytes.length, 1);
  return Buffer.concat([head, bytes]);
}

/** Splits a byte stream into enveloped messages and calls `onMessage(flags, payload)` for each. */
function envelopeReader(onMessage: (flags: number, payload: Buffer) => void): (chunk: Buffer) => void {
  let pending: Buffer = Buffer.alloc(0);
  return (chunk) => {
    pending = pending.length === 0 ? chunk : Buffer.concat([pending, chunk]);
    while (pending.length >= 5) {
      const length = pending.readUInt32BE(1);
      if (pending.length < 5 + length) break;
      onMessage(pending[0]!, pending.subarray(5, 5 + length));
      pending = pending.subarray(5 + length);
    }
  };
}

interface StallableSubscriber {
  received: Received;
  /** Stops reading: the server's writes back up through the transport into its queue. */
  stall(): void;
  resume(): void;
  close(): void;
}

/** A gRPC stream on its own HTTP/2 connection, read with node:http2 so it can be paused. */
function http2Subscriber(url: string): StallableSubscriber {
  const received = new Received();
  const session = http2Connect(url);
  session.on('error', () => {});
  const stream = session.request({ ':method': 'POST', ':path': WATCH_PATH, 'content-type': 'application/grpc+proto', te: 'trailers' });
  stream.on('error', () => {});
  stream.on('data', envelopeReader((_, payload) => received.add(fromBinary(WatchAnomaliesResponseSchema, payload))));
  stream.end(envelope(toBinary(WatchAnomaliesRequestSchema, create(WatchAnomaliesRequestSchema))));
  return {
    received,
    stall: () => stream.pause(),
    resume: () => stream.resume(),
    close: () => {
      stream.close();
      session.close();
    },
  };
}

/** A Connect JSON stream over HTTP/1.1, read with node:http so its socket can be paused. */
function connectHttp1Subscriber(url: string): StallableSubscriber {
  const received = new Received();
  let response: IncomingMessage | undefined;
  const req = httpRequest(`${url}${WATCH_PATH}`, {
    method: 'POST',
    agent: false,
    headers: { 'content-type': 'application/connect+json', 'connect-protocol-version': '1' },
  });
  req.on('error', () => {});
  req.on('response', (res) => {
    response = res;
    res.on('error', () => {});
    // Flag 2 marks the end-of-stream message, which is not a WatchAnomaliesResponse.
    res.on('data', envelopeReader((flags, payload) => flags === 0 && received.add(fromJsonString(WatchAnomaliesResponseSchema, payload.toString()))));
  });
  req.end(envelope(Buffer.from('{}')));
  return {
    received,
    stall: () => {
      response!.pause();
      response!.socket.pause();
    },
    resume: () => {
      response!.socket.resume();
      response!.resume();
    },
    close: () => req.destroy(),
  };
}

/** A healthy subscriber: the typed TS client over gRPC, on its own connection, always reading. */
function healthySubscriber(url: string): { received: Received; close(): void } {
  const received = new Received();
  const abort = new AbortController();
  const client = createObservabilityClient(url, { protocol: 'grpc' });
  void (async () => {
    try {
      for await (const message of client.anomalies.watchAnomalies({}, { signal: abort.signal })) received.add(message);
    } catch {
      // aborted when the test ends
    }
  })();
  return { received, close: () => abort.abort() };
}

/** Sequences a WatchAnomalies resumed after `sequence` replays before it is caught up. */
async function replay(url: string, sequence: number): Promise<number[]> {
  const abort = new AbortController();
  const client = createObservabilityClient(url, { protocol: 'grpc' });
  const sequences: number[] = [];
  try {
    for await (const m of client.anomalies.watchAnomalies({ resumeAfterSequence: BigInt(sequence) }, { signal: abort.signal })) {
      if (m.event.case === 'anomaly') sequences.push(Number(m.event.value.sequence));
      else if (m.event.case === 'missed') throw new Error(`replay missed ${m.event.value.count} (${m.event.value.reason})`);
      else if (m.event.case === 'caughtUp') break;
    }
  } finally {
    abort.abort();
  }
  return sequences;
}

// ---------------------------------------------------------------------------------------------
// Ingest

/**
 * Drives RecordSamples with batches of one sample per metric. Each metric is configured so that its
 * gates forget within two samples and it never rests, so nearly every sample alarms: a batch raises
 * at most one event per metric. Which samples raised events is read from the responses.
 */
class Ingest {
  /** Every event raised so far, in order of sequence. */
  readonly sequences: number[] = [];
  private step = 0;

  constructor(
    private readonly client: ObservabilityClient,
    private readonly metrics: string[],
  ) {}

  async setUp(): Promise<void> {
    for (const metric of this.metrics) {
      await this.client.anomalies.configureMetric({
        metric,
        config: { minSamples: 5, restSamples: 0, detectorParameters: { surprise_memory: 2, season_slots: 0 } },
      });
      // The first min_samples values only train.
      this.count(await this.client.anomalies.recordSamples({ samples: [99, 101, 99, 101, 99].map((value) => ({ metric, value })) }));
    }
  }

  /**
   * Sends `batches` batches one after another, each after `afterBatch` (if given) has settled for
   * the one before; all must complete within a timeout.
   */
  async run(batches: number, afterBatch?: () => Promise<void>): Promise<{ events: number; ms: number }> {
    const started = performance.now();
    const before = this.sequences.length;
    for (let i = 0; i < batches; i++) {
      this.step++;
      const value = 100 + (this.step % 7) * 37 * (this.step % 2 === 0 ? 1 : -1);
      this.count(await this.client.anomalies.recordSamples({ samples: this.metrics.map((metric) => ({ metric, value })) }));
      await afterBatch?.();
      if (performance.now() - started > INGEST_TIMEOUT_MS) {
        throw new Error(`ingest too slow: ${i + 1} of ${batches} batches in ${INGEST_TIMEOUT_MS} ms`);
      }
    }
    return { events: this.sequences.length - before, ms: performance.now() - started };
  }

  private count(response: RecordSamplesResponse): void {
    for (const a of response.assessments) if (a.anomaly) this.sequences.push(Number(a.anomaly.sequence));
  }
}

// ---------------------------------------------------------------------------------------------
// The scenario, for either kind of stall

interface Scenario {
  name: string;
  open: (url: string) => StallableSubscriber;
  /** Batches sent without the stalled subscriber, then again with it. */
  batches: number;
  /** Metrics per batch, so at most this many events per batch: below the queue of 8, the healthy
   * subscriber, which has read each batch before the next is sent, never overflows. Long names
   * make messages bigger. */
  metrics: string[];
}

async function stalledScenario({ name, open, batches, metrics }: Scenario): Promise<void> {
  const server = await startServer({ RS3GW_ANOMALY_SUBSCRIBER_QUEUE: String(QUEUE) });
  const ingest = new Ingest(createObservabilityClient(server.url, { protocol: 'grpc' }), metrics);
  const healthy = healthySubscriber(server.url);
  let stalled: StallableSubscriber | undefined;
  try {
    await healthy.received.until(() => healthy.received.caughtUp, 'the healthy subscriber to go live');
    await ingest.setUp();
    // The next batch waits until the healthy subscriber has the last one. Without this it could
    // fall a batch behind by scheduling alone (the server writes a stream one message per turn, and
    // a batch can raise 6 events against a queue of 8) and miss events no stall caused.
    const h = healthy.received;
    const healthyKeepsUp = () =>
      h.until(() => h.sequences.length + h.missedTotal >= ingest.sequences.length, 'the healthy subscriber to keep up');

    // The same load without, then with, the stalled subscriber: both complete within the timeout.
    const alone = await ingest.run(batches, healthyKeepsUp);
    stalled = open(server.url);
    const s = stalled.received;
    await s.until(() => s.caughtUp, 'the stalled subscriber to go live');
    stalled.stall();
    const firstStalled = ingest.sequences.length;
    const withStall = await ingest.run(batches, healthyKeepsUp);
    const generated = ingest.sequences.slice(firstStalled);
    console.log(
      `  ${name}: ${batches} batches without the stalled subscriber: ${alone.events} events in ${alone.ms.toFixed(0)} ms;` +
        ` with it: ${withStall.events} events in ${withStall.ms.toFixed(0)} ms`,
    );

    // The healthy subscriber got every event (run() waited for each batch's), in order, none
    // missed, promptly.
    assert.equal(h.missed, [], 'healthy subscriber: nothing missed');
    assert.equal(h.sequences, ingest.sequences, 'healthy subscriber: every event, in order');
    assert.ok(h.maxDelayMs < MAX_HEALTHY_DELAY_MS, `healthy subscriber: largest delay ${h.maxDelayMs.toFixed(1)} ms`);

    // The stalled one resumes: it receives what the transport held and its queue, and is told how
    // many it missed, each gap in the place of the events it stands for.
    assert.is(s.sequences.length + s.missed.length, 0, 'the stalled subscriber read nothing while stalled');
    stalled.resume();
    await s.until(() => s.sequences.length + s.missedTotal >= generated.length, 'the resumed subscriber to account for every event');
    console.log(`  ${name}: stalled subscriber: ${s.sequences.length} delivered + ${s.missedTotal} missed (${s.missed.length} missed messages) = ${generated.length} generated`);
    assert.ok(s.missed.length >= 1, 'the stalled subscriber was told it missed events');
    assert.ok(s.missed.every((m) => m.reason === 'queue_overflow' && m.count > 0), `reasons: ${JSON.stringify(s.missed.slice(0, 3))}`);
    assert.is(s.sequences.length + s.missedTotal, generated.length, 'delivered + missed == generated');
    const timeline = s.timeline();
    assert.equal(
      timeline.flatMap((seq, i) => (seq === null ? [] : [[i, seq]])),
      timeline.flatMap((seq, i) => (seq === null ? [] : [[i, generated[i]]])),
      'each delivered event sits where it was generated, after the gaps before it',
    );
    // Backpressure reached the server: for whole batches it wrote nothing to this subscriber.
    const largestGap = Math.max(...s.missed.map((m) => m.count));
    assert.ok(largestGap > 4 * metrics.length, `largest gap ${largestGap} spans several batches`);
    // What it missed is still in the history: resuming after the last event before the first gap
    // replays exactly the events generated since.
    const resumeAfter = s.missed[0]!.at > 0 ? s.sequences[s.missed[0]!.at - 1]! : (ingest.sequences[firstStalled - 1] ?? 0);
    const replayed = await replay(server.url, resumeAfter);
    assert.equal(replayed, ingest.sequences.filter((seq) => seq > resumeAfter), 'the missed events can be replayed from the history');

    // Reading again, it is live: it gets new events, in full.
    const before = s.sequences.length;
    const liveFrom = ingest.sequences.length;
    await ingest.run(20);
    const live = ingest.sequences.slice(liveFrom);
    await s.until(() => s.sequences.length - before >= live.length, 'live events after the resume');
    assert.equal(s.sequences.slice(before), live, 'live events after the resume, in full');
    assert.is(s.missedTotal, generated.length - before, 'no new gap once reading again');
  } finally {
    healthy.close();
    stalled?.close();
    const code = await server.stop();
    assert.is(code, 0, `server exit code\n${server.output()}`);
  }
}

test('a stalled HTTP/2 gRPC subscriber slows neither ingest nor a healthy subscriber, then learns what it missed', async () => {
  // 800 batches of at most 4 events: about 2,700 events, several times what HTTP/2 flow control
  // (64 KiB per stream) and grpc-js's write buffer hold.
  await stalledScenario({
    name: 'HTTP/2 gRPC',
    open: http2Subscriber,
    batches: 800,
    metrics: Array.from({ length: 4 }, (_, i) => `stream_h2_${i}`),
  });
});

test('a stalled Connect HTTP/1.1 subscriber slows neither ingest nor a healthy subscriber, then learns what it missed', async () => {
  // A batch raises at most 6 events and each JSON message carries a long metric name (~650 bytes):
  // 2,400 batches send about 8 MB, twice what loopback TCP buffers hold for a paused socket (~4 MB).
  await stalledScenario({
    name: 'HTTP/1.1 Connect',
    open: connectHttp1Subscriber,
    batches: 2_400,
    metrics: Array.from({ length: 6 }, (_, i) => `stream_h1_${i}_${'x'.repeat(160)}`),
  });
});

test('a subscriber held up by backpressure again and again does not pile up listeners in the server', async () => {
  // Each time a gRPC stream's write buffer is full the server waits for 'drain' or the call's
  // abort; a wait that ends with 'drain' must not leave its abort listener behind, or a long-lived
  // subscriber that is sometimes slow leaks one listener (and its promise) per episode, and Node
  // warns once more than 10 pile up on one call.
  const server = await startServer({ RS3GW_ANOMALY_SUBSCRIBER_QUEUE: String(QUEUE) });
  const ingest = new Ingest(createObservabilityClient(server.url, { protocol: 'grpc' }), Array.from({ length: 4 }, (_, i) => `stream_bp_${i}_${'x'.repeat(180)}`));
  let subscriber: StallableSubscriber | undefined;
  try {
    await ingest.setUp();
    subscriber = http2Subscriber(server.url);
    const r = subscriber.received;
    await r.until(() => r.caughtUp, 'the subscriber to go live');
    const first = ingest.sequences.length;
    for (let episode = 1; episode <= 15; episode++) {
      subscriber.stall();
      await ingest.run(80); // ~270 events of ~350 bytes: more than the stream's 64 KiB window, write buffer and queue
      subscriber.resume();
      const generated = ingest.sequences.length - first;
      await r.until(() => r.sequences.length + r.missedTotal >= generated, `episode ${episode} to be accounted for`);
      assert.is(r.missed.length, episode, `episode ${episode} overflowed the queue, so the server waited for 'drain'`);
    }
  } finally {
    subscriber?.close();
    await server.stop();
  }
  assert.not.match(server.output(), /MaxListenersExceededWarning/, `server log:\n${server.output()}`);
});

test('a filtered resume after the history expired is told only of the matching anomalies it lost', async () => {
  // History of 5. Anomalies 1-4 on latency metrics, 5 on an error metric, 6-12 on latency metrics:
  // 1-7 have left the history, of which 3-7 (as many as the history holds) can still be checked
  // against a filter.
  const server = await startServer({ RS3GW_ANOMALY_HISTORY_SIZE: '5' });
  try {
    const client = createObservabilityClient(server.url, { protocol: 'grpc' });
    const raise = async (metric: string) => {
      await client.anomalies.configureMetric({ metric, config: { minSamples: 20 } });
      const steady = Array.from({ length: 40 }, (_, i) => ({ metric, value: i % 2 === 0 ? 99 : 101 }));
      const r = await client.anomalies.recordSamples({ samples: [...steady, { metric, value: 1000 }] });
      const a = r.assessments.at(-1)!.anomaly;
      assert.ok(a, `${metric} raised an anomaly`);
      return Number(a.sequence);
    };
    const sequences: number[] = [];
    for (let i = 0; i < 12; i++) sequences.push(await raise(i === 4 ? 'upload_errors_total' : `get_latency_${i}`));
    assert.equal(sequences, Array.from({ length: 12 }, (_, i) => i + 1));
    const watch = async (request: Parameters<typeof client.anomalies.watchAnomalies>[0]) => {
      const abort = new AbortController();
      const seen: string[] = [];
      try {
        for await (const m of client.anomalies.watchAnomalies(request, { signal: abort.signal })) {
          if (m.event.case === 'anomaly') seen.push(`anomaly ${m.event.value.sequence}`);
          else if (m.event.case === 'missed') seen.push(`missed ${m.event.value.count} ${m.event.value.reason}${m.event.value.countIsUpperBound ? ' (upper bound)' : ''}`);
          else if (m.event.case === 'caughtUp') {
            seen.push(`caught up ${m.event.value.lastSequence}`);
            break;
          }
        }
      } finally {
        abort.abort();
      }
      return seen;
    };
    const ERRORS = 2; // ANOMALY_TYPE_ERROR_RATE_INCREASE
    assert.equal(await watch({ resumeAfterSequence: 2n, type: ERRORS }), ['missed 1 history_expired', 'caught up 12'], 'anomaly 5, not all 5 lost');
    assert.equal(await watch({ resumeAfterSequence: 5n, type: ERRORS }), ['caught up 12'], 'nothing matching was lost');
    assert.equal(await watch({ resumeAfterSequence: 2n, metric: 'get_latency_11' }), ['anomaly 12', 'caught up 12']);
    assert.equal(await watch({ resumeAfterSequence: 2n, metric: 'get_latency_3' }), ['missed 1 history_expired', 'caught up 12']);
    assert.equal(await watch({ resumeAfterSequence: 0n, type: ERRORS }), ['missed 3 history_expired (upper bound)', 'caught up 12'], '1 and 2 unchecked');
    assert.equal(await watch({ resumeAfterSequence: 0n }), ['missed 7 history_expired', ...[8, 9, 10, 11, 12].map((s) => `anomaly ${s}`), 'caught up 12']);
  } finally {
    await server.stop();
  }
});

test('twenty streams open at once, on each protocol, print no listener-leak warning', async () => {
  // Each stream listens for the server's shutdown; Node warned of a leak (with a stack, on stderr)
  // from the 11th, while up to RS3GW_ANOMALY_MAX_SUBSCRIBERS streams are allowed.
  const server = await startServer();
  const readers: Array<StreamReader<WatchAnomaliesResponse>> = [];
  try {
    for (const protocol of ['grpc', 'connect', 'grpc-web'] as const) {
      const client = createObservabilityClient(server.url, { protocol });
      for (let i = 0; i < 20; i++) readers.push(new StreamReader((signal) => client.anomalies.watchAnomalies({}, { signal })));
    }
    for (const [i, reader] of readers.entries()) assert.is((await reader.next(`stream ${i} to catch up`)).event.case, 'caughtUp');
    const raised = await raiseAnomaly(createObservabilityClient(server.url, { protocol: 'grpc' }), 'stream_many_latency');
    for (const [i, reader] of readers.entries()) {
      const event = (await reader.next(`stream ${i}: the anomaly`)).event;
      assert.is(event.case === 'anomaly' && event.value.sequence, raised.sequence, `stream ${i}`);
    }
  } finally {
    for (const reader of readers) reader.close();
    await server.stop();
  }
  assert.not.match(server.output(), /MaxListenersExceededWarning|memory leak/, `server log:\n${server.output()}`);
});

test.run();
