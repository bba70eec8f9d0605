import { invalidArgument } from '../../errors.js';
import { addRoundTrip, newCohort, readCohort, type Cohort } from './base-cohort.js';
import { BurstCarry, type ServerView } from './burst-carry.js';
import { LoadWindow, type WindowSummary } from './load-window.js';
import { bestQueue } from './queue-trade.js';
import { ServiceStarts } from './service-starts.js';
import type { AdmissionController, Permit, Priority, ReleaseOutcome } from './types.js';

export interface KneeOptions {
  initialLimit: number;
  minLimit: number;
  maxLimit: number;
  /** Queue allowed beyond the knee: a share of the knee plus a fixed number of slots. */
  headroom: number;
  queueSlots: number;
  /**
   * Relative standard error wanted from a window's mean round trip; with the measured spread of
   * round trips it sets how many completions a window (and a probe cohort) needs.
   */
  precision: number;
  minWindowMs: number;
  maxWindowMs: number;
  /**
   * While overloaded the base is re-measured when the knee estimate drifts, and at least this
   * often (a safety net: every probe idles servers)...
   */
  probeIntervalMs: number;
  /** ...by a probe this far below the knee... */
  probeDepth: number;
  /** ...and less often when a probe is slow, so routine probes cost at most this share of capacity. */
  probeBudget: number;
  /** Share of the limit kept back from sheddable traffic (at least one slot)... */
  sheddableReserve: number;
  /** ...and added on top of it for critical traffic (at least two slots). */
  criticalExtra: number;
}

export const KNEE_DEFAULTS: KneeOptions = {
  initialLimit: 20,
  minLimit: 2,
  maxLimit: 10_000,
  headroom: 0.15,
  queueSlots: 3,
  precision: 0.075,
  minWindowMs: 20,
  maxWindowMs: 1000,
  probeIntervalMs: 120_000,
  probeDepth: 0.1,
  probeBudget: 0.001,
  sheddableReserve: 0.15,
  criticalExtra: 0.5,
};

const MIN_SAMPLES = 32;
const MAX_SAMPLES = 4000;
/** Squared coefficient of variation assumed before any window has been measured. */
const INITIAL_CV2 = 0.5;
const CV2_GAIN = 0.2;
/** A busy-server estimate this far (as a ratio) from the knee, twice in a row, is a surprise. */
const SURPRISE_RATIO = 1.33;
/** Round trip over base from which a queue counts as standing even before the knee is known. */
const STANDING_RATIO = 1.5;
/** From this round trip over base a queue is visible: the limit is held, not grown. */
const QUEUE_RATIO = 1.25;
/** Below this share of the knee the round trip is taken as the base (little queueing). */
const UNLOADED_SHARE = 0.8;
/**
 * The knee is a running mean of the busy-server estimates since it was last set, then a moving
 * average over this many windows: one window's throughput is too noisy to steer the limit.
 */
const KNEE_WINDOWS = 16;
const BASE_GAIN = 0.2;
const PEAK_DECAY = 0.98;
/** Share of time the server may idle for want of a queued request, and the queue's upper bound. */
const IDLE_TARGET = 0.003;
const MAX_QUEUE_SHARE = 0.5;
/**
 * Upper bound of a queue lengthened where completions bound the contention: one knee of requests
 * waits one mean service time, no more than the unloaded p99, so the p99 stays within twice it.
 */
const PROVEN_QUEUE_SHARE = 1;
const RATIO_GAIN = 0.2;
/** Windows in a row with a standing queue that make an overload even before anything is refused. */
const STANDING_WINDOWS = 3;
/** Windows without overload in a row after which the overload counts as over. */
const CALM_WINDOWS = 3;
/** Drift of the knee since the last probe (as a log ratio) that calls for a new probe. */
const KNEE_DRIFT = 0.15;
/** A probe cohort that has not come back after this long is abandoned. */
const PROBE_TIMEOUT_MS = 60_000;

interface KneePermit extends Permit {
  readonly cohort: number;
  /** The completion whose freed server this request starts on (0: at once, or no knee yet). */
  readonly startingCompletion: number;
}

/**
 * A probe holds the limit at or below the knee until a cohort of requests has been admitted: they
 * start service at once, so their round trips are the base. Later arrivals queue behind them in
 * FIFO order and do not disturb the measurement, so the limit is restored once the cohort is in.
 */
type Probe =
  | { phase: 'off' }
  | { phase: 'draining'; limit: number; cohort: Cohort }
  | { phase: 'admitting'; limit: number; cohort: Cohort }
  | { phase: 'awaiting'; cohort: Cohort };

