import type { Profile } from 'pprof-format';
import { invalidArgument } from '../../errors.js';
import { decodeProfile } from './codec.js';
import { type LabelDescriptor, type LineDescriptor, ProfileBuilder, type ValueTypeName } from './builder.js';
import { int64, int64Big, uint64, uint64Key } from './numbers.js';
import { assertValidProfile } from './validate.js';

function valueTypeName(profile: Profile, t: { type: number | bigint; unit: number | bigint } | undefined): ValueTypeName {
  const s = profile.stringTable.strings;
  return { type: s[uint64(t?.type ?? 0)], unit: s[uint64(t?.unit ?? 0)] };
}

function describe(types: ValueTypeName[]): string {
  return types.map((t) => `${t.type}/${t.unit}`).join(', ');
}

/**
 * Merges profiles of one kind (same sample types and period type) into one: samples with the same
 * stack and labels are summed, time_nanos is the earliest start and duration_nanos spans to the
 * latest end, the period is the largest. Encoded profiles (gzipped or not) are decoded first.
 */
export function mergeProfiles(list: (Profile | Uint8Array)[], field = 'profiles'): Profile {
  if (list.length === 0) throw invalidArgument(field, 'must list at least one profile to merge');
  const profiles = list.map((p, i) => (p instanceof Uint8Array ? decodeProfile(p, { field: `${field}[${i}]` }) : p));
  profiles.forEach((p, i) => assertValidProfile(p, `${field}[${i}]`));

  const first = profiles[0];
  const sampleTypes = first.sampleType.map((t) => valueTypeName(first, t));
  if (sampleTypes.length === 0) throw invalidArgument(`${field}[0].sample_type`, 'is empty: there are no values to merge');
  const periodType = valueTypeName(first, first.periodType);
  let start: bigint | undefined;
  let end = 0n;
  let period = 0;
  const comments = new Set<string>();
  profiles.forEach((p, i) => {
    const types = p.sampleType.map((t) => valueTypeName(p, t));
    if (describe(types) !== describe(sampleTypes)) {
      throw invalidArgument(`${field}[${i}].sample_type`, `is [${describe(types)}], expected [${describe(sampleTypes)}] like ${field}[0]`);
    }
    const pt = valueTypeName(p, p.periodType);
    if (describe([pt]) !== describe([periodType])) {
      throw invalidArgument(`${field}[${i}].period_type`, `is ${describe([pt])}, expected ${describe([periodType])} like ${field}[0]`);
    }
    const time = int64Big(p.timeNanos);
    if (time !== 0n && (start === undefined || time < start)) start = time;
    const pEnd = time + int64Big(p.durationNanos);
    if (pEnd > end) end = pEnd;
    period = Math.max(period, int64(p.period));
    for (const c of p.comment) comments.add(p.stringTable.strings[uint64(c)]);
  });

  const strings = first.stringTable.strings;
  const builder = new ProfileBuilder({
    sampleTypes,
    periodType,
    period,
    timeNanos: start ?? 0n,
    durationNanos: start === undefined ? 0 : Number(end - start),
    defaultSampleType: uint64(first.defaultSampleType) ? strings[uint64(first.defaultSampleType)] : undefined,
    dropFrames: uint64(first.dropFrames) ? strings[uint64(first.dropFrames)] : undefined,
    keepFrames: uint64(first.keepFrames) ? strings[uint64(first.keepFrames)] : undefined,
    comments: [...comments],
  });
  for (const p of profiles) copySamples(p, builder);
  return builder.build();
}

/** Re-interns one profile's samples (and what they reference) into the builder. */
function copySamples(p: Profile, builder: ProfileBuilder): void {
  const s = p.stringTable.strings;
  const str = (index: number | bigint): string => s[uint64(index)];

  const functionIds = new Map<string, number>();
  for (const f of p.function) {
    functionIds.set(
      uint64Key(f.id),
      builder.functionId({ name: str(f.name), systemName: str(f.systemName), filename: str(f.filename), startLine: int64(f.startLine) }),
    );
  }
  const mappingIds = new Map<string, number>();
  for (const m of p.mapping) {
    mappingIds.set(
      uint64Key(m.id),
      builder.mappingId({
        filename: str(m.filename),
        buildId: str(m.buildId),
        memoryStart: uint64(m.memoryStart),
        memoryLimit: uint64(m.memoryLimit),
        fileOffset: uint64(m.fileOffset),
        hasFunctions: m.hasFunctions,
        hasFilenames: m.hasFilenames,
        hasLineNumbers: m.hasLineNumbers,
        hasInlineFrames: m.hasInlineFrames,
      }),
    );
  }
  const locationIds = new Map<string, number>();
  for (const l of p.location) {
    const lines: LineDescriptor[] = l.line.map((ln) => ({
      functionId: functionIds.get(uint64Key(ln.functionId)) as number,
      line: int64(ln.line),
      column: int64(ln.column),
    }));
    const mappingId = uint64(l.mappingId) === 0 ? 0 : (mappingIds.get(uint64Key(l.mappingId)) as number);
    locationIds.set(uint64Key(l.id), builder.locationId(lines, mappingId, uint64(l.address)));
  }
  for (const sample of p.sample) {
    const labels: LabelDescriptor[] = sample.label.map((label) =>
      uint64(label.str) !== 0
        ? { key: str(label.key), str: str(label.str) }
        : { key: str(label.key), num: int64(label.num), unit: str(label.numUnit) || undefined },
    );
    builder.addSample(
      sample.locationId.map((id) => locationIds.get(uint64Key(id)) as number),
      sample.value.map(int64),
      labels,
    );
  }
}
