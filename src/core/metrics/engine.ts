/**
 * The metrics engine: owns the service's prom-client registries (Prometheus text and OpenMetrics),
 * the user-defined metrics of the MetricsService, the business KPI instruments, and a capped ring of
 * snapshots for trends. No transport code: the server calls these methods and maps the errors.
 */
import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import { collectDefaultMetrics, type Metric } from 'prom-client';
import { monotonicClock, systemClock, type Clock } from '../clock.js';
import { alreadyExists, failedPrecondition, invalidArgument, notFound, resourceExhausted } from '../errors.js';
import { headerBytes, seriesBytes, seriesCells } from './budget.js';
import { Expositions, fixNaN, type ScrapeResult } from './expositions.js';
import { DEFAULT_BUCKETS } from './histogram.js';
import { InstrumentFactory, type Instrument } from './instruments.js';
import type { MetricKind, PromValue, Statistic } from './kind.js';
import { KINDS, isMetricType } from './kinds.js';
import { checkLabels, promClientSeriesHash, seriesKey } from './labels.js';
import { canonicalName, checkDescription, checkLabelNames, checkUnit, checkUserMetricName, exposedNames } from './names.js';
import { registerProcessCpu } from './process-cpu.js';
import { NameMapRegistry } from './registry.js';
import { SnapshotRing } from './snapshots.js';
import { PROM_CLIENT_QUANTILES } from './summary.js';
import { summarizeTrend, type TrendSummary } from './trend.js';
import type {
  Labels,
  MetricDefinition,
  MetricDescriptor,
  MetricOrigin,
  MetricReading,
  MetricType,
  RecordOp,
  RecordRequest,
  Series,
} from './types.js';

export interface MetricsLimits {
  /** User-registered metrics. */
  maxMetrics: number;
  /** Series (distinct label sets) of one user metric: its label cardinality. */
  maxSeriesPerMetric: number;
  /** Series over all user metrics, so that many metrics at full cardinality cannot exhaust memory. */
  maxTotalSeries: number;
  /**
   * Exposition lines over all user metrics (a series is 1 for a counter or gauge, buckets + 3 for a
   * histogram, quantiles + 2 for a summary): bounds the work of a scrape, an export and a snapshot.
   */
  maxTotalCells: number;
  /** Upper bound of the exposition bytes of all user metrics (see budget.ts): bounds a scrape's size. */
  maxExpositionBytes: number;
  /** Records in one `recordBatch` call. */
  maxBatchSize: number;
  /** Snapshots kept for trends (1,440 = one day at one per minute). */
  maxSnapshots: number;
  /**
   * Values kept over all snapshots (8 bytes each; a snapshot holds one per counter or gauge series,
   * two per histogram or summary series); beyond it the oldest snapshots are dropped, and trends say so.
   */
  maxSnapshotValues: number;
}

export const DEFAULT_METRICS_LIMITS: MetricsLimits = {
  maxMetrics: 1_000,
  maxSeriesPerMetric: 1_000,
  maxTotalSeries: 100_000,
  // Under a second of scrape work on a slow core, written in chunks (registry.ts), and at most
  // 32 MiB of /metrics whatever the labels.
  maxTotalCells: 500_000,
  maxExpositionBytes: 32 * 1024 * 1024,
  maxBatchSize: 1_000,
  maxSnapshots: 1_440,
  maxSnapshotValues: 5_000_000,
};

/**
 * The largest exposition budget a configuration may set: a scrape is one V8 string, of at most
 * 2^29 - 24 characters, and must hold the service's own metrics besides (the budget counts bytes,
 * never fewer than characters).
 */
export const MAX_EXPOSITION_BYTES_LIMIT = 256 * 1024 * 1024;

/** Snapshots are the costliest periodic work; more often than this is never needed for trends. */
const MIN_SNAPSHOT_INTERVAL_MS = 1_000;

