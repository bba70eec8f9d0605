/** MetricsService: custom metrics on the metrics engine, and the business KPIs. */
import { create, toJson } from '@bufbuild/protobuf';
import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import { HttpBodySchema } from '../../../gen/ts/google/api/httpbody_pb.js';
import {
  ExportFormat,
  MetricsService,
  MetricTypeSchema,
  RecordOperationSchema,
  S3OperationSchema,
  ExportedMetricSchema,
  MetricSeriesSchema,
  type ExportedMetric,
  type MetricDescriptorSchema,
  type MetricRecord,
  type MetricSeries,
} from '../../../gen/ts/rs3gw/observability/v1/metrics_pb.js';
import type { MessageInitShape } from '@bufbuild/protobuf';
import { DurationSchema, type Duration } from '@bufbuild/protobuf/wkt';
import type { BusinessMetrics, BusinessReport, Operation, RequestEvent } from '../../core/business/index.js';
import type { Clock } from '../../core/clock.js';
import { invalidArgument } from '../../core/errors.js';
import type { JsonExport, MetricDescriptor, MetricsEngine, MetricType as EngineMetricType, RecordOp, RecordRequest, Series } from '../../core/metrics/index.js';
import { abortError } from '../pipeline/errors.js';
import { bindService, type ServiceBinding } from '../pipeline/handlers.js';
import { duration, durationOrUndefined, enumName, enumNumber, requiredEnumName, timestamp, timestampOrUndefined, u64 } from './convert.js';

const PROMETHEUS_TEXT = 'text/plain; version=0.0.4; charset=utf-8';
const DEFAULT_TREND_WINDOW_MS = 3_600_000;

/**
 * The trend window in ms. Under 1 ms is refused here, in the API's terms (a Duration): the engine
 * keeps times in whole milliseconds, so a shorter window would be echoed back as 0s.
 */
function trendWindowMs(window: Duration | undefined): number {
  if (window === undefined) return DEFAULT_TREND_WINDOW_MS;
  const ms = Number(window.seconds) * 1000 + window.nanos / 1e6;
  if (ms < 1) throw invalidArgument('window', `must be a duration of at least 0.001s, got ${String(toJson(DurationSchema, window))}`);
  return ms;
}

function descriptorOut(d: MetricDescriptor): MessageInitShape<typeof MetricDescriptorSchema> {
  return {
    name: d.name,
    type: enumNumber(MetricTypeSchema, d.type),
    description: d.description,
    labelNames: d.labelNames,
    buckets: d.buckets ?? [],
    quantiles: d.quantiles ?? [],
    unit: d.unit,
    seriesCount: d.seriesCount,
    createTime: timestamp(d.createdMs),
  };
}

function seriesOut(s: Series): MessageInitShape<typeof MetricSeriesSchema> {
  if ('buckets' in s) {
    return {
      labels: s.labels,
      count: u64(s.count),
      sum: s.sum,
      // The engine leaves out +Inf (it always equals count); the contract lists it last.
      buckets: [...s.buckets, { upperBound: Infinity, cumulativeCount: s.count }].map((b) => ({ upperBound: b.upperBound, cumulativeCount: u64(b.cumulativeCount) })),
    };
  }
  if ('quantiles' in s) return { labels: s.labels, count: u64(s.count), sum: s.sum, quantiles: s.quantiles };
  return { labels: s.labels, value: s.value };
}

/** Series converted to messages between two turns of the event loop: a few milliseconds' work. */
const EXPORT_CHUNK_SERIES = 5_000;

/**
 * The export's metrics as messages, built a chunk of series at a time: converting 100,000 series
 * in one go held up other calls for tens of milliseconds (the REST answer is written in chunks too).
 * A call whose client went away (or whose deadline passed) stops at the next chunk, not at the end.
 */
async function exportedMetricsOut(json: JsonExport, signal: AbortSignal): Promise<Record<string, ExportedMetric>> {
  let sinceYield = 0;
  const entries: Array<[string, ExportedMetric]> = [];
  for (const [name, m] of Object.entries(json.metrics)) {
    const series: MetricSeries[] = [];
    for (const s of m.series) {
      series.push(create(MetricSeriesSchema, seriesOut(s)));
      if (++sinceYield >= EXPORT_CHUNK_SERIES) {
        sinceYield = 0;
        await yieldToEventLoop();
        if (signal.aborted) throw abortError(signal);
      }
    }
    entries.push([name, create(ExportedMetricSchema, { type: enumNumber(MetricTypeSchema, m.type), value: m.value, description: m.description, series })]);
  }
  // fromEntries: a metric named `__proto__` is an own key like any other.
  return Object.fromEntries(entries);
}

function recordIn(r: Pick<MetricRecord, 'name' | 'value' | 'labels' | 'operation'>, prefix: string): RecordRequest {
  const op = enumName<string>(RecordOperationSchema, r.operation, `${prefix}operation`);
  return { name: r.name, value: r.value, labels: r.labels, op: op as RecordOp | undefined };
}

