import { setTimeout as delay } from 'node:timers/promises';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { ObservabilityError } from '../../../../src/core/errors.js';
import {
  cpuProfileDurationMs,
  CpuCaptures,
  decodeProfile,
  encodeProfile,
  HeapSampler,
  MAX_WAITING_CPU_CAPTURES,
  mergeProfiles,
  validateProfile,
} from '../../../../src/core/profiling/pprof/index.js';
import { int64Big } from '../../../../src/core/profiling/pprof/numbers.js';
import { goToolPprof } from './go-pprof.js';
import { periodType, readSamples, sampleTypes } from './profile-reader.js';
import { errorOf, rejectionOf } from '../../../support/errors.js';
import { FakeClock } from '../../../support/fake-clock.js';

/** Spins the CPU for `ms` in one call, so its samples land in its own frame rather than an inlining caller. */
function busyWorkForProfileTest(ms: number): number {
  const end = Date.now() + ms;
  let x = 0;
  while (Date.now() < end) x += Math.sqrt(x + 1);
  return x;
}

/** The captures of this process, as the service has one. */
const cpu = new CpuCaptures();

const retained: { index: number; label: string; payload: number[] }[] = [];
/** Allocates objects and keeps them alive, so they are in use when the heap profile is taken. */
function allocateRetainedForProfileTest(count: number): void {
  for (let i = 0; i < count; i++) retained.push({ index: i, label: `object-${i}`, payload: [i, i + 1, i + 2, i + 3] });
}

function cpuNanosIn(profile: ReturnType<typeof decodeProfile>, functionName: string): number {
  return readSamples(profile)
    .filter((s) => s.frames.some((f) => f.name === functionName))
    .reduce((sum, s) => sum + s.values[1], 0);
}

test('a CPU capture of a busy function opens in go tool pprof -top and -raw and names the function', async () => {
  const before = Date.now();
  const capture = cpu.capture({ durationMs: 1500 });
  await delay(100);
  busyWorkForProfileTest(900);
  const bytes = await capture;
  const after = Date.now();

  const profile = decodeProfile(bytes);
  assert.equal(validateProfile(profile), []);
  assert.equal(sampleTypes(profile), ['samples/count', 'wall/nanoseconds']);
  assert.is(periodType(profile), 'wall/nanoseconds');
  assert.is(Number(profile.period), 10_000_000, 'default 10 ms sampling interval, in ns');
  const startMs = Number(int64Big(profile.timeNanos) / 1_000_000n);
  assert.ok(startMs >= before && startMs <= after, 'time_nanos is the wall-clock start');
  const durationMs = Number(profile.durationNanos) / 1e6;
  assert.ok(durationMs >= 1400 && durationMs <= after - before + 50, `duration ${durationMs} ms`);
  const total = readSamples(profile).reduce((sum, s) => sum + s.values[1], 0);
  assert.ok(cpuNanosIn(profile, 'busyWorkForProfileTest') / total > 0.25, 'the busy function holds a large share of the samples');

  const top = await goToolPprof(bytes, '-top');
  assert.match(top, /Type: wall/);
  assert.match(top, /busyWorkForProfileTest/);
  const raw = await goToolPprof(bytes, '-raw');
  assert.match(raw, /samples\/count wall\/nanoseconds\[dflt\]/);
  assert.match(raw, /busyWorkForProfileTest .*capture\.test\.ts/);
});

test('a capture samples at least the length asked, timed from its first sample', async () => {
  // Timed from V8's startTime, a profile held the start's unsampled time; from its first sample, a
  // timer firing a fraction of a millisecond early made it that much shorter than asked.
  for (let i = 0; i < 30; i++) {
    const durationMs = Number(decodeProfile(await cpu.capture({ durationMs: 10 })).durationNanos) / 1e6;
    assert.ok(durationMs >= 10, `capture ${i + 1}: ${durationMs} ms of 10`);
  }
});