/**
 * Adaptive concurrency limit that tracks the knee: the number of requests in flight beyond which
 * the server only queues. By Little's law the busy servers are throughput x baseRtt; while a
 * standing queue meets the limit, the limit sits a little above that knee, so the server never
 * idles and the queue stays short. The knee is a running mean over many windows, the base is
 * measured by probe cohorts (the first one at start-up) and refined by each. A jump or a drift of
 * the estimate means either the service time changed or the servers did; a probe tells which,
 * instead of cutting the limit. Without a standing queue the limit keeps room for twice the recent
 * peak, so bursts below capacity are not refused. Bursts followed by silence are carried into it by
 * a longer queue, opened over each burst, where round trips show no contention (`BurstCarry`).
 */
export class KneeController implements AdmissionController {
  // The kind that selects it (RS3GW_ADMISSION_CONTROLLER), so status pages name it as the setting does.
  readonly name = 'adaptive';
  readonly limitUnit = 'concurrency' as const;
  private readonly o: KneeOptions;
  private count = 0;
  private knee: number | undefined;
  private baseRttMs: number | undefined;
  /** Round trips behind the base estimate, to weigh a probe's cohort against it. */
  private baseSamples = 0;
  private cv2 = INITIAL_CV2;
  private current: number;
  private peakInflight = 0;
  private readonly window: LoadWindow;
  private readonly carry = new BurstCarry();
  private readonly starts = new ServiceStarts();
  /** What the carry needs to know of the server, refreshed before each use (no allocation per request). */
  private readonly server: ServerView = {
    knee: undefined,
    baseRttMs: undefined,
    probing: false,
  };
  private probe: Probe = { phase: 'off' };
  private probeIds = 0;
  private lastProbeMs: number;
  private lastProbeAdmitMs = 0;
  /** The first window after a probe below the limit still shows the probe's drain and is skipped. */
  private settling = false;
  private suspicious = 0;
  private calmWindows = 0;
  private queuedWindows = 0;
  /**
   * Refusing windows that showed no queue by themselves, since the last window with arrivals and
   * no refusals, and their round trips (with those of windows without arrivals between them, where
   * a burst's queue is worked off): a queue too short to show in one window.
   */
  private refusing = { windows: 0, samples: 0, rttSum: 0 };
  /**
   * Most servers seen busy over a calm window (throughput x base, decaying): the knee is at least
   * this, so a first-overload probe does not go below it.
   */
  private provenBusy = 0;
  /** Arrivals per completion while overloaded (smoothed). */
  private overloadRatio = 2;
  private suspectBusySum = 0;
  private suspectRttSum = 0;
  private suspectWindows = 0;
  /**
   * A cohort gathered without lowering the limit, once a first overload's knee was read with the
   * base measured while calm (its probe ended in a silence, admitting nothing): requests admitted
   * with servers free, which start at once, re-measure the base as a probe's cohort would.
   */
  private recheck: Cohort | undefined;
  /** The knee as the last probe left it: drift from it calls for a new probe. */
  private kneeAtProbe: number | undefined;
  /** Variance of the windows' log busy-server estimates around the knee. */
  private busyLogVar = 0;
  /** Windows (weighted by their samples) behind the knee estimate since it was last set. */
  private kneeWindows = 0;
  /**
   * Until the limit has once met the demand (a window with arrivals, none refused) or a knee is
   * known, the initial limit is a guess, not a measurement: refusals without a queue double it per
   * window, and each completion without a queue after refusals adds a slot (TCP's slow start).
   */
  private startingUp = true;
  /** Whether a request was refused since the last completion: the limit, not the server, held it. */
  private refusedSinceCompletion = false;
  /** The burst carry's part of `current`: it opens over each burst (see `BurstCarry.openShare`). */
  private carried = 0;
  /** The latest time seen: the limit is read at it. */
  private nowMs: number;
  /** The latest arrival (admitted or refused). */
  private lastArrivalMs = Number.NEGATIVE_INFINITY;
  /** The highest `current` may go: where it stood when a hold began (`holdLimit`), else unbounded. */
  private ceiling = Number.POSITIVE_INFINITY;
  /** The highest the reported limit may go while a hold lasts: where it stood when the hold began. */
  private limitCeiling = Number.POSITIVE_INFINITY;

  constructor(nowMs: number, options: Partial<KneeOptions> = {}) {
    this.o = checkKneeOptions({ ...KNEE_DEFAULTS, ...options });
    this.current = this.o.initialLimit;
    this.nowMs = nowMs;
    this.window = new LoadWindow(nowMs, 0);
    this.lastProbeMs = nowMs;
    // The first base comes from a cohort, not a window: a window that starts empty sees only the
    // requests that finished in it, the fast ones.
    this.startProbe(this.o.initialLimit, nowMs);
  }

  get limit(): number {
    const p = this.probe;
    if (p.phase === 'draining' || p.phase === 'admitting') return Math.min(this.limitCeiling, p.limit);
    return Math.min(this.limitCeiling, this.current - this.carried * (1 - this.carry.openShare(this.nowMs)));
  }

  get inflight(): number {
    return this.count;
  }

