/**
 * Load shedding and memory pressure on stderr, which otherwise refuse clients without a word: a
 * line when shedding of a priority starts or stops and when memory pressure turns on or off, with
 * the pressure level and the signals behind it. Each priority's shedding, and memory pressure, has
 * a credit of six lines, refilled at one a minute (full after six quiet minutes): while credit is
 * left each start and stop is written as it happens, so three episodes in a row are, however close
 * together; a flapping signal uses it up and then writes a line a minute, which counts the changes
 * since the last one and gives the state then.
 */
import type { Clock } from '../../core/clock.js';
import { logLine } from '../../core/log-line.js';
import { PRIORITIES, type Priority } from '../../core/resource/admission/types.js';
import type { SheddingStatus } from '../../core/resource/manager.js';
import type { PressureDetail } from '../../core/resource/signals/monitor.js';
import type { PressureSnapshot } from '../../core/resource/signals/types.js';

/** Lines about one priority's shedding, or about memory pressure, come this often at most in the long run... */
export const ADMISSION_LOG_INTERVAL_MS = 60_000;
/** ...after a burst of this many: three episodes' starts and stops, so a second episode soon after a first is not held back. */
const BURST_LINES = 6;

type Subject = Priority | 'memory pressure';

interface Track {
  on: boolean;
  loggedAtMs?: number;
  /** Lines that may be written now (fractions accrue over time). */
  credit: number;
  /** Changes since the last line. */
  changes: number;
}

export interface AdmissionLogOptions {
  /** Spaces the lines; monotonic in the service, so a step of the wall clock neither floods nor mutes them. */
  clock: Clock;
  /** Where lines go; default stderr. */
  log?: (line: string) => void;
}

const percent = (fraction: number) => `${(fraction * 100).toFixed(1)}%`;
const mib = (bytes: number) => `${(bytes / 2 ** 20).toFixed(0)} MiB`;

/** A pressure signal as GetResources gives it, by the name the pressure monitor gives its causes. */
function signal(name: string, p: PressureSnapshot): string {
  switch (name) {
    case 'cpu':
      return p.cpu ? `cpu ${percent(p.cpu.utilization)} of ${p.cpu.availableCores} cores (${p.cpu.source})` : `cpu unavailable (${p.unavailable?.cpu})`;
    case 'memory':
      return p.memory ? `memory ${percent(p.memory.utilization)} of ${mib(p.memory.limitBytes)} (${p.memory.source})` : `memory unavailable (${p.unavailable?.memory})`;
    case 'heap':
      return p.heap ? `V8 old generation ${percent(p.heap.utilization)} of ${mib(p.heap.limitBytes)}` : `V8 old generation unavailable (${p.unavailable?.heap})`;
    case 'psi_cpu_some':
      return `PSI cpu some ${p.psi?.cpuSomeAvg10}% (avg10, ${p.psi?.source})`;
    case 'psi_io_some':
      return `PSI io some ${p.psi?.ioSomeAvg10}% (avg10, ${p.psi?.source})`;
    case 'psi_memory_full':
      return `PSI memory full ${p.psi?.memoryFullAvg10}% (avg10, ${p.psi?.source})`;
    case 'event_loop_delay':
      return `event-loop delay p99 ${p.eventLoop.delayP99Ms.toFixed(0)} ms`;
    case 'cpu_throttled':
      return `CPU quota throttled in ${p.cpu?.throttledPercent?.toFixed(1)}% of periods over 10 s (${p.cpu?.throttlingSource})`;
    default:
      return name;
  }
}

/** The level shedding acts on and what raises it: overload and memory pressure, each with its signals. */
function why(status: SheddingStatus, detail: PressureDetail): string {
  const p = status.pressure;
  const parts = [`pressure level ${status.shedding.level.toFixed(2)}`];
  if (p.overload > 0) parts.push(`overload ${p.overload.toFixed(2)} from ${detail.overloadCauses.map((c) => signal(c, p)).join(', ') || 'no signal now'}`);
  if (p.memoryPressure) parts.push(`memory pressure from ${detail.memoryPressureCauses.map((c) => signal(c, p)).join(', ') || 'no signal now'}`);
  return parts.join('; ');
}

export class AdmissionLog {
  private readonly clock: Clock;
  private readonly log: (line: string) => void;
  /** In the order they turn on as pressure rises. */
  private readonly tracks = new Map<Subject, Track>(
    ['memory pressure' as const, ...[...PRIORITIES].reverse()].map((subject) => [subject, { on: false, credit: BURST_LINES, changes: 0 }]),
  );

  constructor(options: AdmissionLogOptions) {
    this.clock = options.clock;
    this.log = options.log ?? logLine;
  }

  /** Compares the manager's status with the last one; call on every housekeeping tick. */
  observe(status: SheddingStatus, detail: PressureDetail): void {
    const now = this.clock.nowMs();
    const due: Array<[Subject, Track]> = [];
    for (const [subject, track] of this.tracks) {
      const on = subject === 'memory pressure' ? status.pressure.memoryPressure : status.shedding.byPriority[subject].active;
      if (on !== track.on) {
        track.on = on;
        track.changes += 1;
      }
      if (track.changes > 0 && this.credit(track, now) >= 1) due.push([subject, track]);
    }
    // Lines written together read as it happened: what stopped as pressure fell, then what started as it rose.
    const stopped = due.filter(([, t]) => !t.on).reverse();
    for (const [subject, track] of [...stopped, ...due.filter(([, t]) => t.on)]) {
      this.log(this.line(subject, track, status, detail, now));
      track.credit = this.credit(track, now) - 1;
      track.loggedAtMs = now;
      track.changes = 0;
    }
  }

  private credit(track: Track, now: number): number {
    return track.loggedAtMs === undefined ? track.credit : Math.min(BURST_LINES, track.credit + (now - track.loggedAtMs) / ADMISSION_LOG_INTERVAL_MS);
  }

  private line(subject: Subject, track: Track, status: SheddingStatus, detail: PressureDetail, now: number): string {
    // After several changes, the state now rather than one change among them.
    const change = track.changes > 1 || subject === 'memory pressure' ? (track.on ? 'on' : 'off') : track.on ? 'started' : 'stopped';
    const repeats =
      track.changes > 1 ? ` (${track.changes} changes in the last ${Math.round((now - track.loggedAtMs!) / 1000)} s, logged about once a minute)` : '';
    const what = subject === 'memory pressure' ? 'memory pressure' : `shedding ${subject} requests`;
    const reading =
      subject === 'memory pressure'
        ? track.on
          ? detail.memoryPressureCauses.map((c) => signal(c, status.pressure)).join(', ') || signal('memory', status.pressure)
          : // Every signal that can turn it on, so that the one that did is seen falling.
            [signal('memory', status.pressure), signal('heap', status.pressure), ...(status.pressure.psi?.memoryFullAvg10 !== undefined ? [signal('psi_memory_full', status.pressure)] : [])].join(', ')
        : why(status, detail);
    return `admission: ${what} ${change}${repeats}: ${reading}`;
  }
}
