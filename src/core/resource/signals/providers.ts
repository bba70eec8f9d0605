import { monitorEventLoopDelay, performance, type EventLoopUtilization, type IntervalHistogram } from 'node:perf_hooks';
import { getHeapStatistics } from 'node:v8';
import type { EventLoopReading } from './types.js';

export interface HeapStats {
  usedBytes: number;
  limitBytes: number;
  source: string;
}

/** Reads the V8 heap; injected into the monitor so tests can choose the figures. */
export type HeapStatsProvider = () => HeapStats;

/** The real heap: used size against the limit V8 will not grow past (--max-old-space-size). */
export const v8HeapStats: HeapStatsProvider = () => {
  const stats = getHeapStatistics();
  return { usedBytes: stats.used_heap_size, limitBytes: stats.heap_size_limit, source: 'v8.getHeapStatistics()' };
};

/** Shortest window an event-loop reading is taken over, ms. */
const MIN_WINDOW_MS = 100;

/** Event-loop delay and utilisation since the previous call. */
export interface EventLoopProvider {
  sample(): EventLoopReading;
}

/**
 * The real event loop, from perf_hooks. The delay histogram records each whole timer period, so an
 * idle loop reads about `resolutionMs`; the resolution is subtracted to report lateness only.
 */
export class NodeEventLoopMonitor implements EventLoopProvider {
  private readonly delay: IntervalHistogram;
  private previous: EventLoopUtilization;
  /** Until a window of MIN_WINDOW_MS has passed, the last full reading (none yet: an idle loop). */
  private last: EventLoopReading = { delayP99Ms: 0, utilization: 0 };

  constructor(private readonly resolutionMs = 10) {
    this.delay = monitorEventLoopDelay({ resolution: resolutionMs });
    this.delay.enable();
    this.previous = performance.eventLoopUtilization();
  }

  sample(): EventLoopReading {
    const now = performance.eventLoopUtilization();
    // A window of a few milliseconds says nothing (and the first one, taken during start-up, reads
    // as a saturated loop): keep reporting the last full window.
    if (now.idle + now.active - (this.previous.idle + this.previous.active) < MIN_WINDOW_MS) return this.last;
    // An empty histogram reports 0 for percentiles: no timer period completed, no delay measured.
    const p99Ms = this.delay.count > 0 ? this.delay.percentile(99) / 1e6 : this.resolutionMs;
    this.delay.reset();
    const utilization = performance.eventLoopUtilization(now, this.previous).utilization;
    this.previous = now;
    this.last = { delayP99Ms: Math.max(0, p99Ms - this.resolutionMs), utilization: Number.isFinite(utilization) ? utilization : 0 };
    return this.last;
  }

  close(): void {
    this.delay.disable();
  }
}
