import type { PressureSnapshot, PressureSource } from '../../../src/core/resource/signals/types.js';

/** A pressure snapshot as the monitor would build it from /proc, with the two values shedding reads. */
export function pressureSnapshot(overload: number, memoryPressure = false, atMs = 0, resourceOverload = overload): PressureSnapshot {
  return {
    atMs,
    cpu: { utilization: overload, source: '/proc/stat', availableCores: 2 },
    memory: { utilization: memoryPressure ? 0.9 : 0.4, source: '/proc/meminfo', usedBytes: 4e9, limitBytes: 1e10 },
    heap: { utilization: 0.3, source: 'v8.getHeapStatistics', usedBytes: 3e7, limitBytes: 1e8 },
    eventLoop: { delayP99Ms: 2, utilization: 0.1 },
    memoryPressure,
    overload,
    resourceOverload,
  };
}

/** Serves whatever snapshot the test sets, like a monitor reading fixture files. */
export class FixturePressure implements PressureSource {
  constructor(public current: PressureSnapshot = pressureSnapshot(0)) {}
  snapshot(): PressureSnapshot {
    return this.current;
  }
}
