/**
 * The subscriber side of the benchmark, run in its own process so that decoding a thousand streams
 * does not compete with the ingest driver's event loop. Opens WatchAnomalies streams with the TS
 * client over gRPC, spread over a few HTTP/2 connections, and records per delivery the delay from
 * the anomaly's `detected_at` (server clock, same machine) to receipt. Driven over IPC by cli.ts.
 */
import { createObservabilityClient } from '../../clients/ts/client.js';
import type { WatchAnomaliesResponse } from '../../gen/ts/rs3gw/observability/v1/anomaly_pb.js';
import { DelayHistogram, type DelaySummary } from './histogram.js';

export type ToSubscribers =
  | { cmd: 'open'; url: string; streams: number; connections: number }
  /** Starts a phase: deliveries of events after `afterSequence` count towards it. */
  | { cmd: 'phase'; afterSequence: number }
  /** Replies once every subscriber accounts for `events` events of the phase, or at the deadline. */
  | { cmd: 'settle'; events: number; timeoutMs: number }
  | { cmd: 'close' };

export interface PhaseReport {
  delay: DelaySummary;
  delivered: number;
  missed: number;
  /** Subscribers with delivered + missed below the events of the phase when the report was made. */
  unsettled: number;
  settleMs: number;
}

export type FromSubscribers = { kind: 'live'; ms: number; streams: number } | ({ kind: 'settled' } & PhaseReport) | { kind: 'closed' };

class Subscriber {
  delivered = 0;
  missed = 0;
  live = false;
}

const wallNowMs = () => performance.timeOrigin + performance.now();

function serve(): void {
  const subscribers: Subscriber[] = [];
  const aborts: AbortController[] = [];
  let afterSequence = Number.MAX_SAFE_INTEGER;
  let histogram = new DelayHistogram();
  let onProgress: (() => void) | undefined;
  const send = (m: FromSubscribers) => process.send!(m);

  function receive(sub: Subscriber, message: WatchAnomaliesResponse): void {
    const event = message.event;
    if (event.case === 'anomaly') {
      if (Number(event.value.sequence) <= afterSequence) return;
      const at = event.value.detectedAt!;
      histogram.record(wallNowMs() - (Number(at.seconds) * 1000 + at.nanos / 1e6));
      sub.delivered++;
    } else if (event.case === 'missed') {
      sub.missed += Number(event.value.count);
    } else if (event.case === 'caughtUp') {
      sub.live = true;
    }
    onProgress?.();
  }

  async function open(url: string, streams: number, connections: number): Promise<void> {
    const started = performance.now();
    const clients = Array.from({ length: connections }, () => createObservabilityClient(url, { protocol: 'grpc' }));
    let live = 0;
    await new Promise<void>((resolve, reject) => {
      for (let i = 0; i < streams; i++) {
        const sub = new Subscriber();
        subscribers.push(sub);
        const abort = new AbortController();
        aborts.push(abort);
        const client = clients[i % connections]!;
        void (async () => {
          try {
            for await (const message of client.anomalies.watchAnomalies({}, { signal: abort.signal })) {
              const wasLive = sub.live;
              receive(sub, message);
              if (!wasLive && sub.live && ++live === streams) resolve();
            }
          } catch (error) {
            if (!abort.signal.aborted) reject(error as Error);
          }
        })();
      }
    });
    send({ kind: 'live', ms: performance.now() - started, streams });
  }

  function settle(events: number, timeoutMs: number): void {
    const started = performance.now();
    const unsettled = () => subscribers.filter((s) => s.delivered + s.missed < events).length;
    const finish = () => {
      clearTimeout(timer);
      onProgress = undefined;
      send({
        kind: 'settled',
        delay: histogram.summary(),
        delivered: subscribers.reduce((n, s) => n + s.delivered, 0),
        missed: subscribers.reduce((n, s) => n + s.missed, 0),
        unsettled: unsettled(),
        settleMs: performance.now() - started,
      });
    };
    const timer = setTimeout(finish, timeoutMs);
    // Counting the unsettled is O(streams): check once per turn of the event loop with progress.
    let scheduled = false;
    const check = () => {
      scheduled = false;
      if (onProgress !== undefined && unsettled() === 0) finish();
    };
    onProgress = () => {
      if (scheduled) return;
      scheduled = true;
      setImmediate(check);
    };
    check();
  }

  process.on('message', (m: ToSubscribers) => {
    switch (m.cmd) {
      case 'open':
        open(m.url, m.streams, m.connections).catch((error: Error) => {
          console.error(`subscribers: ${error.message}`);
          process.exit(1);
        });
        break;
      case 'phase':
        afterSequence = m.afterSequence;
        histogram = new DelayHistogram();
        for (const s of subscribers) s.delivered = s.missed = 0;
        break;
      case 'settle':
        settle(m.events, m.timeoutMs);
        break;
      case 'close':
        for (const abort of aborts) abort.abort();
        // Let the cancellations reach the server before the connections go.
        setTimeout(() => process.send!({ kind: 'closed' } satisfies FromSubscribers, () => process.exit(0)), 100);
        break;
    }
  });
}

serve();
