/** ProfilingService: process measurements and snapshots, recorded I/O, and pprof profiles. */
import { create, type MessageInitShape } from '@bufbuild/protobuf';
import { HttpBodySchema } from '../../../gen/ts/google/api/httpbody_pb.js';
import {
  CpuMeasurementBasis,
  IoDirectionSchema,
  ProfileFormat,
  ProfileFormatSchema,
  ProfileType,
  ProfileTypeSchema,
  ProfilingService,
  type ContinuousProfilingStatusSchema,
  type ProcessProfileSchema,
  type ProfileInfoSchema,
} from '../../../gen/ts/rs3gw/observability/v1/profiling_pb.js';
import type { Clock } from '../../core/clock.js';
import { invalidArgument } from '../../core/errors.js';
import { pageLimit } from '../../core/page-limit.js';
import type { ContinuousProfiler, CpuCaptures, HeapSampler, StoredProfileInfo } from '../../core/profiling/pprof/index.js';
import { cpuProfileDurationMs, profileTimes } from '../../core/profiling/pprof/index.js';
import type { IoOperationStats } from '../../core/profiling/process/io-operations.js';
import { MAX_SNAPSHOTS_PER_PID, type ProcessProfiler, type ProcessSample } from '../../core/profiling/process/profiler.js';
import { bindService, type ServiceBinding } from '../pipeline/handlers.js';
import { duration, durationOrUndefined, enumName, requiredEnumName, timeBoundOrUndefined, timestamp, u64, wholeNs } from './convert.js';

const PPROF = 'application/octet-stream';
/**
 * ListSnapshots' default page, as the proto says; the profiler's own default is every snapshot
 * retained (up to its MAX_SNAPSHOTS_PER_PID, the page's maximum).
 */
const DEFAULT_SNAPSHOTS_LISTED = 100;
/** Longest GetStoredProfile id accepted (as the proto says); stored ids are `cpu-<start ms>-<sequence>`, under 40 characters. */
const MAX_PROFILE_ID_LENGTH = 128;

export interface ProfilingDeps {
  /** Wall clock: when a profile was asked for, where the profile does not say when it started. */
  clock: Clock;
  processes: ProcessProfiler;
  heapSampler: HeapSampler;
  /** The process's CPU captures, shared with the continuous profiler so they queue together. */
  cpuCaptures: CpuCaptures;
  continuous: ContinuousProfiler;
  maxProfileSeconds: number;
}

function profileOut(s: ProcessSample, ops: IoOperationStats | undefined): MessageInitShape<typeof ProcessProfileSchema> {
  const heap = s.memory.heap;
  const io = s.io;
  return {
    timestamp: timestamp(s.atMs),
    pid: s.pid,
    command: s.comm,
    startedAfterBootUs: s.startedAfterBootUs,
    cpu: {
      usagePercent: s.cpu.percentOfCore,
      usagePercentOfMachine: s.cpu.percentOfMachine,
      totalTimeUs: s.cpu.totalTimeUs,
      userTimeUs: s.cpu.userTimeUs,
      systemTimeUs: s.cpu.systemTimeUs,
      availableCores: s.cpu.availableCores,
      basis: s.cpu.basis === 'interval' ? CpuMeasurementBasis.INTERVAL : CpuMeasurementBasis.SINCE_START,
      interval: duration(s.cpu.intervalMs),
      threads: s.memory.threads,
    },
    memory: {
      rssBytes: u64(s.memory.rssBytes),
      virtualBytes: u64(s.memory.virtualBytes),
      peakRssBytes: u64(s.memory.peakRssBytes),
      heapUsedBytes: u64(heap?.usedBytes ?? 0),
      heapLimitBytes: u64(heap?.limitBytes ?? 0),
    },
    io: {
      ...(ops && {
        readOps: u64(ops.read.operations),
        writeOps: u64(ops.write.operations),
        readBytes: ops.read.bytes,
        writeBytes: ops.write.bytes,
        readLatencyUs: wholeNs(ops.read.avgLatencyUs ?? 0),
        writeLatencyUs: wholeNs(ops.write.avgLatencyUs ?? 0),
        readLatencyP50Us: wholeNs(ops.read.p50LatencyUs ?? 0),
        readLatencyP95Us: wholeNs(ops.read.p95LatencyUs ?? 0),
        readLatencyP99Us: wholeNs(ops.read.p99LatencyUs ?? 0),
        writeLatencyP50Us: wholeNs(ops.write.p50LatencyUs ?? 0),
        writeLatencyP95Us: wholeNs(ops.write.p95LatencyUs ?? 0),
        writeLatencyP99Us: wholeNs(ops.write.p99LatencyUs ?? 0),
      }),
      process: io.available
        ? {
            available: true,
            storageReadBytes: u64(io.readBytes),
            storageWriteBytes: u64(io.writeBytes),
            logicalReadBytes: u64(io.rchar),
            logicalWriteBytes: u64(io.wchar),
            readSyscalls: u64(io.syscr),
            writeSyscalls: u64(io.syscw),
            cancelledWriteBytes: u64(io.cancelledWriteBytes),
          }
        : { available: false, reason: io.reason },
    },
  };
}