/** Storage figures; the growth rate stays unset (absent in JSON) until the engine has one. */
function storageOut(s: BusinessReport['storageUtilization']) {
  return {
    buckets: u64(s.buckets),
    objects: u64(s.objects),
    totalBytes: s.totalBytes,
    growthRateBytesPerDay: s.growthRateBytesPerDay ?? undefined,
    growthRateWindow: duration(s.growthWindowMs),
  };
}

export function businessReportOut(r: BusinessReport) {
  const t = r.dataTransfer;
  const q = r.requestPatterns;
  const u = r.userActivity;
  return {
    timestamp: timestamp(Date.parse(r.timestamp)),
    storageUtilization: storageOut(r.storageUtilization),
    dataTransfer: {
      uploadRateBytesPerSec: t.uploadRateBytesPerSec,
      downloadRateBytesPerSec: t.downloadRateBytesPerSec,
      peakUploadRateBytesPerSec: t.peakUploadRateBytesPerSec,
      peakDownloadRateBytesPerSec: t.peakDownloadRateBytesPerSec,
      totalUploadedBytes: t.totalUploadedBytes,
      totalDownloadedBytes: t.totalDownloadedBytes,
      rateWindow: duration(t.rateWindowSeconds * 1000),
    },
    requestPatterns: {
      // Unset (absent in JSON) without a request in the window: no data is not 0 ms.
      p50LatencyMs: q.p50LatencyMs ?? undefined,
      p95LatencyMs: q.p95LatencyMs ?? undefined,
      p99LatencyMs: q.p99LatencyMs ?? undefined,
      errorRate: q.errorRate,
      clientErrorRate: q.clientErrorRate,
      serverErrorRate: q.serverErrorRate,
      totalRequests: u64(q.totalRequests),
      requestsPerSec: q.requestsPerSec,
      requestsByOperation: Object.fromEntries(Object.entries(q.requestsByOperation).map(([k, v]) => [k, u64(v)])),
      requestsByBucket: Object.fromEntries(Object.entries(q.requestsByBucket).map(([k, v]) => [k, u64(v)])),
      window: duration(q.windowSeconds * 1000),
    },
    userActivity: {
      activeUsersLastHour: u.activeUsersLastHour,
      activeUsersLastDay: u.activeUsersLastDay,
      activeUsersLastHourEstimated: u.activeUsersLastHourEstimated,
      activeUsersLastDayEstimated: u.activeUsersLastDayEstimated,
      trackedUsers: u.trackedUsers,
      maxTrackedUsers: u.maxTrackedUsers,
      evictedUsers: u64(u.evictedUsers),
      topUsers: u.topUsers.map((x) => ({
        user: x.user,
        requests: u64(x.requests),
        requestsErrorBound: u64(x.requestsError),
        bytesIn: x.bytesIn,
        bytesOut: x.bytesOut,
        lastSeen: timestamp(x.lastSeenMs),
      })),
    },
    costEstimate: r.costEstimate,
  };
}

/**
 * A 64-bit field as a number: past 2^53 - 1 either way a number is not exact, so it is refused, with
 * its exact value (an unsigned field, which cannot be negative, is told only its maximum).
 */
function exactNumber(value: bigint, field: string, signed = false): number {
  if (value > BigInt(Number.MAX_SAFE_INTEGER) || value < -BigInt(Number.MAX_SAFE_INTEGER)) {
    const range = signed ? `within ±${Number.MAX_SAFE_INTEGER}` : `at most ${Number.MAX_SAFE_INTEGER}`;
    throw invalidArgument(field, `must be ${range} (2^53 - 1), got ${value}`);
  }
  return Number(value);
}

function int64Delta(value: bigint | undefined, field: string): number | undefined {
  return value === undefined ? undefined : exactNumber(value, field, true);
}

/** What ExportMetrics asks before rendering (server/unsent-budget.ts): refusal is an error it throws. */
export interface RenderBudget {
  check(kind: string, what: string): { made(bytes: number): void; release(): void };
}

