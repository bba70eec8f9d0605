/** AnomalyService: the anomaly engine's samples, configuration, history and live stream. */
import { create, type MessageInitShape } from '@bufbuild/protobuf';
import {
  AnomalyDirectionSchema,
  AnomalyService,
  AnomalySeveritySchema,
  AnomalyTypeSchema,
  WatchAnomaliesResponseSchema,
  type AnomalySchema,
  type WatchAnomaliesResponse,
  type AnomalySummarySchema,
  type MetricDetectionConfig,
  type MetricDetectionConfigSchema,
  type SampleAssessmentSchema,
} from '../../../gen/ts/rs3gw/observability/v1/anomaly_pb.js';
import type {
  AnomalyEngine,
  AnomalyEvent,
  AnomalyType,
  Assessment,
  MetricConfig,
  MetricConfigPatch,
  Severity,
  StreamItem,
} from '../../core/anomaly/index.js';
import { DEFAULT_DETECTOR_TUNING, SEVERITIES, snake } from '../../core/anomaly/index.js';
import type { Clock } from '../../core/clock.js';
import { invalidArgument } from '../../core/errors.js';
import { bindService, type ServiceBinding } from '../pipeline/handlers.js';
import { enumName, enumNumber, timeBoundOrUndefined, timestamp, timestampOrUndefined, u64 } from './convert.js';

const camel = (s: string) => s.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase());
type TuningKey = keyof typeof DEFAULT_DETECTOR_TUNING;
const TUNING_KEYS = Object.keys(DEFAULT_DETECTOR_TUNING) as TuningKey[];

function anomalyOut(e: AnomalyEvent): MessageInitShape<typeof AnomalySchema> {
  return {
    sequence: u64(e.sequence),
    metricName: e.metric,
    currentValue: e.value,
    baselineMean: e.baselineMean,
    deviationSigma: e.deviationSigma,
    anomalyType: enumNumber(AnomalyTypeSchema, e.anomalyType),
    severity: enumNumber(AnomalySeveritySchema, e.severity),
    detectedAt: timestamp(e.detectedAtMs),
    sampleTime: timestamp(e.timeMs),
    score: e.score,
    expectedValue: e.expected,
    lowerBound: e.lower,
    upperBound: e.upper,
    detector: e.detector,
    direction: enumNumber(AnomalyDirectionSchema, e.direction),
  };
}

function assessmentOut(a: Assessment): MessageInitShape<typeof SampleAssessmentSchema> {
  return {
    metric: a.metric,
    value: a.value,
    time: timestamp(a.timeMs),
    score: a.score,
    expectedValue: a.expected,
    lowerBound: a.lower,
    upperBound: a.upper,
    deviationSigma: a.deviationSigma,
    warmingUp: a.warmingUp,
    samplesSeen: u64(a.samplesSeen),
    anomaly: a.anomaly ? anomalyOut(a.anomaly) : undefined,
  };
}

function configOut(c: MetricConfig): MessageInitShape<typeof MetricDetectionConfigSchema> {
  return {
    anomalyType: enumNumber(AnomalyTypeSchema, c.anomalyType),
    minSamples: c.minSamples,
    windowSize: c.windowSize,
    restSamples: c.restSamples,
    severityThresholds: {
      lowSigma: c.severityThresholds.low,
      mediumSigma: c.severityThresholds.medium,
      highSigma: c.severityThresholds.high,
      criticalSigma: c.severityThresholds.critical,
    },
    detectorParameters: Object.fromEntries(TUNING_KEYS.map((k) => [snake(k), c.detector[k]])),
  };
}

