import { monotonicClock, systemClock, type Clock } from '../../clock.js';
import { invalidArgument, notFound, ObservabilityError, permissionDenied } from '../../errors.js';
import { logLine } from '../../log-line.js';
import { RecurringFailures } from '../../recurring-failures.js';
import { validatePid } from '../../procfs/pid.js';
import { exitedState, type ProcessStat } from '../../procfs/process-stat.js';
import type { ProcessIo } from '../../procfs/process-io.js';
import type { ProcessStatus } from '../../procfs/process-status.js';
import { ProcReader } from '../../procfs/reader.js';
import { CpuTracker, type CpuBasis } from './cpu-tracker.js';
import { IoOperationRecorder, type IoOperation, type IoOperationStats } from './io-operations.js';
import { Ring } from './ring.js';

const DEFAULT_PROFILING_INTERVAL_SECONDS = 60;
const DEFAULT_MAX_SNAPSHOTS = 100;
/** Upper bounds on configuration, so a typo cannot make the profiler hold unbounded history. */
export const MAX_WATCHED_PIDS = 64;
export const MAX_SNAPSHOTS_PER_PID = 10_000;
/** Shortest window a CPU delta is taken over; tick counters are too coarse for less. */
const DEFAULT_MIN_CPU_INTERVAL_MS = 1000;

export interface ProcessProfilerOptions {
  /** Stamps samples and snapshots; default the wall clock. */
  clock?: Clock;
  /** Times the CPU intervals, which a step of the wall clock must not bend; default monotonic. */
  intervals?: Clock;
  reader?: ProcReader;
  /** Pids that may be profiled (RS3GW_PROFILING_PIDS); default: this service's own pid (selfPid). */
  pids?: readonly number[];
  /** Seconds between periodic snapshots (RS3GW_PROFILING_INTERVAL), default 60. */
  intervalSeconds?: number;
  /** Snapshots kept per pid (RS3GW_PROFILING_MAX_SNAPSHOTS), default 100. */
  maxSnapshots?: number;
  minCpuIntervalMs?: number;
  /** This process's V8 heap, reported in its own samples and snapshots (e.g. v8.getHeapStatistics). */
  selfHeap?: () => { usedBytes: number; limitBytes: number };
  /** Where failing periodic snapshots are reported; default stderr. */
  log?: (message: string) => void;
}

export interface ProcessCpu {
  /** Percent of one core (100 = one core busy all the time). */
  percentOfCore: number;
  /** Percent of the cores this machine or container gives us (percentOfCore / availableCores). */
  percentOfMachine: number;
  availableCores: number;
  basis: CpuBasis;
  /** Window the percentages cover, ms. */
  intervalMs: number;
  /**
   * utime + stime since the process started, microseconds: exactly userTimeUs + systemTimeUs. Each
   * is computed from clock ticks in integer arithmetic (bigint), so it is exact at any magnitude.
   */
  totalTimeUs: bigint;
  userTimeUs: bigint;
  systemTimeUs: bigint;
}

export interface ProcessMemory {
  rssBytes: number;
  virtualBytes: number;
  /** VmHWM; the current RSS where the kernel does not report a peak. */
  peakRssBytes: number;
  peakVirtualBytes?: number;
  threads: number;
  /** V8 heap in use and its limit; only in samples of this process, when a heap reader is given. */
  heap?: { usedBytes: number; limitBytes: number };
}

export interface ProcessSample {
  pid: number;
  comm: string;
  /**
   * When the process started, microseconds after boot (/proc/<pid>/stat starttime): with the pid it
   * names one process, as a pid alone does not once the kernel hands it to another.
   */
  startedAfterBootUs: bigint;
  state: string;
  atMs: number;
  cpu: ProcessCpu;
  memory: ProcessMemory;
  /** Counters from /proc/<pid>/io, or `{ available: false, reason }`. */
  io: ProcessIo;
}

/** A periodic snapshot: one pid's sample plus the service-wide recorded I/O operations at that time. */
export interface ProcessSnapshot extends ProcessSample {
  operations: IoOperationStats;
}

export interface SnapshotQuery {
  /** Only snapshots taken at or after this time (epoch ms). */
  sinceMs?: number;
  /** At most this many, newest first; default all that are retained. */
  limit?: number;
}

