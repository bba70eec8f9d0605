import { monotonicClock, type Clock } from '../../clock.js';
import { invalidArgument, ObservabilityError } from '../../errors.js';
import { logLine } from '../../log-line.js';
import { ProcReader } from '../../procfs/reader.js';
import { RecurringFailures } from '../../recurring-failures.js';
import { CpuUtilization } from './cpu-utilization.js';
import { HysteresisGate, type GateSignal } from './hysteresis.js';
import { NodeEventLoopMonitor, v8OldGeneration, type EventLoopProvider, type HeapStatsProvider } from './providers.js';
import type { HeapReading, MemoryReading, PressureReadingName, PressureSnapshot, PressureSource, PsiReading } from './types.js';

export interface PressureMonitorOptions {
  clock?: Clock;
  reader?: ProcReader;
  /** Default: the V8 old generation against its own limit (v8OldGeneration). */
  heap?: HeapStatsProvider;
  /** Default: a NodeEventLoopMonitor, closed by close(). */
  eventLoop?: EventLoopProvider;
  /** Memory utilisation that turns memory pressure on (RS3GW_MEMORY_THRESHOLD), default 0.85. */
  memoryThreshold?: number;
  /** Memory pressure turns off only below threshold minus this, default 0.05 (also used for the heap). */
  memoryMargin?: number;
  /** V8 old generation used over its limit that counts as memory pressure, default 0.9. */
  heapThreshold?: number;
  /** PSI memory `full` avg10 (percent) that counts as memory pressure, default 10; off below half. */
  psiMemoryFullThreshold?: number;
  /**
   * CPU utilisation where overload starts (RS3GW_LOAD_SHEDDING_THRESHOLD), default 0.95; read only
   * where the kernel reports no PSI for CPU (which, where present, tells waiting from busy).
   */
  loadSheddingThreshold?: number;
  /** Overload ends only when CPU is below the threshold minus this, default 0.05. */
  overloadMargin?: number;
  /**
   * PSI cpu/io `some` avg10 (percent), and the percent of CPU-quota periods throttled over the last
   * 10 s, where overload starts, default 40; ends below it minus 10.
   */
  psiSomeThreshold?: number;
  /** Event-loop p99 delay (ms) where overload starts, default 200; ends below half of it. */
  eventLoopDelayThresholdMs?: number;
  /** tick() samples at most this often, and start() samples this often; default 1000. */
  intervalMs?: number;
  /** Where a reading that starts (or stops) failing is reported, once per failure; default stderr. */
  log?: (message: string) => void;
}

/** Why the last snapshot says what it says. */
export interface PressureDetail {
  /** Signals holding memory pressure on: `memory`, `psi_memory_full`, `heap`. */
  memoryPressureCauses: string[];
  /** Signals holding overload on: `psi_cpu_some` (or `cpu` without PSI), `cpu_throttled`, `psi_io_some`, `event_loop_delay`. */
  overloadCauses: string[];
  /** The last error from a periodic sample started by start(), if the last one failed. */
  lastError?: string;
}

/** Default hysteresis below the memory and load-shedding thresholds; each threshold must exceed it. */
export const DEFAULT_MEMORY_MARGIN = 0.05;
export const DEFAULT_OVERLOAD_MARGIN = 0.05;
/** Overload never reads lower than this while it is on, so "on" is never reported as 0. */
const OVERLOAD_FLOOR = 0.01;
const PSI_SOME_LEAVE_POINTS = 10;

interface OverloadSignal extends GateSignal {
  /** Level at which the signal alone means overload 1. */
  severe: number;
  /** The service's own event loop: refusing does not relieve it, so it never counts for critical work. */
  ownLoop?: boolean;
}

function fraction(field: string, value: number): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0 || value > 1) {
    throw invalidArgument(field, 'must be a number in (0, 1]');
  }
  return value;
}

