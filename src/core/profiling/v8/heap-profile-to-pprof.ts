import type { Profile } from 'pprof-format';
import { type MappingDescriptor, ProfileBuilder } from '../pprof/builder.js';
import { frameFunction, frameLine, nodeRuntimeMapping, type V8CallFrame } from './call-frames.js';

/** A node of the inspector's `HeapProfiler.SamplingHeapProfile` tree. */
export interface V8HeapNode {
  id: number;
  callFrame: V8CallFrame;
  selfSize: number;
  children: V8HeapNode[];
}

/** The sampling heap profile: live sampled allocations, each with V8's scaled size estimate. */
export interface V8HeapProfile {
  head: V8HeapNode;
  samples?: { size: number; nodeId: number; ordinal: number }[];
}

export interface HeapConversionOptions {
  timeNanos: number | bigint;
  samplingIntervalBytes: number;
  mapping?: MappingDescriptor;
}

const HEAP_PROFILE_COMMENT =
  'inuse_space is V8\'s unbiased estimate of live bytes. inuse_objects counts sampled live ' +
  'allocations unscaled: the inspector reports each sample\'s scaled bytes but not the object ' +
  'size, so the number of objects a sample stands for is unknown. Memory allocated before the ' +
  'sampler started (as the service starts, before its modules load: Node\'s own start) ' +
  'is not in it.';

/**
 * Converts a V8 sampling heap profile (allocations still alive when it was taken) to pprof with
 * sample types inuse_objects/count and inuse_space/bytes.
 */
export function heapProfileToPprof(v8: V8HeapProfile, options: HeapConversionOptions): Profile {
  const builder = new ProfileBuilder({
    sampleTypes: [
      { type: 'inuse_objects', unit: 'count' },
      { type: 'inuse_space', unit: 'bytes' },
    ],
    periodType: { type: 'space', unit: 'bytes' },
    period: options.samplingIntervalBytes,
    timeNanos: options.timeNanos,
    // What is alive at one instant, not what happened over a period: no duration, as in Go's heap profiles.
    durationNanos: 0,
    defaultSampleType: 'inuse_space',
    comments: [HEAP_PROFILE_COMMENT],
  });
  const mappingId = builder.mappingId(options.mapping ?? nodeRuntimeMapping());

  // Stacks (leaf first) per node id; the (root) node itself is not a frame.
  const stacks = new Map<number, number[]>();
  const pending: { node: V8HeapNode; stack: number[] }[] = v8.head.children.map((node) => ({ node, stack: [] }));
  while (pending.length > 0) {
    const { node, stack: parentStack } = pending.pop() as { node: V8HeapNode; stack: number[] };
    const { line, column } = frameLine(node.callFrame);
    const location = builder.locationId(
      [{ functionId: builder.functionId(frameFunction(node.callFrame)), line, column }],
      mappingId,
    );
    const stack = [location, ...parentStack];
    stacks.set(node.id, stack);
    for (const child of node.children) pending.push({ node: child, stack });
  }

  for (const sample of v8.samples ?? []) {
    const stack = stacks.get(sample.nodeId);
    if (stack) builder.addSample(stack, [1, sample.size]);
  }
  return builder.build();
}