  /** The estimated knee (busy servers under overload), once the server has been overloaded. */
  get estimatedCapacity(): number | undefined {
    return this.knee;
  }

  tryAcquire(nowMs: number, priority: Priority = 'normal'): Permit | undefined {
    this.maybeRoll(nowMs);
    this.lastArrivalMs = Math.max(this.lastArrivalMs, nowMs);
    if (this.count >= this.capFor(priority)) {
      this.refusedSinceCompletion = true;
      this.window.addRejection();
      if (this.carry.refused(nowMs, this.serverView())) this.carryChanged();
      return undefined;
    }
    this.count += 1;
    this.window.addAdmission();
    this.inflightChanged(nowMs);
    const permit: KneePermit = {
      startMs: nowMs,
      priority,
      inflight: this.count,
      cohort: this.joinCohort(nowMs),
      startingCompletion: this.knee === undefined ? 0 : this.starts.startingCompletion(this.count, this.knee),
    };
    return permit;
  }

  release(permit: Permit, outcome: ReleaseOutcome): void {
    const now = outcome.nowMs;
    this.count = Math.max(0, this.count - 1);
    this.starts.completed(now, this.count);
    this.inflightChanged(now);
    const rtt = Math.max(0, now - permit.startMs);
    if (outcome.dropped && this.carry.dropped(rtt, this.serverView())) this.carryChanged();
    // Every completion held a server; only clean ones measure the round trip (an error can be
    // fast, and a dropped request may have been reclaimed long after it ended). A drop still shows
    // the queue it waited in (`delayMs`).
    const measured = !outcome.failed && !outcome.dropped;
    this.window.addCompletion();
    if (outcome.dropped && !outcome.failed) this.window.addDrop(rtt);
    if (measured) {
      this.window.addSample(rtt);
      this.slowStart(rtt);
      if (this.knee !== undefined && permit.inflight > this.knee && rtt > 0) this.carry.completed(rtt, permit.inflight);
      this.measureService(permit as KneePermit, now);
    }
    const p = this.probe;
    if (p.phase === 'draining' && this.count <= p.limit) {
      this.probe = { phase: 'admitting', limit: p.limit, cohort: { ...p.cohort, admittingFromMs: now } };
    } else if ((p.phase === 'admitting' || p.phase === 'awaiting') && (permit as KneePermit).cohort === p.cohort.id) {
      const c = p.cohort;
      c.done += 1;
      if (measured) addRoundTrip(c, rtt);
      if (p.phase === 'awaiting' && c.done >= c.admitted) this.finishProbe(c, now);
    } else if (this.recheck !== undefined && (permit as KneePermit).cohort === this.recheck.id) {
      const c = this.recheck;
      c.done += 1;
      if (measured) addRoundTrip(c, rtt);
      if (c.done >= c.size) this.finishRecheck(c);
    }
    this.maybeRoll(now);
  }

  tick(nowMs: number): void {
    this.maybeRoll(nowMs);
  }

  holdLimit(held: boolean): void {
    // The limit reported is `current` less the part of the burst carry not yet open, which opens
    // with time: holding `current` alone would let the reported limit climb as the carry opens.
    // A probe lowers the limit for a moment; the hold keeps the limit outside probes.
    this.limitCeiling = held ? this.current - this.carried * (1 - this.carry.openShare(this.nowMs)) : Number.POSITIVE_INFINITY;
    this.ceiling = held ? this.current : Number.POSITIVE_INFINITY;
  }

  /**
   * While starting up, a completion that found no queue (round trip under QUEUE_RATIO of the base)
   * after refusals opens one more slot, as TCP's slow start does per acknowledgement: the limit
   * doubles per round trip rather than per window, so a service started under load fills its
   * servers within a few round trips.
   */
  private slowStart(rttMs: number): void {
    const refused = this.refusedSinceCompletion;
    this.refusedSinceCompletion = false;
    if (!refused || !this.startingUp || this.knee !== undefined || this.probe.phase !== 'off') return;
    if (this.baseRttMs === undefined || rttMs >= QUEUE_RATIO * this.baseRttMs) return;
    this.current = this.clamp(this.current + 1);
  }

  /** A request that waited in the queue: its service time, from the completion that freed its server. */
  private measureService(permit: KneePermit, nowMs: number): void {
    const n = permit.startingCompletion;
    if (n === 0) return;
    const startMs = this.starts.timeOf(n);
    if (startMs !== undefined) this.carry.served(nowMs - startMs, this.starts.inflightAt(n));
  }

  /**
   * Requests in flight at which this priority is refused: sheddable traffic leaves a reserve under
   * the limit, critical traffic may go beyond it, so under overload the lower priorities give way.
   */
  private capFor(priority: Priority): number {
    const limit = Math.floor(this.limit);
    if (priority === 'sheddable') return limit - Math.max(1, Math.round(this.o.sheddableReserve * limit));
    if (priority === 'critical') return limit + Math.max(2, Math.round(this.o.criticalExtra * limit));
    return limit;
  }

