/**
 * Queue allowed beyond the knee's limit so that a burst is carried into the idle time after it.
 *
 * Under sustained overload a longer queue buys only latency: the servers are busy anyway. After a
 * burst, though, they idle, and every request refused during the burst that could have waited for
 * that idle time (within the wait a client accepts) is goodput lost. This is CoDel's "good queue":
 * one that drains. The allowance is learnt from regret: when refusals are followed by idle servers,
 * it grows by half the work that could have been carried (or to the smallest carry worth using,
 * where all of it reaches that), or by all of it as far as round trips prove a queue that long
 * harmless (up to the standard wait until a deadline is seen), and when a carried queue is still
 * not worked off as the next burst begins, it shrinks unless proven harmless; requests dropped for
 * their deadline bound the wait (until one is seen, a carry in use probes ever longer waits where
 * proven harmless), and drops the wait bound does not explain, more than the service's tail would
 * give (an overshoot), halve it, or take a tenth where it is proven harmless (once per burst); an
 * overload that outlasts the bursts seen so far clears it. It is used only for bursts short against
 * its wait (every request of the burst pays the wait, for that wait's worth of extra work), and it
 * opens over each burst, as it is needed only at its end. A queue only costs nothing when extra
 * requests in flight do not slow the server (no contention: GC, memory or lock thrash). Completions
 * of queued requests measure that slowdown per request in flight: where the slower service during a
 * burst would cost more than the carried requests gain, nothing is carried, and where they prove it
 * negligible, the wait may be longer.
 */

/** Longest wait (in base round trips) a carried request may be given before any deadline is seen... */
const MAX_WAIT_BASES = 25;
/**
 * ...or, where bursts are too long for that wait to be used (see MIN_CARRY_SHARE), as long as the
 * smallest carry used, at least MIN_WAIT_MS and at most MAX_TRUSTED_WAIT_MS: clients wait in time,
 * not in service times. A fast service's 25 round trips (125 ms at 5 ms) are too short against
 * bursts of a second, and a quarter second against bursts of two, so such a carry would never be
 * used, never proven harmless and never grow. Longer bursts (over 2.7 s) are not carried on trust:
 * every request of the burst would wait more than 0.4 s for a small share of its work (with 0.5 s,
 * three-second bursts gained nothing measurable and lost goodput under contention).
 */
const MIN_WAIT_MS = 250;
const MAX_TRUSTED_WAIT_MS = 400;
/**
 * Share of the shortest deadline seen (the round trip of a dropped request) a carried request may
 * wait. The rest is a margin for a queue that runs slower than the wait bound assumes (contention
 * not yet measured); as the queue opens over each burst, round trips show contention before a full
 * one is built, so the margin need not be half.
 */
const DEADLINE_SHARE = 0.7;
/**
 * Where round trips prove that a queue carried this long would slow service by less than
 * NEGLIGIBLE_SLOWDOWN (the contention estimate plus PROOF_ERRORS standard errors), a carried request
 * may wait this many base round trips, or this share of the deadline: a queue costs only its wait.
 */
const PROVEN_WAIT_BASES = 50;
const PROVEN_DEADLINE_SHARE = 0.9;
/**
 * Until a deadline is seen, the longest proven wait doubles each time it stops the growth of a
 * carry in use, or a carry in use fills it and idle servers follow within twice it (clients may
 * wait far longer than 50 service times), up to this many base round trips, and the carry grows
 * into it at once; the first drop then shows the deadline.
 */
const MAX_PROBED_WAIT_BASES = 1600;
const NEGLIGIBLE_SLOWDOWN = 0.05;
/**
 * Standard errors added to the contention estimate for a proof of harmlessness (a one-sided bound
 * at about 93 %). Where the service's spread makes round trips read contention that is not there,
 * the proof comes bursts late; two delayed it further without a measured gain under contention,
 * and one let a queue just above capacity under contention grow.
 */
const PROOF_ERRORS = 1.5;
/**
 * Refusals less than this many base round trips apart belong to the same burst, and servers idle
 * for less than this are a dip of a queue near capacity, not a silence a burst could be carried into...
 */
