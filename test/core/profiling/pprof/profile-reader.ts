import type { Profile } from 'pprof-format';
import { int64, uint64, uint64Key } from '../../../../src/core/profiling/pprof/numbers.js';

export interface ReadFrame {
  name: string;
  filename: string;
  startLine: number;
  line: number;
  column: number;
}

export interface ReadSample {
  /** Leaf first, as pprof stores stacks. */
  frames: ReadFrame[];
  values: number[];
}

/** Resolves every sample's ids and string indexes, so tests can assert on what pprof would show. */
export function readSamples(profile: Profile): ReadSample[] {
  const s = profile.stringTable.strings;
  const functions = new Map(profile.function.map((f) => [uint64Key(f.id), f]));
  const locations = new Map(profile.location.map((l) => [uint64Key(l.id), l]));
  return profile.sample.map((sample) => ({
    frames: sample.locationId.flatMap((id) =>
      (locations.get(uint64Key(id))?.line ?? []).map((ln) => {
        const fn = functions.get(uint64Key(ln.functionId));
        return {
          name: fn ? s[uint64(fn.name)] : '?',
          filename: fn ? s[uint64(fn.filename)] : '?',
          startLine: fn ? int64(fn.startLine) : 0,
          line: int64(ln.line),
          column: int64(ln.column),
        };
      }),
    ),
    values: sample.value.map(int64),
  }));
}

export function sampleTypes(profile: Profile): string[] {
  const s = profile.stringTable.strings;
  return profile.sampleType.map((t) => `${s[uint64(t.type)]}/${s[uint64(t.unit)]}`);
}

export function periodType(profile: Profile): string {
  const s = profile.stringTable.strings;
  return `${s[uint64(profile.periodType?.type ?? 0)]}/${s[uint64(profile.periodType?.unit ?? 0)]}`;
}

/** Values summed per stack, keyed by the function names root first joined with ';' (folded-stack style). */
export function foldedStacks(profile: Profile): Map<string, number[]> {
  const folded = new Map<string, number[]>();
  for (const sample of readSamples(profile)) {
    const key = sample.frames.map((f) => f.name).reverse().join(';');
    const sum = folded.get(key) ?? sample.values.map(() => 0);
    sample.values.forEach((v, i) => (sum[i] += v));
    folded.set(key, sum);
  }
  return folded;
}