test('a heap profile after allocating opens in go tool pprof -top and -raw and names the allocating function', async () => {
  const sampler = new HeapSampler({ samplingIntervalBytes: 16 * 1024 });
  await sampler.start();
  try {
    allocateRetainedForProfileTest(100_000);
    const bytes = await sampler.profile();
    const profile = decodeProfile(bytes);
    assert.equal(validateProfile(profile), []);
    assert.equal(sampleTypes(profile), ['inuse_objects/count', 'inuse_space/bytes']);
    assert.is(periodType(profile), 'space/bytes');
    assert.is(Number(profile.period), 16 * 1024);
    const allocated = readSamples(profile)
      .filter((s) => s.frames[0].name === 'allocateRetainedForProfileTest')
      .reduce((sum, s) => sum + s.values[1], 0);
    assert.ok(allocated > 1024 * 1024, `in-use bytes attributed to the function: ${allocated}`);

    const top = await goToolPprof(bytes, '-top');
    assert.match(top, /Type: inuse_space/);
    assert.match(top, /allocateRetainedForProfileTest/);
    const raw = await goToolPprof(bytes, '-raw');
    assert.match(raw, /inuse_objects\/count inuse_space\/bytes\[dflt\]/);
    assert.match(raw, /allocateRetainedForProfileTest .*capture\.test\.ts/);
  } finally {
    await sampler.stop();
    retained.length = 0;
  }
});

test('a heap profile is taken now and has no duration, however long the sampler has run', async () => {
  // Live memory at one instant, as Go's heap profiles; the sampler's uptime is no sampling period.
  const clock = new FakeClock();
  const sampler = new HeapSampler({ clock });
  await sampler.start();
  try {
    clock.advance(52_000);
    const profile = decodeProfile(await sampler.profile());
    assert.is(int64Big(profile.timeNanos), BigInt(clock.nowMs()) * 1_000_000n);
    assert.is(Number(profile.durationNanos), 0);
  } finally {
    await sampler.stop();
  }
});

test('two concurrent captures both yield valid profiles, one after the other', async () => {
  const [a, b] = await Promise.all([cpu.capture({ durationMs: 300 }), cpu.capture({ durationMs: 300 })]);
  const pa = decodeProfile(a);
  const pb = decodeProfile(b);
  assert.equal(validateProfile(pa), []);
  assert.equal(validateProfile(pb), []);
  const endA = int64Big(pa.timeNanos) + int64Big(pa.durationNanos);
  // time_nanos has ms precision; the second capture starts once the first has stopped.
  assert.ok(int64Big(pb.timeNanos) + 1_000_000n >= endA, 'the captures did not overlap');
  const merged = encodeProfile(mergeProfiles([pa, pb]));
  assert.equal(validateProfile(decodeProfile(merged)), []);
  assert.match(await goToolPprof(merged, '-top'), /Type: wall/);
});

test(`at most ${MAX_WAITING_CPU_CAPTURES} captures wait behind the running one`, async () => {
  const results = await Promise.allSettled(
    Array.from({ length: MAX_WAITING_CPU_CAPTURES + 2 }, () => cpu.capture({ durationMs: 30 })),
  );
  const rejected = results.filter((r) => r.status === 'rejected') as PromiseRejectedResult[];
  assert.is(rejected.length, 1);
  assert.is((rejected[0].reason as ObservabilityError).kind, 'resource_exhausted');
  for (const r of results) {
    if (r.status === 'fulfilled') assert.equal(validateProfile(decodeProfile(r.value)), []);
  }
  assert.is(cpu.waiting, 0);
});

test(`a background capture waits only for the running one, ahead of the queue, and takes none of its ${MAX_WAITING_CPU_CAPTURES} places`, async () => {
  const startOf = async (capture: Promise<Uint8Array>) => int64Big(decodeProfile(await capture).timeNanos) / 1_000_000n;
  const running = cpu.capture({ durationMs: 300 });
  const background = cpu.capture({ durationMs: 30, background: true });
  const queued = Array.from({ length: MAX_WAITING_CPU_CAPTURES }, () => cpu.capture({ durationMs: 30 }));
  assert.is(cpu.waiting, MAX_WAITING_CPU_CAPTURES);
  assert.is((await rejectionOf(cpu.capture({ durationMs: 30 }))).kind, 'resource_exhausted', 'one more on-demand capture is one too many');
  const backgroundStart = await startOf(background);
  const runningEnd = decodeProfile(await running);
  assert.ok(backgroundStart + 1n >= (int64Big(runningEnd.timeNanos) + int64Big(runningEnd.durationNanos)) / 1_000_000n, 'after the running one');
  for (const start of await Promise.all(queued.map(startOf))) assert.ok(start >= backgroundStart, 'before every queued one');
});