function configPatchIn(c: MetricDetectionConfig | undefined): MetricConfigPatch {
  if (!c) return {};
  const patch: MetricConfigPatch = {};
  const type = enumName<AnomalyType>(AnomalyTypeSchema, c.anomalyType, 'config.anomaly_type');
  if (type) patch.anomalyType = type;
  if (c.minSamples !== undefined) patch.minSamples = c.minSamples;
  if (c.windowSize !== undefined) patch.windowSize = c.windowSize;
  if (c.restSamples !== undefined) patch.restSamples = c.restSamples;
  const t = c.severityThresholds;
  if (t) {
    // Unset (zero) thresholds keep their value; the engine checks the result is increasing.
    patch.severityThresholds = {
      ...(t.lowSigma !== 0 && { low: t.lowSigma }),
      ...(t.mediumSigma !== 0 && { medium: t.mediumSigma }),
      ...(t.highSigma !== 0 && { high: t.highSigma }),
      ...(t.criticalSigma !== 0 && { critical: t.criticalSigma }),
    };
  }
  const detector: Partial<Record<TuningKey, number>> = {};
  for (const [name, value] of Object.entries(c.detectorParameters)) {
    // Map keys are the names as written (snake_case): taking `seasonSlots` too let two spellings of
    // one parameter in a request resolve silently to the later one.
    const key = camel(name) as TuningKey;
    if (!TUNING_KEYS.includes(key) || snake(key) !== name) {
      throw invalidArgument(`config.detector_parameters.${name}`, `unknown parameter; known: ${TUNING_KEYS.map(snake).join(', ')}`);
    }
    detector[key] = value;
  }
  if (Object.keys(detector).length > 0) patch.detector = detector;
  return patch;
}

function severityIn(value: number, field: string): Severity | undefined {
  return enumName<Severity>(AnomalySeveritySchema, value, field);
}

/** GetStatistics page sizes: ~1 KB per metric at most (a 200-character name, 13 parameters). */
const DEFAULT_STATISTICS_PAGE = 500;
const MAX_STATISTICS_PAGE = 1_000;
const PAGE_TOKEN_PREFIX = 'after:';

/** The page token of GetStatistics: the last metric name of the previous page, opaque to clients. */
function pageTokenOut(after: string | undefined): string {
  return after === undefined ? '' : Buffer.from(PAGE_TOKEN_PREFIX + after).toString('base64url');
}

function pageTokenIn(token: string): string | undefined {
  if (token === '') return undefined;
  const text = /^[A-Za-z0-9_-]+$/.test(token) ? Buffer.from(token, 'base64url').toString() : '';
  if (!text.startsWith(PAGE_TOKEN_PREFIX) || text.length === PAGE_TOKEN_PREFIX.length) {
    throw invalidArgument('page_token', 'is not a token this service issued (use next_page_token as it was returned)');
  }
  return text.slice(PAGE_TOKEN_PREFIX.length);
}

/** Most recent anomalies the health report lists. */
const RECENT_IN_SUMMARY = 10;

/** The health report's view of the anomaly history. */
export function anomalySummary(engine: AnomalyEngine, historyCapacity: number): MessageInitShape<typeof AnomalySummarySchema> {
  const lastHour = engine.detectedWithin(3_600_000);
  return {
    totalDetected: u64(engine.lastSequence),
    lastHour: u64(SEVERITIES.reduce((sum, s) => sum + lastHour[s], 0)),
    lastHourBySeverity: SEVERITIES.map((s) => ({ severity: enumNumber(AnomalySeveritySchema, s), count: u64(lastHour[s]) })),
    metricsTracked: engine.metricCount,
    metricsLimit: engine.limits.maxMetrics,
    metricsAtLimit: engine.newMetricsRefused,
    recent: engine.history({ limit: Math.min(RECENT_IN_SUMMARY, historyCapacity) }).map(anomalyOut),
  };
}

/**
 * One stream message per event, shared by every subscriber that receives it (the engine hands them
 * all the same event object), so the conversion, and the encoding cached on the message by the
 * transport, is done once per event rather than once per subscriber.
 */
const anomalyMessages = new WeakMap<AnomalyEvent, WatchAnomaliesResponse>();

function anomalyMessage(event: AnomalyEvent): WatchAnomaliesResponse {
  let message = anomalyMessages.get(event);
  if (!message) {
    message = create(WatchAnomaliesResponseSchema, { event: { case: 'anomaly', value: anomalyOut(event) } });
    anomalyMessages.set(event, message);
  }
  return message;
}

