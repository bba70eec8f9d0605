/**
 * Gateway request events: validation and the storage deltas a request implies.
 *
 * Default storage deltas (explicit `storedBytesDelta` / `storedObjectsDelta` always win, even on failures):
 * - successful (2xx) put_object, copy_object, multipart_upload: bytes +bytesIn, objects +1. This
 *   assumes a new key; a gateway that overwrites, or copies server-side (bytesIn ~ 0), should send
 *   explicit deltas. multipart_upload means one event per completed upload, not per part.
 * - successful delete_object: objects -1 only when `storedBytesDelta` is given (the gateway knew what it
 *   deleted); otherwise 0/0, because S3 answers 204 for deleting a key that does not exist.
 * - successful create_bucket / delete_bucket: buckets +1 / -1.
 * - anything else, and every failed request: no change.
 */
import { notInFuture } from '../client-time.js';
import { invalidArgument } from '../errors.js';
import { OTHER } from './capped-counts.js';

export const OPERATIONS = [
  'get_object',
  'put_object',
  'delete_object',
  'head_object',
  'list_objects',
  'create_bucket',
  'delete_bucket',
  'copy_object',
  'multipart_upload',
  'other',
] as const;

export type Operation = (typeof OPERATIONS)[number];

export interface RequestEvent {
  /** When the request completed (ms since epoch); default: now. */
  timeMs?: number;
  operation: Operation;
  /** Required for every operation but `other`. */
  bucket: string;
  /** Empty means anonymous. */
  user: string;
  /** HTTP status code. */
  status: number;
  bytesIn: number;
  bytesOut: number;
  /** Absent when it was not measured: the request then counts in every figure but the latency ones. */
  latencyMs?: number;
  storedBytesDelta?: number;
  storedObjectsDelta?: number;
}

/** An event after validation, with its time and storage deltas settled. */
export type AcceptedEvent = Required<Omit<RequestEvent, 'latencyMs'>> & Pick<RequestEvent, 'latencyMs'> & { storedBucketsDelta: number };

const ANONYMOUS_USER = 'anonymous';
const MAX_BUCKET_NAME_LENGTH = 255;
const MAX_USER_NAME_LENGTH = 256;

const WRITES: ReadonlySet<Operation> = new Set(['put_object', 'copy_object', 'multipart_upload']);

/**
 * Validates every event before returning any. Field paths use the proto field names of
 * rs3gw.observability.v1.RequestEvent (e.g. `events[2].latency`, `events[0].status_code`).
 */
export function acceptEvents(events: unknown, nowMs: number, maxEvents: number): AcceptedEvent[] {
  if (!Array.isArray(events)) throw invalidArgument('events', 'must be a list');
  if (events.length > maxEvents) throw invalidArgument('events', `at most ${maxEvents} events per batch (got ${events.length})`);
  return events.map((event: unknown, i) => acceptEvent(event, nowMs, `events[${i}]`));
}

function acceptEvent(raw: unknown, nowMs: number, at: string): AcceptedEvent {
  if (raw === null || typeof raw !== 'object') throw invalidArgument(at, 'must be an event');
  const e = raw as Partial<RequestEvent>;
  const field = (name: string) => `${at}.${name}`;

  let timeMs = nowMs;
  if (e.timeMs !== undefined) {
    if (!isFiniteNumber(e.timeMs)) throw invalidArgument(field('time'), 'must be a finite time');
    if (e.timeMs < 0) throw invalidArgument(field('time'), 'must be at or after 1970-01-01T00:00:00Z');
    timeMs = notInFuture(e.timeMs, nowMs, field('time'));
  }
  if (!OPERATIONS.includes(e.operation as Operation)) {
    throw invalidArgument(field('operation'), `must be one of ${OPERATIONS.join(', ')}`);
  }
  const operation = e.operation as Operation;
  const bucket = e.bucket ?? '';
  if (typeof bucket !== 'string' || bucket.length > MAX_BUCKET_NAME_LENGTH) {
    throw invalidArgument(field('bucket'), `must be a name of at most ${MAX_BUCKET_NAME_LENGTH} characters`);
  }
  if (bucket === '' && operation !== 'other') throw invalidArgument(field('bucket'), `must not be empty for ${operation}`);
  // Counted under it, a bucket of that name would be merged with the buckets past the cap. An S3
  // bucket name begins with a letter or digit, so refusing it costs a real bucket nothing.
  if (bucket === OTHER) {
    throw invalidArgument(field('bucket'), `"${OTHER}" is reserved: requests_by_bucket and rs3gw_bucket_requests_total count the buckets past the first ones seen under it`);
  }
  const user = e.user ?? '';
  if (typeof user !== 'string' || user.length > MAX_USER_NAME_LENGTH) {
    throw invalidArgument(field('user'), `must be a name of at most ${MAX_USER_NAME_LENGTH} characters`);
  }
  if (!Number.isInteger(e.status) || e.status! < 100 || e.status! > 599) {
    throw invalidArgument(field('status_code'), 'must be an HTTP status code in 100..599');
  }
  const status = e.status!;
  const bytesIn = byteCount(e.bytesIn, field('bytes_in'));
  const bytesOut = byteCount(e.bytesOut, field('bytes_out'));
  if (e.latencyMs !== undefined && (!isFiniteNumber(e.latencyMs) || e.latencyMs < 0)) {
    throw invalidArgument(field('latency'), 'must be a finite number of milliseconds >= 0');
  }
  for (const [value, name] of [
    [e.storedBytesDelta, 'stored_bytes_delta'],
    [e.storedObjectsDelta, 'stored_objects_delta'],
  ] as const) {
    if (value !== undefined && !Number.isSafeInteger(value)) throw invalidArgument(field(name), 'must be an integer');
  }

  const ok = status >= 200 && status < 300;
  const deleted = ok && operation === 'delete_object' && e.storedBytesDelta !== undefined;
  const written = ok && WRITES.has(operation);
  return {
    timeMs,
    operation,
    bucket,
    user: user === '' ? ANONYMOUS_USER : user,
    status,
    bytesIn,
    bytesOut,
    latencyMs: e.latencyMs,
    storedBytesDelta: e.storedBytesDelta ?? (written ? bytesIn : 0),
    storedObjectsDelta: e.storedObjectsDelta ?? (written ? 1 : deleted ? -1 : 0),
    storedBucketsDelta: ok && operation === 'create_bucket' ? 1 : ok && operation === 'delete_bucket' ? -1 : 0,
  };
}

function byteCount(value: unknown, field: string): number {
  if (!Number.isSafeInteger(value) || (value as number) < 0) throw invalidArgument(field, `must be a whole number of bytes from 0 to ${Number.MAX_SAFE_INTEGER} (2^53 - 1), got ${String(value)}`);
  return value as number;
}

function isFiniteNumber(value: unknown): value is number {
  return typeof value === 'number' && Number.isFinite(value);
}
