/**
 * The composition root: builds the engines from the configuration, binds the five services onto
 * them, and serves everything on one port. `stop()` drains and releases every timer and sampler.
 */
import { availableParallelism } from 'node:os';
import { AnomalyEngine } from './core/anomaly/index.js';
import { BusinessMetrics } from './core/business/index.js';
import { monotonicClock, systemClock } from './core/clock.js';
import { logLine } from './core/log-line.js';
import { MetricsEngine } from './core/metrics/index.js';
import { ProcReader } from './core/procfs/reader.js';
import { ContinuousProfiler, CpuCaptures, type HeapSampler } from './core/profiling/pprof/index.js';
import { ProcessProfiler } from './core/profiling/process/profiler.js';
import { createAdmissionController } from './core/resource/admission/factory.js';
import type { AdmissionController } from './core/resource/admission/types.js';
import { ResourceManager } from './core/resource/manager.js';
import { PoolAdvisor } from './core/resource/pool-advisor.js';
import { PressureMonitor } from './core/resource/signals/monitor.js';
import { v8HeapStats } from './core/resource/signals/providers.js';
import { ConfigError, SETTINGS, type Config } from './config/index.js';
import { thresholdsUnusedOnThisHost } from './config/unused-on-this-host.js';
import { connectionCapOfThisProcess } from './server/connection-cap.js';
import { connectionMetrics, metricsEndpoint, rpcMetrics } from './server/http/metrics-endpoint.js';
import { isLoopback } from './server/loopback.js';
import { AdmissionLog } from './server/ops/admission-log.js';
import { admissionMetrics } from './server/ops/admission-metrics.js';
import { anomalyMetrics } from './server/ops/anomaly-metrics.js';
import { customBudgetMetrics } from './server/ops/custom-budget-metrics.js';
import { healthMetrics } from './server/ops/health-metrics.js';
import { continuousProfilingMetrics } from './server/ops/profiling-metrics.js';
import { snapshotMetrics } from './server/ops/snapshot-metrics.js';
import { tracingMetrics } from './server/ops/tracing-metrics.js';
import { ServicePort } from './server/port.js';
import { UnsentBudget } from './server/unsent-budget.js';
import { anomalyBinding } from './server/services/anomaly.js';
import { healthReportBinding } from './server/services/health-report.js';
import { metricsBinding } from './server/services/metrics.js';
import {
  continuousProfilingStatus,
  measureProcess,
  profilingBinding,
  type ProfilingDeps,
} from './server/services/profiling.js';
import { resourceBinding, type ResourceDeps } from './server/services/resource.js';
import { startTracing } from './telemetry/tracing.js';
import { SERVICE_VERSION } from './version.js';

export interface RunningService {
  url: string;
  stop(): Promise<void>;
}

/** Requests larger than this many records, samples or events per batch are refused. */
const MAX_BATCH = 10_000;
/** The admission controllers want a tick at least every 100 ms. */
const ADMISSION_TICK_MS = 100;

function admissionController(config: Config, nowMs: number): AdmissionController {
  return createAdmissionController(config.admissionController, nowMs, {
    initialRps: config.initialRateLimit,
    minRps: config.minRateLimit,
    maxRps: config.maxRateLimit,
    adaptive: config.adaptiveRateLimit,
    adjustIntervalMs: config.adjustmentInterval * 1000,
  });
}

/**
 * Why listening failed, in terms of the setting to change. A host that does not resolve, or is no
 * address of this machine, is an invalid value like any other (a ConfigError: exit 2). A port in
 * use or not permitted is the machine's state at the time (exit 1, as for any start-up failure).
 */
/** A start-up failure that is the machine's state (a port in use), not a bug: one line says it. */
export class MachineStateError extends Error {
  override name = 'MachineStateError';
}

