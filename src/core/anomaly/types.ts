/** Public shapes of the anomaly engine (issues 2 and 3). */
import type { DetectorTuning, Direction } from './detector/types.js';

export type { Direction };

export const ANOMALY_TYPES = [
  'latency_spike',
  'error_rate_increase',
  'throughput_drop',
  'cpu_spike',
  'memory_spike',
  'storage_growth_anomaly',
  'request_rate_anomaly',
  'other',
] as const;
export type AnomalyType = (typeof ANOMALY_TYPES)[number];

/** Ordered from least to most severe. */
export const SEVERITIES = ['low', 'medium', 'high', 'critical'] as const;
export type Severity = (typeof SEVERITIES)[number];

/** Deviation (in sigma) from which each severity applies; strictly increasing and positive. */
export interface SeverityThresholds {
  low: number;
  medium: number;
  high: number;
  critical: number;
}

export interface MetricConfig {
  anomalyType: AnomalyType;
  /** Samples that only train the baseline before anomalies can be reported. */
  minSamples: number;
  /** Samples of history behind the baseline's scale and error estimates. */
  windowSize: number;
  /** Samples after an anomaly during which the metric raises no new one. */
  restSamples: number;
  severityThresholds: SeverityThresholds;
  detector: DetectorTuning;
}

/** What `configure` accepts: any subset, nested objects merged field by field. */
export interface MetricConfigPatch {
  anomalyType?: AnomalyType;
  minSamples?: number;
  windowSize?: number;
  restSamples?: number;
  severityThresholds?: Partial<SeverityThresholds>;
  detector?: Partial<DetectorTuning>;
}

export interface AnomalyEvent {
  /** Strictly increasing from 1, unique across metrics. */
  sequence: number;
  metric: string;
  value: number;
  /** Robust local level of the metric before this sample. */
  baselineMean: number;
  deviationSigma: number;
  score: number;
  severity: Severity;
  /** The metric's type when the anomaly goes the way that type describes, else `other` (see `eventAnomalyType`). */
  anomalyType: AnomalyType;
  expected: number;
  lower: number;
  upper: number;
  /** Ensemble member that fired, e.g. `ensemble/spike` or `ensemble/level_shift@seasonal`. */
  detector: string;
  /** Side of the expected value the alarming sample is on (a level shift: its average), or `flat` for a stuck value. */
  direction: Direction;
  /** Sample time. */
  timeMs: number;
  /** Engine clock when the anomaly was detected. */
  detectedAtMs: number;
}

export interface Assessment {
  metric: string;
  value: number;
  timeMs: number;
  /** 0..1, how surprising the sample was. */
  score: number;
  expected: number;
  /** Band expected +- the `low` severity threshold in sigma. */
  lower: number;
  upper: number;
  deviationSigma: number;
  warmingUp: boolean;
  samplesSeen: number;
  anomaly?: AnomalyEvent;
}

export interface RecordSample {
  metric: string;
  value: number;
  timeMs?: number;
}

export interface MetricStatistics {
  metric: string;
  count: number;
  /** Mean and standard deviation of every sample since the metric was created or reset (Welford). */
  mean: number;
  stdDev: number;
  min: number;
  max: number;
  lastValue: number;
  anomalyCount: number;
  config: MetricConfig;
  /** Time of the most recently recorded sample: its own time, or the engine clock when it had none (0 before any). */
  lastSampleTimeMs: number;
}

export interface HistoryFilter {
  type?: AnomalyType;
  /** Exact severity. */
  severity?: Severity;
  minSeverity?: Severity;
  metric?: string;
  /** Events whose sample time is at or after this. */
  sinceMs?: number;
  /** Only events after this sequence; then the oldest `limit` of them are returned (still newest first). */
  afterSequence?: number;
  /** The run `afterSequence` is from (`AnomalyEngine.instanceId`); a page after another run's sequence is refused. */
  afterInstanceId?: string;
  /** Events returned, default 100, at most 10,000: the newest, or the oldest after `afterSequence`. */
  limit?: number;
}

export interface SubscriptionFilter {
  metric?: string;
  type?: AnomalyType;
  minSeverity?: Severity;
  /** Replay retained events after this sequence before going live. */
  resumeAfterSequence?: number;
  /** The run `resumeAfterSequence` is from (`AnomalyEngine.instanceId`); a resume from another run is refused. */
  resumeInstanceId?: string;
}

/** Why a subscriber missed events (see the `gap` stream item). */
export type GapReason = 'queue_overflow' | 'history_expired';

export type StreamItem =
  | { kind: 'anomaly'; event: AnomalyEvent }
  /**
   * Matching events this subscriber will never see: `queue_overflow` when it read too slowly (its
   * queue was full, or its replay kept losing its place in the history), `history_expired` when
   * they had left the history before the replay came to them. `upperBound`: some had left the
   * history too long ago to be checked against the filter and are counted whether they matched or not.
   */
  | { kind: 'gap'; missed: number; reason: GapReason; upperBound?: true }
  /**
   * Sent once, when the replay (empty without a resume) has read every event the history held,
   * events raised during it included: everything up to `lastSequence`, the newest then, has been
   * delivered or counted; later events come live.
   */
  | { kind: 'caught_up'; lastSequence: number };

export interface Subscription extends AsyncIterable<StreamItem> {
  close(): void;
}

export interface EngineLimits {
  /** Metrics tracked at once. */
  maxMetrics: number;
  /** Events kept in history; the oldest are dropped beyond it. */
  historyCapacity: number;
  /** Samples per `recordBatch`. */
  maxBatchSize: number;
  /** Live subscribers at once. */
  maxSubscribers: number;
  /** Default and largest per-subscriber queue (events). */
  defaultQueueCapacity: number;
  maxQueueCapacity: number;
  /**
   * Seasonal-profile slots across all metrics (17 bytes each). The profile is the only per-metric
   * state whose size a client chooses, so this and `maxMetrics` together bound the engine's memory.
   */
  maxSeasonSlots: number;
}