function infoOut(i: StoredProfileInfo): MessageInitShape<typeof ProfileInfoSchema> {
  return { id: i.id, type: ProfileType.CPU, startTime: timestamp(i.startMs), duration: duration(i.durationMs), sizeBytes: u64(i.sizeBytes) };
}

const fileStamp = (ms: number) => new Date(ms).toISOString().replace(/[:.]/g, '-');
const pprofBody = (data: Uint8Array) => create(HttpBodySchema, { contentType: PPROF, data });

/** CPU unless heap is asked for; numbers the enum does not define are refused. */
function profileTypeIn(type: ProfileType, field: string): 'cpu' | 'heap' {
  return enumName<'cpu' | 'heap'>(ProfileTypeSchema, type, field) ?? 'cpu';
}

/** A measurement of one process (0 = this service), as GetProfile and the health report give it. */
export function measureProcess(deps: ProfilingDeps, pid: number): MessageInitShape<typeof ProcessProfileSchema> {
  const self = deps.processes.selfPid;
  const target = pid === 0 ? self : pid;
  const sample = deps.processes.sample(target);
  const isSelf = target === self;
  return profileOut(sample, isSelf ? deps.processes.ioOperations() : undefined);
}

/** Continuous profiling's state, as the health report gives it. */
export function continuousProfilingStatus(continuous: ContinuousProfiler): MessageInitShape<typeof ContinuousProfilingStatusSchema> {
  const s = continuous.stats();
  return {
    running: s.running,
    completedCaptures: u64(s.completedCaptures),
    failedCaptures: u64(s.failedCaptures),
    skippedCaptures: u64(s.skippedCaptures),
    lastError: s.lastError ?? '',
    storedProfiles: s.storedProfiles,
    storedBytes: u64(s.storedBytes),
    oversizedCaptures: u64(s.oversizedCaptures),
  };
}

