import { monitorEventLoopDelay, performance, type EventLoopUtilization, type IntervalHistogram } from 'node:perf_hooks';
import { getHeapSpaceStatistics, getHeapStatistics, type HeapInfo, type HeapSpaceInfo } from 'node:v8';
import type { EventLoopReading } from './types.js';
import { v8FlagMiB, youngGenerationBytes } from './v8-old-generation.js';

export interface HeapStats {
  usedBytes: number;
  limitBytes: number;
  source: string;
}

/** Reads the V8 heap; injected into the monitor so tests can choose the figures. */
export type HeapStatsProvider = () => HeapStats;

/** The whole V8 heap as V8 reports it: used size against heap_size_limit, young generation included. */
export const v8HeapStats: HeapStatsProvider = () => {
  const stats = getHeapStatistics();
  return { usedBytes: stats.used_heap_size, limitBytes: stats.heap_size_limit, source: 'v8.getHeapStatistics()' };
};

/** What the old-generation reading reads: V8's statistics and the flags the process started with. */
export interface V8HeapSource {
  heapStatistics(): Pick<HeapInfo, 'used_heap_size' | 'heap_size_limit'>;
  heapSpaceStatistics(): Array<Pick<HeapSpaceInfo, 'space_name' | 'space_used_size'>>;
  execArgv: readonly string[];
  nodeOptions?: string;
}

const thisProcess: V8HeapSource = {
  heapStatistics: getHeapStatistics,
  heapSpaceStatistics: getHeapSpaceStatistics,
  execArgv: process.execArgv,
  nodeOptions: process.env.NODE_OPTIONS,
};

const YOUNG_SPACES = new Set(['new_space', 'new_large_object_space']);

/**
 * The V8 old generation against its own limit: the process dies when it is full, while the young
 * generation's reservation in heap_size_limit (48 MiB by default) is never all in use, so the whole heap
 * against heap_size_limit stays far from 1 on a small heap (at most 0.46 before the crash with
 * --max-old-space-size=40). The young reservation is worked out once: neither it nor the flags change.
 */
export function v8OldGeneration(v8: V8HeapSource = thisProcess): HeapStatsProvider {
  const oldSpaceMiB = v8FlagMiB('max-old-space-size', v8.execArgv, v8.nodeOptions);
  const semiSpaceMiB = v8FlagMiB('max-semi-space-size', v8.execArgv, v8.nodeOptions);
  const young = youngGenerationBytes(v8.heapStatistics().heap_size_limit, oldSpaceMiB, semiSpaceMiB);
  const limit = oldSpaceMiB === undefined ? `heap_size_limit less V8's ${Math.round(young / 2 ** 20)} MiB young generation` : `--max-old-space-size=${oldSpaceMiB}`;
  const source = `v8 old generation (heap less new spaces), limit ${limit}`;
  return () => {
    const stats = v8.heapStatistics();
    let youngUsed = 0;
    for (const space of v8.heapSpaceStatistics()) if (YOUNG_SPACES.has(space.space_name)) youngUsed += space.space_used_size;
    return { usedBytes: stats.used_heap_size - youngUsed, limitBytes: stats.heap_size_limit - young, source };
  };
}

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
