/**
 * AnomalyEngine: per-metric streaming detection (issue 2) and the anomaly event log with live,
 * resumable subscriptions (issue 3). Synchronous and transport-free; the server wires it to RPCs.
 */
import { randomUUID } from 'node:crypto';
import { monotonicClock, type Clock } from '../clock.js';
import { notInFuture } from '../client-time.js';
import { invalidArgument, notFound, outOfRange, resourceExhausted } from '../errors.js';
import { pageLimit, type PageLimits } from '../page-limit.js';
import { DEFAULT_METRIC_CONFIG, inferAnomalyType, mergeMetricConfig, snake } from './config.js';
import { DEFAULT_DETECTOR_TUNING } from './detector/defaults.js';
import type { DetectorOutput } from './detector/types.js';
import { DETECTION_COUNT_SPAN_MS, DetectionCounts } from './detection-counts.js';
import { EventHistory } from './event-history.js';
import { eventAnomalyType } from './event-type.js';
import { MetricState } from './metric-state.js';
import { Subscriber } from './subscriber.js';
import {
  ANOMALY_TYPES,
  SEVERITIES,
  type AnomalyEvent,
  type Assessment,
  type EngineLimits,
  type HistoryFilter,
  type MetricConfig,
  type MetricConfigPatch,
  type MetricStatistics,
  type RecordSample,
  type Severity,
  type Subscription,
  type SubscriptionFilter,
} from './types.js';

/** `maxSeasonSlots` is its value at the default `maxMetrics`: not given, it follows `maxMetrics` (see `validateLimits`). */
export const DEFAULT_ENGINE_LIMITS: Readonly<EngineLimits> = Object.freeze({
  maxMetrics: 10_000,
  historyCapacity: 10_000,
  maxBatchSize: 10_000,
  maxSubscribers: 10_000,
  defaultQueueCapacity: 1_024,
  maxQueueCapacity: 65_536,
  maxSeasonSlots: 10_000 * DEFAULT_DETECTOR_TUNING.seasonSlots,
});

/** Upper bounds on each limit, so a typo cannot make the engine hold unbounded state. */
export const MAX_ENGINE_LIMITS: Readonly<EngineLimits> = Object.freeze({
  maxMetrics: 10_000_000,
  historyCapacity: 10_000_000,
  maxBatchSize: 1_000_000,
  maxSubscribers: 1_000_000,
  defaultQueueCapacity: 10_000_000,
  maxQueueCapacity: 10_000_000,
  maxSeasonSlots: 10_000_000 * DEFAULT_DETECTOR_TUNING.seasonSlots,
});

/** `history`'s page: 100 events unless asked, at most 10,000 (ListAnomalies documents both) whatever the history size. */
const HISTORY_PAGE: PageLimits = { default: 100, max: 10_000 };
/**
 * Largest accepted |value|. The detector squares residuals (differences of values, up to a dozen
 * scales) and sums squares; beyond ~1e154 a square overflows to Infinity and the metric's state
 * turns to NaN for good. 1e100 leaves every such product and sum far from overflow.
 */
export const MAX_ABS_VALUE = 1e100;
const MAX_METRIC_NAME = 200;
const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:.-]*$/;
const SEVERITY_RANK: Record<string, number> = Object.fromEntries(SEVERITIES.map((s, i) => [s, i]));

/** The limits that refuse samples of new metrics. */
export type NewMetricLimit = 'maxMetrics' | 'maxSeasonSlots';

export interface AnomalyEngineOptions {
  /** Stamps samples without a time and detections, as users see them. */
  clock: Clock;
  /** Measures how long ago events were detected; default monotonicClock. */
  intervals?: Clock;
  limits?: Partial<EngineLimits>;
  /** Overrides of the shipped metric defaults (anomalyType excluded: it follows each name). */
  defaults?: Omit<MetricConfigPatch, 'anomalyType'>;
  /**
   * What a user changes to raise each limit (the service passes its environment variables), so a
   * refusal tells them; by default the limit's own name (`limits.max_metrics`).
   */
  limitSettings?: Partial<Record<keyof EngineLimits, string>>;
}

