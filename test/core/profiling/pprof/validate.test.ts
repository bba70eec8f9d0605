import { gzipSync } from 'node:zlib';
import { Function as PprofFunction, Label, Location, Profile, Sample, ValueType } from 'pprof-format';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ObservabilityError } from '../../../../src/core/errors.js';
import {
  assertValidProfile,
  decodeProfile,
  encodeProfile,
  MAX_REPORTED_PROBLEMS,
  validateProfile,
} from '../../../../src/core/profiling/pprof/index.js';
import { syntheticCpuProfile } from './sample-profiles.js';

/** A freshly decoded valid profile, so each test can break one thing. */
function validProfile(): Profile {
  return decodeProfile(
    encodeProfile(
      syntheticCpuProfile([
        { stack: ['main', 'handle'], values: [3, 30_000_000] },
        { stack: ['main'], values: [1, 10_000_000] },
      ]),
    ),
  );
}

function hasProblem(profile: Profile, fragment: string): boolean {
  return validateProfile(profile).some((p) => p.includes(fragment));
}

test('a profile written by the builder is valid after a gzip round trip', () => {
  assert.equal(validateProfile(validProfile()), []);
});

test('string_table[0] must be the empty string', () => {
  const p = validProfile();
  p.stringTable.strings[0] = 'oops';
  assert.ok(hasProblem(p, 'string_table[0]'));
});

test('ids must be non-zero and unique', () => {
  const p = validProfile();
  p.function.push(new PprofFunction({ id: p.function[0].id, name: 1 }));
  p.location.push(new Location({ id: 0 }));
  assert.ok(hasProblem(p, 'duplicate id'));
  assert.ok(hasProblem(p, 'location[2].id: must not be 0'));
});

test('every referenced location, function, mapping and string must exist', () => {
  const p = validProfile();
  p.sample.push(new Sample({ locationId: [99], value: [1, 1] }));
  p.location.push(new Location({ id: 50, mappingId: 7, line: [{ functionId: 42, line: 1 }] }));
  p.function.push(new PprofFunction({ id: 77, name: 10_000 }));
  assert.ok(hasProblem(p, 'location 99 does not exist'));
  assert.ok(hasProblem(p, 'function 42 does not exist'));
  assert.ok(hasProblem(p, 'mapping 7 does not exist'));
  assert.ok(hasProblem(p, 'string index 10000 is outside string_table'));
});

test('each sample has one value per sample type', () => {
  const p = validProfile();
  p.sample[0].value = [1];
  assert.ok(hasProblem(p, 'has 1 values for 2 sample types'));
});

test('negative sample values survive the wire as negative and are rejected', () => {
  const p = validProfile();
  p.sample[0].value = [-5, 10];
  const decoded = decodeProfile(p.encode());
  assert.ok(hasProblem(decoded, 'sample[0].value[0]: must not be negative'));
});

test('period type must be set and default_sample_type must name a sample type', () => {
  const p = validProfile();
  p.periodType = undefined;
  p.defaultSampleType = p.stringTable.dedup('alloc_space');
  assert.ok(hasProblem(p, 'period_type: must be set'));
  assert.ok(hasProblem(p, 'default_sample_type'));
});

test('a label carries a string or a number, not both', () => {
  const p = validProfile();
  p.sample[0].label = [new Label({ key: p.stringTable.dedup('thread'), str: p.stringTable.dedup('main'), num: 3 })];
  assert.ok(hasProblem(p, 'both a string and a numeric value'));
});

test('a sample type needs a type and a unit', () => {
  const p = validProfile();
  p.sampleType.push(new ValueType({ type: 0, unit: 0 }));
  assert.ok(hasProblem(p, 'sample_type[2].type: must name a non-empty string'));
});

test('the problem list is capped for badly broken profiles', () => {
  const p = validProfile();
  for (let i = 0; i < 500; i++) p.sample.push(new Sample({ locationId: [1000 + i], value: [1, 1] }));
  const problems = validateProfile(p);
  assert.is(problems.length, MAX_REPORTED_PROBLEMS + 1);
  assert.match(problems[problems.length - 1], /and 400 more problems/);
});

test('assertValidProfile raises invalidArgument naming the field', () => {
  const p = validProfile();
  p.sample[0].value = [1];
  try {
    assertValidProfile(p, 'profiles[2]');
    assert.unreachable('should have thrown');
  } catch (err) {
    assert.instance(err, ObservabilityError);
    assert.is((err as ObservabilityError).kind, 'invalid_argument');
    assert.match((err as Error).message, /^profiles\[2\]: is not a valid pprof profile: sample\[0\]\.value/);
  }
});

test('decodeProfile rejects empty input, bad gzip, non-pprof bytes and oversized output', () => {
  const kind = (fn: () => unknown): string => {
    try {
      fn();
      return 'no error';
    } catch (err) {
      return `${(err as ObservabilityError).kind} ${(err as Error).message}`;
    }
  };
  assert.match(kind(() => decodeProfile(new Uint8Array())), /^invalid_argument profile: is empty/);
  assert.match(kind(() => decodeProfile(new Uint8Array([0x1f, 0x8b, 1, 2, 3]))), /^invalid_argument profile: is not valid gzip/);
  assert.match(kind(() => decodeProfile(new TextEncoder().encode('hello, not a profile'), { field: 'data' })), /^invalid_argument data: is not a pprof protobuf/);
  const bomb = new Uint8Array(gzipSync(new Uint8Array(2 * 1024 * 1024)));
  assert.match(kind(() => decodeProfile(bomb, { maxDecodedBytes: 1024 * 1024 })), /^invalid_argument profile: decompresses to more than 1048576 bytes/);
});

test.run();