const BURST_GAP_BASES = 5;
/**
 * ...unless arrivals stopped: no arrival for as long as the busy servers take to work off this many
 * requests is a silence too. Arriving at capacity or faster, as in an overload, requests leave such
 * a gap by chance with probability e^-7 (0.1 %) per gap's length of time, so a queue near capacity
 * seldom shows one.
 */
const SILENCE_ARRIVALS = 7;
/** Share of the regret (work refused that idle servers could have carried) added per burst. */
const REGRET_GAIN = 0.5;
/**
 * A carried queue delays every request of a burst by its wait and adds that wait's worth of work:
 * carried only while the wait is at least this share of the burst (short bursts; a long one gains
 * little and would run at the longer latency throughout).
 */
const MIN_CARRY_SHARE = 0.15;
/**
 * Drops within the wait bound, as a share of the allowance, that make an overshoot. Fewer are the
 * tail of the service time (long requests behind a queue the bound allows): shrinking the carry
 * would save few of them and lose many carried requests.
 */
const OVERSHOOT_DROP_SHARE = 0.05;
/** Factor applied to the allowance by an overshoot. */
const OVERSHOOT_SHRINK = 0.5;
/**
 * The same where round trips prove a queue that long harmless: the overshoot costs only its drops,
 * while halving would cost a burst's worth of carried requests.
 */
const PROVEN_OVERSHOOT_SHRINK = 0.9;
/**
 * Factor applied to the allowance when a carried queue, not proven harmless, was still not worked
 * off as the next burst began. A tenth: whether carrying pays is the contention fits' to say, and a
 * carry near the silence's length spills often (a quarter per spill wore such carries down).
 */
const SPILL_SHRINK = 0.9;
/**
 * A burst's queue must drain by more than the servers and this share of the allowance during a
 * pause in refusals to show a spill or a new burst: with few servers and heavy-tailed service the
 * queue of a burst that goes on swings by more than the servers, and each such swing, read as a
 * spill, shrank the carry and shortened the longest burst remembered.
 */
const SPILL_DRAIN_SHARE = 0.25;
/** An overload longer than this many times the longest burst seen is sustained, not a burst. */
const SUSTAINED_FACTOR = 2;
/** Longest-burst memory decays by this factor per burst, so a change of pattern is followed. */
const BURST_MEMORY = 0.9;
/** Weight kept per completion in each contention fit: about the last 20 000 count. */
const CONTENTION_KEEP = 1 - 1 / 20_000;
/** Completions needed before the contention estimate is read. */
const MIN_CONTENTION_SAMPLES = 128;
/**
 * Carrying pays while kappa x (completions while refusing - carried) stays below 1 (see extra());
 * this margin under 1 allows for the estimate reading contention a little low (it is the lower of
 * two fits, each taken one standard error low).
 */
const CONTENTION_MARGIN = 0.8;
/**
 * Standard errors added to the contention estimate: -1, so that only contention that is shown
 * stops carrying. A server without contention shows too little spread of inflight to prove it
 * while nothing is carried, so carrying starts on trust and the carried queue itself is the test.
 */
const CONTENTION_ERRORS = -1;

export interface ServerView {
  /** Busy servers under overload, if known. */
  knee: number | undefined;
  /** Round trip without queueing, if known. */
  baseRttMs: number | undefined;
  /**
   * Whether a probe holds the limit at or below the knee: servers it leaves idle are its own doing,
   * which no carried queue could have filled.
   */
  probing: boolean;
}