export interface MetricsEngineOptions {
  /** The wall clock: creation times, export times and the times of trend points. */
  clock?: Clock;
  /**
   * Times snapshots for trend windows, which a step of the wall clock must not bend; default the
   * monotonic clock.
   */
  intervals?: Clock;
  limits?: Partial<MetricsLimits>;
  /** Collect prom-client's default process and Node.js metrics (no prefix). Default true. */
  defaultMetrics?: boolean;
  /** The process's CPU time since it started, for process_cpu_*; default process.cpuUsage. */
  cpuUsage?: () => NodeJS.CpuUsage;
}

export interface RegisterResult {
  descriptor: MetricDescriptor;
  /** False when the same definition was already registered (registration is idempotent). */
  created: boolean;
}

export interface ListFilter {
  prefix?: string;
  type?: MetricType;
}

export interface TrendResult extends TrendSummary {
  name: string;
  labels: Labels;
  statistic: Statistic;
  /** The window asked for. */
  windowMs: number;
  /** How far back the points reach: the age of the oldest (0 with only the current value). */
  coveredMs: number;
  /** Snapshots of the series within the window were dropped (snapshot retention or value budget). */
  historyTruncated: boolean;
}

export interface JsonMetric {
  type: MetricType;
  /**
   * Counter/gauge: the unlabelled value or the sum over series; histogram/summary: observation count.
   * Absent for a gauge without series (no data) and for one whose series do not add up.
   */
  value?: number;
  description: string;
  unit?: string;
  series: Series[];
}

export interface JsonExport {
  timestamp: string;
  metrics: Record<string, JsonMetric>;
}

export interface EngineStats {
  customMetrics: number;
  customSeries: number;
  /** Exposition lines of the custom metrics (`maxTotalCells`). */
  customCells: number;
  /** Upper bound of the exposition bytes of the custom metrics (`maxExpositionBytes`). */
  customExpositionBytes: number;
  snapshots: number;
  snapshotValues: number;
  /** Message of the last failed periodic snapshot, if any. */
  lastSnapshotError?: string;
}

/** A descriptor as stored: the series count is read when a descriptor is handed out. */
type StoredDescriptor = Omit<MetricDescriptor, 'seriesCount'>;

interface Entry {
  descriptor: StoredDescriptor;
  kind: MetricKind;
  metric: Metric;
  /** prom-client series hash -> our series key; the cardinality of a user metric and its collision guard. */
  series: Map<string, string>;
  /** prom-client series hash -> the series' running figure (value or sum, `kind.running`) of a user metric. */
  running: Map<string, number>;
  /** prom-client series hash -> records applied to the series of a user metric (a histogram's or summary's count). */
  records: Map<string, number>;
  /** Exposition lines of each series (budget.ts). */
  cells: number;
}

/** What the records of one batch change before any is applied (a batch is checked as a whole). */
interface Pending {
  /** Series the batch creates, per metric: prom-client hash -> series key. */
  series: Map<Entry, Map<string, string>>;
  /** Running figures after the batch's records so far, per metric: prom-client hash -> figure. */
  running: Map<Entry, Map<string, number>>;
  /** Exposition lines and bytes of the series the batch creates. */
  cells: number;
  bytes: number;
}

const newPending = (): Pending => ({ series: new Map(), running: new Map(), cells: 0, bytes: 0 });

/** Series a snapshot or a JSON export reads between two yields to the event loop. */
export const CHUNK_SERIES = 5_000;
/** What reading a metric for a JSON export costs besides its series, in series: some 10 µs. */
const METRIC_SERIES = 10;

interface PreparedRecord {
  entry: Entry;
  labels: Labels;
  op: RecordOp;
  value: number;
  hash: string;
  key: string;
  /** The series' running figure once this record is applied. */
  running: number;
  /** Upper bound of the exposition bytes of the series, if this record creates it. */
  newSeriesBytes: number;
}

export class MetricsEngine {
  /** The server's own instruments (RPC latency, request counters): in `/metrics` only. */
  readonly builtin: InstrumentFactory;
  /** Service-maintained KPIs: in `/metrics`, and also listed, read, snapshotted and exported like user metrics. */
  readonly kpi: InstrumentFactory;