export interface CollectResult {
  taken: number;
  failed: { pid: number; reason: string }[];
}

/**
 * Clock ticks to microseconds in integer arithmetic: exact whole ticks at the usual rates (100, 250,
 * 1000 Hz), rounded down to the microsecond at a rate that does not divide a second evenly.
 */
function ticksToMicroseconds(ticks: number, ticksPerSecond: number): bigint {
  return (BigInt(ticks) * 1_000_000n) / BigInt(ticksPerSecond);
}

/** A start time as the log and errors give it: `400.00 s after boot`. */
function afterBoot(startTimeTicks: number, ticksPerSecond: number): string {
  return `${(startTimeTicks / ticksPerSecond).toFixed(2)} s after boot`;
}

/** The process whose thread `pid` is, from its status's Tgid, when it is not that process's first thread. */
function processOfThread(pid: number, tgid: number | undefined): number | undefined {
  return tgid !== undefined && tgid !== pid ? tgid : undefined;
}

/** /proc/<tid> answers for any thread, with its process's figures: a thread id must not pass for a process. */
function refuseThread(pid: number, tgid: number | undefined): void {
  const owner = processOfThread(pid, tgid);
  if (owner !== undefined) {
    throw notFound('pid', `${pid} is not a process but a thread of process ${owner}; watch ${owner} (RS3GW_PROFILING_PIDS takes process ids)`);
  }
}

function positiveNumber(field: string, value: number, max?: number): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0 || (max !== undefined && value > max)) {
    throw invalidArgument(field, `must be a positive number${max !== undefined ? ` no larger than ${max}` : ''}`);
  }
  return value;
}

function positiveInteger(field: string, value: number, max: number): number {
  if (!Number.isInteger(value) || value < 1 || value > max) {
    throw invalidArgument(field, `must be an integer from 1 to ${max}`);
  }
  return value;
}

/** An error's text without the field it names (`pid: `), to quote it inside another message. */
function reasonOf(error: unknown): string {
  if (error instanceof ObservabilityError && error.field !== undefined) return error.message.slice(error.field.length + 2);
  return error instanceof Error ? error.message : String(error);
}

/**
 * The process an allowlisted pid names: the one running under it when the profiler was created,
 * by its start time (stat starttime, ticks), or why there was none (`absent`). A pid alone names
 * no process for good: the kernel gives it to another once its process exits.
 */
type Pin = { readonly startTimeTicks: number } | { readonly absent: string };

/** What the profiler keeps for one allowlisted pid. */
interface Watched {
  readonly pin: Pin;
  /** Baselines of the periodic snapshots alone, so each covers the time since the one before. */
  readonly snapshotCpu: CpuTracker;
  /** Baselines of on-demand measurements, which also measure from a more recent snapshot. */
  readonly onDemandCpu: CpuTracker;
  /** Snapshots of the pinned process alone: kept once it has exited, as the record of its end. */
  readonly history: Ring<ProcessSnapshot>;
  /** Whether the log said that the pinned process exited and another took the pid (said once). */
  reuseLogged: boolean;
}

/**
 * Profiles an allowlist of processes from /proc: CPU from tick deltas, memory and I/O counters, plus
 * the I/O operations the gateway records, with periodic snapshots kept per process up to a cap.
 */
export class ProcessProfiler {
  readonly intervalSeconds: number;
  readonly maxSnapshots: number;
  /** This service's pid as the /proc read numbers it (ProcReader.selfPid), not always process.pid. */
  readonly selfPid: number;
  private readonly clock: Clock;
  private readonly intervals: Clock;
  private readonly reader: ProcReader;
  /** One entry per allowlisted pid: its CPU baseline and its snapshot history. */
  private readonly watched = new Map<number, Watched>();
  private readonly operations: IoOperationRecorder;
  private readonly selfHeap?: () => { usedBytes: number; limitBytes: number };
  private readonly log: (message: string) => void;
  /** Pids whose periodic snapshots fail, logged once until the failure changes or ends. */
  private readonly snapshotFailures: RecurringFailures<number>;
  private timer?: NodeJS.Timeout;