export class BurstCarry {
  /** Requests allowed in flight beyond the knee's limit. */
  private allowance = 0;
  private deadlineMs = Infinity;
  /** Longest wait, in base round trips, a carried request proven harmless may get. */
  private provenWaitBases = PROVEN_WAIT_BASES;
  /** Work (in requests) the servers could have done while idle since the last burst. */
  private readonly idleCredit: IdleWork = { within: 0, beyond: 0 };
  /** Idle credit of the current stretch below the knee, counted once it has lasted long enough to be a silence. */
  private readonly silenceCredit: IdleWork = { within: 0, beyond: 0 };
  private refusedInBurst = 0;
  /**
   * Refusals since the last burst followed by idle servers. Near capacity a pause in refusals
   * splits a burst (the queue dips below the knee for a moment while requests keep arriving); where
   * arrivals then stopped, the whole burst is the regret's, as a carried queue kept full takes its
   * share from all of it. Idle servers amid arrivals (a lull of a sustained overload just above
   * capacity) count only the refusals since the pause.
   */
  private refusedSinceSilence = 0;
  /** Whether the idle credit since the last refusal includes a gap without arrivals. */
  private arrivalsStopped = false;
  /** Whether this burst's drops were answered already: the bound shortened, or the allowance shrunk. */
  private dropsAnsweredInBurst = false;
  /** Drops in this burst the wait bound does not explain. */
  private unexplainedDrops = 0;
  private lastRefusalMs = -Infinity;
  private burstStartMs = -Infinity;
  /**
   * A burst is open from its first refusal until the servers next go idle: a silence, or a dip
   * below the knee followed by five base round trips without a refusal.
   */
  private burstOpen = false;
  private longestBurstMs = 0;
  /** Longest time from a burst's first refusal to its last (decaying). */
  private longestRefusingMs = 0;
  private lastChangeMs = 0;
  /** Since when the servers have been below the knee without a break. */
  private idleSinceMs = Infinity;
  /** Last admission or refusal, and whether a gap without arrivals (a silence) came since the last refusal. */
  private lastArrivalMs = -Infinity;
  private silenceSinceRefusal = false;
  private inflight = 0;
  /**
   * Highest inflight since the last refusal, and the deepest drain from such a high since: whether
   * the queue drained in between (a carry that opened after the last refusal filled above it).
   */
  private highestSinceRefusal = 0;
  private drainSinceRefusal = 0;
  /**
   * The first time since the last refusal that the inflight was seen below the knee: the queue
   * drained there, for a moment near capacity, or for good in a silence.
   */
  private dipSinceRefusalMs = Infinity;
  /** Round trip per request ahead against the inflight at admission: precise, but biased (see `completed`). */
  private readonly roundTripFit = new ContentionFit();
  /** Service time against the inflight it ran under: no bias from the queue found, noisier, only as right as the knee. */
  private readonly serviceFit = new ContentionFit();

  /**
   * Extra requests allowed in flight, bounded by the wait a carried request may get. Carrying E
   * requests gains E (served in the idle time after the burst) and slows the service while refusing
   * by 1 + kappa E, where kappa is the relative slowdown per request in flight: over a burst of X T
   * completions that loses X T kappa E / (1 + kappa E). It pays while kappa (X T - E) < 1: always
   * without contention, and with contention only when the carried queue is large against the burst.
   * Kappa is the lower of the two fits' estimates: each reads contention where there is none in a
   * way of its own (round trips behind a queue that slow requests built; service times with a knee
   * read a server high, which starts every queued request a completion early), and contention
   * shows in both.
   */
  extra(server: ServerView): number {
    const { knee, baseRttMs } = server;
    if (knee === undefined || baseRttMs === undefined || baseRttMs <= 0) return 0;
    const carried = Math.min(this.allowance, this.requestsWithin(baseRttMs, knee));
    if (!(carried > 0)) return 0;
    if (carried < this.smallestUsed(baseRttMs, knee)) return 0;
    const whileRefusing = (knee / baseRttMs) * this.longestRefusingMs;
    // Until inflight has varied enough to tell, carrying starts on trust.
    const kappa = lowest(
      this.roundTripFit.slowdownPerRequest(CONTENTION_ERRORS),
      this.serviceFit.slowdownPerRequest(CONTENTION_ERRORS),
    ) ?? 0;
    return kappa * (whileRefusing - carried) < CONTENTION_MARGIN ? carried : 0;
  }