/**
 * Without an explicit `maxSeasonSlots`, every metric up to `maxMetrics` may keep the default
 * profile, so raising the metric cap alone never refuses metrics left at their defaults.
 */
function validateLimits(patch: Partial<EngineLimits> | undefined, defaultSlots: number): EngineLimits {
  const maxMetrics = patch?.maxMetrics ?? DEFAULT_ENGINE_LIMITS.maxMetrics;
  const maxSeasonSlots = Math.min(MAX_ENGINE_LIMITS.maxSeasonSlots, Math.max(1, maxMetrics * defaultSlots));
  const limits: EngineLimits = { ...DEFAULT_ENGINE_LIMITS, maxSeasonSlots, ...patch };
  for (const key of Object.keys(MAX_ENGINE_LIMITS) as Array<keyof EngineLimits>) {
    const v = limits[key];
    if (!Number.isInteger(v) || v < 1 || v > MAX_ENGINE_LIMITS[key]) {
      throw invalidArgument(`limits.${snake(key)}`, `must be an integer in [1, ${MAX_ENGINE_LIMITS[key]}]`);
    }
  }
  if (limits.defaultQueueCapacity > limits.maxQueueCapacity) {
    throw invalidArgument('limits.default_queue_capacity', 'must not exceed max_queue_capacity');
  }
  return limits;
}

function validateMetricName(field: string, metric: unknown): string {
  if (typeof metric !== 'string' || metric.length === 0) throw invalidArgument(field, 'must be a non-empty string');
  if (metric.length > MAX_METRIC_NAME) throw invalidArgument(field, `must be at most ${MAX_METRIC_NAME} characters`);
  if (!METRIC_NAME.test(metric)) throw invalidArgument(field, 'must match [a-zA-Z_:][a-zA-Z0-9_:.-]*');
  return metric;
}

/** The form of `AnomalyEngine.instanceId`: randomUUID()'s, lower-case. */
const INSTANCE_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

function validateSeverity(field: string, v: unknown): Severity | undefined {
  if (v === undefined) return undefined;
  if (!(SEVERITIES as readonly unknown[]).includes(v)) throw invalidArgument(field, `must be one of ${SEVERITIES.join(', ')}`);
  return v as Severity;
}

export class AnomalyEngine {
  readonly limits: EngineLimits;
  /**
   * Identifies this run: sequences start again at 1 with a new engine, so a sequence means nothing
   * without it (a resume after 250 of an earlier run would skip this run's first 250).
   */
  readonly instanceId: string = randomUUID();
  private readonly clock: Clock;
  private readonly intervals: Clock;
  private readonly defaults: MetricConfig;
  private readonly metrics = new Map<string, MetricState>();
  private readonly events: EventHistory;
  private readonly subscribers = new Set<Subscriber>();
  private readonly limitSettings: Partial<Record<keyof EngineLimits, string>>;
  private sequence = 0;
  /** Anomalies raised since start-up, by severity (the history keeps only the latest). */
  private readonly detected: Record<Severity, number> = Object.fromEntries(SEVERITIES.map((s) => [s, 0])) as Record<Severity, number>;
  /** Anomalies raised in the last hour, by severity and second (`intervals` clock). */
  private readonly recentlyDetected = new DetectionCounts();
  /** Events lost to queue overflow by subscribers that have since closed. */
  private closedSubscribersDropped = 0;
  /** Seasonal slots of all metrics' configs (allocated with each detector). */
  private seasonSlots = 0;
  /** Samples refused for naming new metrics at `maxMetrics` or `maxSeasonSlots` (a refused batch, all of it). */
  private refusedAtMetricLimit = 0;
  /** When samples of new metrics were last refused at each limit (`intervals` clock). */
  private readonly lastNewMetricRefusalMs: Partial<Record<NewMetricLimit, number>> = {};

