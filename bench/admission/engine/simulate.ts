import type { AdmissionController, Permit, Priority } from '../../../src/core/resource/admission/types.js';
import { ArrivalProcess } from './arrivals.js';
import { EventQueue } from './event-queue.js';
import { Rng, STREAM_ARRIVALS, STREAM_PRIORITY, STREAM_SERVICE } from './prng.js';
import { phaseBoundsMs, serviceMultiplierAt, type Scenario, type ServiceSpec } from './scenario.js';

/** Controllers are built per run at virtual time 0. */
export type ControllerFactory = (nowMs: number) => AdmissionController;

export const TICK_MS = 100;
/**
 * Length of the rolling windows of convergence and recovery. Only idle spans at least this long are
 * recorded: a shorter one holds no whole window, which keeps their number below the run's length / 5 s.
 */
export const WINDOW_MS = 5000;

const PRIORITY_INDEX: Record<Priority, number> = { critical: 0, normal: 1, sheddable: 2 };

/** Everything one run records; metrics are derived from it afterwards. */
export interface RunRecord {
  endMs: number;
  /**
   * Exact times of rejections and of timed-out completions, ascending, so that a window counts
   * exactly what falls in it wherever it starts (at most one entry per arrival, like successes).
   */
  rejectionAtMs: Float64Array;
  timeoutAtMs: Float64Array;
  /**
   * Spans [from, to) of at least WINDOW_MS in which the server held no request (none queued or
   * executing), ascending: a window without completions has recovered only inside one of them.
   */
  idleFromMs: Float64Array;
  idleToMs: Float64Array;
  /** Successful completions as (completion time, latency) pairs, in completion order. */
  successAtMs: Float64Array;
  successLatencyMs: Float64Array;
  successCount: number;
  /** Latency each arrival would have on an idle server (service x capacity multiplier x contention of one). */
  unloadedLatencyByPhase: Float64Array[];
  /** Per phase of arrival, per priority (critical, normal, sheddable): arrivals, rejections, successes. */
  priorityCounts: { arrivals: number[]; rejections: number[]; successes: number[] }[];
  /** Timed-out completions per phase of completion. */
  timeoutsByPhase: number[];
  /** Controller limit sampled at every tick. */
  limitSamples: Float64Array;
  /** Worker time (ms) spent serving requests in each phase; rejection work not included. */
  busyMsByPhase: number[];
}

interface Job {
  arrivalMs: number;
  serviceMs: number;
  permit: Permit | undefined;
  priority: Priority;
  phase: number;
}

type SimEvent = { kind: 'arrival' } | { kind: 'tick' } | { kind: 'done'; job: Job };

class GrowableF64 {
  data = new Float64Array(1024);
  length = 0;
  push(v: number): void {
    if (this.length === this.data.length) {
      const next = new Float64Array(this.data.length * 2);
      next.set(this.data);
      this.data = next;
    }
    this.data[this.length++] = v;
  }
  view(): Float64Array {
    return this.data.subarray(0, this.length);
  }
}

