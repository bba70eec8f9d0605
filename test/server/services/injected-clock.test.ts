/**
 * The services read time from the clocks they are given, as the health report does: answers are
 * stamped by the wall clock passed in, and a refused CPU capture's retry-after is timed on the
 * monotonic one. Real engines and bindings on fake clocks, called through their handlers.
 */
import { create, type DescMessage, type DescMethod, type MessageShape } from '@bufbuild/protobuf';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ListAnomaliesRequestSchema, AnomalyService } from '../../../gen/ts/rs3gw/observability/v1/anomaly_pb.js';
import { ExportFormat, ExportMetricsRequestSchema, MetricsService } from '../../../gen/ts/rs3gw/observability/v1/metrics_pb.js';
import {
  CaptureProfileRequestSchema,
  GetProfileRequestSchema,
  ProfileFormat,
  ProfileType,
  ProfilingService,
} from '../../../gen/ts/rs3gw/observability/v1/profiling_pb.js';
import { AnomalyEngine } from '../../../src/core/anomaly/index.js';
import { BusinessMetrics } from '../../../src/core/business/index.js';
import type { ObservabilityError } from '../../../src/core/errors.js';
import { MetricsEngine } from '../../../src/core/metrics/index.js';
import { ProcReader } from '../../../src/core/procfs/reader.js';
import { ContinuousProfiler, CpuCaptures, HeapSampler, MAX_WAITING_CPU_CAPTURES } from '../../../src/core/profiling/pprof/index.js';
import { ProcessProfiler } from '../../../src/core/profiling/process/profiler.js';
import type { CallContext } from '../../../src/server/pipeline/context.js';
import type { ServiceBinding, UnaryHandler } from '../../../src/server/pipeline/handlers.js';
import { anomalyBinding } from '../../../src/server/services/anomaly.js';
import { timestamp } from '../../../src/server/services/convert.js';
import { metricsBinding } from '../../../src/server/services/metrics.js';
import { profilingBinding } from '../../../src/server/services/profiling.js';
import { UnsentBudget } from '../../../src/server/unsent-budget.js';
import { FixtureRoot } from '../../core/procfs/fixture-root.js';
import { rejectionOf } from '../../support/errors.js';
import { WallAndMonotonic } from '../../support/wall-and-monotonic.js';

const HOUR = 3_600_000;

/** Calls one unary method of a binding as the transports do. */
function call<I extends DescMessage>(binding: ServiceBinding, method: DescMethod, input: I, init: Parameters<typeof create<I>>[1], signal = new AbortController().signal) {
  const handler = binding.handler(method) as UnaryHandler;
  const context: CallContext = { protocol: 'grpc', method, requestHeaders: new Headers(), signal };
  return handler(create(input, init) as MessageShape<I>, context) as Promise<Record<string, unknown>>;
}

/** Clocks an hour apart from the machine's, and the wall a further hour from the monotonic one. */
function clocks(): WallAndMonotonic {
  const c = new WallAndMonotonic(Date.now() - 5 * HOUR);
  c.wall.advance(HOUR);
  return c;
}

test('ListAnomalies is stamped by the wall clock it is given', async () => {
  const { wall, monotonic } = clocks();
  const binding = anomalyBinding(new AnomalyEngine({ clock: wall, intervals: monotonic }), wall);
  const answer = await call(binding, AnomalyService.method.listAnomalies, ListAnomaliesRequestSchema, {});
  assert.equal(answer.timestamp, timestamp(wall.nowMs()));
});

test('a Prometheus ExportMetrics is stamped by the wall clock it is given, as a JSON one is', async () => {
  const { wall, monotonic } = clocks();
  const metrics = new MetricsEngine({ clock: wall, intervals: monotonic, defaultMetrics: false });
  const business = new BusinessMetrics({ metrics, clock: wall, intervals: monotonic });
  const binding = metricsBinding(metrics, business, new UnsentBudget(1 << 30, () => 0, 1 << 20), wall);
  for (const format of [ExportFormat.PROMETHEUS, ExportFormat.JSON]) {
    const answer = await call(binding, MetricsService.method.exportMetrics, ExportMetricsRequestSchema, { format });
    assert.equal(answer.timestamp, timestamp(wall.nowMs()), ExportFormat[format]);
  }
});

function profiling(root: FixtureRoot, c: WallAndMonotonic, heapSampler = new HeapSampler({ clock: c.wall })) {
  const { wall, monotonic } = c;
  const cpuCaptures = new CpuCaptures({ clock: wall, intervals: monotonic });
  const processes = new ProcessProfiler({ clock: wall, intervals: monotonic, reader: new ProcReader({ root: root.path }), pids: [4242] });
  const continuous = new ContinuousProfiler({ clock: wall, intervals: monotonic, cpuCaptures });
  return profilingBinding({ clock: wall, processes, heapSampler, cpuCaptures, continuous, maxProfileSeconds: 30 });
}

test('a heap CaptureProfile starts, and is named, at the wall clock it is given', async () => {
  const root = new FixtureRoot('cgroup-v2-limited');
  const c = clocks();
  const heapSampler = new HeapSampler({ clock: c.wall });
  await heapSampler.start();
  try {
    const answer = await call(profiling(root, c, heapSampler), ProfilingService.method.captureProfile, CaptureProfileRequestSchema, { type: ProfileType.HEAP });
    const info = answer.info as { startTime: unknown };
    assert.equal(info.startTime, timestamp(c.wall.nowMs()));
    assert.is(answer.fileName, `heap-${new Date(c.wall.nowMs()).toISOString().replace(/[:.]/g, '-')}.pb.gz`);
  } finally {
    await heapSampler.stop();
    root.remove();
  }
});

test('a CPU capture refused for a full queue says when a place frees on the monotonic clock it is given', async () => {
  const root = new FixtureRoot('cgroup-v2-limited');
  const c = clocks();
  const binding = profiling(root, c);
  const controller = new AbortController();
  const getProfile = () =>
    call(binding, ProfilingService.method.getProfile, GetProfileRequestSchema, { format: ProfileFormat.PPROF, type: ProfileType.CPU, seconds: 10 }, controller.signal);
  const admitted = Array.from({ length: MAX_WAITING_CPU_CAPTURES + 1 }, getProfile);
  try {
    // The running capture ends 10 s after it started on the monotonic clock; 4 s of it have passed
    // there, and the wall clock stepped back a day, which moves nothing.
    c.monotonic.advance(4_000);
    c.wall.advance(-24 * HOUR);
    const refused = await rejectionOf<ObservabilityError>(getProfile());
    assert.is(refused.kind, 'resource_exhausted');
    assert.is(refused.retryAfterMs, 6_000);
    assert.match(refused.message, /the first place frees in 6\.0 s/);
  } finally {
    controller.abort(new Error('test over'));
    await Promise.allSettled(admitted);
    root.remove();
  }
});

test.run();