  constructor(options: ProcessProfilerOptions = {}) {
    this.clock = options.clock ?? systemClock;
    this.intervals = options.intervals ?? monotonicClock;
    this.reader = options.reader ?? new ProcReader();
    this.selfPid = this.reader.selfPid();
    const pids = options.pids ?? [this.selfPid];
    if (pids.length === 0) throw invalidArgument('pids', 'must list at least one pid');
    if (pids.length > MAX_WATCHED_PIDS) throw invalidArgument('pids', `at most ${MAX_WATCHED_PIDS} pids, got ${pids.length}`);
    pids.forEach((pid, i) => validatePid(pid, `pids[${i}]`));
    this.intervalSeconds = positiveNumber('intervalSeconds', options.intervalSeconds ?? DEFAULT_PROFILING_INTERVAL_SECONDS);
    this.maxSnapshots = positiveInteger('maxSnapshots', options.maxSnapshots ?? DEFAULT_MAX_SNAPSHOTS, MAX_SNAPSHOTS_PER_PID);
    const minCpuIntervalMs = options.minCpuIntervalMs ?? DEFAULT_MIN_CPU_INTERVAL_MS;
    positiveNumber('minCpuIntervalMs', minCpuIntervalMs);
    // Snapshots an interval of at least the minimum apart each measure from the one before: the
    // timer fires on the event loop's cached clock, so two readings can be 999.x ms apart.
    const snapshotMinMs = this.intervalSeconds * 1000 >= minCpuIntervalMs ? 0 : minCpuIntervalMs;
    for (const pid of pids) {
      this.watched.set(pid, {
        pin: this.pin(pid),
        snapshotCpu: new CpuTracker(snapshotMinMs),
        onDemandCpu: new CpuTracker(minCpuIntervalMs),
        history: new Ring(this.maxSnapshots),
        reuseLogged: false,
      });
    }
    this.operations = new IoOperationRecorder();
    this.selfHeap = options.selfHeap;
    this.log = options.log ?? logLine;
    this.snapshotFailures = new RecurringFailures(this.log, {
      failing: (pid, why) => `profiling: periodic snapshots of pid ${pid} fail and are skipped (logged once until this changes): ${why}`,
      recovered: (pid) => `profiling: periodic snapshots of pid ${pid} are taken again`,
    });
  }

  /** Pins `pid` to the process running under it now; none (and why) when it names no running process. */
  private pin(pid: number): Pin {
    try {
      const { stat, status } = this.read(pid);
      this.measurable(pid, stat, status);
      return { startTimeTicks: stat.startTimeTicks };
    } catch (error) {
      return { absent: reasonOf(error) };
    }
  }

  /**
   * The allowlisted pids that named no running process when the profiler was created, and why:
   * they are never served, since a process that takes one later is not the one the list meant.
   */
  absentAtStart(): { pid: number; reason: string }[] {
    return [...this.watched].flatMap(([pid, { pin }]) => ('absent' in pin ? [{ pid, reason: pin.absent }] : []));
  }

  /**
   * The process `pid` is a thread of, when it is a thread other than its process's first (a thread
   * id, which /proc also answers for); undefined for a process, and for a pid that cannot be read
   * now (one that does not exist yet is no thread either).
   */
  threadOf(pid: number): number | undefined {
    let tgid: number | undefined;
    try {
      tgid = this.reader.processStatus(validatePid(pid)).tgid;
    } catch {
      return undefined;
    }
    return processOfThread(pid, tgid);
  }

  /** The allowlisted pids, in configuration order. */
  watchedPids(): number[] {
    return [...this.watched.keys()];
  }

  /**
   * Current CPU, memory and I/O of `pid`, on demand: CPU since the latest earlier measurement of it
   * (on-demand or snapshot) at least minCpuIntervalMs before. Periodic snapshots keep their own
   * baselines, which this neither reads for them nor moves. A pid that does not exist is notFound,
   * and so is a process that has exited but is still listed in /proc (a zombie its parent has not
   * reaped, or one in state X), which has nothing left to measure, and a thread id, no process;
   * so is a pid that named no running process at start-up, or whose process has since exited and
   * the kernel gave the pid to another (which the allowlist did not name).
   */
  sample(pid: number): ProcessSample {
    return this.measure(pid, 'on-demand');
  }

  /** The command of `pid` when it is a live process; throws as sample() does, measuring nothing. */
  identify(pid: number): { comm: string } {
    return { comm: this.inspect(pid).stat.comm };
  }