function listenFailure(error: unknown, host: string, port: number): unknown {
  const e = error as NodeJS.ErrnoException;
  if (e.syscall === 'getaddrinfo') return new ConfigError('RS3GW_HOST (--host)', `'${host}' does not resolve to an address (${e.message})`);
  if (e.code === 'EADDRNOTAVAIL' || e.code === 'EAFNOSUPPORT') {
    return new ConfigError('RS3GW_HOST (--host)', `'${host}' is not an address of this machine (${e.message})`);
  }
  if (e.code === 'EINVAL') {
    // fe80::/10 needs its interface (fe80::1%eth0): the kernel cannot tell which link is meant.
    const hint = /^\[?fe[89ab]/i.test(host) && !host.includes('%') ? ': a link-local IPv6 address needs its interface, as in fe80::1%eth0' : '';
    return new ConfigError('RS3GW_HOST (--host)', `cannot listen on '${host}'${hint} (${e.message})`);
  }
  if (e.code === 'EADDRINUSE') return new MachineStateError(`RS3GW_PORT (--port): port ${port} on ${host} is already in use (${e.message})`);
  if (e.code === 'EACCES') return new MachineStateError(`RS3GW_PORT (--port): this process may not listen on port ${port} of ${host} (${e.message})`);
  return error;
}

/** `heapSampler` is running: the cli starts it before loading the service, to see its allocations. */
export async function startService(config: Config, heapSampler: HeapSampler): Promise<RunningService> {
  // Timestamps users see come from the wall clock; intervals and rates, which a step of the wall
  // clock must not bend, from the monotonic one.
  const clock = systemClock;
  const intervals = monotonicClock;
  const tracing = startTracing(config.telemetry, SERVICE_VERSION);
  const reader = new ProcReader({ root: config.fsRoot });
  const timers: NodeJS.Timeout[] = [];
  const every = (ms: number, task: () => void) => {
    const timer = setInterval(task, ms);
    timer.unref();
    timers.push(timer);
  };

  const metricsLimits = {
    maxMetrics: config.metricsMaxMetrics,
    maxSeriesPerMetric: config.metricsMaxSeries,
    maxTotalSeries: config.metricsMaxTotalSeries,
    maxTotalCells: config.metricsMaxCells,
    maxExpositionBytes: config.metricsMaxExpositionBytes,
    maxSnapshots: config.metricsSnapshotRetention,
    maxSnapshotValues: config.metricsSnapshotMaxValues,
    maxBatchSize: MAX_BATCH,
  };
  const metrics = new MetricsEngine({ clock, intervals, limits: metricsLimits });
  metrics.start(Math.round(config.metricsSnapshotInterval * 1000));
  const business = new BusinessMetrics({
    metrics,
    clock,
    intervals,
    prices: {
      storageUsdPerGibMonth: config.costStoragePerGibMonth,
      transferOutUsdPerGib: config.costTransferOutPerGib,
      requestsUsdPerThousand: config.costPerThousandRequests,
    },
    limits: { maxEventsPerBatch: MAX_BATCH },
  });
  const anomalies = new AnomalyEngine({
    clock,
    intervals,
    limits: {
      maxMetrics: config.anomalyMaxMetrics,
      historyCapacity: config.anomalyHistorySize,
      maxSubscribers: config.anomalyMaxSubscribers,
      defaultQueueCapacity: config.anomalySubscriberQueue,
      maxBatchSize: MAX_BATCH,
      ...(config.anomalyMaxSeasonSlots !== 'auto' && { maxSeasonSlots: config.anomalyMaxSeasonSlots }),
    },
    limitSettings: {
      maxMetrics: SETTINGS.anomalyMaxMetrics.env,
      maxSubscribers: SETTINGS.anomalyMaxSubscribers.env,
      maxSeasonSlots: SETTINGS.anomalyMaxSeasonSlots.env,
    },
  });

  // Our pid as the /proc read numbers it: process.pid names another process when that /proc is
  // another pid namespace's.
  const selfPid = reader.selfPid();
  const processes = new ProcessProfiler({
    clock,
    intervals,
    reader,
    pids: [selfPid, ...config.profilingPids.filter((pid) => pid !== selfPid)],
    intervalSeconds: config.profilingInterval,
    maxSnapshots: config.profilingMaxSnapshots,
    selfHeap: v8HeapStats,
  });
  // A thread id names a thread of another process, which /proc would measure under the thread's id.
  for (const pid of processes.watchedPids()) {
    const owner = processes.threadOf(pid);
    if (owner !== undefined) {
      throw new ConfigError(SETTINGS.profilingPids.env, `${pid} is not a process but a thread of process ${owner}; list ${owner} instead`);
    }
  }
  // Said, not fatal: an operator may restart this service while a target is briefly down.
  for (const { pid, reason } of processes.absentAtStart()) {
    if (pid === processes.selfPid) logLine(`profiling: this service (pid ${pid}) will not be profiled: its /proc/${pid} cannot be read (${reason})`);
    else logLine(`profiling: pid ${pid} will not be served: it names no running process now (${reason}), and a process that takes it later is not the one meant`);
  }
  if (config.profilingEnabled) processes.start();
  // One V8 CPU capture at a time, on-demand or background: both queue on these.
  const cpuCaptures = new CpuCaptures({ clock, intervals });
  const continuous = new ContinuousProfiler({
    clock,
    intervals,
    cpuCaptures,
    config: {
      // The continuous profiler takes whole milliseconds; off, it keeps its defaults, as the pair
      // is then checked against nothing.
      ...(config.profilingContinuous && {
        intervalMs: Math.round(config.profilingContinuousInterval * 1000),
        captureDurationMs: Math.round(config.profilingContinuousDuration * 1000),
      }),
      maxProfiles: config.profilingMaxProfiles,
      maxBytes: config.profilingMaxProfileBytes,
    },
  });
  continuousProfilingMetrics(metrics, continuous);
  if (config.profilingContinuous) continuous.start();
  const profiling: ProfilingDeps = { clock, processes, heapSampler, cpuCaptures, continuous, maxProfileSeconds: config.profilingMaxSeconds };

  const pressure = new PressureMonitor({
    clock: intervals,
    reader,
    memoryThreshold: config.memoryThreshold,
    loadSheddingThreshold: config.loadSheddingThreshold,
    psiSomeThreshold: config.psiThreshold,
  });
  const pressureHost = { psi: pressure.snapshot().psi, cpuQuotaThrottling: reader.cgroupCpu().throttling !== undefined };
  for (const line of thresholdsUnusedOnThisHost(config.explicit, pressureHost)) logLine(line);
  const manager = new ResourceManager({
    clock: intervals,
    wallClock: clock,
    controller: admissionController(config, intervals.nowMs()),
    pressure,
    config: { leaseMs: config.permitLease * 1000, maxOutstanding: config.maxPermits, windowMs: config.resourceWindow * 1000 },
  });
  const poolSettings = { minThreads: config.minThreads, maxThreads: config.maxThreads, targetCpu: config.targetCpu };
  // Where CPU could not be read at start, the advice starts from the CPUs Node sees, until it can.
  const pool = new PoolAdvisor(poolSettings, pressure.snapshot().cpu ?? { utilization: 0, availableCores: availableParallelism(), source: 'os.availableParallelism()' });
  const resources: ResourceDeps = { manager, pool, poolSettings };
  // The monitor's own timer leaves a reading it cannot take (a /proc file gone) out of its sample.
  pressure.start();
  const admissionLog = new AdmissionLog({ clock: intervals });
  every(ADMISSION_TICK_MS, () => {
    manager.tick();
    admissionLog.observe(manager.sheddingStatus(), pressure.detail());
  });
  every(config.adjustmentInterval * 1000, () => {
    // While CPU cannot be read the advice stays as it is rather than moving on no figure.
    const cpu = pressure.snapshot().cpu;
    if (cpu) pool.update(cpu, manager.status().pending);
  });

  // Measured on the port, which judges every answer by it, as do the /metrics route and ExportMetrics before rendering.
  const unsent = new UnsentBudget(config.maxUnsentBytes, () => port.unsentBytes(), config.metricsMaxExpositionBytes);
  const port: ServicePort = new ServicePort({
    bindings: [
      profilingBinding(profiling),
      metricsBinding(metrics, business, unsent, clock),
      anomalyBinding(anomalies, clock),
      resourceBinding(resources),
      healthReportBinding({
        clock,
        measureSelf: () => measureProcess(profiling, 0),
        continuousProfiling: () => continuousProfilingStatus(continuous),
        business,
        anomalies,
        anomalyHistoryCapacity: config.anomalyHistorySize,
        resources,
      }),
    ],
    tracer: tracing.tracer,
    clientAttributeMaxChars: config.telemetry.clientAttributeMaxChars,
    observeCall: rpcMetrics(metrics),
    maxMessageBytes: config.maxMessageBytes,
    connectionLimits: {
      maxConnections: config.maxConnections === 'auto' ? connectionCapOfThisProcess() : config.maxConnections,
      firstBytesMs: config.firstBytesTimeout * 1000,
      headersMs: config.headersTimeout * 1000,
      requestMs: config.requestTimeout * 1000,
    },
    sendTimeoutMs: config.sendTimeout * 1000,
    grpcIdleMs: config.grpcIdleTimeout * 1000,
    maxStreamsPerConnection: config.maxStreamsPerConnection,
    allowedOrigins: config.allowedOrigins,
    maxProfileSeconds: config.profilingMaxSeconds,
    healthWatchers: { max: config.healthMaxWatchers, setting: SETTINGS.healthMaxWatchers.env },
    metrics: metricsEndpoint(metrics, unsent),
    unsent,
  });
  connectionMetrics(metrics, port, unsent);
  admissionMetrics(metrics, manager);
  snapshotMetrics(metrics);
  customBudgetMetrics(metrics, metricsLimits);
  healthMetrics(metrics, manager, anomalies, () => port.healthWatchers);
  anomalyMetrics(metrics, anomalies);
  tracingMetrics(metrics, tracing);
  const address = await port.listen(config.host, config.port).catch((error: unknown) => {
    throw listenFailure(error, config.host, config.port);
  });
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  if (!isLoopback(address.address)) {
    // Said once at start-up: nothing in the service itself keeps others from what it serves.
    const where = address.address === '0.0.0.0' || address.address === '::' ? 'on any address of this machine' : `on ${host}`;
    logLine(
      `${SETTINGS.host.env} (--host) is ${host}, not a loopback address: the service has no authentication, and anyone who can reach port ${address.port} ${where} ` +
        `can read its profiles, pprof captures, metrics and the watched processes' figures; listen on 127.0.0.1 or put an authenticating proxy in front`,
    );
  }

  return {
    url: `http://${host}:${address.port}`,
    async stop() {
      await port.shutdown(config.shutdownGraceSeconds * 1000);
      for (const timer of timers) clearInterval(timer);
      processes.stop();
      metrics.stop();
      await continuous.stop();
      await heapSampler.stop();
      pressure.close();
      await tracing.shutdown();
    },
  };
}