  constructor(options: AnomalyEngineOptions) {
    this.clock = options.clock;
    this.intervals = options.intervals ?? monotonicClock;
    if (options.defaults !== undefined && 'anomalyType' in options.defaults) {
      throw invalidArgument('defaults.anomaly_type', 'is inferred per metric; set it with configure()');
    }
    this.defaults = mergeMetricConfig(DEFAULT_METRIC_CONFIG, options.defaults ?? {}, 'defaults');
    this.limits = validateLimits(options.limits, this.defaults.detector.seasonSlots);
    this.limitSettings = { ...options.limitSettings };
    this.events = new EventHistory(this.limits.historyCapacity);
  }

  /** Sequence of the newest event (0 before any). */
  get lastSequence(): number {
    return this.sequence;
  }

  /** Sequence of the oldest event the history still holds (0 when it holds none): those before it left it. */
  get oldestRetainedSequence(): number {
    return this.events.oldestSequence() ?? 0;
  }

  get metricCount(): number {
    return this.metrics.size;
  }

  get subscriberCount(): number {
    return this.subscribers.size;
  }

  /** Anomalies raised since start-up, by severity; resetting or deleting a metric takes none back. */
  detectedBySeverity(): Record<Severity, number> {
    return { ...this.detected };
  }

  /**
   * Anomalies detected at most `withinMs` (up to an hour) ago on the monotonic clock, by severity,
   * however few of them the history still holds; to the second (an anomaly counts for the whole
   * second it was detected in, so it leaves the window up to a second late).
   */
  detectedWithin(withinMs: number): Record<Severity, number> {
    if (!(withinMs >= 0 && withinMs <= DETECTION_COUNT_SPAN_MS)) {
      throw invalidArgument('within_ms', `must be a number in [0, ${DETECTION_COUNT_SPAN_MS}]`);
    }
    return this.recentlyDetected.within(withinMs, this.intervals.nowMs());
  }

  /** Events subscribers, open or closed since, lost to a full queue since start-up. */
  get droppedForSubscribers(): number {
    let dropped = this.closedSubscribersDropped;
    for (const sub of this.subscribers) dropped += sub.dropped;
    return dropped;
  }

  /**
   * Samples refused since start-up for naming new metrics when the metric limit was reached or the
   * seasonal-slot budget could not hold their default profiles (a refused batch counts all its samples).
   */
  get samplesRefusedAtMetricLimit(): number {
    return this.refusedAtMetricLimit;
  }

  /** Milliseconds since samples of new metrics were last refused at `limit`; undefined if never. */
  msSinceNewMetricRefused(limit: NewMetricLimit): number | undefined {
    const last = this.lastNewMetricRefusalMs[limit];
    return last === undefined ? undefined : this.intervals.nowMs() - last;
  }

  /** Whether a sample of a new metric would be refused now, at the metric limit or for want of its default seasonal slots. */
  get newMetricsRefused(): boolean {
    return this.refusingNewMetrics(1) !== undefined;
  }

  /** Seasonal-profile slots held by all metrics (at most `limits.maxSeasonSlots`). */
  get seasonSlotCount(): number {
    return this.seasonSlots;
  }

  /** Scores one sample against its metric's baseline (before the sample joins it), then learns it. */
  record(metric: string, value: number, timeMs?: number): Assessment {
    const known = this.metrics.has(metric);
    const t = this.validateSample(metric, value, timeMs, '', known);
    if (!known) this.admitNewMetrics('metric', 1, 1, `a new metric takes the default ${this.defaults.detector.seasonSlots}`);
    return this.apply(metric, value, t);
  }

  /** Validates every sample first, so a bad batch changes nothing; then records them in order. */
  recordBatch(samples: RecordSample[]): Assessment[] {
    if (!Array.isArray(samples)) throw invalidArgument('samples', 'must be a list');
    if (samples.length > this.limits.maxBatchSize) {
      throw invalidArgument('samples', `at most ${this.limits.maxBatchSize} samples per batch (got ${samples.length})`);
    }
    const fresh = new Set<string>();
    const times: (number | undefined)[] = [];
    for (let i = 0; i < samples.length; i++) {
      const s = samples[i];
      if (typeof s !== 'object' || s === null) throw invalidArgument(`samples[${i}]`, 'must be an object');
      const known = this.metrics.has(s.metric);
      times.push(this.validateSample(s.metric, s.value, s.timeMs, `samples[${i}].`, known));
      if (!known) fresh.add(s.metric);
    }
    const freshSlots = fresh.size * this.defaults.detector.seasonSlots;
    this.admitNewMetrics('samples', fresh.size, samples.length, `${fresh.size} new metrics take ${freshSlots} (the default each)`);
    return samples.map((s, i) => this.apply(s.metric, s.value, times[i]));
  }