export function profilingBinding(deps: ProfilingDeps): ServiceBinding {
  const self = deps.processes.selfPid;

  /** One pprof profile of this service: CPU for durationMs, or the heap now. */
  async function capture(type: 'cpu' | 'heap', durationMs: number, signal: AbortSignal) {
    const askedMs = deps.clock.nowMs();
    const data = type === 'heap' ? await deps.heapSampler.profile() : await deps.cpuCaptures.capture({ durationMs, signal });
    // A CPU capture may have waited behind another: it started, and ran for, what its profile says.
    const { startMs, durationMs: ranMs } = type === 'heap' ? { startMs: askedMs, durationMs: 0 } : profileTimes(data, askedMs);
    return {
      info: { type: type === 'heap' ? ProfileType.HEAP : ProfileType.CPU, startTime: timestamp(startMs), duration: duration(ranMs), sizeBytes: u64(data.length) },
      pprof: pprofBody(data),
      fileName: `${type}-${fileStamp(startMs)}.pb.gz`,
    };
  }

  return bindService(ProfilingService, {
    async getProfile(req, ctx) {
      enumName(ProfileFormatSchema, req.format, 'format');
      // Fields the asked format does not read are refused, not dropped: the caller meant something.
      if (req.format !== ProfileFormat.PPROF) {
        if (req.type !== ProfileType.UNSPECIFIED) throw invalidArgument('type', 'applies to a pprof profile only (format pprof)');
        if (req.seconds !== 0) throw invalidArgument('seconds', 'applies to a CPU pprof profile only (format pprof, type cpu)');
        return { profile: measureProcess(deps, req.pid) };
      }
      if (req.pid !== 0 && req.pid !== self) throw invalidArgument('pid', 'pprof profiles are only available for this service (pid 0)');
      const type = profileTypeIn(req.type, 'type');
      if (type === 'heap' && req.seconds !== 0) {
        throw invalidArgument('seconds', 'a heap profile is the heap now and takes no length (format pprof, type cpu takes one)');
      }
      const durationMs = type === 'cpu' ? cpuProfileDurationMs(req.seconds === 0 ? undefined : req.seconds, { maxSeconds: deps.maxProfileSeconds }) : 0;
      const { pprof, fileName } = await capture(type, durationMs, ctx.signal);
      return { pprof, fileName };
    },
    listProcesses() {
      return {
        processes: deps.processes.watchedPids().map((pid) => {
          try {
            // Not a measurement: the next GetProfile still measures from the one before it.
            const { comm } = deps.processes.identify(pid);
            return { pid, command: comm, self: pid === self, alive: true };
          } catch (error) {
            return { pid, self: pid === self, alive: false, error: (error as Error).message };
          }
        }),
      };
    },
    recordIo(req) {
      const operations = req.operations.map((op, i) => {
        const direction = requiredEnumName<'read' | 'write'>(IoDirectionSchema, op.direction, `operations[${i}].direction`);
        const latencyMs = durationOrUndefined(op.latency, `operations[${i}].latency`);
        return { direction, bytes: op.bytes, latencyUs: latencyMs === undefined ? undefined : latencyMs * 1000 };
      });
      deps.processes.recordIo(operations);
      return { accepted: operations.length };
    },
    listSnapshots(req) {
      const pid = req.pid === 0 ? self : req.pid;
      const snapshots = deps.processes.snapshots(pid, {
        sinceMs: timeBoundOrUndefined(req.since),
        limit: pageLimit(req.limit || undefined, 'limit', { default: DEFAULT_SNAPSHOTS_LISTED, max: MAX_SNAPSHOTS_PER_PID }),
      });
      return {
        snapshots: snapshots.map((s) => profileOut(s, pid === self ? s.operations : undefined)),
        interval: duration(deps.processes.intervalSeconds * 1000),
        retention: deps.processes.maxSnapshots,
      };
    },
    async captureProfile(req, ctx) {
      const type = profileTypeIn(req.type, 'type');
      // Ignored for a heap profile, as the proto says, so not checked either (-1s was refused).
      const requested = type === 'cpu' ? durationOrUndefined(req.duration, 'duration') : undefined;
      const durationMs =
        type === 'cpu'
          ? cpuProfileDurationMs(requested === undefined || requested === 0 ? undefined : requested / 1000, { maxSeconds: deps.maxProfileSeconds, field: 'duration' })
          : 0;
      return capture(type, durationMs, ctx.signal);
    },
    listStoredProfiles(req) {
      if (profileTypeIn(req.type, 'type') === 'heap') return { profiles: [] }; // only CPU profiles are stored
      const profiles = deps.continuous.list({
        startMs: timeBoundOrUndefined(req.startTime),
        endMs: timeBoundOrUndefined(req.endTime),
        // Unset (0): the profiler's default.
        limit: req.limit || undefined,
      });
      return { profiles: profiles.map(infoOut) };
    },
    getStoredProfile(req) {
      if (req.id === '') throw invalidArgument('id', 'required');
      if (req.id.length > MAX_PROFILE_ID_LENGTH) throw invalidArgument('id', `must be at most ${MAX_PROFILE_ID_LENGTH} characters (ids from ListStoredProfiles are far shorter), got ${req.id.length}`);
      const p = deps.continuous.get(req.id);
      return { info: infoOut(p), pprof: pprofBody(p.data), fileName: `cpu-${fileStamp(p.startMs)}.pb.gz` };
    },
    async mergeStoredProfiles(req, ctx) {
      if (profileTypeIn(req.type, 'type') === 'heap') throw invalidArgument('type', 'only CPU profiles are stored');
      const merged = await deps.continuous.merge({ startMs: timeBoundOrUndefined(req.startTime), endMs: timeBoundOrUndefined(req.endTime) }, ctx.signal);
      return {
        profileCount: merged.profileIds.length,
        info: { type: ProfileType.CPU, startTime: timestamp(merged.startMs), duration: duration(merged.endMs - merged.startMs), sizeBytes: u64(merged.data.length) },
        pprof: pprofBody(merged.data),
        fileName: `cpu-merged-${fileStamp(merged.startMs)}.pb.gz`,
      };
    },
  }, {
    // A REST HEAD of a pprof profile would run the capture, holding the capture slot for its length;
    // of a merge, the merge (seconds of work on its slot): both for headers only.
    noHead: [ProfilingService.method.getProfile, ProfilingService.method.mergeStoredProfiles],
  });
}