/** `clock` is the wall clock, which stamps a Prometheus export (a JSON one carries the engine's stamp). */
export function metricsBinding(metrics: MetricsEngine, business: BusinessMetrics, unsent: RenderBudget, clock: Clock): ServiceBinding {
  return bindService(MetricsService, {
    registerMetric(req) {
      const type = requiredEnumName<EngineMetricType>(MetricTypeSchema, req.type, 'type');
      const { descriptor, created } = metrics.register({
        name: req.name,
        type,
        description: req.description,
        labelNames: req.labelNames,
        buckets: req.buckets,
        quantiles: req.quantiles,
        unit: req.unit,
      });
      return { metric: descriptorOut(descriptor), created };
    },
    async recordMetric(req) {
      const record = recordIn(req, '');
      metrics.record(record);
      const reading = await metrics.get(req.name, req.labels);
      const series = reading.series.find((s) => sameLabels(s.labels, req.labels));
      return { series: series ? seriesOut(series) : undefined };
    },
    batchRecordMetrics(req) {
      const { recorded } = metrics.recordBatch(req.records.map((r, i) => recordIn(r, `records[${i}].`)));
      return { recorded };
    },
    async getMetric(req) {
      const reading = await metrics.get(req.name, Object.keys(req.labels).length > 0 ? req.labels : undefined);
      return { metric: descriptorOut(reading.descriptor), series: reading.series.map(seriesOut) };
    },
    async listMetrics(req) {
      const type = enumName<EngineMetricType>(MetricTypeSchema, req.type, 'type');
      const list = await metrics.list({ prefix: req.prefix || undefined, type });
      return { metrics: list.map(descriptorOut) };
    },
    async getTrend(req) {
      const t = await metrics.trend(req.name, req.labels, trendWindowMs(req.window));
      return {
        name: t.name,
        labels: t.labels,
        window: duration(t.windowMs),
        startValue: t.start,
        endValue: t.end,
        change: t.change,
        changePercent: t.percentChange ?? undefined,
        minValue: t.min,
        maxValue: t.max,
        meanValue: t.mean,
        slopePerSecond: t.slopePerSecond ?? 0,
        saturated: t.saturated,
        points: t.points.map((p) => ({ time: timestamp(p.timestampMs), value: p.value })),
        covered: duration(t.coveredMs),
        historyTruncated: t.historyTruncated,
      };
    },
    async exportMetrics(req, ctx) {
      checkFormat(req.format);
      // Refused rather than rendered when the answer would pass the unsent budget (RS3GW_MAX_UNSENT_BYTES):
      // a JSON export is estimated by the last text one, which is shorter. Once made, the answer is
      // judged by its size where the transport hands it over, as every answer is.
      const ticket = unsent.check('export', 'ExportMetrics');
      try {
        if (req.format === ExportFormat.PROMETHEUS) {
          const data = Buffer.from(await metrics.exportPrometheus(undefined, ctx.signal));
          ticket.made(data.length);
          return { timestamp: timestamp(clock.nowMs()), prometheus: create(HttpBodySchema, { contentType: PROMETHEUS_TEXT, data }) };
        }
        const json = await metrics.exportJson(ctx.signal);
        return { timestamp: timestamp(Date.parse(json.timestamp)), metrics: await exportedMetricsOut(json, ctx.signal) };
      } finally {
        ticket.release();
      }
    },
    async getBusinessMetrics(req) {
      checkFormat(req.format);
      if (req.format === ExportFormat.PROMETHEUS) {
        const text = await business.exportPrometheus();
        return { prometheus: create(HttpBodySchema, { contentType: PROMETHEUS_TEXT, data: Buffer.from(text) }) };
      }
      return { report: businessReportOut(business.report()) };
    },
    ingestRequestEvents(req) {
      const events: RequestEvent[] = req.events.map((e, i) => {
        const at = `events[${i}].`;
        const operation = requiredEnumName<Operation>(S3OperationSchema, e.operation, `${at}operation`);
        return {
          timeMs: timestampOrUndefined(e.time),
          operation,
          bucket: e.bucket,
          user: e.user,
          status: e.statusCode,
          bytesIn: exactNumber(e.bytesIn, `${at}bytes_in`),
          bytesOut: exactNumber(e.bytesOut, `${at}bytes_out`),
          latencyMs: durationOrUndefined(e.latency, `${at}latency`),
          storedBytesDelta: int64Delta(e.storedBytesDelta, `${at}stored_bytes_delta`),
          storedObjectsDelta: int64Delta(e.storedObjectsDelta, `${at}stored_objects_delta`),
        };
      });
      return business.ingest(events);
    },
    setStorageUsage(req) {
      const s = business.setStorageUsage({
        buckets: exactNumber(req.buckets, 'buckets'),
        objects: exactNumber(req.objects, 'objects'),
        // Any uint64: the engine keeps stored bytes exact as a bigint.
        totalBytes: req.totalBytes,
      });
      return { storageUtilization: storageOut(s) };
    },
  });
}

function checkFormat(format: ExportFormat): void {
  if (format !== ExportFormat.UNSPECIFIED && format !== ExportFormat.JSON && format !== ExportFormat.PROMETHEUS) {
    throw invalidArgument('format', `unknown value ${format}; expected one of EXPORT_FORMAT_JSON, EXPORT_FORMAT_PROMETHEUS`);
  }
}

function sameLabels(a: Record<string, string>, b: Record<string, string>): boolean {
  const ka = Object.keys(a);
  return ka.length === Object.keys(b).length && ka.every((k) => a[k] === b[k]);
}