  /** Creates or updates a metric's config; detector changes restart its learning. */
  configure(metric: string, patch: MetricConfigPatch): MetricConfig {
    validateMetricName('metric', metric);
    const state = this.metrics.get(metric);
    if (state === undefined && this.metrics.size >= this.limits.maxMetrics) throw this.tooManyMetrics('metric');
    const config = mergeMetricConfig(state?.config ?? this.configFor(metric), patch);
    const slots = config.detector.seasonSlots;
    const oldSlots = state?.config.detector.seasonSlots ?? 0;
    if (slots > oldSlots && this.seasonSlots + slots - oldSlots > this.limits.maxSeasonSlots) {
      throw this.seasonSlotsRefusal('config.detector_parameters.season_slots', `"${metric}" asks for ${slots}`, oldSlots);
    }
    this.seasonSlots += slots - oldSlots;
    if (state === undefined) {
      this.metrics.set(metric, new MetricState(config));
      return config;
    }
    const relearn =
      config.minSamples !== state.config.minSamples ||
      config.windowSize !== state.config.windowSize ||
      config.restSamples !== state.config.restSamples ||
      JSON.stringify(config.detector) !== JSON.stringify(state.config.detector);
    state.config = config;
    if (relearn) state.detector = MetricState.detectorFor(config);
    return config;
  }

  /** The config in force for `metric` (the defaults, with the type inferred from its name, if unknown). */
  getConfig(metric: string): MetricConfig {
    validateMetricName('metric', metric);
    return this.metrics.get(metric)?.config ?? this.configFor(metric);
  }

  statistics(metric?: string): MetricStatistics[] {
    if (metric !== undefined) {
      validateMetricName('metric', metric);
      const state = this.metrics.get(metric);
      if (state === undefined) throw notFound('metric', `unknown metric "${metric}"`);
      return [this.statisticsOf(metric, state)];
    }
    return this.statisticsPage({ limit: this.metrics.size || 1 }).statistics;
  }

  /**
   * Statistics of at most `limit` metrics, by name, starting after the name `after` (which need not
   * exist any more); `nextAfter` is the last name returned when more follow.
   */
  statisticsPage(page: { limit: number; after?: string }): { statistics: MetricStatistics[]; nextAfter?: string } {
    if (!Number.isInteger(page.limit) || page.limit < 1) throw invalidArgument('page_size', 'must be a positive integer');
    const after = page.after;
    const names: string[] = [];
    for (const name of this.metrics.keys()) if (after === undefined || name > after) names.push(name);
    names.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    const chosen = names.length > page.limit ? names.slice(0, page.limit) : names;
    const statistics = chosen.map((name) => this.statisticsOf(name, this.metrics.get(name)!));
    return names.length > page.limit ? { statistics, nextAfter: chosen[chosen.length - 1] } : { statistics };
  }

  /** Forgets what `metric` learned (baseline, statistics); keeps its config. */
  reset(metric: string): void {
    this.stateOf(metric).reset();
  }

  /** Removes `metric` and frees its state. Its past events stay in history. */
  delete(metric: string): void {
    this.seasonSlots -= this.stateOf(metric).config.detector.seasonSlots;
    this.metrics.delete(metric);
  }