  private inflightChanged(nowMs: number): void {
    this.window.inflightChanged(nowMs, this.count);
    this.carry.inflightChanged(nowMs, this.count, this.serverView());
  }

  /** Completions a window or a cohort needs for the wanted precision, given the spread seen. */
  private targetSamples(): number {
    const n = Math.ceil(this.cv2 / (this.o.precision * this.o.precision));
    return Math.min(MAX_SAMPLES, Math.max(MIN_SAMPLES, n));
  }

  private joinCohort(nowMs: number): number {
    const p = this.probe;
    if (p.phase !== 'admitting') return this.joinRecheck();
    p.cohort.admitted += 1;
    if (p.cohort.admitted >= p.cohort.size) {
      this.lastProbeAdmitMs = nowMs - p.cohort.admittingFromMs;
      this.probe = { phase: 'awaiting', cohort: p.cohort };
    }
    return p.cohort.id;
  }

  /** A request admitted a probe's depth below the knee starts at once: it may join the recheck. */
  private joinRecheck(): number {
    const c = this.recheck;
    if (c === undefined || c.admitted >= c.size || this.count > this.probeLimit(this.knee!)) return 0;
    c.admitted += 1;
    return c.id;
  }

  /**
   * A recheck's cohort is back: it is read against the calm base as a probe's cohort would be, and
   * the knee (a throughput times the base) scales with the base.
   */
  private finishRecheck(c: Cohort): void {
    this.recheck = undefined;
    if (c.rttCount === 0 || this.knee === undefined || this.baseRttMs === undefined) return;
    const previous = this.baseRttMs;
    const { base, samples } = readCohort(c, { base: previous, samples: this.baseSamples, cv2: this.cv2 });
    this.setBase(base, samples);
    this.knee *= base / previous;
    this.current = this.kneeLimit();
  }

  private maybeRoll(nowMs: number): void {
    this.nowMs = Math.max(this.nowMs, nowMs);
    this.expireProbe(nowMs);
    const elapsed = this.window.elapsedMs(nowMs);
    const full =
      this.window.sampleCount >= this.targetSamples() &&
      elapsed >= Math.max(this.o.minWindowMs, 2 * (this.baseRttMs ?? 0));
    if (!full && elapsed < this.o.maxWindowMs) return;
    const w = this.window.roll(nowMs);
    // A window of nothing but drops is learnt too: its queue is past the deadline.
    if (w.samples > 0 || w.drops > 0) this.learn(w, nowMs);
    if ((w.admissions > 0 && w.rejections === 0) || this.knee !== undefined) this.startingUp = false;
    // Loaded: all servers busy, at the knee, or before one is known at the limit.
    this.window.loadedFrom(this.knee ?? Math.max(1, Math.floor(this.limit) - 1));
  }