  /**
   * Share of the allowance open at `nowMs`. A carried queue pays only as a burst ends, worked off
   * into the silence after it; until then it buys nothing and costs every request admitted behind
   * it its wait (and with contention, slower service). So it opens over each burst, from nothing at
   * its first refusal to all of it when the longest recent burst stopped refusing: a burst that long
   * still ends with the full queue, and round trips show the slowdown of a partial queue before a
   * full one is built.
   */
  openShare(nowMs: number): number {
    if (!this.burstOpen) return 0;
    if (!(this.longestRefusingMs > 0)) return 1;
    return Math.min(1, (nowMs - this.burstStartMs) / this.longestRefusingMs);
  }

  /**
   * A request that was admitted behind a queue (`admittedAt` in flight, itself included, above the
   * busy servers) completed. In a FIFO with busy servers the round trip is admittedAt x service
   * time / servers, so round trip per request ahead measures the service time, which grows with
   * the inflight only if service slows with load: the contention signal, from every completion
   * rather than from noisy throughput windows. The inflight is the one found at admission, fixed
   * before the round trip: an average over the round trip would be lower when service runs fast
   * (the queue drains) and read variable service as contention. While the inflight holds steady it
   * varies too little to tell, and the fit says so by its standard error. A round trip still
   * depends on the queue found at admission beyond the service: a queue builds while slow requests
   * hold the servers, so with heavy-tailed or bimodal service the round trip per request ahead is
   * longer behind a long queue, without any contention; and while a queue drains, the inflight
   * found at admission is more than the service runs under, which reads contention a little low.
   */
  completed(rttMs: number, admittedAt: number): void {
    if (rttMs > 0 && admittedAt > 0) this.roundTripFit.add(admittedAt, rttMs / admittedAt);
  }

  /**
   * A request that waited in the queue ran `serviceMs` (from the completion that freed its server
   * to its own: see ServiceStarts) under `inflightAtStart`. Its service time does not depend on
   * the queue it found, so it measures contention without that bias, one noisy service time per
   * sample where a round trip averages a queue's worth of them.
   */
  served(serviceMs: number, inflightAtStart: number): void {
    if (serviceMs > 0 && inflightAtStart > 0) this.serviceFit.add(inflightAtStart, serviceMs);
  }

  /**
   * Counts idle servers (below the knee for longer than the gap between bursts) within the wait
   * bound after the last refusal. The servers idle for a silence end a burst: it lasted from its
   * first refusal until its queue was worked off.
   */
  inflightChanged(nowMs: number, inflight: number, server: ServerView): void {
    const { knee, baseRttMs } = server;
    if (knee !== undefined && baseRttMs !== undefined && baseRttMs > 0 && this.inflight < knee) {
      if (!server.probing) {
        const waitMs = this.maxWaitMs(baseRttMs, knee);
        this.silenceCredit.within += this.idleSinceChange(nowMs, waitMs, knee, baseRttMs);
        this.silenceCredit.beyond += this.idleSinceChange(nowMs, 2 * waitMs, knee, baseRttMs);
      }
      // Only a silence counts, not the brief dips of a queue running near capacity; once idle long
      // enough to be one, or without arrivals for long enough, all of it does.
      const idleLong = nowMs - this.idleSinceMs >= BURST_GAP_BASES * baseRttMs;
      const noArrivals = nowMs - Math.max(this.idleSinceMs, this.lastArrivalMs) >= this.silentGapMs(server);
      if (idleLong || noArrivals) {
        if (noArrivals) this.arrivalsStopped = true;
        this.idleCredit.within += this.silenceCredit.within;
        this.idleCredit.beyond += this.silenceCredit.beyond;
        clearIdleWork(this.silenceCredit);
      }
      // The burst is over once its servers have been idle for a silence since its last refusal (a
      // refusal below the knee, of sheddable work or in a probe, does not end it at once).
      const idleFrom = Math.max(this.idleSinceMs, this.lastRefusalMs);
      if (this.burstOpen && (noArrivals || nowMs - idleFrom >= BURST_GAP_BASES * baseRttMs)) this.closeBurst(nowMs);
    }
    if (knee === undefined || inflight >= knee) {
      this.idleSinceMs = Infinity;
      clearIdleWork(this.silenceCredit);
    } else {
      if (this.idleSinceMs === Infinity) this.idleSinceMs = nowMs;
      if (this.dipSinceRefusalMs === Infinity) this.dipSinceRefusalMs = nowMs;
    }
    // Refusals that did not resume at once after a dip ended the burst there, as a refusal now would.
    if (this.burstOpen && this.dipSinceRefusalMs < Infinity && nowMs - this.lastRefusalMs > BURST_GAP_BASES * (baseRttMs ?? 0)) {
      this.closeBurst(nowMs);
    }
    this.lastChangeMs = Math.max(this.lastChangeMs, nowMs);
    if (inflight > this.inflight) this.arrived(nowMs, server);
    this.inflight = inflight;
    this.highestSinceRefusal = Math.max(this.highestSinceRefusal, inflight);
    this.drainSinceRefusal = Math.max(this.drainSinceRefusal, this.highestSinceRefusal - inflight);
  }