  /**
   * Retained events matching `filter`, newest first: the newest `limit` of them, or with
   * `afterSequence` the oldest `limit` after it (so paging forward from the last sequence seen
   * skips none).
   */
  history(filter: HistoryFilter = {}): AnomalyEvent[] {
    if (typeof filter !== 'object' || filter === null) throw invalidArgument('filter', 'must be an object');
    const limit = pageLimit(filter.limit, 'limit', HISTORY_PAGE);
    if (filter.type !== undefined && !(ANOMALY_TYPES as readonly string[]).includes(filter.type)) {
      throw invalidArgument('type', `must be one of ${ANOMALY_TYPES.join(', ')}`);
    }
    const severity = validateSeverity('severity', filter.severity);
    const minSeverity = validateSeverity('min_severity', filter.minSeverity);
    if (filter.metric !== undefined) validateMetricName('metric', filter.metric);
    if (filter.sinceMs !== undefined && !Number.isFinite(filter.sinceMs)) throw invalidArgument('since_ms', 'must be a finite number');
    const after = filter.afterSequence ?? 0;
    if (!Number.isInteger(after) || after < 0) throw invalidArgument('after_sequence', 'must be a non-negative integer');
    this.checkRunPosition(filter.afterSequence, filter.afterInstanceId, { sequence: 'after_sequence', instance: 'after_instance_id', restart: 'page after 0', both: 'send both to page on, or neither for the newest' });
    const minRank = minSeverity === undefined ? 0 : SEVERITY_RANK[minSeverity];
    const keep = (e: AnomalyEvent) =>
      (filter.type === undefined || e.anomalyType === filter.type) &&
      (severity === undefined || e.severity === severity) &&
      SEVERITY_RANK[e.severity] >= minRank &&
      (filter.metric === undefined || e.metric === filter.metric) &&
      (filter.sinceMs === undefined || e.timeMs >= filter.sinceMs);
    return filter.afterSequence === undefined ? this.events.newest(limit, keep) : this.events.oldestAfter(limit, keep, after);
  }

  /**
   * A position in the sequence a client carries from an earlier answer (a resume or a page): the
   * sequence, and the run it is from. A sequence this run never issued, or another run's id, means
   * the service restarted (numbering starts again at 1): going on after it would skip, without a
   * word, what this run raised since, so it is OUT_OF_RANGE. The id alone says nothing, and one
   * not in the form the service issues is the client's mistake: INVALID_ARGUMENT.
   */
  private checkRunPosition(sequence: number | undefined, instanceId: string | undefined, names: { sequence: string; instance: string; restart: string; both: string }): void {
    if (instanceId !== undefined) {
      if (typeof instanceId !== 'string') throw invalidArgument(names.instance, 'must be a string');
      if (sequence === undefined) {
        throw invalidArgument(names.instance, `is given without ${names.sequence}: it names the run that sequence is from; ${names.both}`);
      }
      if (!INSTANCE_ID.test(instanceId)) {
        throw invalidArgument(names.instance, 'must be an instance_id as the service issues it, a lower-case UUID (from WatchCaughtUp or ListAnomaliesResponse)');
      }
      // Once this run has issued as many sequences, only the id tells a restart.
      if (instanceId !== this.instanceId) {
        throw outOfRange(
          names.instance,
          `is not this run of the service (${this.instanceId}): the service restarted, so the anomalies before the restart are gone; ${names.restart} without ${names.instance} for every anomaly this run retained`,
        );
      }
    }
    if (sequence !== undefined && sequence > this.lastSequence) {
      throw outOfRange(
        names.sequence,
        `is beyond the last sequence issued, ${this.lastSequence}: the service restarted since (sequences start again at 1); ${names.restart} for every anomaly retained`,
      );
    }
  }

