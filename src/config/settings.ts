/**
 * Every setting of the service: its environment variable, optional command-line flag, parser,
 * default and help. The README's configuration table and `--help` are both made from this list.
 */
import { availableParallelism } from 'node:os';
import { DEFAULT_DETECTOR_TUNING, DEFAULT_ENGINE_LIMITS, MAX_ENGINE_LIMITS, MAX_SEASON_SLOTS } from '../core/anomaly/index.js';
import { DEFAULT_METRICS_LIMITS, MAX_EXPOSITION_BYTES_LIMIT } from '../core/metrics/index.js';
import { PID_MAX } from '../core/procfs/pid.js';
import { ProcReader } from '../core/procfs/reader.js';
import { MAX_CONTINUOUS_BYTES, MAX_CONTINUOUS_INTERVAL_MS, MAX_CONTINUOUS_PROFILES } from '../core/profiling/continuous/config.js';
import { MAX_SNAPSHOTS_PER_PID, MAX_WATCHED_PIDS } from '../core/profiling/process/profiler.js';
import { MAX_CPU_CAPTURE_MS } from '../core/profiling/v8/cpu-capture.js';
import { DEFAULT_RESOURCE_MANAGER_CONFIG, MAX_WINDOW_BUCKETS } from '../core/resource/manager-config.js';
import { DEFAULT_MEMORY_MARGIN, DEFAULT_OVERLOAD_MARGIN } from '../core/resource/signals/monitor.js';
import { MIN_CONNECTION_CAP, RESERVED_FILES } from '../server/connection-cap.js';
import { MAX_HTTP2_STREAMS, MAX_MESSAGE_BYTES_LIMIT } from '../server/limits.js';
import { DEFAULT_HEALTH_WATCHERS, MAX_HEALTH_WATCHERS } from '../server/services/grpc-health.js';
import {
  ConfigError,
  MAX_TIMER_MS,
  parseBoolean,
  parseCount,
  parseCountOrAuto,
  parseFractionAbove,
  parseHost,
  parseOneOf,
  parseOriginList,
  parsePercentBelow100,
  parsePidList,
  parsePort,
  parsePositiveInt,
  parsePrice,
  parseSeconds,
  type Parser,
} from './parse.js';

export interface Setting<T> {
  env: string;
  flag?: string;
  parse: Parser<T>;
  /** Default, as the text a user would write. Empty means "unset". */
  default: string;
  help: string;
  group: string;
}

function setting<T>(s: Setting<T>): Setting<T> {
  return s;
}

const cores = availableParallelism();

/** A root under which the pressure monitor can take the first sample it takes at start-up. */
const parseFsRoot: Parser<string> = (raw, setting) => {
  const reader = new ProcReader({ root: raw });
  try {
    reader.availableCores();
    reader.cpuTimes();
    reader.memoryUsage();
    reader.pressure();
  } catch (error) {
    throw new ConfigError(setting, `cannot read the CPU and memory figures under '${raw}': ${error instanceof Error ? error.message : String(error)}`);
  }
  return raw;
};

/** The resource manager's window holds at most MAX_WINDOW_BUCKETS buckets of its bucket width. */
const RESOURCE_WINDOW_MAX_MS = MAX_WINDOW_BUCKETS * DEFAULT_RESOURCE_MANAGER_CONFIG.bucketMs;