  private inspect(pid: number): { entry: Watched; stat: ProcessStat; status: ProcessStatus; hz: number } {
    const { entry, startTimeTicks } = this.pinned(pid);
    const { stat, status } = this.read(pid);
    const hz = this.reader.systemConstants().clockTicksPerSecond;
    // Before the exited state: a process that took the pid is refused whatever its state, and
    // nothing of it (comm, figures, parent) is said.
    if (stat.startTimeTicks !== startTimeTicks) {
      const started = afterBoot(startTimeTicks, hz);
      this.logReuse(pid, entry, started);
      throw notFound('pid', `${pid} is not served: the allowlisted process (started ${started}) has exited and the pid now belongs to another process, which is not allowlisted`);
    }
    return { entry, ...this.measurable(pid, stat, status), hz };
  }

  /** The stat and status of `pid`; a thread is refused, being no process (it neither is nor ends the pinned one). */
  private read(pid: number): { stat: ProcessStat; status: ProcessStatus } {
    const stat = this.reader.processStat(pid);
    const status = this.reader.processStatus(pid);
    refuseThread(pid, status.tgid);
    return { stat, status };
  }

  /** What there is to measure of a process; notFound when it has exited. */
  private measurable(pid: number, stat: ProcessStat, status: ProcessStatus): { stat: ProcessStat; status: ProcessStatus } {
    const exited = exitedState(stat);
    if (exited === undefined) return { stat, status };
    // A first thread that exited while others run leaves a running process: its group CPU times
    // are the first thread's stat, its state and memory a running thread's (see live-thread.ts).
    const live = stat.numThreads > 1 ? this.reader.liveThread(pid) : undefined;
    if (live === undefined) throw notFound('pid', `process ${pid} has exited (${exited})`);
    const { state, rssPages, vsizeBytes } = live.stat;
    return { stat: { ...stat, state, rssPages, vsizeBytes }, status: { ...live.status, tgid: status.tgid } };
  }

  private measure(pid: number, kind: 'snapshot' | 'on-demand'): ProcessSample {
    const { entry, stat, status, hz } = this.inspect(pid);
    const constants = this.reader.systemConstants();
    const io = this.reader.processIo(pid);
    const cores = this.reader.availableCores();
    const atMs = this.clock.nowMs();
    const ticks = stat.utimeTicks + stat.stimeTicks;
    const reading = { atMs: this.intervals.nowMs(), ticks, startTimeTicks: stat.startTimeTicks };
    const uptimeSeconds = this.reader.uptime().uptimeSeconds;
    const measure =
      kind === 'snapshot'
        ? entry.snapshotCpu.measure(reading, uptimeSeconds, hz)
        : entry.onDemandCpu.measure(reading, uptimeSeconds, hz, entry.snapshotCpu);
    const rssBytes = status.rssBytes ?? stat.rssPages * constants.pageSizeBytes;
    const userTimeUs = ticksToMicroseconds(stat.utimeTicks, hz);
    const systemTimeUs = ticksToMicroseconds(stat.stimeTicks, hz);
    return {
      pid,
      comm: stat.comm,
      startedAfterBootUs: ticksToMicroseconds(stat.startTimeTicks, hz),
      state: stat.state,
      atMs,
      cpu: {
        percentOfCore: measure.percentOfCore,
        percentOfMachine: measure.percentOfCore / cores.cores,
        availableCores: cores.cores,
        basis: measure.basis,
        intervalMs: measure.intervalMs,
        totalTimeUs: userTimeUs + systemTimeUs,
        userTimeUs,
        systemTimeUs,
      },
      memory: {
        rssBytes,
        virtualBytes: status.virtualBytes ?? stat.vsizeBytes,
        peakRssBytes: status.peakRssBytes ?? rssBytes,
        peakVirtualBytes: status.peakVirtualBytes,
        threads: status.threads ?? stat.numThreads,
        ...(pid === this.selfPid && this.selfHeap && { heap: this.selfHeap() }),
      },
      io,
    };
  }

  /** Records I/O operations the gateway performed (one or a batch); see IoOperationRecorder.record. */
  recordIo(operations: IoOperation | readonly IoOperation[]): void {
    this.operations.record(operations);
  }

  ioOperations(): IoOperationStats {
    return this.operations.stats();
  }

