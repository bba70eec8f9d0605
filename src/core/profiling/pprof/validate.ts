import type { Profile } from 'pprof-format';
import { invalidArgument } from '../../errors.js';
import { int64, type Numeric, uint64, uint64Key } from './numbers.js';

/** A broken profile can have a problem per sample; the report stops listing them here. */
export const MAX_REPORTED_PROBLEMS = 100;

/**
 * Checks a decoded profile against the rules in pprof's profile.proto and Go's
 * `profile.CheckValid`, returning every problem found (empty when the profile is valid).
 * Sample values must be non-negative: the profiles this service writes are counts, bytes and
 * nanoseconds, never diffs.
 */
export function validateProfile(profile: Profile): string[] {
  const problems: string[] = [];
  let omitted = 0;
  const report = (problem: string): void => {
    if (problems.length < MAX_REPORTED_PROBLEMS) problems.push(problem);
    else omitted++;
  };
  const strings = profile.stringTable.strings;
  const stringCount = strings.length;

  if (stringCount === 0 || strings[0] !== '') report('string_table[0]: must be the empty string');
  const checkString = (where: string, index: Numeric): void => {
    if (uint64(index) >= stringCount) report(`${where}: string index ${index} is outside string_table (${stringCount})`);
  };
  const checkRequiredString = (where: string, index: Numeric): void => {
    checkString(where, index);
    if (uint64(index) === 0) report(`${where}: must name a non-empty string`);
  };

  profile.sampleType.forEach((t, i) => {
    checkRequiredString(`sample_type[${i}].type`, t.type);
    checkRequiredString(`sample_type[${i}].unit`, t.unit);
  });
  if (profile.sample.length > 0 && profile.sampleType.length === 0) report('sample_type: missing while samples exist');

  if (!profile.periodType) report('period_type: must be set');
  else {
    checkRequiredString('period_type.type', profile.periodType.type);
    checkRequiredString('period_type.unit', profile.periodType.unit);
  }
  if (int64(profile.period) < 0) report('period: must not be negative');
  if (int64(profile.timeNanos) < 0) report('time_nanos: must not be negative');
  if (int64(profile.durationNanos) < 0) report('duration_nanos: must not be negative');
  checkString('drop_frames', profile.dropFrames);
  checkString('keep_frames', profile.keepFrames);
  checkString('doc_url', profile.docUrl);
  profile.comment.forEach((c, i) => checkString(`comment[${i}]`, c));
  if (uint64(profile.defaultSampleType) !== 0) {
    checkString('default_sample_type', profile.defaultSampleType);
    const named = profile.sampleType.some((t) => uint64Key(t.type) === uint64Key(profile.defaultSampleType));
    if (!named) report('default_sample_type: must be the type of one of the sample types');
  }

  const mappings = new Map<string, { start: number; limit: number }>();
  profile.mapping.forEach((m, i) => {
    const id = uint64Key(m.id);
    if (id === '0') report(`mapping[${i}].id: must not be 0`);
    else if (mappings.has(id)) report(`mapping[${i}].id: duplicate id ${id}`);
    const start = uint64(m.memoryStart);
    const limit = uint64(m.memoryLimit);
    if (limit !== 0 && limit < start) report(`mapping[${i}]: memory_limit is below memory_start`);
    mappings.set(id, { start, limit });
    checkString(`mapping[${i}].filename`, m.filename);
    checkString(`mapping[${i}].build_id`, m.buildId);
  });

  const functions = new Set<string>();
  profile.function.forEach((f, i) => {
    const id = uint64Key(f.id);
    if (id === '0') report(`function[${i}].id: must not be 0`);
    else if (functions.has(id)) report(`function[${i}].id: duplicate id ${id}`);
    functions.add(id);
    checkString(`function[${i}].name`, f.name);
    checkString(`function[${i}].system_name`, f.systemName);
    checkString(`function[${i}].filename`, f.filename);
    if (int64(f.startLine) < 0) report(`function[${i}].start_line: must not be negative`);
  });

  const locations = new Set<string>();
  profile.location.forEach((l, i) => {
    const id = uint64Key(l.id);
    if (id === '0') report(`location[${i}].id: must not be 0`);
    else if (locations.has(id)) report(`location[${i}].id: duplicate id ${id}`);
    locations.add(id);
    const mappingId = uint64Key(l.mappingId);
    if (mappingId !== '0') {
      const mapping = mappings.get(mappingId);
      if (!mapping) report(`location[${i}].mapping_id: mapping ${mappingId} does not exist`);
      else {
        const address = uint64(l.address);
        const outside = address < mapping.start || (mapping.limit !== 0 && address >= mapping.limit);
        if (address !== 0 && outside) report(`location[${i}].address: outside mapping ${mappingId}`);
      }
    }
    l.line.forEach((ln, j) => {
      const fid = uint64Key(ln.functionId);
      if (fid === '0' || !functions.has(fid)) report(`location[${i}].line[${j}].function_id: function ${fid} does not exist`);
      if (int64(ln.line) < 0) report(`location[${i}].line[${j}].line: must not be negative`);
    });
  });

  profile.sample.forEach((s, i) => {
    if (s.value.length !== profile.sampleType.length) {
      report(`sample[${i}].value: has ${s.value.length} values for ${profile.sampleType.length} sample types`);
    }
    s.value.forEach((v, j) => {
      if (int64(v) < 0) report(`sample[${i}].value[${j}]: must not be negative`);
    });
    s.locationId.forEach((lid, j) => {
      const key = uint64Key(lid);
      if (!locations.has(key)) report(`sample[${i}].location_id[${j}]: location ${key} does not exist`);
    });
    s.label.forEach((label, j) => {
      checkRequiredString(`sample[${i}].label[${j}].key`, label.key);
      checkString(`sample[${i}].label[${j}].str`, label.str);
      checkString(`sample[${i}].label[${j}].num_unit`, label.numUnit);
      if (uint64(label.str) !== 0 && int64(label.num) !== 0) {
        report(`sample[${i}].label[${j}]: has both a string and a numeric value`);
      }
    });
  });

  if (omitted > 0) problems.push(`... and ${omitted} more problems`);
  return problems;
}

/** Throws invalidArgument naming the field and the first problems when the profile is not valid. */
export function assertValidProfile(profile: Profile, field = 'profile'): void {
  const problems = validateProfile(profile);
  if (problems.length === 0) return;
  const shown = problems.slice(0, 5).join('; ');
  const more = problems.length > 5 ? ` (and ${problems.length - 5} more)` : '';
  throw invalidArgument(field, `is not a valid pprof profile: ${shown}${more}`);
}
