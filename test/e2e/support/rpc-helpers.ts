/**
 * Shared helpers for the gRPC, Connect, tracing and command-line end-to-end tests: bounded waits
 * (uvu has no per-test timeout, so nothing here may wait forever), raising a real anomaly through
 * the public API, reading server streams message by message, and reading /metrics.
 */
import { ConnectError } from '@connectrpc/connect';
import { createServer } from 'node:net';
import type { ObservabilityClient } from '../../../clients/ts/client.js';
import type { Anomaly } from '../../../gen/ts/rs3gw/observability/v1/anomaly_pb.js';

/** Generous: the machine is shared, and these bounds catch a hang, not slowness. */
const WAIT_MS = 20_000;

class TimedOut extends Error {}

/**
 * Resolves like `promise`, or rejects naming `what` after `ms`. A ConnectError is rethrown as a
 * plain Error (the ConnectError as its cause): uvu cannot print errors whose `details` is not a
 * string, and would report the test as neither passed nor failed.
 */
export async function within<T>(promise: Promise<T>, what: string, ms = WAIT_MS): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new TimedOut(`timed out after ${ms} ms waiting for ${what}`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } catch (error) {
    if (error instanceof ConnectError) throw new Error(`${what}: ${error.message}`, { cause: error });
    throw error;
  } finally {
    clearTimeout(timer);
  }
}

/** The error a call failed with, as a ConnectError; fails when the call succeeds or hangs. */
export async function failure(call: Promise<unknown>, what: string): Promise<ConnectError> {
  try {
    await within(call, what);
  } catch (error) {
    if (error instanceof TimedOut) throw error;
    return ConnectError.from(error instanceof Error && error.cause instanceof ConnectError ? error.cause : error);
  }
  throw new Error(`${what}: expected an error, the call succeeded`);
}

/** Samples a metric must see before it may alarm, in the anomaly helper below. */
const WARM_UP = 10;

/**
 * Raises one anomaly on `metric` the way a user would: a short warm-up (ConfigureMetric
 * min_samples), a steady batch, then one wild value. Returns the anomaly the server reported.
 * Each call needs a fresh metric name (after an alarm a metric rests for 100 samples).
 */
export async function raiseAnomaly(client: ObservabilityClient, metric: string): Promise<Anomaly> {
  await within(client.anomalies.configureMetric({ metric, config: { minSamples: WARM_UP } }), `ConfigureMetric ${metric}`);
  const steady = Array.from({ length: 3 * WARM_UP }, (_, i) => ({ metric, value: 10 + (i % 5) * 0.1 }));
  const response = await within(client.anomalies.recordSamples({ samples: [...steady, { metric, value: 1000 }] }), `RecordSamples ${metric}`);
  const anomaly = response.assessments.at(-1)?.anomaly;
  if (!anomaly) throw new Error(`the spike on ${metric} raised no anomaly: ${JSON.stringify(response.assessments.at(-1), jsonSafe)}`);
  return anomaly;
}

/** JSON.stringify replacer for messages with 64-bit fields. */
function jsonSafe(_key: string, value: unknown): unknown {
  return typeof value === 'bigint' ? value.toString() : value;
}

/** Reads a server stream one message at a time, each read bounded; `close()` cancels the call. */
export class StreamReader<T> {
  private readonly iterator: AsyncIterator<T>;
  private readonly controller: AbortController;

  constructor(open: (signal: AbortSignal) => AsyncIterable<T>) {
    this.controller = new AbortController();
    this.iterator = open(this.controller.signal)[Symbol.asyncIterator]();
  }

  /** The next message; fails if the stream ends or nothing arrives in time. */
  async next(what: string, ms = WAIT_MS): Promise<T> {
    const result = await within(this.iterator.next(), what, ms);
    if (result.done) throw new Error(`the stream ended while waiting for ${what}`);
    return result.value;
  }

  /** Everything left until the stream ends (rejects with the stream's error, if it fails). */
  async rest(what: string, ms = WAIT_MS): Promise<T[]> {
    const items: T[] = [];
    const drain = async () => {
      for (;;) {
        const result = await this.iterator.next();
        if (result.done) return items;
        items.push(result.value);
      }
    };
    return within(drain(), what, ms);
  }

  close(): void {
    this.controller.abort();
  }
}

/** The sum of the /metrics samples of `name` whose labels include `labels` (0 when there is none). */
export function sampleValue(text: string, name: string, labels: Record<string, string>): number {
  let total = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`)) continue;
    const close = line.lastIndexOf('}');
    const body = `,${line.slice(name.length + 1, close)}`;
    if (Object.entries(labels).every(([k, v]) => body.includes(`,${k}="${v}"`))) total += Number(line.slice(close + 1).trim());
  }
  return total;
}

export async function scrapeMetrics(url: string): Promise<string> {
  const response = await within(fetch(`${url}/metrics`), 'GET /metrics');
  if (response.status !== 200) throw new Error(`/metrics answered ${response.status}`);
  return response.text();
}

/** A TCP port that was free a moment ago on 127.0.0.1 (for tests that must name a port). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      if (address === null || typeof address === 'string') return reject(new Error('no port'));
      server.close(() => resolve(address.port));
    });
  });
}

/**
 * The lines the service itself wrote on stderr, but for the admission log: it reports the host's
 * load, and a busy machine (CI's) can start shedding while a test runs.
 */
export function serviceLines(output: string): string[] {
  return output.split('\n').filter((line) => line.startsWith('rs3gw-obs: ') && !line.startsWith('rs3gw-obs: admission: '));
}
