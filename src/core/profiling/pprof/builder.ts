import { Function as PprofFunction, Label, Line, Location, Mapping, Profile, Sample, StringTable, ValueType } from 'pprof-format';

/** A sample or period type by name, e.g. `{ type: 'cpu', unit: 'nanoseconds' }`. */
export interface ValueTypeName {
  type: string;
  unit: string;
}

/** A function as pprof names it: display name, source file and first line (1-based, 0 = unknown). */
export interface FunctionDescriptor {
  name: string;
  systemName?: string;
  filename: string;
  startLine: number;
}

/** One source line of a location; several lines mean inlined frames, innermost first. */
export interface LineDescriptor {
  functionId: number;
  line: number;
  column?: number;
}

/** The binary or runtime the code ran in; pprof tools group locations by mapping. */
export interface MappingDescriptor {
  filename: string;
  buildId: string;
  memoryStart?: number;
  memoryLimit?: number;
  fileOffset?: number;
  hasFunctions: boolean;
  hasFilenames: boolean;
  hasLineNumbers: boolean;
  hasInlineFrames: boolean;
}

/** A label as pprof stores it: a string value or a number with an optional unit. */
export type LabelDescriptor = { key: string; str: string } | { key: string; num: number; unit?: string };

export interface ProfileHeader {
  sampleTypes: ValueTypeName[];
  periodType: ValueTypeName;
  /** Sampling period in `periodType` units. */
  period: number;
  /** Wall-clock start; a bigint keeps nanosecond precision past 2^53. */
  timeNanos: number | bigint;
  durationNanos: number;
  /** Sample type pprof shows by default (its `type` name); omitted means the last one. */
  defaultSampleType?: string;
  comments?: string[];
  dropFrames?: string;
  keepFrames?: string;
}

interface PendingSample {
  locationIds: number[];
  values: number[];
  labels: Label[];
}

/**
 * Builds a pprof profile with interned strings, functions, mappings and locations, and sums
 * samples whose stack and labels are identical, so the output is as small as pprof makes them.
 */
export class ProfileBuilder {
  private readonly strings = new StringTable();
  private readonly functions: PprofFunction[] = [];
  private readonly functionIds = new Map<string, number>();
  private readonly mappings: Mapping[] = [];
  private readonly mappingIds = new Map<string, number>();
  private readonly locations: Location[] = [];
  private readonly locationIds = new Map<string, number>();
  private readonly samples = new Map<string, PendingSample>();

  constructor(private readonly header: ProfileHeader) {
    if (header.sampleTypes.length === 0) throw new Error('ProfileBuilder needs at least one sample type');
  }

  get sampleTypeCount(): number {
    return this.header.sampleTypes.length;
  }

  string(value: string): number {
    return this.strings.dedup(value);
  }

  functionId(fn: FunctionDescriptor): number {
    const systemName = fn.systemName ?? fn.name;
    const key = JSON.stringify([fn.name, systemName, fn.filename, fn.startLine]);
    let id = this.functionIds.get(key);
    if (id === undefined) {
      id = this.functions.length + 1;
      this.functions.push(
        new PprofFunction({
          id,
          name: this.string(fn.name),
          systemName: this.string(systemName),
          filename: this.string(fn.filename),
          startLine: fn.startLine,
        }),
      );
      this.functionIds.set(key, id);
    }
    return id;
  }

  mappingId(mapping: MappingDescriptor): number {
    const key = JSON.stringify([mapping.filename, mapping.buildId, mapping.memoryStart ?? 0, mapping.memoryLimit ?? 0]);
    let id = this.mappingIds.get(key);
    if (id === undefined) {
      id = this.mappings.length + 1;
      this.mappings.push(
        new Mapping({
          id,
          memoryStart: mapping.memoryStart ?? 0,
          memoryLimit: mapping.memoryLimit ?? 0,
          fileOffset: mapping.fileOffset ?? 0,
          filename: this.string(mapping.filename),
          buildId: this.string(mapping.buildId),
          hasFunctions: mapping.hasFunctions,
          hasFilenames: mapping.hasFilenames,
          hasLineNumbers: mapping.hasLineNumbers,
          hasInlineFrames: mapping.hasInlineFrames,
        }),
      );
      this.mappingIds.set(key, id);
    }
    return id;
  }

  /** A location for the given lines (innermost first), reused when the same one is asked for again. */
  locationId(lines: LineDescriptor[], mappingId = 0, address = 0): number {
    const key = JSON.stringify([mappingId, address, lines.map((l) => [l.functionId, l.line, l.column ?? 0])]);
    let id = this.locationIds.get(key);
    if (id === undefined) {
      id = this.locations.length + 1;
      this.locations.push(
        new Location({
          id,
          mappingId,
          address,
          line: lines.map((l) => new Line({ functionId: l.functionId, line: l.line, column: l.column ?? 0 })),
        }),
      );
      this.locationIds.set(key, id);
    }
    return id;
  }

  /** Adds values for a stack (leaf first); a stack and label set seen before has its values summed. */
  addSample(locationIds: number[], values: number[], labels: LabelDescriptor[] = []): void {
    if (values.length !== this.header.sampleTypes.length) {
      throw new Error(`sample has ${values.length} values for ${this.header.sampleTypes.length} sample types`);
    }
    const encodedLabels = labels.map((l) =>
      'str' in l
        ? new Label({ key: this.string(l.key), str: this.string(l.str) })
        : new Label({ key: this.string(l.key), num: l.num, numUnit: l.unit ? this.string(l.unit) : 0 }),
    );
    const key = JSON.stringify([locationIds, encodedLabels.map((l) => [l.key, l.str, l.num, l.numUnit])]);
    const existing = this.samples.get(key);
    if (existing) {
      for (let i = 0; i < values.length; i++) existing.values[i] += values[i];
    } else {
      this.samples.set(key, { locationIds: [...locationIds], values: [...values], labels: encodedLabels });
    }
  }

  build(): Profile {
    const h = this.header;
    const sampleType = h.sampleTypes.map((t) => new ValueType({ type: this.string(t.type), unit: this.string(t.unit) }));
    const periodType = new ValueType({ type: this.string(h.periodType.type), unit: this.string(h.periodType.unit) });
    const comment = (h.comments ?? []).map((c) => this.string(c));
    const defaultSampleType = h.defaultSampleType ? this.string(h.defaultSampleType) : 0;
    const dropFrames = h.dropFrames ? this.string(h.dropFrames) : 0;
    const keepFrames = h.keepFrames ? this.string(h.keepFrames) : 0;
    return new Profile({
      sampleType,
      sample: [...this.samples.values()].map(
        (s) => new Sample({ locationId: s.locationIds, value: s.values.map(Math.round), label: s.labels }),
      ),
      mapping: this.mappings,
      location: this.locations,
      function: this.functions,
      stringTable: this.strings,
      timeNanos: typeof h.timeNanos === 'bigint' ? h.timeNanos : Math.round(h.timeNanos),
      durationNanos: Math.round(h.durationNanos),
      periodType,
      period: Math.round(h.period),
      comment,
      defaultSampleType,
      dropFrames,
      keepFrames,
    });
  }
}