  /** Idle servers' work (in requests) since the last change, within `waitMs` of the last refusal. */
  private idleSinceChange(nowMs: number, waitMs: number, knee: number, baseRttMs: number): number {
    const from = Math.max(this.lastChangeMs, this.lastRefusalMs);
    const until = Math.min(nowMs, this.lastRefusalMs + waitMs);
    return until > from ? ((knee - this.inflight) * (until - from)) / baseRttMs : 0;
  }

  /**
   * A request was refused: a new burst starts after a quiet gap, and its predecessor is judged.
   * Returns whether the allowance changed.
   */
  refused(nowMs: number, server: ServerView): boolean {
    const before = this.allowance;
    const { knee, baseRttMs } = server;
    const base = baseRttMs ?? 0;
    this.arrived(nowMs, server);
    const quiet = nowMs - this.lastRefusalMs > BURST_GAP_BASES * base || this.silenceSinceRefusal;
    // Refusals resuming at once after a dip below the knee continue the burst, its carry still
    // opening over it; after a quiet gap they begin a new one, the last having ended at the dip.
    if (quiet && this.burstOpen && this.dipSinceRefusalMs < Infinity) this.closeBurst(nowMs);
    // A pause in refusals while the queue stayed full is the same burst: the limit rose and the
    // queue grew into it. A new burst, or a spill, shows the queue drained in between.
    const spillDrain = Math.max(knee ?? 0, SPILL_DRAIN_SHARE * this.allowance);
    const drained = !this.burstOpen || this.drainSinceRefusal > spillDrain;
    if (quiet && drained) {
      // Whether the carry was used in the burst that ended is judged against the bursts before it:
      // that burst's length, taken in next, may raise the smallest carry used above the allowance.
      const used =
        knee !== undefined && base > 0 && this.allowance > 0 && this.allowance >= this.smallestUsed(base, knee);
      if (this.refusedInBurst > 0) {
        this.longestRefusingMs = Math.max(this.longestRefusingMs * BURST_MEMORY, this.lastRefusalMs - this.burstStartMs);
      }
      if (this.burstOpen) {
        // The carried queue was not worked off before this burst: it spilled into it, slowing it
        // where there is contention and only adding latency where there is not (the limit still
        // bounds the wait), so only a queue not proven harmless shrinks.
        if (this.allowance > this.harmlessRequests()) this.allowance *= SPILL_SHRINK;
      } else if (this.refusedInBurst > 0 && knee !== undefined) {
        if (baseRttMs !== undefined && baseRttMs > 0) this.grow(baseRttMs, knee, used);
        else this.allowance = 0;
      }
      if (this.idleCredit.beyond > 0) this.refusedSinceSilence = 0;
      this.arrivalsStopped = false;
      this.burstStartMs = nowMs;
      this.burstOpen = true;
      this.refusedInBurst = 0;
      clearIdleWork(this.idleCredit);
      clearIdleWork(this.silenceCredit);
      this.dropsAnsweredInBurst = false;
      this.unexplainedDrops = 0;
    } else if (
      this.allowance > 0 &&
      this.burstOpen &&
      nowMs - this.burstStartMs > SUSTAINED_FACTOR * this.longestBurstSeenMs() + this.maxWaitMs(base, knee)
    ) {
      // Refusals without a break for longer than any burst so far: carrying buys only latency (and
      // once cleared, the check is not repeated on every refusal of a sustained overload).
      this.allowance = 0;
    }
    this.refusedInBurst += 1;
    this.refusedSinceSilence += 1;
    this.lastRefusalMs = nowMs;
    this.silenceSinceRefusal = false;
    this.highestSinceRefusal = this.inflight;
    this.drainSinceRefusal = 0;
    this.dipSinceRefusalMs = knee !== undefined && this.inflight < knee ? nowMs : Infinity;
    return this.allowance !== before;
  }