  /** KPI gauges whose series are views of one figure (seriesAddUp false): no total in the JSON export. */
  private readonly viewsNotParts = new Set<string>();
  private readonly clock: Clock;
  private readonly intervals: Clock;
  private readonly limits: MetricsLimits;
  private readonly expositions = new Expositions();
  private readonly entries = new Map<string, Entry>();
  /** Every exposed family/sample name -> the metric owning it, for all metrics including built-in ones. */
  private readonly claims = new Map<string, string>();
  private readonly snapshots: SnapshotRing;
  private customMetrics = 0;
  private customSeries = 0;
  private customCells = 0;
  private customBytes = 0;
  private timer: NodeJS.Timeout | undefined;
  private lastSnapshotError: string | undefined;
  private snapshotting = false;

  constructor(options: MetricsEngineOptions = {}) {
    this.clock = options.clock ?? systemClock;
    this.intervals = options.intervals ?? monotonicClock;
    this.limits = checkLimits({ ...DEFAULT_METRICS_LIMITS, ...options.limits });
    this.snapshots = new SnapshotRing(this.limits.maxSnapshots, this.limits.maxSnapshotValues);
    this.builtin = new InstrumentFactory((instrument) => this.adopt(instrument, undefined));
    this.kpi = new InstrumentFactory((instrument) => this.adopt(instrument, 'kpi'));
    if (options.defaultMetrics ?? true) this.collectDefaultMetrics(options.cpuUsage);
  }

  /** `/metrics`: Prometheus text, or OpenMetrics when the scraper asked for it; stops once `signal` aborts. */
  scrape(openMetrics: boolean, signal?: AbortSignal): Promise<ScrapeResult> {
    return this.expositions.scrape(openMetrics, signal);
  }

  register(definition: MetricDefinition): RegisterResult {
    const def = (definition ?? {}) as Partial<MetricDefinition>;
    if (!isMetricType(def.type)) throw invalidArgument('type', 'must be one of counter, gauge, histogram, summary');
    const kind = KINDS[def.type];
    checkUserMetricName(def.name, def.type);
    checkDescription(def.description);
    const unit = def.unit ?? '';
    checkUnit(unit);
    const labelNames = checkLabelNames(def.labelNames, kind.reservedLabel);
    const options = kind.options(def as MetricDefinition);
    const descriptor: StoredDescriptor = {
      name: canonicalName(def.type, def.name),
      type: def.type,
      description: def.description,
      labelNames,
      ...options,
      unit,
      origin: 'custom',
      createdMs: this.clock.nowMs(),
    };

    const existing = this.entries.get(descriptor.name);
    if (existing) {
      if (existing.descriptor.origin === 'custom' && sameDefinition(existing.descriptor, descriptor)) {
        return { descriptor: describe(existing, existing.series.size), created: false };
      }
      const why = existing.descriptor.origin === 'kpi' ? 'is a built-in metric' : 'is already registered with a different definition';
      throw alreadyExists('name', `"${descriptor.name}" ${why}`);
    }
    this.checkUnclaimed(def.type, descriptor.name);
    if (this.customMetrics >= this.limits.maxMetrics) {
      throw resourceExhausted('name', `at most ${this.limits.maxMetrics} custom metrics may be registered (RS3GW_METRICS_MAX_METRICS)`);
    }
    // An unlabelled metric has its one series from the start: it counts against the series cap now.
    if (labelNames.length === 0 && this.customSeries >= this.limits.maxTotalSeries) {
      throw resourceExhausted('name', totalSeriesRefusal(this.limits.maxTotalSeries));
    }
    const header = headerBytes(descriptor.name, descriptor.description);
    const cells = seriesCells(def.type, options);
    const unlabelledBytes = labelNames.length === 0 ? seriesBytes(descriptor.name, {}, cells) : 0;
    const sizedBy = def.type === 'histogram' ? 'buckets' : def.type === 'summary' ? 'quantiles' : 'name';
    this.checkBudget(labelNames.length === 0 ? cells : 0, header + unlabelledBytes, labelNames.length === 0 ? sizedBy : 'description');

    const metric = kind.create(descriptor.name, descriptor.description, labelNames, options);
    const entry = this.addEntry(descriptor, kind, metric);
    this.customBytes += header;
    if (labelNames.length === 0) this.addSeries(entry, promClientSeriesHash({}), seriesKey({}), unlabelledBytes);
    this.customMetrics += 1;
    return { descriptor: describe(entry, entry.series.size), created: true };
  }

