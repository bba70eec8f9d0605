import type { Profile } from 'pprof-format';
import { type MappingDescriptor, ProfileBuilder } from '../pprof/builder.js';
import { frameFunction, frameLine, nodeRuntimeMapping, type V8CallFrame } from './call-frames.js';

/** The inspector's `Profiler.Profile`: a call tree plus one node id per sample (times in µs). */
export interface V8CpuProfile {
  nodes: { id: number; callFrame: V8CallFrame; children?: number[] }[];
  startTime: number;
  endTime: number;
  samples?: number[];
  timeDeltas?: number[];
}

export interface CpuConversionOptions {
  /** Wall-clock time the capture was started (V8's startTime), in ns since the epoch. */
  timeNanos: number | bigint;
  samplingIntervalUs: number;
  mapping?: MappingDescriptor;
}

const CPU_PROFILE_COMMENT =
  "Values are the JS thread's wall time by what it ran: V8 samples on a timer, so time the thread " +
  'waited for a CPU core counts with the code it was running (ProfilingService.GetProfile gives the CPU it got). ' +
  '(idle) is time the JS thread waited for work, (program) native code outside JS, ' +
  '(garbage collector) GC; they are kept so totals match the capture. ' +
  "Lines are each function's first line. Use -ignore='^\\(idle\\)$' for busy time only.";

/**
 * Converts a V8 CPU profile to pprof with sample types samples/count and wall/nanoseconds. Each
 * sample lasts until the next one (the last until the profile's end), as Chrome DevTools counts it.
 * That is wall time, not CPU time: V8's sampler thread interrupts the JS thread on a timer, and a
 * thread kept off the CPU by others is sampled when it next runs, its wait counted with what it
 * ran then (as Google's pprof-nodejs, which calls this profile `wall`). The profile starts at the
 * first sample: before it V8 was recording the compiled code (tens to hundreds of ms in which
 * nothing was sampled), so time and duration say when sampling ran, and the totals match them.
 */
export function cpuProfileToPprof(v8: V8CpuProfile, options: CpuConversionOptions): Profile {
  const samples = v8.samples ?? [];
  const timestamps = sampleTimes(v8);
  const firstSample = Math.min(timestamps[0] ?? v8.startTime, v8.endTime);
  const builder = new ProfileBuilder({
    sampleTypes: [
      { type: 'samples', unit: 'count' },
      { type: 'wall', unit: 'nanoseconds' },
    ],
    periodType: { type: 'wall', unit: 'nanoseconds' },
    period: options.samplingIntervalUs * 1000,
    timeNanos: BigInt(options.timeNanos) + BigInt(Math.round(Math.max(0, firstSample - v8.startTime) * 1000)),
    durationNanos: Math.max(0, v8.endTime - firstSample) * 1000,
    defaultSampleType: 'wall',
    comments: [CPU_PROFILE_COMMENT],
  });
  const mappingId = builder.mappingId(options.mapping ?? nodeRuntimeMapping());

  const byId = new Map(v8.nodes.map((n) => [n.id, n]));
  const parentOf = new Map<number, number>();
  for (const n of v8.nodes) for (const child of n.children ?? []) parentOf.set(child, n.id);
  const rootId = v8.nodes[0]?.id;

  const stacks = new Map<number, number[]>();
  const stackOf = (nodeId: number): number[] => {
    const cached = stacks.get(nodeId);
    if (cached) return cached;
    // Walk up to the first node whose stack is known (iteratively: JS stacks can be deep).
    const chain: number[] = [];
    let cursor: number | undefined = nodeId;
    while (cursor !== undefined && cursor !== rootId && !stacks.has(cursor)) {
      chain.push(cursor);
      cursor = parentOf.get(cursor);
    }
    let stack = cursor !== undefined && cursor !== rootId ? (stacks.get(cursor) as number[]) : [];
    for (let i = chain.length - 1; i >= 0; i--) {
      const frame = (byId.get(chain[i]) as { callFrame: V8CallFrame }).callFrame;
      const { line, column } = frameLine(frame);
      const location = builder.locationId([{ functionId: builder.functionId(frameFunction(frame)), line, column }], mappingId);
      stack = [location, ...stack];
      stacks.set(chain[i], stack);
    }
    return stack;
  };

  const totals = new Map<number, { count: number; micros: number }>();
  for (let i = 0; i < samples.length; i++) {
    const next = i + 1 < samples.length ? timestamps[i + 1] : v8.endTime;
    const micros = Math.max(0, next - timestamps[i]);
    const total = totals.get(samples[i]) ?? { count: 0, micros: 0 };
    total.count += 1;
    total.micros += micros;
    totals.set(samples[i], total);
  }
  for (const [nodeId, total] of totals) {
    if (nodeId === rootId || !byId.has(nodeId)) continue;
    builder.addSample(stackOf(nodeId), [total.count, Math.round(total.micros * 1000)]);
  }
  return builder.build();
}

/** When each sample was taken, µs on V8's clock: timeDeltas are from the one before (the first from startTime). */
function sampleTimes(v8: V8CpuProfile): number[] {
  const deltas = v8.timeDeltas ?? [];
  let t = v8.startTime;
  return (v8.samples ?? []).map((_, i) => (t += deltas[i] ?? 0));
}
