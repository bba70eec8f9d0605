import { invalidArgument } from '../../errors.js';
import { LatencyHistogram } from './latency-histogram.js';

export type IoDirection = 'read' | 'write';

/** One storage operation the gateway reports. */
export interface IoOperation {
  direction: IoDirection;
  /**
   * Bytes transferred: a uint64, 0 to 2^64 - 1. A number must be a safe integer (at most 2^53 - 1);
   * larger counts are given as a bigint, as proto uint64 fields arrive.
   */
  bytes: number | bigint;
  /** How long it took; absent when it was not measured (it then counts in everything but latency). */
  latencyUs?: number;
}

/** Largest byte count of an operation and largest byte total: the proto uint64 maximum, 2^64 - 1. */
export const MAX_IO_BYTES = 2n ** 64n - 1n;

/** Totals and latency distribution of one direction since the recorder was created. */
export interface IoDirectionStats {
  operations: number;
  /**
   * Bytes of the recorded operations, exact over the uint64 range. Should the total ever reach
   * 2^64 - 1 (MAX_IO_BYTES), it stays there (saturates) rather than wrapping to a small figure.
   */
  bytes: bigint;
  /** Latency figures are absent until an operation with a latency has been recorded. */
  avgLatencyUs?: number;
  p50LatencyUs?: number;
  p95LatencyUs?: number;
  p99LatencyUs?: number;
}

export interface IoOperationStats {
  read: IoDirectionStats;
  write: IoDirectionStats;
}

/** Largest batch one call may record; bigger batches are split by the caller. */
export const MAX_IO_BATCH = 10_000;

function validateBytes(bytes: unknown, field: string): void {
  if (typeof bytes === 'bigint') {
    if (bytes < 0n || bytes > MAX_IO_BYTES) {
      throw invalidArgument(field, `must be an integer from 0 to ${MAX_IO_BYTES} (2^64 - 1), got ${bytes}`);
    }
    return;
  }
  if (typeof bytes !== 'number' || !Number.isInteger(bytes) || bytes < 0) {
    throw invalidArgument(field, `must be an integer from 0 to ${MAX_IO_BYTES} (2^64 - 1)`);
  }
  if (!Number.isSafeInteger(bytes)) {
    throw invalidArgument(field, `a number above ${Number.MAX_SAFE_INTEGER} (2^53 - 1) is not exact; give the count as a bigint`);
  }
}

function validate(op: IoOperation, prefix: string): void {
  if (op === null || typeof op !== 'object') throw invalidArgument(prefix || 'operation', 'must be an object');
  const field = (name: string): string => (prefix ? `${prefix}.${name}` : name);
  if (op.direction !== 'read' && op.direction !== 'write') {
    throw invalidArgument(field('direction'), 'must be "read" or "write"');
  }
  validateBytes(op.bytes, field('bytes'));
  if (op.latencyUs !== undefined && (typeof op.latencyUs !== 'number' || !Number.isFinite(op.latencyUs) || op.latencyUs < 0)) {
    throw invalidArgument(field('latency_us'), 'must be a finite, non-negative number');
  }
}

class DirectionTotals {
  readonly latency = new LatencyHistogram();
  operations = 0;
  bytes = 0n;

  add(op: IoOperation): void {
    this.operations += 1;
    const total = this.bytes + BigInt(op.bytes);
    this.bytes = total > MAX_IO_BYTES ? MAX_IO_BYTES : total;
    if (op.latencyUs !== undefined) this.latency.record(op.latencyUs);
  }

  stats(): IoDirectionStats {
    const { latency, operations } = this;
    if (latency.count === 0) return { operations, bytes: this.bytes };
    return {
      operations,
      bytes: this.bytes,
      avgLatencyUs: latency.sum / latency.count,
      p50LatencyUs: latency.percentile(0.5),
      p95LatencyUs: latency.percentile(0.95),
      p99LatencyUs: latency.percentile(0.99),
    };
  }
}

/** Counts, bytes and latency percentiles of the I/O operations the gateway reports, in bounded memory. */
export class IoOperationRecorder {
  private readonly totals: Record<IoDirection, DirectionTotals> = { read: new DirectionTotals(), write: new DirectionTotals() };

  /**
   * Records one operation or a batch. A batch is validated whole before anything is recorded, and
   * errors name the element (`operations[2].latency_us`).
   */
  record(operations: IoOperation | readonly IoOperation[]): void {
    const isBatch = Array.isArray(operations);
    const batch: readonly IoOperation[] = isBatch ? (operations as readonly IoOperation[]) : [operations as IoOperation];
    if (batch.length > MAX_IO_BATCH) {
      throw invalidArgument('operations', `at most ${MAX_IO_BATCH} operations per call, got ${batch.length}`);
    }
    batch.forEach((op, i) => validate(op, isBatch ? `operations[${i}]` : ''));
    for (const op of batch) this.totals[op.direction].add(op);
  }

  stats(): IoOperationStats {
    return {
      read: this.totals.read.stats(),
      write: this.totals.write.stats(),
    };
  }
}
