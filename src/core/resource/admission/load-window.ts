/**
 * One measurement window of an admission controller: mean round trip of completed requests, the
 * time-averaged number in flight, and whether any request was refused (demand reached the limit).
 */
export interface WindowSummary {
  startMs: number;
  endMs: number;
  /** Completions that measured a round trip (failures excluded). */
  samples: number;
  /** Every release, failures included: each held a server. */
  completions: number;
  /** Completions past their deadline: not samples (see `addDrop`). */
  drops: number;
  meanRttMs: number;
  /**
   * Mean round trip of the samples and the drops together: the drops are a queue's longest round
   * trips, and a window of nothing but drops has a queue past the deadline (a drop's round trip
   * may be longer than its request took, a reclaimed permit, which overstates only such a queue).
   */
  delayMs: number;
  /** Squared coefficient of variation of the round trips (variance / mean²). */
  rttCv2: number;
  meanInflight: number;
  minInflight: number;
  maxInflight: number;
  rejections: number;
  admissions: number;
  /** Time spent with at least `loadedFrom` in flight (see `LoadWindow.loadedFrom`)... */
  loadedMs: number;
  /** ...and the completions that left that many or more in flight before them. */
  loadedCompletions: number;
}

export class LoadWindow {
  private startMs: number;
  private lastChangeMs: number;
  private inflightArea = 0;
  private minInflight: number;
  private maxInflight: number;
  private rttSum = 0;
  private rttSquares = 0;
  private samples = 0;
  private completions = 0;
  private drops = 0;
  private dropRttSum = 0;
  private rejections = 0;
  private admissions = 0;
  private loadedMs = 0;
  private loadedCompletions = 0;
  private loadedFromInflight = Infinity;

  constructor(
    nowMs: number,
    private inflight: number,
  ) {
    this.startMs = nowMs;
    this.lastChangeMs = nowMs;
    this.minInflight = inflight;
    this.maxInflight = inflight;
  }

  get sampleCount(): number {
    return this.samples;
  }

  elapsedMs(nowMs: number): number {
    return nowMs - this.startMs;
  }

  /**
   * From now on, time with at least `inflight` in flight, and the completions in it, are counted
   * apart: the throughput of the servers while loaded, which silences between bursts do not dilute.
   */
  loadedFrom(inflight: number): void {
    this.loadedFromInflight = inflight;
  }

  /** Records that the number in flight changed to `inflight` at `nowMs`. */
  inflightChanged(nowMs: number, inflight: number): void {
    this.advance(nowMs);
    this.inflight = inflight;
    if (inflight > this.maxInflight) this.maxInflight = inflight;
    if (inflight < this.minInflight) this.minInflight = inflight;
  }

  /** A request completed; the inflight has already been lowered for it. */
  addCompletion(): void {
    this.completions += 1;
    if (this.inflight + 1 >= this.loadedFromInflight) this.loadedCompletions += 1;
  }

  addSample(rttMs: number): void {
    this.rttSum += rttMs;
    this.rttSquares += rttMs * rttMs;
    this.samples += 1;
  }

  /** A completion past its deadline: its round trip shows the queue, not the service (`delayMs`). */
  addDrop(rttMs: number): void {
    this.drops += 1;
    this.dropRttSum += rttMs;
  }

  addRejection(): void {
    this.rejections += 1;
  }

  addAdmission(): void {
    this.admissions += 1;
  }

  /** Summarises the window up to `nowMs` and starts the next one there. */
  roll(nowMs: number): WindowSummary {
    this.advance(nowMs);
    const span = nowMs - this.startMs;
    const mean = this.samples > 0 ? this.rttSum / this.samples : 0;
    const variance = this.samples > 1 ? Math.max(0, this.rttSquares / this.samples - mean * mean) : 0;
    const summary: WindowSummary = {
      startMs: this.startMs,
      endMs: nowMs,
      samples: this.samples,
      completions: this.completions,
      drops: this.drops,
      meanRttMs: mean,
      delayMs: this.samples + this.drops > 0 ? (this.rttSum + this.dropRttSum) / (this.samples + this.drops) : 0,
      rttCv2: mean > 0 ? variance / (mean * mean) : 0,
      meanInflight: span > 0 ? this.inflightArea / span : this.inflight,
      minInflight: this.minInflight,
      maxInflight: this.maxInflight,
      rejections: this.rejections,
      admissions: this.admissions,
      loadedMs: this.loadedMs,
      loadedCompletions: this.loadedCompletions,
    };
    this.startMs = nowMs;
    this.inflightArea = 0;
    this.minInflight = this.inflight;
    this.maxInflight = this.inflight;
    this.rttSum = 0;
    this.rttSquares = 0;
    this.samples = 0;
    this.completions = 0;
    this.drops = 0;
    this.dropRttSum = 0;
    this.rejections = 0;
    this.admissions = 0;
    this.loadedMs = 0;
    this.loadedCompletions = 0;
    return summary;
  }

  private advance(nowMs: number): void {
    if (nowMs > this.lastChangeMs) {
      this.inflightArea += this.inflight * (nowMs - this.lastChangeMs);
      if (this.inflight >= this.loadedFromInflight) this.loadedMs += nowMs - this.lastChangeMs;
      this.lastChangeMs = nowMs;
    }
  }
}
