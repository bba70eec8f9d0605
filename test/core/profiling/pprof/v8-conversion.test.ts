import { readFileSync } from 'node:fs';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { decodeProfile, encodeProfile, validateProfile } from '../../../../src/core/profiling/pprof/index.js';
import { int64Big } from '../../../../src/core/profiling/pprof/numbers.js';
import { cpuProfileToPprof, type V8CpuProfile } from '../../../../src/core/profiling/v8/cpu-profile-to-pprof.js';
import { heapProfileToPprof, type V8HeapProfile } from '../../../../src/core/profiling/v8/heap-profile-to-pprof.js';
import { FakeClock } from '../../../support/fake-clock.js';
import { foldedStacks, periodType, readSamples, sampleTypes } from './profile-reader.js';

const fixture = (name: string): unknown => JSON.parse(readFileSync(new URL(`../../../fixtures/pprof/${name}`, import.meta.url), 'utf8'));
const clock = new FakeClock();
const startNanos = BigInt(clock.nowMs()) * 1_000_000n;

test('a V8 CPU profile becomes pprof with samples/count and wall/nanoseconds, timed from its first sample', () => {
  const profile = decodeProfile(
    encodeProfile(cpuProfileToPprof(fixture('v8-cpu-profile.json') as V8CpuProfile, { timeNanos: startNanos, samplingIntervalUs: 1000 })),
  );
  assert.equal(validateProfile(profile), []);
  assert.equal(sampleTypes(profile), ['samples/count', 'wall/nanoseconds']);
  assert.equal(periodType(profile), 'wall/nanoseconds');
  assert.is(Number(profile.period), 1_000_000);
  // V8 took its first sample 100 µs after startTime, having recorded the compiled code until then.
  assert.is(int64Big(profile.timeNanos), startNanos + 100_000n, 'sampling started at the first sample');
  assert.is(Number(profile.durationNanos), 8_000_000, 'first sample to end, as the totals');
});

test('each sample lasts until the next one and pseudo-frames keep their time, so totals match the capture', () => {
  const profile = cpuProfileToPprof(fixture('v8-cpu-profile.json') as V8CpuProfile, { timeNanos: startNanos, samplingIntervalUs: 1000 });
  const folded = foldedStacks(profile);
  assert.equal(folded.get('main;(anonymous)'), [2, 2_000_000]);
  assert.equal(folded.get('main'), [1, 1_000_000]);
  assert.equal(folded.get('(idle)'), [2, 3_500_000]);
  assert.equal(folded.get('(program)'), [1, 500_000]);
  assert.equal(folded.get('(garbage collector)'), [1, 1_000_000]);
  const total = [...folded.values()].reduce((sum, v) => sum + v[1], 0);
  assert.is(total, 8_000_000, 'first sample to end of profile');
});

test("V8's 0-based positions become 1-based lines, file URLs become paths", () => {
  const profile = cpuProfileToPprof(fixture('v8-cpu-profile.json') as V8CpuProfile, { timeNanos: startNanos, samplingIntervalUs: 1000 });
  const handler = readSamples(profile).find((s) => s.frames[0].filename === '/app/handler.js');
  assert.ok(handler);
  assert.equal(handler.frames[0], { name: '(anonymous)', filename: '/app/handler.js', startLine: 1, line: 1, column: 1 });
  assert.equal(handler.frames[1], { name: 'main', filename: '/app/server.js', startLine: 10, line: 10, column: 5 });
  const idle = readSamples(profile).find((s) => s.frames[0].name === '(idle)');
  assert.equal(idle?.frames[0], { name: '(idle)', filename: '', startLine: 0, line: 0, column: 0 });
});

test('a V8 sampling heap profile becomes pprof with inuse_objects/count and inuse_space/bytes', () => {
  const profile = decodeProfile(
    encodeProfile(
      heapProfileToPprof(fixture('v8-heap-profile.json') as V8HeapProfile, {
        timeNanos: startNanos,
        samplingIntervalBytes: 32768,
      }),
    ),
  );
  assert.equal(validateProfile(profile), []);
  assert.equal(sampleTypes(profile), ['inuse_objects/count', 'inuse_space/bytes']);
  assert.equal(periodType(profile), 'space/bytes');
  assert.is(Number(profile.period), 32768);
  assert.is(Number(profile.durationNanos), 0, 'live memory at one instant, as Go heap profiles');
  const folded = foldedStacks(profile);
  assert.equal(folded.get('main;cacheObjects'), [3, 98304]);
  assert.equal(folded.get('(V8 API)'), [1, 32768]);
  assert.is(folded.size, 2, 'nodes without live samples add no samples');
  const cache = readSamples(profile).find((s) => s.frames[0].name === 'cacheObjects');
  assert.equal(cache?.frames[0], { name: 'cacheObjects', filename: '/app/cache.js', startLine: 42, line: 42, column: 3 });
});

test.run();