  /** The burst ended at its first dip below the knee since its last refusal (now, if the knee moved to show one). */
  private closeBurst(nowMs: number): void {
    this.burstOpen = false;
    this.longestBurstMs = Math.max(this.longestBurstMs * BURST_MEMORY, Math.min(this.dipSinceRefusalMs, nowMs) - this.burstStartMs);
  }

  /**
   * Longest burst seen: until its servers went idle, and at least as long as it refused (a burst
   * that spills into the next never goes idle, and only its refusals measure it).
   */
  private longestBurstSeenMs(): number {
    return Math.max(this.longestBurstMs, this.longestRefusingMs);
  }

  /** A request arrived (admitted or refused): notes whether arrivals had stopped long enough before it. */
  private arrived(nowMs: number, server: ServerView): void {
    if (nowMs - this.lastArrivalMs >= this.silentGapMs(server)) this.silenceSinceRefusal = true;
    this.lastArrivalMs = nowMs;
  }

  /**
   * The gap without arrivals that makes a silence: SILENCE_ARRIVALS requests' worth of the busy
   * servers' work; before a knee is known, a base round trip (arrivals that overload even one
   * server leave such a gap with probability e^-1 at most; with no silence at all, the bursts of a
   * first overload ran together into one of seconds, remembered for some twenty bursts).
   */
  private silentGapMs(server: ServerView): number {
    const { knee, baseRttMs } = server;
    if (baseRttMs === undefined) return Infinity;
    if (knee === undefined || !(knee > 0)) return baseRttMs;
    return (SILENCE_ARRIVALS * baseRttMs) / knee;
  }

  /**
   * A request missed its deadline: carried requests must wait less. A drop quicker than a base
   * round trip says nothing about the deadline (a client gave up early) and is ignored. Returns
   * whether the carry changed: its allowance, or the deadline that bounds its wait.
   */
  dropped(rttMs: number, server: ServerView): boolean {
    if (server.baseRttMs !== undefined && rttMs < server.baseRttMs) return false;
    const before = this.allowance;
    const deadlineBefore = this.deadlineMs;
    const { knee, baseRttMs } = server;
    // A wait bound longer than the deadline explains the drop, and the deadline now shortens it;
    // otherwise the request ran long (the service's tail) or the queue was slower than its bound
    // assumed, and a run of such drops beyond a few shows the carry itself too large.
    const boundTooLong = knee !== undefined && baseRttMs !== undefined && this.maxWaitMs(baseRttMs, knee) >= rttMs;
    this.deadlineMs = Math.min(this.deadlineMs, rttMs);
    // Once per burst: the drops of one overshoot come in a run, and each would shrink it again.
    if (boundTooLong) this.dropsAnsweredInBurst = true;
    else this.unexplainedDrops += 1;
    if (!this.dropsAnsweredInBurst && this.unexplainedDrops > OVERSHOOT_DROP_SHARE * this.allowance) {
      this.allowance *= this.allowance <= this.harmlessRequests() ? PROVEN_OVERSHOOT_SHRINK : OVERSHOOT_SHRINK;
      this.dropsAnsweredInBurst = true;
    }
    return this.allowance !== before || this.deadlineMs !== deadlineBefore;
  }