  private learn(w: WindowSummary, nowMs: number): void {
    // Short windows (low traffic) count for less.
    const target = this.targetSamples();
    const weight = Math.min(1, w.samples / target);
    if (w.samples > 1) this.cv2 += CV2_GAIN * weight * (w.rttCv2 - this.cv2);
    if (this.probe.phase !== 'off') return;
    if (this.settling) {
      this.settling = false;
      return;
    }
    if (this.baseRttMs === undefined) {
      if (w.samples > 0) this.setBase(w.meanRttMs, w.samples);
      return;
    }
    const { delayMs, delayed } = this.delay(w);
    const ratio = delayMs / this.baseRttMs;
    // Busy servers by Little's law: throughput x base round trip. Unlike inflight / ratio it does
    // not lag while a queue builds or drains.
    const busyOverWindow = (w.completions / Math.max(w.endMs - w.startMs, 1e-9)) * this.baseRttMs;
    // A queue stood through the window if inflight never fell below the knee, or round trips show
    // a queue half as long as the work, beyond what the window's sampling noise explains (few or
    // heavy-tailed round trips), or refusals go on behind a shorter one. It is overload (CoDel's
    // "bad queue", not a burst) once it meets the limit or lasts several windows.
    const queueInWindow =
      (this.knee !== undefined && w.minInflight >= this.knee) || this.showsQueue(ratio, STANDING_RATIO, delayed);
    // Only windows that show no queue by themselves are pooled (and a window without refusals
    // among them ends the run).
    // A window without arrivals is the silence after a burst, in which its queue is worked off.
    const silent = w.admissions === 0 && w.rejections === 0;
    const queued = queueInWindow || this.refusingBehindQueue(w, silent, delayMs, delayed);
    this.queuedWindows = queued ? this.queuedWindows + 1 : 0;
    const standing = queued && (w.rejections > 0 || this.queuedWindows >= STANDING_WINDOWS);
    if (!standing) {
      // A silence neither confirms nor clears a suspicion.
      if (!silent) this.suspicious = 0;
      this.calmWindows = w.rejections === 0 && !queued ? this.calmWindows + 1 : 0;
      if (!queued) this.adjustWithoutOverload(w, ratio, busyOverWindow, weight);
      return;
    }
    this.calmWindows = 0;
    const loaded = this.busyUnderLoad(w, busyOverWindow, delayed);
    if (loaded === undefined) {
      this.current = this.kneeLimit();
      return;
    }
    const busy = loaded.busy;
    // Estimates from few completions count for less, in the knee and in a surprise's reading.
    const kneeWeight = Math.min(1, loaded.samples / target);
    // While bursts are carried, a window spent wholly in the carried queue says nothing new about
    // the knee, and one that saw idle servers (the edge of a burst) would read them as fewer.
    if (
      this.knee !== undefined &&
      this.carry.extra(this.serverView()) > 0 &&
      (w.minInflight > this.shortLimit() || w.minInflight < this.knee)
    ) {
      this.suspicious = 0;
      this.current = this.kneeLimit();
      return;
    }
    // A surprise is a jump beyond the noise of the round trips and of the windows' estimates so far
    // (few servers or heavy-tailed service make one window's throughput swing widely).
    const noise = Math.sqrt(this.cv2 / loaded.samples);
    const tolerance = Math.max(Math.log(SURPRISE_RATIO), 3 * Math.max(noise, Math.sqrt(this.busyLogVar)));
    const deviation = this.knee === undefined ? Infinity : Math.log(busy / this.knee);
    if (this.knee === undefined || Math.abs(deviation) > tolerance) {
      // First overload, or the busy-server estimate jumped. On the first overload the base may be
      // stale, so a probe re-measures it and the window is re-read with it. A jump twice in a row is
      // checked by a probe below the knee: the same base there means noise or a moved knee, a
      // different one a change of service time.
      this.suspicious += 1;
      if (this.suspicious === 1) {
        this.suspectBusySum = 0;
        this.suspectRttSum = 0;
        this.suspectWindows = 0;
      }
      // The window in which a first overload began still shows the calm before it: not an estimate.
      if (this.knee !== undefined || this.suspicious > 1) {
        this.suspectBusySum += busy * kneeWeight;
        this.suspectRttSum += delayMs * kneeWeight;
        this.suspectWindows += kneeWeight;
      }
      if (this.suspicious >= 2) {
        this.startProbe(this.knee === undefined ? this.firstProbeLimit(busy) : this.probeLimit(this.knee), nowMs);
      }
      return;
    }
    this.suspicious = 0;
    if (w.completions > 0) {
      const r = (w.admissions + w.rejections) / w.completions;
      this.overloadRatio += RATIO_GAIN * weight * (r - this.overloadRatio);
    }
    // Re-measure the base when the knee has drifted since the last probe (the service time may have
    // changed slowly, below the surprise threshold), and in any case now and then.
    const drifted = this.kneeAtProbe !== undefined && Math.abs(Math.log(this.knee / this.kneeAtProbe)) > KNEE_DRIFT;
    if (drifted || nowMs - this.lastProbeMs >= this.routineProbeIntervalMs()) {
      this.startProbe(this.probeLimit(this.knee), nowMs);
    } else {
      this.kneeWindows += kneeWeight;
      const gain = kneeWeight / Math.min(this.kneeWindows, KNEE_WINDOWS);
      this.knee += gain * (busy - this.knee);
      this.busyLogVar += gain * (deviation * deviation - this.busyLogVar);
      // Drift is measured from the knee as it stood once enough windows were behind it.
      if (this.kneeAtProbe === undefined && this.kneeWindows >= KNEE_WINDOWS) this.kneeAtProbe = this.knee;
    }
    this.current = this.kneeLimit();
  }

  /**
   * Refusing for several windows in a row while their round trips, pooled, show a queue too short
   * to call standing in any one of them: that is overload too, or a base measured low, which the
   * overload's probe re-measures (and which then lets the limit grow). Without this the limit
   * would hold, refusing, as long as the demand lasts. Short bursts with silences between them
   * refuse in one window each, and their queue shows in the round trips of the silence after it.
   */
  private refusingBehindQueue(w: WindowSummary, silent: boolean, delayMs: number, delayed: number): boolean {
    const r = this.refusing;
    if (w.rejections === 0 && !(silent && r.windows > 0)) {
      r.windows = 0;
      r.samples = 0;
      r.rttSum = 0;
      return false;
    }
    r.samples += delayed;
    r.rttSum += delayMs * delayed;
    if (silent) return false;
    r.windows += 1;
    if (r.windows < STANDING_WINDOWS) return false;
    return this.showsQueue(r.rttSum / r.samples / this.baseRttMs!, QUEUE_RATIO, r.samples);
  }