function margin(field: string, value: number, below: number): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0 || value >= below) {
    throw invalidArgument(field, `must be a number from 0 to below ${below}`);
  }
  return value;
}

function positive(field: string, value: number, max = Number.POSITIVE_INFINITY): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0 || value > max) {
    throw invalidArgument(field, `must be a positive number${max < Number.POSITIVE_INFINITY ? ` no larger than ${max}` : ''}`);
  }
  return value;
}

/**
 * Samples memory, CPU, PSI, the V8 heap and the event loop, and turns them into the two decisions the
 * resource manager acts on: memory pressure (on/off with hysteresis) and overload (0..1, with
 * hysteresis on whether it is on at all). snapshot() only returns the last sample.
 *
 * Overload is waiting, not being busy: tasks stalled for CPU or I/O (PSI `some`), the CPU quota used
 * up (throttled periods), the event loop late. A busy CPU is overload only where the kernel has no
 * PSI for CPU to tell the two apart, and then without time at a positive nice value (background jobs
 * yield to the service). The event loop's utilisation is reported but is no overload signal: the
 * service refusing a flood works as hard as admitting it, so shedding more cannot bring it down.
 */
export class PressureMonitor implements PressureSource {
  private readonly clock: Clock;
  private readonly reader: ProcReader;
  private readonly heap: HeapStatsProvider;
  private readonly eventLoop: EventLoopProvider;
  private readonly ownsEventLoop: boolean;
  private readonly cpu: CpuUtilization;
  private readonly memoryGate = new HysteresisGate();
  private readonly overloadGate = new HysteresisGate();
  private readonly settings: Required<Omit<PressureMonitorOptions, 'clock' | 'reader' | 'heap' | 'eventLoop' | 'log'>>;
  private readonly log: (message: string) => void;
  /** Readings that fail, logged once until the failure changes or ends. */
  private readonly readingFailures: RecurringFailures<PressureReadingName>;
  private last: PressureSnapshot;
  private lastDetail: PressureDetail;
  private timer?: NodeJS.Timeout;

  constructor(options: PressureMonitorOptions = {}) {
    const memoryThreshold = fraction('memoryThreshold', options.memoryThreshold ?? 0.85);
    const heapThreshold = fraction('heapThreshold', options.heapThreshold ?? 0.9);
    const loadSheddingThreshold = fraction('loadSheddingThreshold', options.loadSheddingThreshold ?? 0.95);
    this.settings = {
      memoryThreshold,
      memoryMargin: margin('memoryMargin', options.memoryMargin ?? DEFAULT_MEMORY_MARGIN, Math.min(memoryThreshold, heapThreshold)),
      heapThreshold,
      psiMemoryFullThreshold: positive('psiMemoryFullThreshold', options.psiMemoryFullThreshold ?? 10, 100),
      loadSheddingThreshold,
      overloadMargin: margin('overloadMargin', options.overloadMargin ?? DEFAULT_OVERLOAD_MARGIN, loadSheddingThreshold),
      psiSomeThreshold: positive('psiSomeThreshold', options.psiSomeThreshold ?? 40, 100),
      eventLoopDelayThresholdMs: positive('eventLoopDelayThresholdMs', options.eventLoopDelayThresholdMs ?? 200),
      intervalMs: positive('intervalMs', options.intervalMs ?? 1000),
    };
    this.clock = options.clock ?? monotonicClock;
    this.reader = options.reader ?? new ProcReader();
    this.heap = options.heap ?? v8OldGeneration();
    this.ownsEventLoop = options.eventLoop === undefined;
    this.eventLoop = options.eventLoop ?? new NodeEventLoopMonitor();
    this.cpu = new CpuUtilization(this.reader);
    this.log = options.log ?? logLine;
    this.readingFailures = new RecurringFailures(this.log, {
      failing: (name, why) =>
        `pressure: the ${name} reading fails and is left out of memory pressure, overload and health until it is read again (logged once until this changes): ${why}`,
      recovered: (name) => `pressure: the ${name} reading is taken again`,
    });
    // Sampling once here means snapshot() always has something true to return.
    [this.last, this.lastDetail] = this.measure(this.clock.nowMs());
  }

