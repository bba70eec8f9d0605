import type { Clock } from '../../clock.js';
import { invalidArgument } from '../../errors.js';
import { LatencyHistogram, PERCENTILE_RELATIVE_ERROR } from './latency-histogram.js';

export type IoDirection = 'read' | 'write';

/** One storage operation the gateway reports. */
export interface IoOperation {
  direction: IoDirection;
  bytes: number;
  latencyUs: number;
}

/** Totals and latency distribution of one direction since the recorder was created. */
export interface IoDirectionStats {
  operations: number;
  bytes: number;
  /** Latency figures are absent until an operation has been recorded. */
  avgLatencyUs?: number;
  p50LatencyUs?: number;
  p95LatencyUs?: number;
  p99LatencyUs?: number;
  maxLatencyUs?: number;
}

export interface IoOperationStats {
  read: IoDirectionStats;
  write: IoDirectionStats;
  /** When recording started (epoch ms). */
  sinceMs: number;
  /** Bound on the relative error of the percentile figures (for latencies of 1 us or more). */
  percentileRelativeError: number;
}

/** Largest batch one call may record; bigger batches are split by the caller. */
export const MAX_IO_BATCH = 10_000;

function validate(op: IoOperation, prefix: string): void {
  if (op === null || typeof op !== 'object') throw invalidArgument(prefix || 'operation', 'must be an object');
  const field = (name: string): string => (prefix ? `${prefix}.${name}` : name);
  if (op.direction !== 'read' && op.direction !== 'write') {
    throw invalidArgument(field('direction'), 'must be "read" or "write"');
  }
  if (typeof op.bytes !== 'number' || !Number.isSafeInteger(op.bytes) || op.bytes < 0) {
    throw invalidArgument(field('bytes'), 'must be a non-negative integer');
  }
  if (typeof op.latencyUs !== 'number' || !Number.isFinite(op.latencyUs) || op.latencyUs < 0) {
    throw invalidArgument(field('latency_us'), 'must be a finite, non-negative number');
  }
}

class DirectionTotals {
  readonly latency = new LatencyHistogram();
  bytes = 0;

  stats(): IoDirectionStats {
    const { latency } = this;
    if (latency.count === 0) return { operations: 0, bytes: this.bytes };
    return {
      operations: latency.count,
      bytes: this.bytes,
      avgLatencyUs: latency.sum / latency.count,
      p50LatencyUs: latency.percentile(0.5),
      p95LatencyUs: latency.percentile(0.95),
      p99LatencyUs: latency.percentile(0.99),
      maxLatencyUs: latency.max,
    };
  }
}

/** Counts, bytes and latency percentiles of the I/O operations the gateway reports, in bounded memory. */
export class IoOperationRecorder {
  private readonly totals: Record<IoDirection, DirectionTotals> = { read: new DirectionTotals(), write: new DirectionTotals() };
  private readonly sinceMs: number;

  constructor(clock: Clock) {
    this.sinceMs = clock.nowMs();
  }

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
    for (const op of batch) {
      const totals = this.totals[op.direction];
      totals.bytes += op.bytes;
      totals.latency.record(op.latencyUs);
    }
  }

  stats(): IoOperationStats {
    return {
      read: this.totals.read.stats(),
      write: this.totals.write.stats(),
      sinceMs: this.sinceMs,
      percentileRelativeError: PERCENTILE_RELATIVE_ERROR,
    };
  }
}
