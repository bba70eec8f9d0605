import type { Profile } from 'pprof-format';
import { ProfileBuilder } from '../../../../src/core/profiling/pprof/builder.js';

export interface SyntheticSample {
  /** Function names root first, e.g. ['main', 'handle']. */
  stack: string[];
  values: number[];
}

/** V8's pseudo-frames carry no source file. */
const RUNTIME_FRAMES = new Set(['(idle)', '(program)', '(garbage collector)']);

/** A CPU-shaped profile with the given stacks, built the way the V8 conversion builds them. */
export function syntheticCpuProfile(samples: SyntheticSample[], timeMs = Date.UTC(2026, 0, 1), durationMs = 10_000): Profile {
  const builder = new ProfileBuilder({
    sampleTypes: [
      { type: 'samples', unit: 'count' },
      { type: 'wall', unit: 'nanoseconds' },
    ],
    periodType: { type: 'wall', unit: 'nanoseconds' },
    period: 10_000_000,
    timeNanos: BigInt(timeMs) * 1_000_000n,
    durationNanos: durationMs * 1_000_000,
    defaultSampleType: 'wall',
  });
  const mappingId = builder.mappingId({
    filename: '/usr/bin/node',
    buildId: 'node-test',
    hasFunctions: true,
    hasFilenames: true,
    hasLineNumbers: true,
    hasInlineFrames: false,
  });
  for (const sample of samples) {
    const locations = sample.stack
      .map((name, i) => builder.locationId([{ functionId: builder.functionId({ name, filename: RUNTIME_FRAMES.has(name) ? '' : `/app/${name}.js`, startLine: i + 1 }), line: i + 1 }], mappingId))
      .reverse();
    builder.addSample(locations, sample.values);
  }
  return builder.build();
}
