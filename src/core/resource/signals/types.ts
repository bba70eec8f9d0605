/**
 * The pressure signals the resource manager acts on. Each value says where it was read from, so
 * an operator can tell a container limit from a host-wide figure.
 */

/** How loaded one resource is, with the file or API the figure came from. */
export interface ResourceReading {
  /** Fraction of the available amount in use, 0..1 (may exceed 1 briefly for CPU bursts). */
  utilization: number;
  /** Where the figure came from, e.g. `cgroup2:/sys/fs/cgroup/memory.current` or `/proc/meminfo`. */
  source: string;
}

export interface CpuReading extends ResourceReading {
  /** Cores this process may use: the cgroup quota (`cpu.max`, cfs quota/period) or the online CPUs. */
  availableCores: number;
  /**
   * Percent of the CPU quota's enforcement periods, over the last 10 s (since the first reading while
   * there are fewer than 10 s of readings), in which the cgroup used up its quota and its tasks waited
   * for the next period; absent without a quota, and at the first reading of its counters.
   */
  throttledPercent?: number;
  /** Where the throttling counters came from (the `cpu.stat` beside the binding quota). */
  throttlingSource?: string;
}

export interface MemoryReading extends ResourceReading {
  usedBytes: number;
  /** The limit the utilisation is taken against (cgroup `memory.max`/`memory.high` or MemTotal). */
  limitBytes: number;
}

/** Linux pressure stall information, percent of time stalled over the last 10 s. */
export interface PsiReading {
  cpuSomeAvg10?: number;
  memorySomeAvg10?: number;
  memoryFullAvg10?: number;
  ioSomeAvg10?: number;
  ioFullAvg10?: number;
  source: string;
  /**
   * True when the figures are reported but are no signal: host-wide PSI read from a container
   * counts other tenants' stalls (the source says why); busy CPU stands in as without PSI.
   */
  notActedOn?: boolean;
}

/**
 * The V8 old generation, whose filling up ends the process: its used bytes against its own limit,
 * heap_size_limit less the young generation's reservation (which is never all in use).
 */
export interface HeapReading extends ResourceReading {
  usedBytes: number;
  limitBytes: number;
}

export interface EventLoopReading {
  /** p99 event-loop delay over the last sampling interval, milliseconds. */
  delayP99Ms: number;
  /** Event-loop utilisation over the last sampling interval, 0..1. */
  utilization: number;
}

/** The readings a sample takes separately, so one that fails leaves the others current. */
export type PressureReadingName = 'cpu' | 'memory' | 'psi' | 'heap';

export interface PressureSnapshot {
  atMs: number;
  /** Absent when this sample could not read it (named in `unavailable`). */
  cpu?: CpuReading;
  /** Absent when this sample could not read it (named in `unavailable`). */
  memory?: MemoryReading;
  /** Absent where the kernel has no /proc/pressure, or when this sample could not read it (named in `unavailable`). */
  psi?: PsiReading;
  /** Absent when this sample could not read it (named in `unavailable`). */
  heap?: HeapReading;
  eventLoop: EventLoopReading;
  /**
   * The readings this sample failed to take, each with why (`cannot read <file>: EISDIR`). A failed
   * reading is unknown: it holds no decision below with an old value, the others decide alone.
   */
  unavailable?: Partial<Record<PressureReadingName, string>>;
  /** Memory pressure after hysteresis (enter above the threshold, leave below it minus a margin). */
  memoryPressure: boolean;
  /** Overall saturation after hysteresis, 0 = none .. 1 = severe; drives shedding by priority. */
  overload: number;
  /**
   * The part of `overload` from the resources admitted work runs on (tasks waiting for CPU or I/O,
   * the CPU quota used up, or busy CPU where the kernel reports no stall), leaving out the service's
   * own event loop, whose load refusing does not relieve (a refusal costs what an admission does).
   * Only this may shed critical work.
   */
  resourceOverload: number;
}

/** Anything that can report the current pressure snapshot (real monitor or a fixture-driven one). */
export interface PressureSource {
  snapshot(): PressureSnapshot;
}