  /**
   * Takes one snapshot of every watched pid. Pids that fail are listed, not thrown: an exited
   * process, and also a read the system refuses (EMFILE when descriptors run out, a damaged /proc),
   * since one pid's failure must not cost the others their snapshots, nor the service its life.
   */
  collect(): CollectResult {
    const result: CollectResult = { taken: 0, failed: [] };
    const operations = this.operations.stats();
    for (const [pid, { history }] of this.watched) {
      try {
        history.push({ ...this.measure(pid, 'snapshot'), operations });
        result.taken += 1;
      } catch (error) {
        result.failed.push({ pid, reason: error instanceof Error ? error.message : String(error) });
      }
    }
    return result;
  }

  /** Snapshots of `pid`, newest first: of the pinned process, which they outlive. */
  snapshots(pid: number, query: SnapshotQuery = {}): ProcessSnapshot[] {
    const { history } = this.pinned(pid).entry;
    const limit = query.limit === undefined ? this.maxSnapshots : positiveInteger('limit', query.limit, MAX_SNAPSHOTS_PER_PID);
    if (query.sinceMs !== undefined && (typeof query.sinceMs !== 'number' || !Number.isFinite(query.sinceMs))) {
      throw invalidArgument('since_ms', 'must be a finite number of epoch milliseconds');
    }
    const since = query.sinceMs ?? Number.NEGATIVE_INFINITY;
    return history.newestFirst().filter((s) => s.atMs >= since).slice(0, limit);
  }

  /** Takes a snapshot now and then every intervalSeconds until stop(); calling it again does nothing. */
  start(): void {
    if (this.timer) return;
    this.collectPeriodically();
    this.timer = setInterval(() => this.collectPeriodically(), this.intervalSeconds * 1000);
    // Profiling alone must not keep the process alive.
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  get running(): boolean {
    return this.timer !== undefined;
  }

  /**
   * A periodic snapshot: failures are logged when they start or change and when they end, not at
   * every interval, since a failing pid usually goes on failing the same way.
   */
  private collectPeriodically(): void {
    const { failed } = this.collect();
    // A pid that will not be served again was said once, at start-up or when its reuse was seen.
    this.snapshotFailures.update(new Map(failed.filter(({ pid }) => !this.retired(pid)).map(({ pid, reason }) => [pid, reason])));
  }

  /** Whether `pid` is never served again: it named no running process at start-up, or its process exited and the pid was reused. */
  private retired(pid: number): boolean {
    const entry = this.watched.get(pid);
    return entry !== undefined && ('absent' in entry.pin || entry.reuseLogged);
  }

  /** Says once that the pinned process of `pid` exited and another took the pid (of which nothing is said). */
  private logReuse(pid: number, entry: Watched, started: string): void {
    if (entry.reuseLogged) return;
    entry.reuseLogged = true;
    this.log(
      `profiling: pid ${pid}: the watched process (started ${started}) has exited and the pid was reused ` +
        `by another process, which is not served; the snapshots of the watched process (${entry.history.size}) are kept`,
    );
  }

  /** The entry of an allowlisted pid and the start time it is pinned to; notFound when it named no running process at start-up. */
  private pinned(pid: number): { entry: Watched; startTimeTicks: number } {
    const entry = this.watchedEntry(pid);
    // Its own pid names the service for as long as it runs; but a /proc that appears later under
    // RS3GW_FS_ROOT may be another pid namespace's, where the pid is another process.
    if ('absent' in entry.pin && pid === this.selfPid) {
      throw notFound('pid', `${pid} is this service, and its /proc/${pid} could not be read at start-up (${entry.pin.absent}); it is not profiled until the service restarts with it readable`);
    }
    if ('absent' in entry.pin) {
      throw notFound('pid', `${pid} is not served: at start-up it named no running process (${entry.pin.absent}), and a process that takes the pid later is not the one the allowlist meant`);
    }
    return { entry, startTimeTicks: entry.pin.startTimeTicks };
  }

  private watchedEntry(pid: number): Watched {
    const entry = this.watched.get(validatePid(pid));
    if (!entry) {
      throw permissionDenied('pid', `process ${pid} is not in the profiling allowlist; add it to RS3GW_PROFILING_PIDS`);
    }
    return entry;
  }
}