export const SETTINGS = {
  host: setting({ group: 'Server', env: 'RS3GW_HOST', flag: 'host', parse: parseHost, default: '127.0.0.1', help: 'Address to listen on (an IPv6 address with or without brackets)' }),
  port: setting({ group: 'Server', env: 'RS3GW_PORT', flag: 'port', parse: parsePort, default: '9000', help: 'Port for gRPC, Connect, gRPC-Web, REST and /metrics (0 = any free port)' }),
  maxMessageBytes: setting({ group: 'Server', env: 'RS3GW_MAX_MESSAGE_BYTES', parse: parseCount(MAX_MESSAGE_BYTES_LIMIT), default: String(4 * 1024 * 1024), help: `Largest request message or REST body accepted, bytes (at most ${MAX_MESSAGE_BYTES_LIMIT})` }),
  maxConnections: setting({ group: 'Server', env: 'RS3GW_MAX_CONNECTIONS', parse: parseCountOrAuto(), default: 'auto', help: `Open connections at most; more are closed as they arrive (auto: the process's open-files limit less ${RESERVED_FILES}, at least ${MIN_CONNECTION_CAP})` }),
  firstBytesTimeout: setting({ group: 'Server', env: 'RS3GW_FIRST_BYTES_TIMEOUT', parse: parseSeconds(), default: '10', help: 'Seconds a new connection may take to send its first bytes (for HTTP/2, the whole preface) before it is closed' }),
  headersTimeout: setting({ group: 'Server', env: 'RS3GW_HEADERS_TIMEOUT', parse: parseSeconds(), default: '60', help: 'Seconds an HTTP/1.1 request may take to send its headers before it is answered 408 and its connection closed' }),
  requestTimeout: setting({ group: 'Server', env: 'RS3GW_REQUEST_TIMEOUT', parse: parseSeconds(), default: '300', help: 'Seconds a request may take to arrive whole, body included: an HTTP/1.1 one is then answered 408 and its connection closed, a gRPC one DEADLINE_EXCEEDED; at least RS3GW_HEADERS_TIMEOUT' }),
  sendTimeout: setting({ group: 'Server', env: 'RS3GW_SEND_TIMEOUT', parse: parseSeconds(), default: '30', help: 'Seconds an answer may wait with none of its bytes taken by the client before its HTTP/1.1 connection is closed or its HTTP/2 stream reset; a stream with nothing to send is never cut' }),
  maxUnsentBytes: setting({ group: 'Server', env: 'RS3GW_MAX_UNSENT_BYTES', parse: parseCount(), default: String(256 * 1024 * 1024), help: 'Bytes of answers rendered but not yet taken by clients, across all connections, at most: an answer of 16 KiB or more (any method, any protocol) that would pass it is refused (503, UNAVAILABLE)' }),
  grpcIdleTimeout: setting({ group: 'Server', env: 'RS3GW_GRPC_IDLE_TIMEOUT', parse: parseSeconds(), default: '300', help: 'Seconds an HTTP/2 (gRPC) connection with no call in progress stays open; then it is closed with GOAWAY, and a client reconnects when it next calls' }),
  maxStreamsPerConnection: setting({ group: 'Server', env: 'RS3GW_MAX_STREAMS_PER_CONNECTION', parse: parseCount(MAX_HTTP2_STREAMS), default: '1000', help: 'Concurrent HTTP/2 (gRPC) calls per connection at most, advertised to clients as SETTINGS_MAX_CONCURRENT_STREAMS; more are refused (REFUSED_STREAM)' }),
  healthMaxWatchers: setting({ group: 'Server', env: 'RS3GW_HEALTH_MAX_WATCHERS', parse: parseCount(MAX_HEALTH_WATCHERS), default: String(DEFAULT_HEALTH_WATCHERS), help: `Concurrent grpc.health.v1 Health/Watch streams (at most ${MAX_HEALTH_WATCHERS}); more are refused RESOURCE_EXHAUSTED, which a gRPC client checking health takes as the server not serving` }),
  shutdownGraceSeconds: setting({ group: 'Server', env: 'RS3GW_SHUTDOWN_GRACE', parse: parseSeconds(), default: '10', help: 'Seconds to let calls finish on SIGTERM, SIGINT or SIGHUP before closing connections' }),
  allowedOrigins: setting({ group: 'Server', env: 'RS3GW_ALLOWED_ORIGINS', parse: parseOriginList, default: '', help: "Web page origins (scheme://host[:port], comma-separated; * for any) whose pages may call the service (REST, /metrics, /debug/pprof, Connect GETs) and read its answers, beside the service's own; other pages' state-changing or cross-site requests are refused 403 (README: Browser access)" }),
  fsRoot: setting({ group: 'Server', env: 'RS3GW_FS_ROOT', parse: parseFsRoot, default: '/', help: "Root under which /proc and /sys/fs/cgroup are read (for containers and tests); needs proc/stat and proc/meminfo, and measuring the service itself (GetProfile, the health report's profiling) its proc/<pid> too" }),

  profilingEnabled: setting({ group: 'Profiling', env: 'RS3GW_PROFILING_ENABLED', parse: parseBoolean, default: 'true', help: 'Take periodic CPU/memory/I/O snapshots of the watched processes' }),
  profilingInterval: setting({ group: 'Profiling', env: 'RS3GW_PROFILING_INTERVAL', parse: parseSeconds(MAX_TIMER_MS, 1000), default: '60', help: 'Seconds between snapshots, at least 1' }),
  profilingMaxSnapshots: setting({ group: 'Profiling', env: 'RS3GW_PROFILING_MAX_SNAPSHOTS', parse: parseCount(MAX_SNAPSHOTS_PER_PID), default: '100', help: `Snapshots kept per process (at most ${MAX_SNAPSHOTS_PER_PID})` }),
  profilingPids: setting({ group: 'Profiling', env: 'RS3GW_PROFILING_PIDS', parse: parsePidList(PID_MAX, MAX_WATCHED_PIDS - 1), default: '', help: `Other process ids the profiler may watch (comma-separated, at most ${MAX_WATCHED_PIDS - 1}, each at most ${PID_MAX}); the service itself is always watched` }),
  profilingMaxSeconds: setting({ group: 'Profiling', env: 'RS3GW_PROFILING_MAX_SECONDS', parse: parseCount(MAX_CPU_CAPTURE_MS / 1000), default: '300', help: `Longest CPU profile a request may ask for, whole seconds (at most ${MAX_CPU_CAPTURE_MS / 1000}); one that names no length gets the shorter of 30 and this` }),
  profilingContinuous: setting({ group: 'Profiling', env: 'RS3GW_PROFILING_CONTINUOUS', parse: parseBoolean, default: 'false', help: 'Capture a CPU profile in the background every RS3GW_PROFILING_CONTINUOUS_INTERVAL' }),
  profilingContinuousInterval: setting({ group: 'Profiling', env: 'RS3GW_PROFILING_CONTINUOUS_INTERVAL', parse: parseSeconds(MAX_CONTINUOUS_INTERVAL_MS), default: '60', help: `Seconds between background CPU profiles (0.001 to ${MAX_CONTINUOUS_INTERVAL_MS / 1000})` }),
  profilingContinuousDuration: setting({ group: 'Profiling', env: 'RS3GW_PROFILING_CONTINUOUS_DURATION', parse: parseSeconds(MAX_CPU_CAPTURE_MS), default: '10', help: `Length of each background CPU profile, seconds (0.001 to ${MAX_CPU_CAPTURE_MS / 1000}); shorter than RS3GW_PROFILING_CONTINUOUS_INTERVAL when continuous profiling is on` }),
  profilingMaxProfiles: setting({ group: 'Profiling', env: 'RS3GW_PROFILING_MAX_PROFILES', parse: parseCount(MAX_CONTINUOUS_PROFILES), default: '100', help: `Background profiles kept (at most ${MAX_CONTINUOUS_PROFILES})` }),
  profilingMaxProfileBytes: setting({ group: 'Profiling', env: 'RS3GW_PROFILING_MAX_PROFILE_BYTES', parse: parseCount(MAX_CONTINUOUS_BYTES), default: String(64 * 1024 * 1024), help: `Total size of the background profiles kept, bytes (at most ${MAX_CONTINUOUS_BYTES})` }),

  metricsSnapshotInterval: setting({ group: 'Metrics', env: 'RS3GW_METRICS_SNAPSHOT_INTERVAL', parse: parseSeconds(MAX_TIMER_MS, 1000), default: '60', help: 'Seconds between metric snapshots (the points of GetTrend), at least 1' }),
  metricsSnapshotRetention: setting({ group: 'Metrics', env: 'RS3GW_METRICS_SNAPSHOT_RETENTION', parse: parsePositiveInt, default: '1440', help: 'Metric snapshots kept' }),
  metricsSnapshotMaxValues: setting({ group: 'Metrics', env: 'RS3GW_METRICS_SNAPSHOT_MAX_VALUES', parse: parsePositiveInt, default: String(DEFAULT_METRICS_LIMITS.maxSnapshotValues), help: `Values kept over all metric snapshots, 8 bytes each (the default, ${DEFAULT_METRICS_LIMITS.maxSnapshotValues / 1e6} million, is ${(DEFAULT_METRICS_LIMITS.maxSnapshotValues * 8) / 1e6} MB); a snapshot holds one per counter or gauge series and two per histogram or summary series. Beyond it the oldest snapshots are dropped before RS3GW_METRICS_SNAPSHOT_RETENTION is reached, and GetTrend says so (covered, history_truncated)` }),
  metricsMaxMetrics: setting({ group: 'Metrics', env: 'RS3GW_METRICS_MAX_METRICS', parse: parsePositiveInt, default: '1000', help: 'Custom metrics that may be registered' }),
  metricsMaxSeries: setting({ group: 'Metrics', env: 'RS3GW_METRICS_MAX_SERIES', parse: parsePositiveInt, default: '1000', help: 'Label combinations per custom metric' }),
  metricsMaxTotalSeries: setting({ group: 'Metrics', env: 'RS3GW_METRICS_MAX_TOTAL_SERIES', parse: parsePositiveInt, default: String(DEFAULT_METRICS_LIMITS.maxTotalSeries), help: 'Series (label combinations) of all custom metrics together' }),
  metricsMaxCells: setting({ group: 'Metrics', env: 'RS3GW_METRICS_MAX_CELLS', parse: parsePositiveInt, default: String(DEFAULT_METRICS_LIMITS.maxTotalCells), help: '/metrics lines of all custom metrics together (a series takes 1 as a counter or gauge, buckets + 3 as a histogram, quantiles + 2 as a summary); bounds the work of a scrape, an export and a snapshot' }),
  metricsMaxExpositionBytes: setting({ group: 'Metrics', env: 'RS3GW_METRICS_MAX_EXPOSITION_BYTES', parse: parseCount(MAX_EXPOSITION_BYTES_LIMIT), default: String(DEFAULT_METRICS_LIMITS.maxExpositionBytes), help: `Bytes the custom metrics may take in /metrics, counted as an upper bound when a metric or series is added (at most ${MAX_EXPOSITION_BYTES_LIMIT})` }),
  costStoragePerGibMonth: setting({ group: 'Metrics', env: 'RS3GW_COST_STORAGE_PER_GIB_MONTH', parse: parsePrice, default: '0.023', help: 'USD per GiB stored for a month' }),
  costTransferOutPerGib: setting({ group: 'Metrics', env: 'RS3GW_COST_TRANSFER_OUT_PER_GIB', parse: parsePrice, default: '0.09', help: 'USD per GiB transferred out' }),
  costPerThousandRequests: setting({ group: 'Metrics', env: 'RS3GW_COST_PER_1000_REQUESTS', parse: parsePrice, default: '0.0004', help: 'USD per 1,000 requests' }),

  anomalyMaxMetrics: setting({ group: 'Anomaly detection', env: 'RS3GW_ANOMALY_MAX_METRICS', parse: parseCount(MAX_ENGINE_LIMITS.maxMetrics), default: '10000', help: `Metrics the detector tracks (at most ${MAX_ENGINE_LIMITS.maxMetrics})` }),
  anomalyHistorySize: setting({ group: 'Anomaly detection', env: 'RS3GW_ANOMALY_HISTORY_SIZE', parse: parseCount(MAX_ENGINE_LIMITS.historyCapacity), default: '10000', help: `Anomalies kept in the history (at most ${MAX_ENGINE_LIMITS.historyCapacity})` }),
  anomalySubscriberQueue: setting({ group: 'Anomaly detection', env: 'RS3GW_ANOMALY_SUBSCRIBER_QUEUE', parse: parseCount(DEFAULT_ENGINE_LIMITS.maxQueueCapacity), default: '1024', help: `Events queued per WatchAnomalies subscriber before it is told it missed some (at most ${DEFAULT_ENGINE_LIMITS.maxQueueCapacity})` }),
  anomalyMaxSubscribers: setting({ group: 'Anomaly detection', env: 'RS3GW_ANOMALY_MAX_SUBSCRIBERS', parse: parseCount(MAX_ENGINE_LIMITS.maxSubscribers), default: '10000', help: `Concurrent WatchAnomalies subscribers (at most ${MAX_ENGINE_LIMITS.maxSubscribers})` }),
  anomalyMaxSeasonSlots: setting({ group: 'Anomaly detection', env: 'RS3GW_ANOMALY_MAX_SEASON_SLOTS', parse: parseCountOrAuto(MAX_ENGINE_LIMITS.maxSeasonSlots), default: 'auto', help: `Seasonal-profile slots across all metrics, 17 bytes each; a metric holds its season_slots (${DEFAULT_DETECTOR_TUNING.seasonSlots} by default, at most ${MAX_SEASON_SLOTS}). auto: ${DEFAULT_DETECTOR_TUNING.seasonSlots} x RS3GW_ANOMALY_MAX_METRICS, so every metric can keep the default daily profile (at most ${MAX_ENGINE_LIMITS.maxSeasonSlots})` }),

  minThreads: setting({ group: 'Resource management', env: 'RS3GW_MIN_THREADS', parse: parsePositiveInt, default: '4', help: 'Minimum worker-pool size' }),
  maxThreads: setting({ group: 'Resource management', env: 'RS3GW_MAX_THREADS', parse: parsePositiveInt, default: String(cores * 4), help: 'Maximum worker-pool size (default 4 x cores)' }),
  targetCpu: setting({ group: 'Resource management', env: 'RS3GW_TARGET_CPU', parse: parseFractionAbove(0), default: '0.75', help: 'Target CPU utilisation, above 0 and at most 1' }),
  memoryThreshold: setting({ group: 'Resource management', env: 'RS3GW_MEMORY_THRESHOLD', parse: parseFractionAbove(DEFAULT_MEMORY_MARGIN), default: '0.85', help: `Memory utilisation at which backpressure starts, above ${DEFAULT_MEMORY_MARGIN} (its hysteresis) and at most 1` }),
  adjustmentInterval: setting({ group: 'Resource management', env: 'RS3GW_ADJUSTMENT_INTERVAL', parse: parseSeconds(), default: '30', help: "Seconds between resource adjustments: worker-pool size recommendations, and the seed controller's changes of its rate" }),
  adaptiveRateLimit: setting({ group: 'Resource management', env: 'RS3GW_ADAPTIVE_RATE_LIMIT', parse: parseBoolean, default: 'true', help: "Seed controller only: adapt its token bucket to load; false = hold it at RS3GW_INITIAL_RATE_LIMIT, which selects the seed controller (refused with RS3GW_ADMISSION_CONTROLLER=adaptive)" }),
  initialRateLimit: setting({ group: 'Resource management', env: 'RS3GW_INITIAL_RATE_LIMIT', parse: parsePositiveInt, default: '1000', help: 'Seed controller only: initial token-bucket rate, requests per second' }),
  minRateLimit: setting({ group: 'Resource management', env: 'RS3GW_MIN_RATE_LIMIT', parse: parsePositiveInt, default: '100', help: 'Seed controller only: lowest token-bucket rate, requests per second' }),
  maxRateLimit: setting({ group: 'Resource management', env: 'RS3GW_MAX_RATE_LIMIT', parse: parsePositiveInt, default: '10000', help: 'Seed controller only: highest token-bucket rate, requests per second' }),
  loadSheddingThreshold: setting({ group: 'Resource management', env: 'RS3GW_LOAD_SHEDDING_THRESHOLD', parse: parseFractionAbove(DEFAULT_OVERLOAD_MARGIN), default: '0.95', help: `CPU utilisation from which busy CPU counts as overload where the kernel reports no PSI for CPU, or only the host's to a process in a v1 cgroup (time at a positive nice value counts as idle; with PSI, tasks waiting for CPU are the signal instead): the pressure level rises from 0 there to 1 at 100 % busy, and sheddable work is shed from level 0.5, normal from 0.8, critical from 0.97 (at 0.95: from 97.5, 99 and 99.85 % busy); at 1, busy CPU sheds nothing. Above ${DEFAULT_OVERLOAD_MARGIN} (its hysteresis) and at most 1` }),
  psiThreshold: setting({ group: 'Resource management', env: 'RS3GW_PSI_THRESHOLD', parse: parsePercentBelow100, default: '40', help: 'Percent of time tasks wait (PSI cpu and io some, 10 s average), or of CPU-quota periods throttled over the last 10 s, from which they count as overload: the pressure level rises from 0 there to 1 at 100 %, and sheddable work is shed from level 0.5 (70 % at 40), normal from 0.8, critical from 0.97; overload ends 10 points below it (at half of it below 20). Above 0 and below 100' }),
  admissionController: setting({ group: 'Resource management', env: 'RS3GW_ADMISSION_CONTROLLER', parse: parseOneOf(['adaptive', 'seed'] as const), default: 'adaptive', help: "Admission algorithm: 'adaptive' (the project's concurrency limit, no tuning needed) or 'seed' (rs3gw's adaptive token bucket; also when RS3GW_ADAPTIVE_RATE_LIMIT=false and this is unset); GetResources reports it as admission.controller" }),
  resourceWindow: setting({ group: 'Resource management', env: 'RS3GW_RESOURCE_WINDOW', parse: parseSeconds(RESOURCE_WINDOW_MAX_MS), default: '60', help: `Sliding window for success rate and latency, seconds (at most ${RESOURCE_WINDOW_MAX_MS / 1000})` }),
  permitLease: setting({ group: 'Resource management', env: 'RS3GW_PERMIT_LEASE', parse: parseSeconds(), default: '60', help: 'Seconds after which an unreleased permit is reclaimed as dropped (its slot is freed sooner, when it is presumed lost)' }),
  maxPermits: setting({ group: 'Resource management', env: 'RS3GW_MAX_PERMITS', parse: parsePositiveInt, default: '100000', help: 'Outstanding permits at most' }),
} as const;

export type SettingKey = keyof typeof SETTINGS;
export type SettingValues = { [K in SettingKey]: ReturnType<(typeof SETTINGS)[K]['parse']> };