function streamMessage(item: StreamItem, instanceId: string) {
  switch (item.kind) {
    case 'anomaly':
      return anomalyMessage(item.event);
    case 'gap':
      return {
        event: {
          case: 'missed' as const,
          value: { count: u64(item.missed), reason: item.reason, countIsUpperBound: item.upperBound === true },
        },
      };
    case 'caught_up':
      return { event: { case: 'caughtUp' as const, value: { lastSequence: u64(item.lastSequence), instanceId } } };
  }
}

/** `clock` is the wall clock, which stamps ListAnomalies' answer. */
export function anomalyBinding(engine: AnomalyEngine, clock: Clock): ServiceBinding {
  return bindService(AnomalyService, {
    recordSample(req) {
      const timeMs = timestampOrUndefined(req.time);
      return { assessment: assessmentOut(engine.record(req.metric, req.value, timeMs)) };
    },
    recordSamples(req) {
      const samples = req.samples.map((s) => ({ metric: s.metric, value: s.value, timeMs: timestampOrUndefined(s.time) }));
      return { assessments: engine.recordBatch(samples).map(assessmentOut) };
    },
    listAnomalies(req) {
      const events = engine.history({
        type: enumName<AnomalyType>(AnomalyTypeSchema, req.type, 'type'),
        severity: severityIn(req.severity, 'severity'),
        minSeverity: severityIn(req.minSeverity, 'min_severity'),
        metric: req.metric || undefined,
        sinceMs: timeBoundOrUndefined(req.since),
        afterSequence: req.afterSequence !== undefined ? Number(req.afterSequence) : undefined,
        afterInstanceId: req.afterInstanceId || undefined,
        // Unset (0): the engine's default.
        limit: req.limit || undefined,
      });
      return {
        timestamp: timestamp(clock.nowMs()),
        anomalies: events.map(anomalyOut),
        lastSequence: u64(engine.lastSequence),
        instanceId: engine.instanceId,
        oldestSequence: u64(engine.oldestRetainedSequence),
      };
    },
    async *watchAnomalies(req, ctx) {
      const subscription = engine.subscribe({
        metric: req.metric || undefined,
        type: enumName<AnomalyType>(AnomalyTypeSchema, req.type, 'type'),
        minSeverity: severityIn(req.minSeverity, 'min_severity'),
        resumeAfterSequence: req.resumeAfterSequence !== undefined ? Number(req.resumeAfterSequence) : undefined,
        resumeInstanceId: req.resumeInstanceId || undefined,
      });
      const close = () => subscription.close();
      ctx.signal.addEventListener('abort', close, { once: true });
      try {
        for await (const item of subscription) yield streamMessage(item, engine.instanceId);
      } finally {
        ctx.signal.removeEventListener('abort', close);
        subscription.close();
      }
    },
    configureMetric(req) {
      return { config: configOut(engine.configure(req.metric, configPatchIn(req.config))) };
    },
    getStatistics(req) {
      if (req.pageSize < 0) throw invalidArgument('page_size', `must not be negative, got ${req.pageSize}`);
      // One metric is one answer, with no next page: a token with it would be dropped without a word.
      if (req.metric && req.pageToken) {
        throw invalidArgument('page_token', 'pages through all metrics, and is not taken with metric (one metric has no pages): send one or the other');
      }
      const page = req.metric
        ? { statistics: engine.statistics(req.metric) }
        : engine.statisticsPage({
            limit: req.pageSize === 0 ? DEFAULT_STATISTICS_PAGE : Math.min(req.pageSize, MAX_STATISTICS_PAGE),
            after: pageTokenIn(req.pageToken),
          });
      return {
        nextPageToken: pageTokenOut(page.nextAfter),
        statistics: page.statistics.map((s) => ({
          metric: s.metric,
          count: u64(s.count),
          mean: s.mean,
          stdDev: s.stdDev,
          min: s.min,
          max: s.max,
          lastValue: s.lastValue,
          anomalyCount: u64(s.anomalyCount),
          lastUpdateTime: s.count > 0 ? timestamp(s.lastSampleTimeMs) : undefined,
          config: configOut(s.config),
        })),
      };
    },
    resetMetric(req) {
      if (req.delete) engine.delete(req.metric);
      else engine.reset(req.metric);
      return {};
    },
  });
}