  /**
   * Grows the allowance after a burst whose refusals were followed by idle servers: the regret is
   * carried at once as far as round trips prove a queue that long harmless (up to the fast
   * ceiling), and probed beyond by half of it per burst, or by as much as reaches the smallest carry
   * used where the whole regret does: a smaller probe would carry nothing for another burst. `used`:
   * whether the carry was used in the burst that ended.
   */
  private grow(baseRttMs: number, knee: number, used: boolean): void {
    const refused = this.arrivalsStopped ? this.refusedSinceSilence : this.refusedInBurst;
    const smallest = this.smallestUsed(baseRttMs, knee);
    const within = this.growthFor(Math.min(this.idleCredit.within, refused), smallest);
    // Whether the bound is too short is judged on the idle time within twice it: a carry that fills
    // the bound leaves no idle time within it, however long the silence after it. Once the bound
    // doubles, that idle time is the regret within it, and the carry grows by it at once.
    const beyond = this.growthFor(Math.min(this.idleCredit.beyond, refused), smallest);
    const longer = used && this.waitTooShortForBursts(baseRttMs, knee, Math.max(within.probed, beyond.probed));
    if (longer) this.provenWaitBases = Math.min(2 * this.provenWaitBases, MAX_PROBED_WAIT_BASES);
    const { wanted, probed } = longer ? beyond : within;
    const proven = Math.min(this.harmlessRequests(), this.fastCeiling(baseRttMs, knee));
    this.allowance = Math.min(wanted, Math.max(proven, probed), this.requestsWithin(baseRttMs, knee));
  }

  /** The allowance a regret wants, and the probe toward it (see `grow`). */
  private growthFor(regret: number, smallest: number): { wanted: number; probed: number } {
    const wanted = this.allowance + regret;
    const halfway = this.allowance + REGRET_GAIN * regret;
    return { wanted, probed: halfway < smallest && wanted >= smallest ? smallest : halfway };
  }

  /**
   * Whether the bound stops the growth (`probed`, with the regret counted within twice the wait
   * bound) of a carry, with a queue that long proven harmless and no deadline seen: the wait the
   * clients accept is not known yet, and the bursts probe a longer one.
   */
  private waitTooShortForBursts(baseRttMs: number, knee: number, probed: number): boolean {
    if (this.deadlineMs < Infinity) return false;
    const bound = this.requestsWithin(baseRttMs, knee);
    return probed > bound && bound <= this.harmlessRequests();
  }

  /**
   * Smallest carry used: every request admitted in a burst waits behind the carried queue, worth
   * it only where that wait buys a large share of what the burst gets done (bursts short against it).
   */
  private smallestUsed(baseRttMs: number, knee: number): number {
    return requestsIn(this.smallestUsedWaitMs(), baseRttMs, knee);
  }

  /** The wait of the smallest carry used. */
  private smallestUsedWaitMs(): number {
    return MIN_CARRY_SHARE * this.longestRefusingMs;
  }

  /**
   * Allowance up to which proven-harmless regret is carried at once: before any deadline is seen,
   * the standard wait (a request queued past an unknown deadline shows as a drop only a deadline
   * later, after a whole burst of them).
   */
  private fastCeiling(baseRttMs: number, knee: number): number {
    return this.deadlineMs === Infinity ? requestsIn(this.standardWaitMs(baseRttMs), baseRttMs, knee) : Infinity;
  }

  /**
   * Wait a carried request not proven harmless may be given before any deadline is seen: 25 base
   * round trips, or where that is too short to be used against the bursts seen, the smallest carry
   * used, from a quarter second to MAX_TRUSTED_WAIT_MS.
   */
  private standardWaitMs(baseRttMs: number): number {
    const inBases = MAX_WAIT_BASES * baseRttMs;
    const smallest = this.smallestUsedWaitMs();
    if (inBases >= smallest) return inBases;
    return Math.max(inBases, MIN_WAIT_MS, Math.min(smallest, MAX_TRUSTED_WAIT_MS));
  }

  /**
   * The slowdown per request in flight that completions allow at most, or undefined until the
   * inflight has varied enough to tell: the lower of the two fits' estimates plus PROOF_ERRORS
   * standard errors (as in `extra`). Where heavy-tailed or bimodal service makes round trips read
   * contention that is not there, the service times' bound is the lower; elsewhere mostly the round
   * trips', whose spread is far smaller.
   */
  slowdownBound(): number | undefined {
    return lowest(this.roundTripFit.slowdownPerRequest(PROOF_ERRORS), this.serviceFit.slowdownPerRequest(PROOF_ERRORS));
  }