  record(request: RecordRequest): void {
    const prepared = this.prepare(request, '', newPending());
    this.apply(prepared);
  }

  /**
   * All records are validated (and the caps checked) before any is applied: a bad batch changes nothing.
   * (To answer with the updated series of a single record, `get(name, labels)` returns exactly it.)
   */
  recordBatch(records: RecordRequest[]): { recorded: number } {
    if (!Array.isArray(records)) throw invalidArgument('records', 'must be a list');
    if (records.length > this.limits.maxBatchSize) {
      throw invalidArgument('records', `at most ${this.limits.maxBatchSize} records per batch (got ${records.length})`);
    }
    const pending = newPending();
    const prepared = records.map((record, i) => this.prepare(record, `records[${i}]`, pending));
    for (const p of prepared) this.apply(p);
    return { recorded: prepared.length };
  }

  /** Descriptor and series of a metric; `labels` keeps only series carrying all those label values. */
  async get(name: string, labels?: Labels): Promise<MetricReading> {
    const entry = this.resolve(name, 'name');
    const filter = labels === undefined ? {} : checkLabelFilter(entry.descriptor.labelNames, labels);
    const all = await this.read(entry);
    const series = all.filter((s) => Object.entries(filter).every(([label, value]) => s.labels[label] === value));
    return { descriptor: describe(entry, all.length), series };
  }

  /** User and KPI metric descriptors, sorted by name. */
  async list(filter: ListFilter = {}): Promise<MetricDescriptor[]> {
    if (filter.type !== undefined && !isMetricType(filter.type)) {
      throw invalidArgument('type', 'must be one of counter, gauge, histogram, summary');
    }
    const entries = this.sortedEntries().filter(
      ({ descriptor: d }) => (!filter.prefix || d.name.startsWith(filter.prefix)) && (!filter.type || d.type === filter.type),
    );
    const out: MetricDescriptor[] = [];
    for (const entry of entries) {
      // User series are counted as recorded; KPI series only exist in prom-client, so they are read.
      const count = entry.descriptor.origin === 'custom' ? entry.series.size : (await this.read(entry)).length;
      out.push(describe(entry, count));
    }
    return out;
  }

  /**
   * Stores the current value of every user and KPI series (count and sum for histograms/summaries).
   * User series are taken from the engine's own running figures, not parsed out of prom-client's
   * exposition lines (buckets and quantiles would multiply the work), and the event loop gets a turn
   * every CHUNK_SERIES series: a snapshot of many series never stalls the service.
   */
  async snapshot(): Promise<void> {
    const slots: Array<[number, number]> = [];
    let sinceYield = 0;
    const take = async (entry: Entry, key: string, pick: (statistic: Statistic) => number) => {
      const { statistics } = entry.kind;
      const slot = this.snapshots.slotFor(seriesId(entry, key), statistics.length);
      statistics.forEach((statistic, i) => slots.push([slot + i, pick(statistic)]));
      if (++sinceYield >= CHUNK_SERIES) {
        sinceYield = 0;
        await yieldToEventLoop();
      }
    };
    for (const entry of [...this.entries.values()]) {
      if (entry.descriptor.origin === 'custom') {
        for (const [hash, key] of entry.series) {
          await take(entry, key, (statistic) => (statistic === 'count' ? entry.records : entry.running).get(hash) ?? 0);
        }
      } else {
        for (const s of await this.read(entry)) await take(entry, seriesKey(s.labels), (statistic) => entry.kind.pick(s, statistic));
      }
    }
    const values = this.snapshots.newValues();
    for (const [slot, value] of slots) values[slot] = value;
    // Timed when stored, not when begun: two snapshots that overlap (one by hand, one by the timer)
    // then enter the ring in the order of their times.
    this.snapshots.add(this.intervals.nowMs(), values);
  }