  /**
   * The window's mean round trip as a queue shows it, and the completions behind it. Drops measure
   * no round trip (the base and the spread leave them out), but where most completions are drops a
   * queue stands past the deadline, and the few clean round trips, or none at all, would not show
   * it: the window would never count as overloaded and the limit would stand for good. There they
   * count with their round trips. A few drops are the service's tail, which the spread of round
   * trips does not cover: one of 1 s among fifty of 20 ms would read as a queue.
   */
  private delay(w: WindowSummary): { delayMs: number; delayed: number } {
    if (w.drops > w.samples) return { delayMs: w.delayMs, delayed: w.samples + w.drops };
    return { delayMs: w.meanRttMs, delayed: w.samples };
  }

  /**
   * Busy servers in an overloaded window, with the completions behind the estimate: over the whole
   * window, unless the servers went idle in it (a silence between bursts, which a window longer
   * than a burst would read as fewer servers); then over the time loaded only. A window never
   * loaded (a straggler's slow round trip after the burst) says nothing about the knee.
   */
  private busyUnderLoad(
    w: WindowSummary,
    busyOverWindow: number,
    delayed: number,
  ): { busy: number; samples: number } | undefined {
    if (w.minInflight > 0) return { busy: busyOverWindow, samples: delayed };
    if (w.loadedCompletions === 0 || !(w.loadedMs > 0)) return undefined;
    return { busy: (w.loadedCompletions / w.loadedMs) * this.baseRttMs!, samples: w.loadedCompletions };
  }

  /**
   * Whether round trips averaging `ratio` times the base over `samples` exceed `threshold` by more
   * than their sampling noise explains (three standard errors of the mean's logarithm).
   */
  private showsQueue(ratio: number, threshold: number, samples: number): boolean {
    return Math.log(ratio) >= Math.log(threshold) + 3 * Math.sqrt(this.cv2 / samples);
  }

  private adjustWithoutOverload(w: WindowSummary, ratio: number, busy: number, weight: number): void {
    // A visible queue that has not met the limit: hold the limit and let the queue decide.
    if (ratio >= QUEUE_RATIO || this.baseRttMs === undefined) return;
    if (w.rejections > 0) {
      // Bursts met the limit before the server queued: grow as above a knee of the current size.
      this.current = this.grownLimit();
      return;
    }
    // Calm: well below the knee the round trip is the base. Once the overload is over (a few calm
    // windows in a row, not a lull) the limit opens to twice the recent peak so that bursts below
    // capacity are not refused; otherwise it only relaxes towards that, never below the knee's limit.
    if (w.meanInflight <= UNLOADED_SHARE * (this.knee ?? this.current / 2)) {
      const gain = BASE_GAIN * weight;
      this.baseRttMs += gain * (w.meanRttMs - this.baseRttMs);
      this.baseSamples = Math.min((1 - gain) * this.baseSamples + w.samples, this.maxBaseSamples());
    }
    this.provenBusy = Math.max(this.provenBusy * PEAK_DECAY, busy);
    this.peakInflight = Math.max(this.peakInflight * PEAK_DECAY, w.maxInflight);
    const room = 2 * this.peakInflight;
    const open = this.calmWindows >= CALM_WINDOWS ? room : Math.min(this.current, room);
    this.current = this.clamp(Math.max(this.kneeLimit(), open));
    // The open limit is not carried: only what the knee's limit adds above it opens over a burst.
    this.carried = Math.max(0, Math.min(this.carried, this.current - open));
  }

  /** The limit as if it were a knee, with the queue kept beyond one. */
  private grownLimit(): number {
    // The refusals met the limit without the carry's closed part: that rest grows, and the carry
    // still opens over each burst.
    const met = this.metLimit();
    const grown = met * (1 + this.o.headroom) + this.o.queueSlots;
    return this.clamp((this.startingUp ? Math.max(grown, 2 * met) : grown) + this.carried);
  }

  /**
   * The carry changed (its allowance at a burst's first refusal, its allowance or wait bound on a
   * drop): the limit follows at once, keeping the part the refusals met. Left to the windows, it
   * waited for one that recomputes the carry; those in a silence, or with a queue visible but not
   * standing, hold the limit, and against short bursts of slow requests few windows end within a
   * burst. A carry then stayed out of the limit for many bursts, and a deadline seen did not
   * shorten the carried queue.
   */
  private carryChanged(): void {
    if (this.knee === undefined || this.probe.phase !== 'off') return;
    const met = this.metLimit();
    const limit = this.clamp(Math.max(met, this.shortLimit() + this.carry.extra(this.serverView())));
    this.carried = Math.max(0, limit - met);
    this.current = limit;
  }

  /** The limit without the carried queue: the part refusals meet whatever share of the carry is open. */
  private metLimit(): number {
    return this.current - this.carried;
  }

  /** Samples the base may count at most, so that it keeps following slow change. */
  private maxBaseSamples(): number {
    return KNEE_WINDOWS * this.targetSamples();
  }