test('an aborted capture ends promptly and frees the profiler for the next one', async () => {
  const controller = new AbortController();
  const started = Date.now();
  const running = cpu.capture({ durationMs: 30_000, signal: controller.signal });
  const queued = cpu.capture({ durationMs: 30_000, signal: controller.signal });
  await delay(100);
  controller.abort(new Error('client went away'));
  assert.match((await rejectionOf<Error>(running)).message, /client went away/);
  assert.match((await rejectionOf<Error>(queued)).message, /client went away/);
  assert.ok(Date.now() - started < 5_000, 'did not wait for the full duration');
  const next = decodeProfile(await cpu.capture({ durationMs: 50 }));
  assert.equal(validateProfile(next), []);
});

test('bad durations and sampling intervals are invalid arguments naming the field', async () => {
  for (const durationMs of [0, -1, Number.NaN, Number.POSITIVE_INFINITY, 3_600_001]) {
    const err = await rejectionOf(cpu.capture({ durationMs }));
    assert.is(err.kind, 'invalid_argument');
    assert.is(err.field, 'duration_ms');
  }
  const err = await rejectionOf(cpu.capture({ durationMs: 10, samplingIntervalUs: 5 }));
  assert.is(err.kind, 'invalid_argument');
  assert.is(err.field, 'sampling_interval_us');
});

test('request seconds default to 30 or the maximum if lower, are capped by config and must be positive', () => {
  assert.is(cpuProfileDurationMs(undefined), 30_000);
  assert.is(cpuProfileDurationMs(2.5), 2_500);
  assert.is(cpuProfileDurationMs(undefined, { defaultSeconds: 10 }), 10_000);
  assert.is(cpuProfileDurationMs(undefined, { maxSeconds: 2 }), 2_000, 'no length asked for: nothing to refuse');
  assert.is(cpuProfileDurationMs(undefined, { defaultSeconds: 10, maxSeconds: 5, field: 'duration' }), 5_000);
  for (const [seconds, limits, message] of [
    [301, {}, /^seconds: must be at most 300/],
    [61, { maxSeconds: 60 }, /^seconds: must be at most 60/],
    [0, {}, /^seconds: must be a finite number of seconds above 0/],
    [-3, {}, /^seconds: must be a finite number/],
    [Number.NaN, {}, /^seconds: must be a finite number/],
    [400, { field: 'duration' }, /^duration: must be at most 300/],
  ] as const) {
    const err = errorOf(() => cpuProfileDurationMs(seconds, limits));
    assert.is(err.kind, 'invalid_argument');
    assert.match(err.message, message);
  }
});

test('a length above the maximum is refused naming RS3GW_PROFILING_MAX_SECONDS and the length as given', () => {
  assert.is(errorOf(() => cpuProfileDurationMs(301)).message, 'seconds: must be at most 300 (RS3GW_PROFILING_MAX_SECONDS), got 301');
  // CaptureProfile's "2.0001s" arrives as 2000.1 ms / 1000, which is 2.0000999999999998.
  assert.is(errorOf(() => cpuProfileDurationMs(2000.1 / 1000, { maxSeconds: 2, field: 'duration' })).message, 'duration: must be at most 2 (RS3GW_PROFILING_MAX_SECONDS), got 2.0001');
  assert.is(errorOf(() => cpuProfileDurationMs(-0.0001 * 3)).message, 'seconds: must be a finite number of seconds above 0, got -0.0003');
});

test('the heap sampler must be running to give a profile, and only one runs per process', async () => {
  const first = new HeapSampler();
  const notRunning = await rejectionOf(first.profile());
  assert.is(notRunning.kind, 'failed_precondition');
  assert.match(notRunning.message, /heap sampler is not running/);
  await first.start();
  await first.start();
  const second = new HeapSampler();
  assert.match((await rejectionOf(second.start())).message, /another HeapSampler is already running/);
  await first.stop();
  await second.start();
  assert.ok(second.running);
  assert.equal(validateProfile(decodeProfile(await second.profile())), []);
  await second.stop();
  assert.not.ok(second.running);
  assert.is(errorOf(() => new HeapSampler({ samplingIntervalBytes: 10 })).field, 'sampling_interval_bytes');
});

test.run();