  /**
   * Requests in flight beyond the busy servers that completions prove harmless: their slowdown, by
   * `slowdownBound`, below NEGLIGIBLE_SLOWDOWN (0 until the inflight has varied enough to tell).
   */
  private harmlessRequests(): number {
    const kappa = this.slowdownBound();
    if (kappa === undefined) return 0;
    return kappa > 0 ? NEGLIGIBLE_SLOWDOWN / kappa : Infinity;
  }

  /** Requests the busy servers work off within the longest wait of a carried request. */
  private requestsWithin(baseRttMs: number, knee: number): number {
    return requestsIn(this.maxWaitMs(baseRttMs, knee), baseRttMs, knee);
  }

  /**
   * Longest wait of a carried request: the standard bound, or longer as far as round trips prove a
   * queue that long harmless.
   */
  private maxWaitMs(baseRttMs: number, knee: number | undefined): number {
    const standard = Math.min(this.standardWaitMs(baseRttMs), DEADLINE_SHARE * this.deadlineMs);
    if (knee === undefined || !(baseRttMs > 0)) return standard;
    const longest = Math.min(this.provenWaitBases * baseRttMs, PROVEN_DEADLINE_SHARE * this.deadlineMs);
    return Math.max(standard, Math.min(longest, (this.harmlessRequests() * baseRttMs) / knee));
  }
}

/**
 * Work (in requests) idle servers could have done after the last refusal: `within` the wait bound
 * (the regret a carry grows by), and `beyond` it, within twice the bound (whether a longer wait
 * would still have found idle servers: a carry that fills the bound leaves none within it).
 */
interface IdleWork {
  within: number;
  beyond: number;
}

function clearIdleWork(work: IdleWork): void {
  work.within = 0;
  work.beyond = 0;
}

/** The lower of two estimates, either of which may be missing. */
function lowest(a: number | undefined, b: number | undefined): number | undefined {
  if (a === undefined) return b;
  return b === undefined ? a : Math.min(a, b);
}

/** Requests `knee` busy servers work off in `waitMs`, at `baseRttMs` each. */
function requestsIn(waitMs: number, baseRttMs: number, knee: number): number {
  return (waitMs * knee) / baseRttMs;
}

/**
 * Least-squares slope of a service time (measured by a round trip per request ahead, or directly)
 * on the inflight, relative to its mean: the slowdown per extra request in flight (0 without
 * contention), weighed with exponential forgetting. The inflight swings with bursts and
 * their carried queues, which is what carrying changes; while it holds steady it varies too
 * little to tell.
 */
class ContentionFit {
  private w = 0;
  private sx = 0;
  private sy = 0;
  private sxx = 0;
  private sxy = 0;
  private syy = 0;

  add(x: number, y: number): void {
    this.w = this.w * CONTENTION_KEEP + 1;
    this.sx = this.sx * CONTENTION_KEEP + x;
    this.sy = this.sy * CONTENTION_KEEP + y;
    this.sxx = this.sxx * CONTENTION_KEEP + x * x;
    this.sxy = this.sxy * CONTENTION_KEEP + x * y;
    this.syy = this.syy * CONTENTION_KEEP + y * y;
  }

  /**
   * The relative slowdown per request in flight plus `errors` standard errors (at least 0);
   * undefined until the inflight has varied over enough samples.
   */
  slowdownPerRequest(errors: number): number | undefined {
    if (this.w < MIN_CONTENTION_SAMPLES) return undefined;
    const mx = this.sx / this.w;
    const my = this.sy / this.w;
    const vxx = this.sxx - this.w * mx * mx;
    if (!(vxx > 1e-9) || !(my > 0)) return undefined;
    const vxy = this.sxy - this.w * mx * my;
    const slope = vxy / vxx;
    const se = Math.sqrt(Math.max(0, this.syy - this.w * my * my - slope * vxy) / this.w / vxx);
    return Math.max(0, (slope + errors * se) / my);
  }
}
