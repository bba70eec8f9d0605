import { create } from '@bufbuild/protobuf';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { AnomalySeverity } from '../../../gen/ts/rs3gw/observability/v1/anomaly_pb.js';
import { GetHealthReportRequestSchema, HealthReportService, HealthStatus } from '../../../gen/ts/rs3gw/observability/v1/health_report_pb.js';
import { AnomalyEngine, type EngineLimits } from '../../../src/core/anomaly/index.js';
import { BusinessMetrics } from '../../../src/core/business/index.js';
import { MetricsEngine } from '../../../src/core/metrics/index.js';
import { ProcReader } from '../../../src/core/procfs/reader.js';
import { ContinuousProfiler, CpuCaptures, HeapSampler } from '../../../src/core/profiling/pprof/index.js';
import { ProcessProfiler } from '../../../src/core/profiling/process/profiler.js';
import { KneeController } from '../../../src/core/resource/admission/knee-controller.js';
import { ResourceManager } from '../../../src/core/resource/manager.js';
import { PoolAdvisor } from '../../../src/core/resource/pool-advisor.js';
import type { CallContext } from '../../../src/server/pipeline/context.js';
import type { UnaryHandler } from '../../../src/server/pipeline/handlers.js';
import { timestamp } from '../../../src/server/services/convert.js';
import { healthReportBinding } from '../../../src/server/services/health-report.js';
import { continuousProfilingStatus, measureProcess } from '../../../src/server/services/profiling.js';
import { timeAt } from '../../core/anomaly/signals.js';
import { FixtureRoot } from '../../core/procfs/fixture-root.js';
import { FixturePressure, pressureSnapshot } from '../../core/resource/manager-fixtures.js';
import { WallAndMonotonic } from '../../support/wall-and-monotonic.js';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

/** The health report over real engines on a fake wall and monotonic clock, /proc from a fixture. */
function service(root: FixtureRoot, limits: Partial<EngineLimits> = {}) {
  const clocks = new WallAndMonotonic();
  const wall = clocks.wall;
  const anomalies = new AnomalyEngine({ clock: wall, intervals: clocks.monotonic, limits });
  const reader = new ProcReader({ root: root.path });
  const processes = new ProcessProfiler({ clock: wall, intervals: clocks.monotonic, reader, pids: [4242] });
  const cpuCaptures = new CpuCaptures({ clock: wall, intervals: clocks.monotonic });
  const continuous = new ContinuousProfiler({ clock: wall, intervals: clocks.monotonic, cpuCaptures });
  const profiling = { clock: wall, processes, heapSampler: new HeapSampler({ clock: wall }), cpuCaptures, continuous, maxProfileSeconds: 30 };
  const pressure = new FixturePressure();
  const manager = new ResourceManager({
    clock: clocks.monotonic,
    wallClock: wall,
    controller: new KneeController(clocks.monotonic.nowMs()),
    pressure,
  });
  const poolSettings = { minThreads: 1, maxThreads: 4, targetCpu: 0.7 };
  const binding = healthReportBinding({
    clock: wall,
    measureSelf: () => measureProcess(profiling, 4242),
    continuousProfiling: () => continuousProfilingStatus(continuous),
    business: new BusinessMetrics({ metrics: new MetricsEngine({ clock: wall, defaultMetrics: false }), clock: wall }),
    anomalies,
    anomalyHistoryCapacity: anomalies.limits.historyCapacity,
    resources: { manager, pool: new PoolAdvisor(poolSettings, pressure.snapshot().cpu!), poolSettings },
  });
  const method = HealthReportService.method.getHealthReport;
  const handler = binding.handler(method) as UnaryHandler;
  const context: CallContext = { protocol: 'grpc', method, requestHeaders: new Headers(), signal: new AbortController().signal };
  const report = async () => {
    const r = (await handler(create(GetHealthReportRequestSchema), context)) as {
      status: HealthStatus;
      timestamp: unknown;
      reasons: string[];
      anomalies: { lastHour: bigint; lastHourBySeverity: Array<{ severity: AnomalySeverity; count: bigint }> };
      resources: { timestamp: unknown };
      unavailable: string[];
    };
    return {
      status: r.status,
      reasons: r.reasons,
      lastHour: r.anomalies.lastHour,
      lastHourBySeverity: Object.fromEntries(r.anomalies.lastHourBySeverity.map((c) => [AnomalySeverity[c.severity], c.count])),
      timestamp: r.timestamp,
      resourcesTimestamp: r.resources.timestamp,
      unavailable: r.unavailable,
    };
  };
  /** A critical latency spike after a steady baseline. */
  const raiseCriticalAnomaly = (metric = 'api_latency_ms') => {
    for (let i = 0; i < 300; i++) anomalies.record(metric, 100 + (i % 2 === 0 ? -1 : 1), timeAt(i));
    const event = anomalies.record(metric, 400, timeAt(300)).anomaly;
    assert.is(event?.severity, 'critical');
  };
  return { clocks, report, raiseCriticalAnomaly, pressure, anomalies };
}

const ANOMALY_REASON = '1 high or critical anomalies in the last 5 minutes';