  /**
   * The knee plus the queue that keeps the servers from idling, plus any queue carried for bursts
   * (noted in `carried`, as it opens only over a burst).
   */
  private kneeLimit(): number {
    if (this.knee === undefined) return this.current;
    const short = this.shortLimit();
    const extra = this.carry.extra(this.serverView());
    const limit = this.clamp(short + extra);
    this.carried = Math.max(0, Math.min(extra, limit - short));
    return limit;
  }

  private serverView(): ServerView {
    this.server.knee = this.knee;
    this.server.baseRttMs = this.baseRttMs;
    this.server.probing = this.probe.phase === 'draining' || this.probe.phase === 'admitting';
    return this.server;
  }

  /**
   * The knee plus the queue that keeps the servers from idling: the birth-death chain's, at most
   * half a knee, as contention may make every queued request slow the service. Once completions
   * bound the contention, the queue is as long as pays (`bestQueue`), up to one knee: near
   * capacity the short queue runs dry often enough to idle a few percent of the servers.
   */
  private shortLimit(): number {
    const knee = this.knee ?? 0;
    const base = knee * this.o.headroom + this.o.queueSlots;
    const cap = MAX_QUEUE_SHARE * knee + this.o.queueSlots;
    const short = Math.max(base, Math.min(cap, this.bufferFor(this.overloadRatio)));
    const slowdown = this.carry.slowdownBound();
    if (slowdown === undefined) return knee + short;
    return knee + bestQueue(knee, this.overloadRatio, slowdown, IDLE_TARGET, short, PROVEN_QUEUE_SHARE * knee);
  }

  /**
   * Queue needed so that the server rarely idles: while overloaded, the queue behind the busy
   * servers rises with each arrival and falls with each completion, a birth-death chain with ratio
   * r = arrivals / completions that is empty with probability (r - 1) / (r^(q + 1) - 1). The closer
   * the overload is to capacity, the longer the queue must be.
   */
  private bufferFor(r: number): number {
    if (!(r > 1.01)) return Infinity;
    return Math.log((r - 1) / IDLE_TARGET + 1) / Math.log(r) - 1;
  }

  private routineProbeIntervalMs(): number {
    return Math.max(this.o.probeIntervalMs, (this.o.probeDepth * this.lastProbeAdmitMs) / this.o.probeBudget);
  }

  /**
   * A probe's limit, below the knee: its cohort must start service at once. A probe above the true
   * knee would only measure its own queue (and confirm itself); one below it is corrected by the next.
   */
  private probeLimit(knee: number): number {
    return Math.max(this.o.minLimit, Math.round(knee * (1 - this.o.probeDepth)));
  }

  /**
   * The first overload has no knee to go below: its probe runs at the window's estimate, or at the
   * most servers seen busy before if the estimate is lower (a slower service shrinks the estimate).
   */
  private firstProbeLimit(busy: number): number {
    return Math.max(this.o.minLimit, Math.round(Math.max(busy, this.provenBusy)));
  }

  private startProbe(limit: number, nowMs: number): void {
    const cohort = newCohort(++this.probeIds, nowMs, this.targetSamples());
    // A probe re-measures the base itself.
    this.recheck = undefined;
    this.lastProbeMs = nowMs;
    this.probe = this.count <= limit ? { phase: 'admitting', limit, cohort } : { phase: 'draining', limit, cohort };
  }

  private finishProbe(c: Cohort, nowMs: number): void {
    this.probe = { phase: 'off' };
    // The start-up cohort ran at the initial limit, not below one: it left no drain to skip.
    this.settling = this.baseRttMs !== undefined;
    this.lastProbeMs = nowMs;
    const suspects = this.suspectWindows;
    this.suspicious = 0;
    this.suspectWindows = 0;
    const previous = this.baseRttMs;
    // The busy-server estimate now (a surprise's windows, or the drifted knee) against the knee as
    // last confirmed: the cohort tells whether the servers or the service time changed.
    const suspectBusy = suspects > 0 ? this.suspectBusySum / suspects : undefined;
    if (c.rttCount === 0) {
      if (c.admitted > 0) return;
      // Nothing arrived while it admitted (the silence after a burst), so nothing drained either:
      // the base stands as measured while calm, and a first overload is read with it. Otherwise the
      // next burst would probe again into the next silence, and the knee, which carrying bursts
      // needs, would never be set.
      this.settling = false;
      if (this.knee === undefined && previous !== undefined && suspectBusy !== undefined) {
        this.readFirstOverload(suspectBusy, suspects, previous);
        if (this.knee !== undefined) this.recheck = newCohort(++this.probeIds, nowMs, c.size);
        this.current = this.kneeLimit();
      }
      return;
    }
    if (previous === undefined) {
      this.setBase(c.rttSum / c.rttCount, c.rttCount);
      return;
    }
    const { base, samples, serviceChanged } = readCohort(c, {
      base: previous,
      samples: this.baseSamples,
      cv2: this.cv2,
      estimate: suspectBusy ?? this.knee,
      reference: suspectBusy !== undefined ? this.knee : this.kneeAtProbe,
    });
    this.setBase(base, samples);
    // Busy-server estimates scale with the base.
    const rescale = base / previous;
    if (this.knee === undefined) {
      if (suspectBusy !== undefined) this.readFirstOverload(suspectBusy * rescale, suspects, base);
    } else if (suspectBusy !== undefined) {
      // The surprise's few windows weigh against those behind the knee, and the running mean
      // restarts from there: quick to follow a real change, and one noisy pair does not set the knee.
      // Windows from before a change of service time keep their reading.
      const behind = Math.min(this.kneeWindows, KNEE_WINDOWS);
      const before = serviceChanged ? this.knee : this.knee * rescale;
      this.resetKnee((before * behind + suspectBusy * rescale * suspects) / (behind + suspects), suspects);
    } else {
      this.knee *= rescale;
      if (this.kneeAtProbe !== undefined) this.kneeAtProbe = this.knee;
    }
    this.current = this.kneeLimit();
  }

