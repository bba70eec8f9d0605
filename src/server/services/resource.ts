/** ResourceService: admission (Acquire/Release) and the resource status, on the resource manager. */
import type { MessageInitShape } from '@bufbuild/protobuf';
import {
  PrioritySchema,
  RequestOutcomeSchema,
  ResourceService,
  type ResourceStatusSchema,
} from '../../../gen/ts/rs3gw/observability/v1/resource_pb.js';
import { invalidArgument } from '../../core/errors.js';
import type { ResourceManager, ResourceStatus as ResourceManagerStatus } from '../../core/resource/manager.js';
import type { PoolAdvisor, PoolSettings } from '../../core/resource/pool-advisor.js';
import { PRIORITIES, type Priority } from '../../core/resource/admission/types.js';
import { bindService, type ServiceBinding } from '../pipeline/handlers.js';
import { duration, durationOrUndefined, enumName, enumNumber, timestamp, u64 } from './convert.js';

export interface ResourceDeps {
  manager: ResourceManager;
  pool: PoolAdvisor;
  poolSettings: PoolSettings;
}

/** The status as GetResources reports it; `s` is the manager's status when the caller already has it. */
export function resourceStatusOut(deps: ResourceDeps, s: ResourceManagerStatus = deps.manager.status()): MessageInitShape<typeof ResourceStatusSchema> {
  const p = s.pressure;
  const total = (r: Record<Priority, number>) => PRIORITIES.reduce((n, k) => n + r[k], 0);
  const advice = deps.pool.current;
  return {
    timestamp: timestamp(s.atMs),
    // 0 while unreadable, as the proto's scalars have no absent; `pressure` leaves the reading out.
    cpuUsage: p.cpu?.utilization ?? 0,
    memoryUsage: p.memory?.utilization ?? 0,
    activeRequests: s.inflight,
    pendingRequests: s.pending,
    currentRateLimit: s.rateLimitRps ?? 0,
    isUnderMemoryPressure: p.memoryPressure,
    shouldShedLoad: PRIORITIES.some((k) => s.shedding.byPriority[k].active),
    successRate: s.window.successRate ?? 1,
    p50LatencyMs: s.window.p50LatencyMs ?? 0,
    p99LatencyMs: s.window.p99LatencyMs ?? 0,
    window: duration(s.window.windowMs),
    windowCompletions: u64(s.window.completions),
    admission: {
      controller: s.controller,
      limit: s.limit,
      inflight: s.inflight,
      admittedTotal: u64(total(s.totals.admitted)),
      rejectedTotal: u64(total(s.totals.rejected)),
    },
    priorities: PRIORITIES.map((k) => ({
      priority: enumNumber(PrioritySchema, k),
      shedding: s.shedding.byPriority[k].active,
      admittedTotal: u64(s.totals.admitted[k]),
      rejectedTotal: u64(s.totals.rejected[k]),
    })),
    pressure: {
      cpu: p.cpu && {
        utilization: p.cpu.utilization,
        availableCores: p.cpu.availableCores,
        source: p.cpu.source,
        throttledPercent: p.cpu.throttledPercent,
        throttlingSource: p.cpu.throttlingSource ?? '',
      },
      memory: p.memory && { utilization: p.memory.utilization, usedBytes: u64(p.memory.usedBytes), limitBytes: u64(p.memory.limitBytes), source: p.memory.source },
      psi: p.psi
        ? {
            available: true,
            cpuSomeAvg10: p.psi.cpuSomeAvg10 ?? 0,
            memorySomeAvg10: p.psi.memorySomeAvg10 ?? 0,
            memoryFullAvg10: p.psi.memoryFullAvg10 ?? 0,
            ioSomeAvg10: p.psi.ioSomeAvg10 ?? 0,
            ioFullAvg10: p.psi.ioFullAvg10 ?? 0,
            source: p.psi.source,
          }
        : // Unread this time is not the same as a kernel without PSI: the source says which.
          { available: false, source: p.unavailable?.psi === undefined ? '' : `unreadable in the last sample: ${p.unavailable.psi}` },
      heap: p.heap && { utilization: p.heap.utilization, usedBytes: u64(p.heap.usedBytes), limitBytes: u64(p.heap.limitBytes), source: p.heap.source },
      eventLoop: { delayP99Ms: p.eventLoop.delayP99Ms, utilization: p.eventLoop.utilization },
      overload: p.overload,
    },
    pool: {
      recommendedThreads: advice.size,
      minThreads: deps.poolSettings.minThreads,
      // The cap applied to the advice, not RS3GW_MAX_THREADS: under a 0.5-CPU quota 4, not 4 x the host's cores.
      maxThreads: advice.upper,
      availableCores: deps.pool.sizedForCores,
      targetCpu: deps.poolSettings.targetCpu,
      reason: advice.reason,
    },
    presumedLostPermits: s.presumedLost,
  };
}

export function resourceBinding(deps: ResourceDeps): ServiceBinding {
  return bindService(ResourceService, {
    getResources() {
      return { status: resourceStatusOut(deps) };
    },
    acquire(req) {
      const priority = enumName<Priority>(PrioritySchema, req.priority, 'priority') ?? 'normal';
      const result = deps.manager.acquire(priority);
      const { limit, inflight } = deps.manager;
      if (result.admitted) return { admitted: true, permitId: result.permitId, limit, inflight };
      return {
        admitted: false,
        reason: result.reason,
        retryAfter: result.retryAfterMs !== undefined ? duration(result.retryAfterMs) : undefined,
        limit,
        inflight,
      };
    },
    release(req) {
      if (req.permitId === '') throw invalidArgument('permit_id', 'required');
      const outcome = enumName<'success' | 'error' | 'dropped'>(RequestOutcomeSchema, req.outcome, 'outcome') ?? 'success';
      deps.manager.release(req.permitId, outcome, durationOrUndefined(req.latency, 'latency'));
      return {};
    },
  });
}