test('an anomaly detected while the wall clock ran an hour fast leaves the 5-minute window 5 minutes later, not 65', async () => {
  const root = new FixtureRoot('cgroup-v2-limited');
  try {
    const { clocks, report, raiseCriticalAnomaly } = service(root);
    clocks.wall.advance(HOUR);
    raiseCriticalAnomaly();
    assert.equal((await report()).reasons, [ANOMALY_REASON]);
    clocks.wall.advance(-HOUR); // NTP corrects the clock
    clocks.advance(6 * MINUTE);
    const r = await report();
    assert.is(r.status, HealthStatus.HEALTHY, r.reasons.join('; '));
    assert.is(r.lastHour, 1n, 'still detected within the last hour');
    assert.equal(r.resourcesTimestamp, r.timestamp, 'the resource status is stamped by the same wall clock');
  } finally {
    root.remove();
  }
});

test('samples of new metrics refused at the anomaly detector\'s metric limit degrade the verdict for 5 minutes, on the monotonic clock', async () => {
  const root = new FixtureRoot('cgroup-v2-limited');
  try {
    const { clocks, report, anomalies } = service(root, { maxMetrics: 1 });
    anomalies.record('watched', 1);
    assert.is((await report()).status, HealthStatus.HEALTHY, 'full is not refusing');
    assert.throws(() => anomalies.record('unwatched', 1), /metric limit reached/);
    const refusing = await report();
    assert.is(refusing.status, HealthStatus.DEGRADED);
    assert.equal(refusing.reasons, ["samples of new metrics refused in the last 5 minutes at the anomaly detector's limit of 1 metrics (limits.max_metrics)"]);
    clocks.wall.advance(-HOUR); // a wall-clock step moves nothing
    clocks.advance(4 * MINUTE);
    assert.is((await report()).status, HealthStatus.DEGRADED);
    clocks.advance(MINUTE);
    assert.is((await report()).status, HealthStatus.HEALTHY);
  } finally {
    root.remove();
  }
});

test('samples of new metrics refused for want of seasonal slots degrade the verdict for 5 minutes, naming that limit', async () => {
  const root = new FixtureRoot('cgroup-v2-limited');
  try {
    const { clocks, report, anomalies } = service(root, { maxMetrics: 5 });
    anomalies.configure('weekly', { detector: { seasonSlots: 5 * 288 } });
    assert.is((await report()).status, HealthStatus.HEALTHY, 'full is not refusing');
    assert.throws(() => anomalies.record('unwatched', 1), /seasonal profile slots are limited to 1440/);
    const refusing = await report();
    assert.is(refusing.status, HealthStatus.DEGRADED);
    assert.equal(refusing.reasons, ["samples of new metrics refused in the last 5 minutes at the anomaly detector's limit of 1440 seasonal profile slots (limits.max_season_slots)"]);
    clocks.advance(5 * MINUTE);
    assert.is((await report()).status, HealthStatus.HEALTHY);
  } finally {
    root.remove();
  }
});

test('the last hour and the 5-minute verdict count every anomaly detected in them, beyond the history\'s size', async () => {
  const root = new FixtureRoot('cgroup-v2-limited');
  try {
    const { clocks, report, raiseCriticalAnomaly } = service(root, { historyCapacity: 20 });
    for (let m = 0; m < 54; m++) raiseCriticalAnomaly(`svc${m}_latency_ms`);
    let r = await report();
    assert.is(r.lastHour, 54n, 'not the 20 the history holds');
    assert.equal(r.lastHourBySeverity, { LOW: 0n, MEDIUM: 0n, HIGH: 0n, CRITICAL: 54n });
    assert.equal(r.reasons, ['54 high or critical anomalies in the last 5 minutes']);
    clocks.advance(5 * MINUTE + 1_000);
    r = await report();
    assert.is(r.status, HealthStatus.HEALTHY, r.reasons.join('; '));
    assert.is(r.lastHour, 54n);
    clocks.advance(55 * MINUTE);
    assert.is((await report()).lastHour, 0n, 'an hour later');
  } finally {
    root.remove();
  }
});

test('a wall clock stepped forward two hours does not empty the 5-minute and last-hour windows', async () => {
  const root = new FixtureRoot('cgroup-v2-limited');
  try {
    const { clocks, report, raiseCriticalAnomaly } = service(root);
    raiseCriticalAnomaly();
    clocks.wall.advance(2 * HOUR);
    clocks.advance(MINUTE);
    const r = await report();
    assert.is(r.status, HealthStatus.DEGRADED);
    assert.equal(r.reasons, [ANOMALY_REASON]);
    assert.is(r.lastHour, 1n);
    assert.equal(r.timestamp, timestamp(clocks.wall.nowMs()));
    assert.equal(r.resourcesTimestamp, r.timestamp);
  } finally {
    root.remove();
  }
});

test('a pressure reading the monitor could not take is named in unavailable, with why, and decides nothing', async () => {
  const root = new FixtureRoot('cgroup-v2-limited');
  try {
    const { clocks, report, pressure } = service(root);
    const { memory: _memory, ...rest } = pressureSnapshot(0);
    pressure.current = { ...rest, atMs: clocks.monotonic.nowMs(), unavailable: { memory: 'cannot read /sys/fs/cgroup/memory.stat: EISDIR' } };
    clocks.advance(2000);
    const r = await report();
    assert.equal(r.unavailable, ['resources.pressure.memory: cannot read /sys/fs/cgroup/memory.stat: EISDIR']);
    assert.is(r.status, HealthStatus.HEALTHY);
  } finally {
    root.remove();
  }
});

test.run();