/** A FIFO of jobs; the consumed head is compacted away so memory follows the live queue. */
class JobQueue {
  private items: Job[] = [];
  private head = 0;
  get length(): number {
    return this.items.length - this.head;
  }
  push(job: Job): void {
    this.items.push(job);
  }
  shift(): Job | undefined {
    if (this.head >= this.items.length) return undefined;
    const job = this.items[this.head++];
    if (this.head > 4096 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
    return job;
  }
}

function drawService(service: ServiceSpec, rng: Rng): number {
  if (service.kind === 'lognormal') {
    const mu = Math.log(service.meanMs) - (service.sigma * service.sigma) / 2;
    return Math.exp(mu + service.sigma * rng.normal());
  }
  return rng.next() < service.p ? service.fastMs : service.slowMs;
}

function drawPriority(shares: Record<Priority, number>, rng: Rng): Priority {
  const u = rng.next();
  if (u < shares.critical) return 'critical';
  if (u < shares.critical + shares.normal) return 'normal';
  return 'sheddable';
}

/**
 * Runs one scenario for one seed: `workers` slots behind a FIFO queue, open-loop arrivals, the
 * controller asked on every arrival and told about every completion. A rejection with a cost takes
 * a worker for `rejectCostMs`; that work is served ahead of queued requests, as an acceptor would.
 * The run stops at the end of the last phase.
 */
export function simulate(scenario: Scenario, seed: number, makeController: ControllerFactory): RunRecord {
  const bounds = phaseBoundsMs(scenario);
  const endMs = bounds[bounds.length - 1];
  const rec: RunRecord = {
    endMs,
    rejectionAtMs: new Float64Array(0),
    timeoutAtMs: new Float64Array(0),
    idleFromMs: new Float64Array(0),
    idleToMs: new Float64Array(0),
    successAtMs: new Float64Array(0),
    successLatencyMs: new Float64Array(0),
    successCount: 0,
    unloadedLatencyByPhase: [],
    priorityCounts: scenario.phases.map(() => ({ arrivals: [0, 0, 0], rejections: [0, 0, 0], successes: [0, 0, 0] })),
    timeoutsByPhase: scenario.phases.map(() => 0),
    limitSamples: new Float64Array(Math.floor((endMs - 1) / TICK_MS) + 1),
    busyMsByPhase: scenario.phases.map(() => 0),
  };
  const unloaded = scenario.phases.map(() => new GrowableF64());
  const successAt = new GrowableF64();
  const successLatency = new GrowableF64();
  const rejectionAt = new GrowableF64();
  const timeoutAt = new GrowableF64();
  const idleFrom = new GrowableF64();
  const idleTo = new GrowableF64();
  /** Since when the server has held no request (it starts empty). */
  let idleSinceMs = 0;
  const endIdleSpan = (now: number): void => {
    if (now - idleSinceMs >= WINDOW_MS) {
      idleFrom.push(idleSinceMs);
      idleTo.push(now);
    }
  };

  const controller = makeController(0);
  const arrivals = new ArrivalProcess(scenario, new Rng(seed, STREAM_ARRIVALS));
  const serviceRng = new Rng(seed, STREAM_SERVICE);
  const priorityRng = new Rng(seed, STREAM_PRIORITY);
  const events = new EventQueue<SimEvent>();
  const queue = new JobQueue();
  let pendingRejectWork = 0;
  const { workers, contention, deadlineMs, rejectCostMs } = scenario;
  let busy = 0;
  let serving = 0;
  let accruedMs = 0;
  let inflight = 0;
  let phase = 0;
  let tickIndex = 0;

  /** Adds the worker time spent on requests up to `now` to the phases it fell in. */
  let accruedPhase = 0;
  const accrueBusy = (now: number): void => {
    while (accruedMs < now) {
      const until = Math.min(now, bounds[accruedPhase + 1]);
      rec.busyMsByPhase[accruedPhase] += serving * (until - accruedMs);
      accruedMs = until;
      if (accruedMs < now) accruedPhase++;
    }
  };
  const startJob = (job: Job, now: number): void => {
    busy++;
    serving++;
    const effective = job.serviceMs * serviceMultiplierAt(scenario, now) * (1 + (contention * inflight) / workers);
    events.push(now + effective, { kind: 'done', job });
  };
  const startRejectWork = (now: number): void => {
    busy++;
    events.push(now + rejectCostMs, { kind: 'done', job: REJECT_WORK });
  };
  const scheduleArrival = (): void => {
    const t = arrivals.next();
    if (t !== undefined) events.push(t, { kind: 'arrival' });
  };

  scheduleArrival();
  events.push(0, { kind: 'tick' });
  while (events.size > 0 && events.peekTime()! < endMs) {
    const { timeMs: now, payload: ev } = events.pop()!;
    accrueBusy(now);
    while (phase < scenario.phases.length - 1 && now >= bounds[phase + 1]) phase++;
    if (ev.kind === 'tick') {
      controller.tick?.(now);
      rec.limitSamples[tickIndex++] = controller.limit;
      if (now + TICK_MS < endMs) events.push(now + TICK_MS, { kind: 'tick' });
    } else if (ev.kind === 'arrival') {
      const serviceMs = drawService(scenario.service, serviceRng);
      const priority = drawPriority(scenario.priorities, priorityRng);
      const p = PRIORITY_INDEX[priority];
      rec.priorityCounts[phase].arrivals[p]++;
      unloaded[phase].push(serviceMs * serviceMultiplierAt(scenario, now) * (1 + contention / workers));
      const permit = controller.tryAcquire(now, priority);
      if (permit === undefined) {
        rejectionAt.push(now);
        rec.priorityCounts[phase].rejections[p]++;
        if (rejectCostMs > 0) {
          if (busy < workers) startRejectWork(now);
          else pendingRejectWork++;
        }
      } else {
        if (inflight === 0) endIdleSpan(now);
        inflight++;
        const job: Job = { arrivalMs: now, serviceMs, permit, priority, phase };
        if (busy < workers) startJob(job, now);
        else queue.push(job);
      }
      scheduleArrival();
    } else {
      busy--;
      const job = ev.job;
      if (job !== REJECT_WORK) {
        serving--;
        inflight--;
        if (inflight === 0) idleSinceMs = now;
        const latency = now - job.arrivalMs;
        const dropped = latency > deadlineMs;
        controller.release(job.permit!, { nowMs: now, dropped });
        if (dropped) {
          rec.timeoutsByPhase[phase]++;
          timeoutAt.push(now);
        } else {
          rec.priorityCounts[job.phase].successes[PRIORITY_INDEX[job.priority]]++;
          successAt.push(now);
          successLatency.push(latency);
        }
      }
      if (pendingRejectWork > 0) {
        pendingRejectWork--;
        startRejectWork(now);
      } else {
        const next = queue.shift();
        if (next) startJob(next, now);
      }
    }
  }
  accrueBusy(endMs);
  if (inflight === 0) endIdleSpan(endMs);
  rec.rejectionAtMs = rejectionAt.view();
  rec.timeoutAtMs = timeoutAt.view();
  rec.idleFromMs = idleFrom.view();
  rec.idleToMs = idleTo.view();
  rec.successAtMs = successAt.view();
  rec.successLatencyMs = successLatency.view();
  rec.successCount = successAt.length;
  rec.unloadedLatencyByPhase = unloaded.map((u) => u.view());
  rec.limitSamples = rec.limitSamples.subarray(0, tickIndex);
  return rec;
}

/** Marker job for the worker time a rejection costs. */
const REJECT_WORK: Job = { arrivalMs: 0, serviceMs: 0, permit: undefined, priority: 'normal', phase: 0 };
