import { Profile, StringTable, ValueType } from 'pprof-format';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { ObservabilityError } from '../../../../src/core/errors.js';
import { decodeProfile, encodeProfile, mergeProfiles, ProfileBuilder, validateProfile } from '../../../../src/core/profiling/pprof/index.js';
import { int64Big } from '../../../../src/core/profiling/pprof/numbers.js';
import { foldedStacks, sampleTypes } from './profile-reader.js';
import { syntheticCpuProfile } from './sample-profiles.js';

const T0 = Date.UTC(2026, 0, 1);

test('samples with identical stacks are summed, other stacks kept, and the result is valid', () => {
  const a = syntheticCpuProfile([
    { stack: ['main', 'handle'], values: [3, 30] },
    { stack: ['main', 'parse'], values: [1, 10] },
  ]);
  const b = syntheticCpuProfile([
    { stack: ['main', 'handle'], values: [2, 20] },
    { stack: ['gc'], values: [5, 50] },
  ]);
  // Inputs as gzipped bytes or decoded, each through the wire, so their string tables and ids differ.
  const merged = decodeProfile(encodeProfile(mergeProfiles([encodeProfile(a), decodeProfile(encodeProfile(b))])));
  assert.equal(validateProfile(merged), []);
  assert.equal(sampleTypes(merged), ['samples/count', 'wall/nanoseconds']);
  const folded = foldedStacks(merged);
  assert.equal(folded.get('main;handle'), [5, 50]);
  assert.equal(folded.get('main;parse'), [1, 10]);
  assert.equal(folded.get('gc'), [5, 50]);
  assert.is(merged.sample.length, 3);
  assert.is(merged.function.length, 4, 'functions are shared, not duplicated');
});

test('time_nanos is the earliest start and duration_nanos the captured time (as go tool pprof merges)', () => {
  const late = syntheticCpuProfile([{ stack: ['a'], values: [1, 1] }], T0 + 60_000, 10_000);
  const early = syntheticCpuProfile([{ stack: ['a'], values: [1, 1] }], T0, 10_000);
  const merged = mergeProfiles([late, early]);
  assert.is(int64Big(merged.timeNanos), BigInt(T0) * 1_000_000n);
  assert.is(Number(merged.durationNanos), 20_000 * 1_000_000, 'two 10 s captures, not the 70 s they span');
  assert.equal(foldedStacks(merged).get('a'), [2, 2]);
});

test('profiles of different kinds are refused, naming the odd one out', () => {
  const cpu = syntheticCpuProfile([{ stack: ['a'], values: [1, 1] }]);
  const heap = new ProfileBuilder({
    sampleTypes: [
      { type: 'inuse_objects', unit: 'count' },
      { type: 'inuse_space', unit: 'bytes' },
    ],
    periodType: { type: 'space', unit: 'bytes' },
    period: 524288,
    timeNanos: 0,
    durationNanos: 0,
  }).build();
  try {
    mergeProfiles([cpu, heap]);
    assert.unreachable('should have thrown');
  } catch (err) {
    assert.is((err as ObservabilityError).kind, 'invalid_argument');
    assert.match((err as Error).message, /^profiles\[1\]\.sample_type: is \[inuse_objects\/count, inuse_space\/bytes\], expected \[samples\/count, wall\/nanoseconds\]/);
  }
});

test('an empty list or an invalid input profile is refused', () => {
  assert.throws(() => mergeProfiles([]), /profiles: must list at least one profile/);
  const strings = new StringTable();
  const noSampleTypes = new Profile({ stringTable: strings, periodType: new ValueType({ type: strings.dedup('cpu'), unit: strings.dedup('nanoseconds') }) });
  assert.throws(() => mergeProfiles([noSampleTypes]), /profiles\[0\]\.sample_type: is empty/);
  const broken = syntheticCpuProfile([{ stack: ['a'], values: [1, 1] }]);
  broken.sample[0].value = [1];
  assert.throws(() => mergeProfiles([syntheticCpuProfile([]), broken]), /profiles\[1\]: is not a valid pprof profile/);
  assert.throws(() => mergeProfiles([syntheticCpuProfile([]), new Uint8Array([0x1f, 0x8b, 0])], 'sources'), /sources\[1\]: is not valid gzip/);
});

test.run();