  /**
   * Live events matching `filter`. With `resumeAfterSequence`, retained events after it are replayed
   * first (a `gap` counts those no longer retained), then `caught_up`, then live events.
   */
  subscribe(filter: SubscriptionFilter = {}, opts: { queueCapacity?: number } = {}): Subscription {
    if (typeof filter !== 'object' || filter === null) throw invalidArgument('filter', 'must be an object');
    if (filter.metric !== undefined) validateMetricName('metric', filter.metric);
    if (filter.type !== undefined && !(ANOMALY_TYPES as readonly string[]).includes(filter.type)) {
      throw invalidArgument('type', `must be one of ${ANOMALY_TYPES.join(', ')}`);
    }
    validateSeverity('min_severity', filter.minSeverity);
    const resume = filter.resumeAfterSequence;
    if (resume !== undefined && (!Number.isInteger(resume) || resume < 0)) {
      throw invalidArgument('resume_after_sequence', 'must be a non-negative integer');
    }
    this.checkRunPosition(resume, filter.resumeInstanceId, { sequence: 'resume_after_sequence', instance: 'resume_instance_id', restart: 'resume after 0', both: 'send both to resume, or neither to watch live' });
    const capacity = opts.queueCapacity ?? this.limits.defaultQueueCapacity;
    if (!Number.isInteger(capacity) || capacity < 1 || capacity > this.limits.maxQueueCapacity) {
      throw invalidArgument('queue_capacity', `must be an integer in [1, ${this.limits.maxQueueCapacity}]`);
    }
    if (this.subscribers.size >= this.limits.maxSubscribers) {
      throw resourceExhausted('subscribers', `at most ${this.limits.maxSubscribers} concurrent subscribers; raise ${this.settingOf('maxSubscribers')}`);
    }
    const sub = new Subscriber({ ...filter }, capacity, this.events, this.sequence, (s) => {
      this.subscribers.delete(s);
      this.closedSubscribersDropped += s.dropped;
    });
    this.subscribers.add(sub);
    return sub;
  }

  /**
   * Names of known metrics were validated when they were created. Returns the sample's time as it
   * is kept: a time a little ahead of the clock (skew) taken as now; unset stays unset (now at apply).
   */
  private validateSample(metric: unknown, value: unknown, timeMs: unknown, prefix: string, known: boolean): number | undefined {
    if (!known) validateMetricName(`${prefix}metric`, metric);
    if (typeof value !== 'number' || !Number.isFinite(value)) throw invalidArgument(`${prefix}value`, 'must be a finite number');
    if (value > MAX_ABS_VALUE || value < -MAX_ABS_VALUE) {
      throw invalidArgument(`${prefix}value`, `must lie in [-1e100, 1e100] (got ${value})`);
    }
    if (timeMs !== undefined && (typeof timeMs !== 'number' || !Number.isFinite(timeMs))) {
      throw invalidArgument(`${prefix}time_ms`, 'must be a finite number');
    }
    return timeMs === undefined ? undefined : notInFuture(timeMs, this.clock.nowMs(), `${prefix}time`);
  }

  /** The limit `fresh` more metrics, each with the default seasonal profile, would go beyond; undefined if none. */
  private refusingNewMetrics(fresh: number): NewMetricLimit | undefined {
    if (this.metrics.size + fresh > this.limits.maxMetrics) return 'maxMetrics';
    if (this.seasonSlots + fresh * this.defaults.detector.seasonSlots > this.limits.maxSeasonSlots) return 'maxSeasonSlots';
    return undefined;
  }

  /**
   * Refuses `samples` that name `fresh` new metrics beyond either limit, counting them as refused at
   * it: either way those metrics go unwatched, which operators must see, not only the senders.
   * `asking` says how many slots the new metrics take.
   */
  private admitNewMetrics(field: string, fresh: number, samples: number, asking: string): void {
    const limit = this.refusingNewMetrics(fresh);
    if (limit === undefined) return;
    this.refusedAtMetricLimit += samples;
    this.lastNewMetricRefusalMs[limit] = this.intervals.nowMs();
    throw limit === 'maxMetrics' ? this.tooManyMetrics(field) : this.seasonSlotsRefusal(field, asking);
  }

  private tooManyMetrics(field: string): Error {
    return resourceExhausted(field, `metric limit reached (${this.limits.maxMetrics} metrics); delete unused metrics or raise ${this.settingOf('maxMetrics')}`);
  }