  snapshot(): PressureSnapshot {
    return this.last;
  }

  detail(): PressureDetail {
    return this.lastDetail;
  }

  /** Samples now (reading /proc, the heap and the event loop) and returns the new snapshot. */
  sample(nowMs: number = this.clock.nowMs()): PressureSnapshot {
    [this.last, this.lastDetail] = this.measure(nowMs);
    return this.last;
  }

  /** Samples if at least intervalMs has passed since the last sample; cheap to call often. */
  tick(nowMs: number = this.clock.nowMs()): PressureSnapshot {
    return nowMs - this.last.atMs >= this.settings.intervalMs ? this.sample(nowMs) : this.last;
  }

  /**
   * Samples every intervalMs until stop(). A reading that cannot be taken (a kernel file unreadable)
   * is left out of that sample (see PressureSnapshot.unavailable); only an unexpected error fails a
   * whole sample, which keeps the previous snapshot and is logged once.
   */
  start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => {
      try {
        this.sample();
      } catch (error) {
        const message = error instanceof Error ? error.message : String(error);
        if (message !== this.lastDetail.lastError) this.log(`pressure: a periodic sample failed and the previous one is kept (logged once until this changes): ${message}`);
        this.lastDetail = { ...this.lastDetail, lastError: message };
      }
    }, this.settings.intervalMs);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  /** Stops sampling for good, and the event-loop monitor if this monitor created it. */
  close(): void {
    this.stop();
    if (this.ownsEventLoop && this.eventLoop instanceof NodeEventLoopMonitor) this.eventLoop.close();
  }

  private measure(atMs: number): [PressureSnapshot, PressureDetail] {
    const s = this.settings;
    // Each reading on its own: one unreadable file leaves the others current, and the failed one
    // unknown (undefined), so it holds no decision with the value it had before.
    const unavailable: Partial<Record<PressureReadingName, string>> = {};
    const read = <T>(name: PressureReadingName, take: () => T): T | undefined => {
      try {
        return take();
      } catch (error) {
        if (!(error instanceof ObservabilityError)) throw error;
        unavailable[name] = error.message;
        return undefined;
      }
    };
    const cpu = read('cpu', () => this.cpu.read(atMs));
    const memory = read('memory', () => this.readMemory());
    const reported = read('psi', () => this.readPsi());
    // Other tenants' stalls are no reason to refuse this service's work.
    const psi = reported?.notActedOn ? undefined : reported;
    const heap = read('heap', () => this.readHeap());
    const eventLoop = this.eventLoop.sample();
    this.readingFailures.update(new Map(Object.entries(unavailable) as [PressureReadingName, string][]));

    const memoryPressureCauses = this.memoryGate.update([
      { name: 'memory', value: memory?.utilization, enter: s.memoryThreshold, leave: s.memoryThreshold - s.memoryMargin },
      { name: 'psi_memory_full', value: psi?.memoryFullAvg10, enter: s.psiMemoryFullThreshold, leave: s.psiMemoryFullThreshold / 2 },
      { name: 'heap', value: heap?.utilization, enter: s.heapThreshold, leave: s.heapThreshold - s.memoryMargin },
    ]);

    // Half the threshold where 10 points below would be 0 or less, which a share of time never falls under.
    const psiSomeLeave = Math.max(s.psiSomeThreshold / 2, s.psiSomeThreshold - PSI_SOME_LEAVE_POINTS);
    const overloadSignals: OverloadSignal[] = [
      {
        name: 'cpu',
        // Busy CPU stands in for waiting only where PSI cannot say which it is (not where PSI
        // could not be read this time: that says nothing about whether the kernel has it).
        value: psi?.cpuSomeAvg10 === undefined && unavailable.psi === undefined ? cpu?.utilization : undefined,
        enter: s.loadSheddingThreshold,
        leave: s.loadSheddingThreshold - s.overloadMargin,
        // Full at 100 % busy, whatever the threshold: a top of threshold + margin past 100 % left a
        // threshold of 0.975 or more unable to shed anything. At 1, busy CPU is no signal.
        severe: s.loadSheddingThreshold < 1 ? 1 : Number.POSITIVE_INFINITY,
      },
      { name: 'psi_cpu_some', value: psi?.cpuSomeAvg10, enter: s.psiSomeThreshold, leave: psiSomeLeave, severe: 100 },
      { name: 'cpu_throttled', value: cpu?.throttledPercent, enter: s.psiSomeThreshold, leave: psiSomeLeave, severe: 100 },
      { name: 'psi_io_some', value: psi?.ioSomeAvg10, enter: s.psiSomeThreshold, leave: psiSomeLeave, severe: 100 },
      {
        name: 'event_loop_delay',
        value: eventLoop.delayP99Ms,
        enter: s.eventLoopDelayThresholdMs,
        leave: s.eventLoopDelayThresholdMs / 2,
        severe: s.eventLoopDelayThresholdMs * 5,
        ownLoop: true,
      },
    ];
    const overloadCauses = this.overloadGate.update(overloadSignals);
    // Each signal's severity runs from 0 at its enter level to 1 at its severe level.
    let overloadScore = 0;
    let resourceScore = 0;
    for (const signal of overloadSignals) {
      if (signal.value === undefined) continue;
      const score = Math.min(1, Math.max(0, (signal.value - signal.enter) / (signal.severe - signal.enter)));
      overloadScore = Math.max(overloadScore, score);
      if (!signal.ownLoop) resourceScore = Math.max(resourceScore, score);
    }
    const on = this.overloadGate.isOn;
    const overload = on ? Math.max(OVERLOAD_FLOOR, overloadScore) : 0;
    const resourceOverload = on ? resourceScore : 0;

    const snapshot: PressureSnapshot = {
      atMs,
      eventLoop,
      memoryPressure: this.memoryGate.isOn,
      overload,
      resourceOverload,
    };
    if (cpu) snapshot.cpu = cpu;
    if (memory) snapshot.memory = memory;
    if (reported) snapshot.psi = reported;
    if (heap) snapshot.heap = heap;
    if (Object.keys(unavailable).length > 0) snapshot.unavailable = unavailable;
    return [snapshot, { memoryPressureCauses, overloadCauses }];
  }

  private readMemory(): MemoryReading {
    const usage = this.reader.memoryUsage();
    return {
      utilization: usage.limitBytes > 0 ? usage.usedBytes / usage.limitBytes : 0,
      source: `${usage.source} over ${usage.limitSource}`,
      usedBytes: usage.usedBytes,
      limitBytes: usage.limitBytes,
    };
  }

  private readPsi(): PsiReading | undefined {
    const pressure = this.reader.pressure();
    if (!pressure.cpu && !pressure.memory && !pressure.io) return undefined;
    return {
      cpuSomeAvg10: pressure.cpu?.some.avg10,
      memorySomeAvg10: pressure.memory?.some.avg10,
      memoryFullAvg10: pressure.memory?.full?.avg10,
      ioSomeAvg10: pressure.io?.some.avg10,
      ioFullAvg10: pressure.io?.full?.avg10,
      ...(pressure.sharedWith === undefined
        ? { source: pressure.source }
        : { source: `${pressure.source} (${pressure.sharedWith}: reported, not acted on)`, notActedOn: true }),
    };
  }

  private readHeap(): HeapReading {
    const heap = this.heap();
    return {
      utilization: heap.limitBytes > 0 ? heap.usedBytes / heap.limitBytes : 0,
      source: heap.source,
      usedBytes: heap.usedBytes,
      limitBytes: heap.limitBytes,
    };
  }
}