  /**
   * The windows of a first overload, read with the base: round trips no longer than the base's
   * showed no queue behind the refusals, so the limit, not the server, was the bottleneck (a base
   * measured low read them as a queue) and it grows; otherwise they set the knee.
   */
  private readFirstOverload(busy: number, windows: number, base: number): void {
    const queueShown = this.suspectRttSum / windows >= QUEUE_RATIO * base;
    if (queueShown) this.resetKnee(busy, windows);
    else this.current = this.grownLimit();
  }

  private setBase(base: number, samples: number): void {
    this.baseRttMs = base;
    this.baseSamples = Math.min(samples, this.maxBaseSamples());
  }

  /** Sets the knee from `windows` windows' estimate; drift is measured once it has matured. */
  private resetKnee(knee: number, windows: number): void {
    this.knee = knee;
    this.kneeWindows = windows;
    this.kneeAtProbe = undefined;
  }

  private expireProbe(nowMs: number): void {
    const p = this.probe;
    if (p.phase === 'off') return;
    const age = nowMs - p.cohort.startedMs;
    if (p.phase === 'admitting' && this.firstOverloadInSilence(p.cohort, nowMs)) {
      this.finishProbe(p.cohort, nowMs);
      // The window open now began under the probe and is skipped, as after any probe; the carry
      // tracks the inflight against the knee from now on.
      this.settling = true;
      this.inflightChanged(nowMs);
    } else if (p.phase !== 'awaiting' && age > 2 * this.o.maxWindowMs) {
      // Low traffic or slow service: hold the limit down no longer and use the cohort admitted so far.
      if (p.phase === 'admitting') this.lastProbeAdmitMs = nowMs - p.cohort.admittingFromMs;
      if (p.cohort.done >= p.cohort.admitted) this.finishProbe(p.cohort, nowMs);
      else this.probe = { phase: 'awaiting', cohort: p.cohort };
    } else if (age > PROBE_TIMEOUT_MS) {
      this.probe = { phase: 'off' };
    }
  }

  /**
   * Whether a first overload's probe admits into a silence: nothing admitted yet, and no arrival
   * for a base round trip. Its cohort would wait for the next burst, and with it the knee that the
   * silence's regret is measured against.
   */
  private firstOverloadInSilence(c: Cohort, nowMs: number): boolean {
    if (this.knee !== undefined || this.baseRttMs === undefined || c.admitted > 0) return false;
    return nowMs - this.lastArrivalMs >= this.baseRttMs;
  }

  private clamp(limit: number): number {
    return Math.min(this.o.maxLimit, Math.max(this.o.minLimit, Math.min(this.ceiling, limit)));
  }
}

function checkKneeOptions(o: KneeOptions): KneeOptions {
  for (const [key, value] of Object.entries(o)) {
    if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
      throw invalidArgument(key, 'must be a finite number >= 0');
    }
  }
  if (o.minLimit < 1) throw invalidArgument('minLimit', 'must be >= 1');
  if (o.maxLimit < o.minLimit) throw invalidArgument('maxLimit', 'must be >= minLimit');
  if (o.initialLimit < o.minLimit || o.initialLimit > o.maxLimit) {
    throw invalidArgument('initialLimit', 'must lie within [minLimit, maxLimit]');
  }
  if (o.precision <= 0) throw invalidArgument('precision', 'must be > 0');
  if (o.probeDepth >= 1) throw invalidArgument('probeDepth', 'must be < 1');
  if (o.probeBudget <= 0) throw invalidArgument('probeBudget', 'must be > 0');
  if (o.maxWindowMs <= 0) throw invalidArgument('maxWindowMs', 'must be > 0');
  return o;
}