  /**
   * The error refusing slots beyond the budget; `asking` says who asks for how many in all, of which
   * `releasing` are the asker's own, given back if it is granted.
   */
  private seasonSlotsRefusal(field: string, asking: string, releasing = 0): Error {
    return resourceExhausted(
      field,
      `seasonal profile slots are limited to ${this.limits.maxSeasonSlots} across all metrics and ${this.seasonSlots - releasing} are held by others; ` +
        `${asking}. Use fewer season_slots (0 turns the profile off), delete unused metrics, or raise ${this.settingOf('maxSeasonSlots')}`,
    );
  }

  /** What an operator sets to raise `limit`: the variable the service names, or the limit's own name. */
  settingOf(limit: keyof EngineLimits): string {
    return this.limitSettings[limit] ?? `limits.${snake(limit)}`;
  }

  private configFor(metric: string): MetricConfig {
    return Object.freeze({ ...this.defaults, anomalyType: inferAnomalyType(metric) });
  }

  private stateOf(metric: string): MetricState {
    validateMetricName('metric', metric);
    const state = this.metrics.get(metric);
    if (state === undefined) throw notFound('metric', `unknown metric "${metric}"`);
    return state;
  }

  /** Validated input only. */
  private apply(metric: string, value: number, timeMs: number | undefined): Assessment {
    let state = this.metrics.get(metric);
    if (state === undefined) {
      state = new MetricState(this.configFor(metric));
      this.metrics.set(metric, state);
      this.seasonSlots += state.config.detector.seasonSlots;
    }
    const now = this.clock.nowMs();
    const t = timeMs ?? now;
    const out = state.detector.update(value, t);
    state.observe(value, t);
    const band = state.config.severityThresholds.low * out.sigma;
    const assessment: Assessment = {
      metric,
      value,
      timeMs: t,
      score: out.score,
      expected: out.expected,
      lower: out.expected - band,
      upper: out.expected + band,
      deviationSigma: out.deviationSigma,
      warmingUp: out.warmingUp,
      samplesSeen: state.count,
    };
    if (out.alarm) assessment.anomaly = this.raise(metric, value, t, now, state, out, assessment);
    return assessment;
  }

  private raise(metric: string, value: number, timeMs: number, now: number, state: MetricState, out: DetectorOutput, a: Assessment): AnomalyEvent {
    state.anomalyCount++;
    const event: AnomalyEvent = Object.freeze({
      sequence: ++this.sequence,
      metric,
      value,
      baselineMean: out.level,
      deviationSigma: out.deviationSigma,
      score: out.score,
      severity: severityOf(Math.abs(out.deviationSigma), state.config),
      anomalyType: eventAnomalyType(state.config.anomalyType, out.direction),
      expected: out.expected,
      lower: a.lower,
      upper: a.upper,
      detector: `${state.detector.name}/${out.member}${out.baseline === 'seasonal' ? '@seasonal' : ''}`,
      direction: out.direction,
      timeMs,
      detectedAtMs: now,
    });
    this.detected[event.severity] += 1;
    // On the monotonic clock: "the last five minutes" whatever steps the wall clock took.
    this.recentlyDetected.add(event.severity, this.intervals.nowMs());
    // History first: a replaying subscriber ignores the offer and reads the event from there.
    this.events.append(event);
    for (const sub of this.subscribers) if (sub.matches(event)) sub.offer(event);
    return event;
  }

  private statisticsOf(metric: string, s: MetricState): MetricStatistics {
    return {
      metric,
      count: s.count,
      mean: s.mean,
      stdDev: s.stdDev(),
      min: s.count > 0 ? s.min : 0,
      max: s.count > 0 ? s.max : 0,
      lastValue: s.count > 0 ? s.lastValue : 0,
      anomalyCount: s.anomalyCount,
      config: s.config,
      lastSampleTimeMs: s.lastSampleTimeMs,
    };
  }
}

/** Severity from the deviation; an alarm below the `low` threshold (a flat-line, a variance change) is `low`. */
function severityOf(absSigma: number, config: MetricConfig): Severity {
  const t = config.severityThresholds;
  if (absSigma >= t.critical) return 'critical';
  if (absSigma >= t.high) return 'high';
  if (absSigma >= t.medium) return 'medium';
  return 'low';
}
