import type { Profile } from 'pprof-format';
import { invalidArgument } from '../../errors.js';
import { decodeProfile } from './codec.js';
import { type LabelDescriptor, type LineDescriptor, ProfileBuilder, type ProfileHeader, type ValueTypeName } from './builder.js';
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
 * stack and labels are summed, time_nanos is the earliest start and duration_nanos the sum of
 * the durations (as `go tool pprof` merges: a merge of 10 s captures a minute apart covers 10 s
 * each, so pprof's "Total samples = x (y%)" reads the share of captured time, not of the gaps),
 * the period is the largest. Encoded profiles (gzipped or not) are decoded first.
 */
export function mergeProfiles(list: (Profile | Uint8Array)[], field = 'profiles'): Profile {
  const merger = new ProfileMerger(field);
  for (const p of list) merger.add(p);
  return merger.result();
}

/**
 * mergeProfiles one profile at a time: each is decoded, folded into the running result and
 * dropped, so memory holds the result plus one profile, and a caller can yield or stop between adds.
 */
export class ProfileMerger {
  /** Set by the first profile. ProfileBuilder reads its header when it builds, so time and period are widened in place. */
  private state: { builder: ProfileBuilder; header: ProfileHeader } | undefined;
  private start: bigint | undefined;
  private durationNanos = 0n;
  private readonly comments = new Set<string>();
  private count = 0;

  /**
   * `field` names the request field in errors, as `field[i]`. `validated`: every profile added was
   * checked already (stored profiles are, when captured), so each merge need not check it again.
   */
  constructor(
    private readonly field = 'profiles',
    private readonly options: { validated?: boolean } = {},
  ) {}

  add(input: Profile | Uint8Array): void {
    const name = `${this.field}[${this.count}]`;
    const p = input instanceof Uint8Array ? decodeProfile(input, { field: name }) : input;
    if (!this.options.validated) assertValidProfile(p, name);
    const types = p.sampleType.map((t) => valueTypeName(p, t));
    const periodType = valueTypeName(p, p.periodType);
    const { builder, header } = (this.state ??= this.begin(p, name, types, periodType));
    if (describe(types) !== describe(header.sampleTypes)) {
      throw invalidArgument(`${name}.sample_type`, `is [${describe(types)}], expected [${describe(header.sampleTypes)}] like ${this.field}[0]`);
    }
    if (describe([periodType]) !== describe([header.periodType])) {
      throw invalidArgument(`${name}.period_type`, `is ${describe([periodType])}, expected ${describe([header.periodType])} like ${this.field}[0]`);
    }
    const time = int64Big(p.timeNanos);
    if (time !== 0n && (this.start === undefined || time < this.start)) this.start = time;
    this.durationNanos += int64Big(p.durationNanos);
    header.period = Math.max(header.period, int64(p.period));
    for (const c of p.comment) this.comments.add(p.stringTable.strings[uint64(c)]);
    copySamples(p, builder);
    this.count++;
  }

  result(): Profile {
    if (!this.state) throw invalidArgument(this.field, 'must list at least one profile to merge');
    const { builder, header } = this.state;
    header.timeNanos = this.start ?? 0n;
    header.durationNanos = Number(this.durationNanos);
    header.comments = [...this.comments];
    return builder.build();
  }

  /** The first profile sets the kind and the names every later one must match. */
  private begin(first: Profile, name: string, sampleTypes: ValueTypeName[], periodType: ValueTypeName): { builder: ProfileBuilder; header: ProfileHeader } {
    if (sampleTypes.length === 0) throw invalidArgument(`${name}.sample_type`, 'is empty: there are no values to merge');
    const strings = first.stringTable.strings;
    const header: ProfileHeader = {
      sampleTypes,
      periodType,
      period: 0,
      timeNanos: 0n,
      durationNanos: 0,
      defaultSampleType: uint64(first.defaultSampleType) ? strings[uint64(first.defaultSampleType)] : undefined,
      dropFrames: uint64(first.dropFrames) ? strings[uint64(first.dropFrames)] : undefined,
      keepFrames: uint64(first.keepFrames) ? strings[uint64(first.keepFrames)] : undefined,
    };
    return { builder: new ProfileBuilder(header), header };
  }
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