  /** Takes a snapshot every `intervalMs` until `stop()`; calling it again changes the interval. */
  start(intervalMs: number): void {
    if (!Number.isInteger(intervalMs) || intervalMs < MIN_SNAPSHOT_INTERVAL_MS) {
      throw invalidArgument('interval_ms', `must be an integer >= ${MIN_SNAPSHOT_INTERVAL_MS}`);
    }
    this.stop();
    this.timer = setInterval(() => {
      // A snapshot yields while it runs; one still running when the next is due is not doubled.
      if (this.snapshotting) return;
      this.snapshotting = true;
      this.snapshot()
        .then(
          () => (this.lastSnapshotError = undefined),
          (err: unknown) => (this.lastSnapshotError = err instanceof Error ? err.message : String(err)),
        )
        .finally(() => (this.snapshotting = false));
    }, intervalMs);
    // The snapshot timer alone must not keep the process alive.
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  get running(): boolean {
    return this.timer !== undefined;
  }

  /**
   * Trend of one series over the last `windowMs`: the snapshots in the window plus the current value.
   * `statistic` is `value` for counters/gauges, `count` (default) or `sum` for histograms/summaries.
   * Window and ages are measured on the interval clock; a point's time is the wall clock now less
   * its age, so points keep the order and spacing they were taken with even across a wall-clock step
   * (after one, a time differs by the step from what the wall clock read when the value was taken).
   */
  async trend(name: string, labels: Labels | undefined, windowMs: number, statistic?: Statistic): Promise<TrendResult> {
    const entry = this.resolve(name, 'name');
    if (typeof windowMs !== 'number' || !Number.isFinite(windowMs) || windowMs <= 0) {
      throw invalidArgument('window', 'must be a positive number of milliseconds');
    }
    const { kind, descriptor } = entry;
    const stat = statistic ?? kind.statistics[0];
    const offset = kind.statistics.indexOf(stat);
    if (offset < 0) throw invalidArgument('statistic', `a ${kind.type} has the statistics ${kind.statistics.join(', ')}`);
    const wanted = checkLabels(descriptor.labelNames, labels, 'labels');
    const key = seriesKey(wanted);
    const current = (await this.read(entry)).find((s) => seriesKey(s.labels) === key);
    if (!current) throw notFound('labels', `${descriptor.name} has no series ${key}`);

    const nowMs = this.clock.nowMs();
    const intervalNowMs = this.intervals.nowMs();
    const id = seriesId(entry, key);
    const aged = this.snapshots.points(id, offset, intervalNowMs, windowMs);
    const points = aged.map(({ ageMs, value }) => ({ timestampMs: nowMs - ageMs, value }));
    points.push({ timestampMs: nowMs, value: kind.pick(current, stat) });
    return {
      name: descriptor.name,
      labels: wanted,
      statistic: stat,
      windowMs,
      coveredMs: aged[0]?.ageMs ?? 0,
      historyTruncated: this.snapshots.truncated(id, intervalNowMs, windowMs),
      ...summarizeTrend(points),
    };
  }

  /** Prometheus text of the user and KPI metrics, or of one origin only (no process or RPC metrics); stops once `signal` aborts. */
  async exportPrometheus(origin?: MetricOrigin, signal?: AbortSignal): Promise<string> {
    const registry = new NameMapRegistry();
    for (const entry of this.sortedEntries()) {
      if (!origin || entry.descriptor.origin === origin) registry.registerMetric(entry.metric);
    }
    return fixNaN(await registry.metrics(signal));
  }

  /**
   * The user and KPI metrics in the seed README's JSON shape, plus every series. Stops (throwing
   * the signal's reason) at the next turn once `signal` aborts: no one is left to read it.
   */
  async exportJson(signal?: AbortSignal): Promise<JsonExport> {
    // No prototype: a metric named `__proto__` is an own key like any other.
    const metrics: Record<string, JsonMetric> = Object.create(null) as Record<string, JsonMetric>;
    signal?.throwIfAborted();
    // A turn per chunk of series, not per metric (as in a scrape): a turn a metric made an export
    // of a thousand small metrics wait behind every other caller's work a thousand times.
    let sinceYield = 0;
    for (const entry of this.sortedEntries()) {
      if (sinceYield >= CHUNK_SERIES) {
        sinceYield = 0;
        await yieldToEventLoop();
        signal?.throwIfAborted();
      }
      const { descriptor, kind } = entry;
      const series = await this.read(entry);
      sinceYield += METRIC_SERIES + series.length;
      const noTotal = this.viewsNotParts.has(descriptor.name) || (descriptor.type === 'gauge' && series.length === 0);
      metrics[descriptor.name] = {
        type: descriptor.type,
        ...(noTotal ? {} : { value: kind.total(series) }),
        description: descriptor.description,
        ...(descriptor.unit ? { unit: descriptor.unit } : {}),
        series,
      };
    }
    return { timestamp: new Date(this.clock.nowMs()).toISOString(), metrics };
  }

  stats(): EngineStats {
    return {
      customMetrics: this.customMetrics,
      customSeries: this.customSeries,
      customCells: this.customCells,
      customExpositionBytes: this.customBytes,
      snapshots: this.snapshots.count,
      snapshotValues: this.snapshots.valueCount,
      ...(this.lastSnapshotError ? { lastSnapshotError: this.lastSnapshotError } : {}),
    };
  }

  private collectDefaultMetrics(cpuUsage: (() => NodeJS.CpuUsage) | undefined): void {
    // Collected into a staging registry, then adopted, so each default metric is one object in both formats.
    const staging = new NameMapRegistry();
    collectDefaultMetrics({ register: staging });
    registerProcessCpu(staging, cpuUsage);
    for (const metric of staging.getMetricsAsArray()) {
      const { name, help, type } = metric as unknown as { name: string; help: string; type: MetricType };
      this.adopt({ type, name, help, labelNames: [], metric: metric as unknown as Metric }, undefined);
    }
  }

  /** Registers a service instrument; KPI instruments also join the catalogue. */
  private adopt(instrument: Instrument, origin: MetricOrigin | undefined): void {
    const { type, name, metric } = instrument;
    this.checkUnclaimed(type, name);
    if (origin === 'kpi') {
      const descriptor: StoredDescriptor = {
        name,
        type,
        description: instrument.help,
        labelNames: instrument.labelNames,
        ...(type === 'histogram' ? { buckets: instrument.buckets ?? [...DEFAULT_BUCKETS] } : {}),
        ...(type === 'summary' ? { quantiles: [...PROM_CLIENT_QUANTILES] } : {}),
        unit: instrument.unit ?? '',
        origin,
        createdMs: this.clock.nowMs(),
      };
      this.addEntry(descriptor, KINDS[type], metric);
      if (instrument.seriesAddUp === false) this.viewsNotParts.add(name);
    } else {
      this.expositions.add(type, name, metric);
      for (const exposed of exposedNames(type, name)) this.claims.set(exposed, name);
    }
  }

  private addEntry(descriptor: StoredDescriptor, kind: MetricKind, metric: Metric): Entry {
    const entry: Entry = {
      descriptor,
      kind,
      metric,
      series: new Map(),
      running: new Map(),
      records: new Map(),
      cells: seriesCells(descriptor.type, descriptor),
    };
    this.expositions.add(descriptor.type, descriptor.name, metric);
    this.entries.set(descriptor.name, entry);
    for (const exposed of exposedNames(descriptor.type, descriptor.name)) this.claims.set(exposed, descriptor.name);
    return entry;
  }

  private checkUnclaimed(type: MetricType, name: string): void {
    for (const exposed of exposedNames(type, name)) {
      const owner = this.claims.get(exposed);
      if (owner !== undefined) {
        throw alreadyExists('name', `"${name}" would expose "${exposed}", which metric "${owner}" already uses`);
      }
    }
  }

  private sortedEntries(): Entry[] {
    return [...this.entries.values()].sort((a, b) => (a.descriptor.name < b.descriptor.name ? -1 : 1));
  }

  /** A metric by canonical name; a counter is also found by its name without `_total`. */
  private resolve(name: unknown, field: string): Entry {
    if (typeof name !== 'string' || name.length === 0) throw invalidArgument(field, 'must not be empty');
    const entry = this.entries.get(name);
    if (entry) return entry;
    const counter = this.entries.get(canonicalName('counter', name));
    if (counter?.descriptor.type === 'counter') return counter;
    throw notFound(field, `no metric named "${name}"`);
  }

  private prepare(request: RecordRequest, at: string, pending: Pending): PreparedRecord {
    const field = (name: string) => (at ? `${at}.${name}` : name);
    if (request === null || typeof request !== 'object') throw invalidArgument(at || 'request', 'must be a record');
    const entry = this.resolve(request.name, field('name'));
    const { descriptor, kind } = entry;
    if (descriptor.origin !== 'custom') {
      throw failedPrecondition(field('name'), `"${descriptor.name}" is maintained by the service and cannot be recorded`);
    }
    const { value } = request;
    if (typeof value !== 'number' || !Number.isFinite(value)) throw invalidArgument(field('value'), 'must be a finite number');
    const op = request.op ?? kind.defaultOp;
    if (!kind.ops.includes(op)) throw invalidArgument(field('operation'), `a ${kind.type} accepts ${kind.ops.join(', ')}`);
    kind.checkValue(op, value, field('value'));
    const labels = checkLabels(descriptor.labelNames, request.labels, field('labels'));

    const key = seriesKey(labels);
    const hash = promClientSeriesHash(labels);
    let batchNew = pending.series.get(entry);
    const known = entry.series.get(hash) ?? batchNew?.get(hash);
    if (known !== undefined && known !== key) {
      throw invalidArgument(
        field('labels'),
        `label values collide with series ${known} (prom-client joins labels as name:value, so "," and ":" in values can clash)`,
      );
    }
    let newSeriesBytes = 0;
    if (known === undefined) {
      const batchNewTotal = [...pending.series.values()].reduce((n, m) => n + m.size, 0);
      if (entry.series.size + (batchNew?.size ?? 0) >= this.limits.maxSeriesPerMetric) {
        throw resourceExhausted(
          field('labels'),
          `${descriptor.name} already has ${this.limits.maxSeriesPerMetric} series (label cardinality cap, RS3GW_METRICS_MAX_SERIES)`,
        );
      }
      if (this.customSeries + batchNewTotal >= this.limits.maxTotalSeries) {
        throw resourceExhausted(field('labels'), totalSeriesRefusal(this.limits.maxTotalSeries));
      }
      newSeriesBytes = seriesBytes(descriptor.name, labels, entry.cells);
      this.checkBudget(entry.cells, newSeriesBytes, field('labels'), pending);
      pending.cells += entry.cells;
      pending.bytes += newSeriesBytes;
      if (!batchNew) pending.series.set(entry, (batchNew = new Map()));
      batchNew.set(hash, key);
    }

    // A finite value can still overflow a sum to ±Infinity, after which nothing about the series means anything.
    let batchRunning = pending.running.get(entry);
    const running = kind.next(batchRunning?.get(hash) ?? entry.running.get(hash) ?? 0, op, value);
    if (!Number.isFinite(running)) {
      throw invalidArgument(
        field('value'),
        `would take the ${kind.running} of ${descriptor.name}${descriptor.labelNames.length ? ` ${key}` : ''} beyond the largest finite number`,
      );
    }
    if (!batchRunning) pending.running.set(entry, (batchRunning = new Map()));
    batchRunning.set(hash, running);
    return { entry, labels, op, value, hash, key, running, newSeriesBytes };
  }

  /** Refuses `cells` lines and `bytes` more (beyond a batch's `pending` ones) past the exposition budget. */
  private checkBudget(cells: number, bytes: number, field: string, pending?: Pending): void {
    const { maxTotalCells, maxExpositionBytes } = this.limits;
    if (this.customCells + (pending?.cells ?? 0) + cells > maxTotalCells) {
      throw resourceExhausted(
        field,
        `the custom metrics' exposition is capped at ${maxTotalCells} lines (RS3GW_METRICS_MAX_CELLS; a series takes 1 line ` +
          `as a counter or gauge, buckets + 3 as a histogram, quantiles + 2 as a summary); this needs ${cells} more beyond the ${this.customCells + (pending?.cells ?? 0)} taken`,
      );
    }
    if (this.customBytes + (pending?.bytes ?? 0) + bytes > maxExpositionBytes) {
      throw resourceExhausted(
        field,
        `the custom metrics' exposition is capped at ${maxExpositionBytes} bytes (RS3GW_METRICS_MAX_EXPOSITION_BYTES; every line ` +
          `repeats the metric name and labels); this needs up to ${bytes} more beyond the ${this.customBytes + (pending?.bytes ?? 0)} taken`,
      );
    }
  }

  private apply({ entry, labels, op, value, hash, key, running, newSeriesBytes }: PreparedRecord): void {
    entry.kind.apply(entry.metric, labels, op, value);
    if (value < 0 && entry.kind.running === 'sum') this.expositions.recordedNegative(entry.descriptor.name);
    entry.running.set(hash, running);
    // Only a histogram's or summary's count is read from it; a counter's or gauge's value is running.
    if (entry.kind.running === 'sum') entry.records.set(hash, (entry.records.get(hash) ?? 0) + 1);
    if (!entry.series.has(hash)) this.addSeries(entry, hash, key, newSeriesBytes);
  }

  private addSeries(entry: Entry, hash: string, key: string, bytes: number): void {
    entry.series.set(hash, key);
    this.customSeries += 1;
    this.customCells += entry.cells;
    this.customBytes += bytes;
  }

  private async read(entry: Entry): Promise<Series[]> {
    const { values } = await entry.metric.get();
    return entry.kind.read(values as PromValue[]);
  }
}

function totalSeriesRefusal(max: number): string {
  return `all custom metrics together are capped at ${max} series (RS3GW_METRICS_MAX_TOTAL_SERIES)`;
}

/** Snapshot identity of a series: its metric and its `seriesKey`. */
function seriesId(entry: Entry, key: string): string {
  return `${entry.descriptor.name}\u0000${key}`;
}

function checkLabelFilter(labelNames: readonly string[], labels: Labels): Labels {
  if (labels === null || typeof labels !== 'object') throw invalidArgument('labels', 'must be a map of label values');
  for (const [name, value] of Object.entries(labels)) {
    if (!labelNames.includes(name)) throw invalidArgument('labels', `unknown label "${name}"`);
    if (typeof value !== 'string') throw invalidArgument('labels', `label "${name}" must be a string`);
  }
  return labels;
}

function checkLimits(limits: MetricsLimits): MetricsLimits {
  for (const [name, value] of Object.entries(limits)) {
    if (!Number.isInteger(value) || value < 1) throw invalidArgument(`limits.${name}`, 'must be a positive integer');
  }
  return limits;
}

function sameDefinition(a: StoredDescriptor, b: StoredDescriptor): boolean {
  const sameList = (x: readonly unknown[] | undefined, y: readonly unknown[] | undefined) =>
    (x ?? []).length === (y ?? []).length && (x ?? []).every((v, i) => v === (y ?? [])[i]);
  return (
    a.type === b.type &&
    a.description === b.description &&
    a.unit === b.unit &&
    sameList([...a.labelNames].sort(), [...b.labelNames].sort()) &&
    sameList(a.buckets, b.buckets) &&
    sameList(a.quantiles, b.quantiles)
  );
}

function describe({ descriptor: d }: Entry, seriesCount: number): MetricDescriptor {
  return {
    ...d,
    seriesCount,
    labelNames: [...d.labelNames],
    ...(d.buckets ? { buckets: [...d.buckets] } : {}),
    ...(d.quantiles ? { quantiles: [...d.quantiles] } : {}),
  };
}
