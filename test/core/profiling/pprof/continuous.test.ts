import { setTimeout as delay } from 'node:timers/promises';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import {
  ContinuousProfiler,
  CpuCaptures,
  type CpuCaptureFunction,
  type MergedProfile,
  DEFAULT_CONTINUOUS_PROFILING,
  MAX_WAITING_MERGES,
  decodeProfile,
  encodeProfile,
  validateProfile,
} from '../../../../src/core/profiling/pprof/index.js';
import { int64Big } from '../../../../src/core/profiling/pprof/numbers.js';
import { FakeClock } from '../../../support/fake-clock.js';
import { foldedStacks } from './profile-reader.js';
import { syntheticCpuProfile } from './sample-profiles.js';
import { errorOf, rejectionOf } from '../../../support/errors.js';

const ms = 1_000_000;

/** Stands in for V8: a profile of `main;work` stamped with the fake time, taking the capture duration on the fake clock. */
function fakeCapture(clock: FakeClock, calls: { count: number } = { count: 0 }): CpuCaptureFunction {
  return async ({ durationMs, signal }) => {
    calls.count++;
    signal.throwIfAborted();
    const startMs = clock.nowMs();
    clock.advance(durationMs);
    return encodeProfile(syntheticCpuProfile([{ stack: ['main', 'work'], values: [1, 10 * ms] }], startMs, durationMs));
  };
}

function activeTimers(): number {
  return process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
}

test('defaults: a 10 s capture every 60 s, 100 profiles / 64 MiB retained', () => {
  const profiler = new ContinuousProfiler({ clock: new FakeClock() });
  assert.equal(profiler.config, { ...DEFAULT_CONTINUOUS_PROFILING });
  assert.equal(DEFAULT_CONTINUOUS_PROFILING, {
    intervalMs: 60_000,
    captureDurationMs: 10_000,
    samplingIntervalUs: 10_000,
    maxProfiles: 100,
    maxBytes: 64 * 1024 * 1024,
  });
});

test('a capture is stored with id, type, start, duration, size and its gzipped pprof', async () => {
  const clock = new FakeClock();
  const t0 = clock.nowMs();
  const profiler = new ContinuousProfiler({ clock, capture: fakeCapture(clock) });
  const info = await profiler.captureNow();
  assert.equal({ ...info, id: typeof info.id }, { id: 'string', type: 'cpu', startMs: t0, durationMs: 10_000, sizeBytes: info.sizeBytes });
  const stored = profiler.get(info.id);
  assert.is(stored.data.byteLength, info.sizeBytes);
  assert.equal(validateProfile(decodeProfile(stored.data)), []);
  assert.equal(profiler.list(), [info]);
});

test('the count cap holds: the oldest profiles are evicted', async () => {
  const clock = new FakeClock();
  const profiler = new ContinuousProfiler({ clock, capture: fakeCapture(clock), config: { maxProfiles: 3 } });
  const ids: string[] = [];
  for (let i = 0; i < 5; i++) {
    ids.push((await profiler.captureNow()).id);
    clock.advance(50_000);
  }
  assert.equal(
    profiler.list().map((p) => p.id),
    ids.slice(2).reverse(),
  );
  assert.is(profiler.stats().storedProfiles, 3);
  assert.is(profiler.stats().evictedProfiles, 2);
  const err = errorOf(() => profiler.get(ids[0]));
  assert.is(err.kind, 'not_found');
  assert.is(err.field, 'id');
});

test('the byte cap holds: the oldest profiles are evicted until the total fits', async () => {
  const clock = new FakeClock();
  const size = (await fakeCapture(new FakeClock())({ durationMs: 10_000, samplingIntervalUs: 10_000, signal: new AbortController().signal })).byteLength;
  const maxBytes = Math.floor(size * 2.5);
  const profiler = new ContinuousProfiler({ clock, capture: fakeCapture(clock), config: { maxBytes } });
  for (let i = 0; i < 6; i++) {
    await profiler.captureNow();
    clock.advance(50_000);
    assert.ok(profiler.stats().storedBytes <= maxBytes);
  }
  assert.is(profiler.stats().storedProfiles, 2);
  assert.is(profiler.stats().storedBytes, 2 * size);
  assert.is(profiler.stats().evictedProfiles, 4);
});

test('a profile larger than the byte cap on its own is not stored: the stored ones stay, and it is counted and logged once', async () => {
  const clock = new FakeClock();
  const small = (await fakeCapture(new FakeClock())({ durationMs: 10_000, samplingIntervalUs: 10_000, signal: new AbortController().signal })).byteLength;
  const maxBytes = small * 3;
  // A profile of many distinct stacks, larger than the whole cap.
  const stacks = Array.from({ length: 200 }, (_, i) => ({ stack: ['main', `handler${i}`], values: [1, 10 * ms] }));
  const big = encodeProfile(syntheticCpuProfile(stacks, clock.nowMs(), 10_000));
  assert.ok(big.byteLength > maxBytes, `the big profile (${big.byteLength} bytes) is over the cap (${maxBytes})`);
  let calls = 0;
  const capture: CpuCaptureFunction = async (request) => (++calls <= 2 ? fakeCapture(clock)(request) : big);
  const logged: string[] = [];
  const profiler = new ContinuousProfiler({ clock, capture, log: (m) => logged.push(m), config: { maxBytes } });
  const kept = [(await profiler.captureNow()).id, (await profiler.captureNow()).id];
  for (let i = 0; i < 3; i++) {
    const err = await rejectionOf(profiler.captureNow());
    assert.is(err.kind, 'resource_exhausted');
    assert.is(err.message, `a profile of ${big.byteLength} bytes is larger than RS3GW_PROFILING_MAX_PROFILE_BYTES (${maxBytes}) on its own; not stored`);
  }
  // Before, the big profile evicted both stored ones, then itself: the store went 2 -> 0.
  assert.equal(profiler.list().map((p) => p.id), [...kept].reverse());
  assert.equal(profiler.stats(), {
    running: false,
    storedProfiles: 2,
    storedBytes: 2 * small,
    evictedProfiles: 0,
    completedCaptures: 2,
    failedCaptures: 0,
    skippedCaptures: 0,
    oversizedCaptures: 3,
  });
  assert.equal(logged, [
    `continuous profiling: a profile of ${big.byteLength} bytes is larger than RS3GW_PROFILING_MAX_PROFILE_BYTES (${maxBytes}) on its own, so it was not stored (the stored profiles were kept); raise the setting to keep such profiles. Those not stored are counted as oversized_captures in the health report; logged once`,
  ]);
});

/** A profiler holding `count` profiles captured a minute apart from t0. */
async function profilesAMinuteApart(count: number) {
  const clock = new FakeClock();
  const t0 = clock.nowMs();
  const profiler = new ContinuousProfiler({ clock, capture: fakeCapture(clock) });
  for (let i = 0; i < count; i++) {
    await profiler.captureNow();
    clock.set(t0 + (i + 1) * 60_000);
  }
  return { t0, profiler };
}

test('listing filters by start time, newest first, up to the limit', async () => {
  const { t0, profiler } = await profilesAMinuteApart(3);
  assert.equal(
    profiler.list({ startMs: t0 + 60_000 }).map((p) => p.startMs),
    [t0 + 120_000, t0 + 60_000],
  );
  assert.equal(
    profiler.list({ startMs: t0, endMs: t0 + 60_000 }).map((p) => p.startMs),
    [t0],
  );
  assert.equal(
    profiler.list({ limit: 1 }).map((p) => p.startMs),
    [t0 + 120_000],
  );
  assert.is(errorOf(() => profiler.list({ limit: 0 })).field, 'limit');
  assert.is(errorOf(() => profiler.list({ startMs: t0 + 1, endMs: t0 })).field, 'end_time');
  assert.is(errorOf(() => profiler.list({ startMs: Number.NaN })).field, 'start_time');
  // The server passes ListStoredProfiles' limit through: this refusal is what clients read.
  assert.is(errorOf(() => profiler.list({ limit: 10_001 })).message, 'limit: must be at most 10000, got 10001');
  // A call wrong in both is refused for its limit, as the service did before the engine decided it.
  assert.is(errorOf(() => profiler.list({ limit: 20_000, startMs: t0 + 1, endMs: t0 })).field, 'limit');
});

test('a time range merges into one valid profile summing the stacks', async () => {
  const { t0, profiler } = await profilesAMinuteApart(4);
  const merged = await profiler.merge({ startMs: t0 + 60_000, endMs: t0 + 240_000 });
  assert.is(merged.profileIds.length, 3);
  assert.is(merged.startMs, t0 + 60_000);
  assert.is(merged.endMs, t0 + 180_000 + 10_000);
  const profile = decodeProfile(merged.data);
  assert.equal(validateProfile(profile), []);
  assert.equal(foldedStacks(profile).get('main;work'), [3, 30 * ms]);
  assert.is(int64Big(profile.timeNanos), BigInt(t0 + 60_000) * 1_000_000n);
  // Three 10 s captures: pprof's utilisation is over the captured time, not the 130 s span.
  assert.is(Number(profile.durationNanos), 30_000 * ms);
});

test('merging an empty range fails with a clear message', async () => {
  const clock = new FakeClock();
  const profiler = new ContinuousProfiler({ clock, capture: fakeCapture(clock) });
  await profiler.captureNow();
  const err = await rejectionOf(profiler.merge({ startMs: clock.nowMs() + 1 }));
  assert.is(err.kind, 'failed_precondition');
  assert.match(err.message, /^no stored profiles started in \[2026-01-01T00:00:10\.001Z, end of time\); continuous profiling is not running$/);
});

/** A store of `count` profiles of the same 400 distinct ten-frame stacks, heavy enough that merging them all takes a while. */
async function manyStoredProfiles(count: number): Promise<ContinuousProfiler> {
  const clock = new FakeClock();
  const stacks = Array.from({ length: 400 }, (_, i) => ({ stack: [...Array.from({ length: 9 }, (_, d) => `fn${(i * 7 + d) % 97}`), `leaf${i}`], values: [1, 10 * ms] }));
  const data = encodeProfile(syntheticCpuProfile(stacks, clock.nowMs(), 10_000));
  const profiler = new ContinuousProfiler({ clock, config: { maxProfiles: count }, capture: async () => data });
  for (let i = 0; i < count; i++) await profiler.captureNow();
  return profiler;
}

test('a merge of many profiles leaves the event loop free: a 5 ms timer keeps firing throughout', async () => {
  const profiler = await manyStoredProfiles(300);
  let ticks = 0;
  let last = performance.now();
  let longestGapMs = 0;
  const probe = setInterval(() => {
    const now = performance.now();
    longestGapMs = Math.max(longestGapMs, now - last);
    last = now;
    ticks++;
  }, 5);
  const started = performance.now();
  let merged: MergedProfile;
  try {
    merged = await profiler.merge();
  } finally {
    clearInterval(probe);
  }
  const tookMs = performance.now() - started;
  longestGapMs = Math.max(longestGapMs, performance.now() - last);
  assert.is(merged.profileIds.length, 300);
  assert.equal(foldedStacks(decodeProfile(merged.data)).get('fn0;fn1;fn2;fn3;fn4;fn5;fn6;fn7;fn8;leaf0'), [300, 3000 * ms]);
  // Generous for a loaded machine: one profile's fold takes about a millisecond (the whole merge
  // was one stall of about 2.3 s before).
  assert.ok(ticks >= 3 && longestGapMs < 1000, `timer fired ${ticks} times during a ${tookMs.toFixed(0)} ms merge, longest gap ${longestGapMs.toFixed(0)} ms`);
});

test('an aborted merge stops between profiles and rejects with the reason', async () => {
  const profiler = await manyStoredProfiles(300);
  const gone = new Error('client went away');
  assert.is(await rejectionOf(profiler.merge({}, AbortSignal.abort(gone))), gone);

  const controller = new AbortController();
  let abortedAt = 0;
  setTimeout(() => {
    abortedAt = performance.now();
    controller.abort(gone);
  }, 20);
  const err = await rejectionOf(profiler.merge({}, controller.signal));
  const stoppedAfterMs = performance.now() - abortedAt;
  assert.is(err, gone);
  assert.ok(abortedAt > 0 && stoppedAfterMs < 1000, `stopped ${stoppedAfterMs.toFixed(0)} ms after the abort`);
});

test('merges run one at a time, with at most MAX_WAITING_MERGES waiting; more are refused', async () => {
  const profiler = await manyStoredProfiles(50);
  const calls = Array.from({ length: MAX_WAITING_MERGES + 3 }, () => profiler.merge().then(() => 'merged', (e: unknown) => e));
  const outcomes = await Promise.all(calls);
  assert.is(outcomes.filter((o) => o === 'merged').length, MAX_WAITING_MERGES + 1);
  const refused = outcomes.filter((o) => o !== 'merged') as Error[];
  assert.is(refused.length, 2);
  for (const e of refused) assert.match(e.message, `${MAX_WAITING_MERGES} merges of stored profiles are already waiting`);
});

test('concurrent capture requests share the capture in flight', async () => {
  const clock = new FakeClock();
  const calls = { count: 0 };
  const profiler = new ContinuousProfiler({ clock, capture: fakeCapture(clock, calls) });
  const [a, b] = await Promise.all([profiler.captureNow(), profiler.captureNow()]);
  assert.is(a.id, b.id);
  assert.is(calls.count, 1);
  assert.is(profiler.stats().storedProfiles, 1);
});

test('a failed capture is counted and reported, and stores nothing', async () => {
  const profiler = new ContinuousProfiler({
    clock: new FakeClock(),
    capture: async () => {
      throw new Error('inspector unavailable');
    },
    log: () => {},
  });
  const err = await profiler.captureNow().catch((e: Error) => e);
  assert.match((err as Error).message, /inspector unavailable/);
  assert.equal(profiler.stats(), {
    running: false,
    storedProfiles: 0,
    storedBytes: 0,
    evictedProfiles: 0,
    completedCaptures: 0,
    failedCaptures: 1,
    skippedCaptures: 0,
    oversizedCaptures: 0,
    lastError: 'inspector unavailable',
  });
});

test('a capture that returns something other than a valid profile is a failure, not a stored profile', async () => {
  const profiler = new ContinuousProfiler({ clock: new FakeClock(), capture: async () => new TextEncoder().encode('not a profile'), log: () => {} });
  const err = await profiler.captureNow().catch((e: Error) => e);
  assert.match((err as Error).message, /^capture: is not a pprof protobuf/);
  assert.is(profiler.stats().failedCaptures, 1);
  assert.is(profiler.stats().storedProfiles, 0);
});

test('stored start and duration come from the profile, even when the capture started late', async () => {
  const clock = new FakeClock();
  const requested = clock.nowMs();
  const profiler = new ContinuousProfiler({
    clock,
    capture: async ({ durationMs }) => {
      clock.advance(4_000); // queued behind another capture
      return fakeCapture(clock)({ durationMs, samplingIntervalUs: 10_000, signal: new AbortController().signal });
    },
  });
  const info = await profiler.captureNow();
  assert.is(info.startMs, requested + 4_000);
  assert.is(info.durationMs, 10_000);
});

test('due times that pass while a capture waits for an on-demand one are skipped, counted and logged, and the schedule goes on', async () => {
  const wall = new FakeClock();
  const intervals = new FakeClock();
  const logged: string[] = [];
  let calls = 0;
  const capture: CpuCaptureFunction = async ({ durationMs, samplingIntervalUs, signal }) => {
    // The first capture waits 3.4 s for an on-demand one, then runs its 0.1 s.
    if (++calls === 1) intervals.advance(3_400);
    intervals.advance(durationMs);
    return fakeCapture(wall)({ durationMs, samplingIntervalUs, signal });
  };
  const profiler = new ContinuousProfiler({ clock: wall, intervals, capture, log: (m) => logged.push(m), config: { intervalMs: 1_000, captureDurationMs: 100 } });
  profiler.start();
  await delay(300); // the first capture, then (late) the next at once; the one after is 0.9 s away
  await profiler.stop();
  // Due at 0 s (taken at 3.4 s), 1 s and 2 s (skipped), 3 s (taken at once, 3.5 s).
  assert.equal({ ...profiler.stats(), storedBytes: 0 }, {
    running: false,
    storedProfiles: 2,
    storedBytes: 0,
    evictedProfiles: 0,
    completedCaptures: 2,
    failedCaptures: 0,
    skippedCaptures: 2,
    oversizedCaptures: 0,
  });
  assert.equal(logged, ['continuous profiling: captures 2 skipped (due while the capture before still waited or ran: behind an on-demand capture, or longer than the interval); logged at most once a minute']);
});

test('failed captures are logged at most once a minute, summed, and what is left is logged at stop', async () => {
  const intervals = new FakeClock();
  const logged: string[] = [];
  const failing: CpuCaptureFunction = async () => {
    throw new Error('inspector unavailable');
  };
  const profiler = new ContinuousProfiler({ clock: new FakeClock(), intervals, capture: failing, log: (m) => logged.push(m), config: { intervalMs: 20, captureDurationMs: 10 } });
  profiler.start();
  await delay(200);
  assert.equal(logged, ['continuous profiling: captures 1 failed (the last: inspector unavailable); logged at most once a minute']);
  intervals.advance(60_000);
  await delay(50);
  assert.is(logged.length, 2, `a minute on, the next failure is logged at once with those since: ${logged.join('\n')}`);
  await profiler.stop();
  const { failedCaptures } = profiler.stats();
  assert.ok(failedCaptures >= 5, `${failedCaptures} failed captures in 250 ms at 20 ms intervals`);
  assert.ok(logged.length <= 3, `the rest at stop, in one line: ${logged.join('\n')}`);
  const counts = logged.map((line) => {
    assert.match(line, /^continuous profiling: captures \d+ failed \(the last: inspector unavailable\); logged at most once a minute$/);
    return Number(/captures (\d+) failed/.exec(line)![1]);
  });
  assert.is(counts.reduce((a, b) => a + b), failedCaptures, 'every failure is in one line or another');
});

test('bad config is refused naming the field', () => {
  assert.is(errorOf(() => new ContinuousProfiler({ config: { intervalMs: 10_000, captureDurationMs: 10_000 } })).field, 'capture_duration_ms');
  assert.is(errorOf(() => new ContinuousProfiler({ config: { maxProfiles: 0 } })).field, 'max_profiles');
  assert.is(errorOf(() => new ContinuousProfiler({ config: { maxBytes: -1 } })).field, 'max_bytes');
  assert.is(errorOf(() => new ContinuousProfiler({ config: { samplingIntervalUs: 1 } })).field, 'sampling_interval_us');
});

test('running on the real profiler: captures every interval, and stop leaves no timer behind', async () => {
  const timersBefore = activeTimers();
  const profiler = new ContinuousProfiler({ config: { intervalMs: 250, captureDurationMs: 50 } });
  profiler.start();
  assert.ok(profiler.running);
  await delay(650);
  await profiler.stop();
  assert.not.ok(profiler.running);
  assert.is(activeTimers(), timersBefore);
  const listed = profiler.list();
  assert.ok(listed.length >= 2 && listed.length <= 3, `${listed.length} profiles in 650 ms at 250 ms intervals`);
  for (const info of listed) assert.equal(validateProfile(decodeProfile(profiler.get(info.id).data)), []);
  // A profile's start is V8's, after the capture's set-up, whose time varies (the first capture's
  // most, and more on a busy machine): the schedule is exact, the stamps are not. Back to back
  // they would be a capture (50 ms) apart.
  const gapMs = listed[0].startMs - listed[1].startMs;
  assert.ok(gapMs >= 125, `captures start an interval apart (${gapMs} ms)`);
  assert.equal(validateProfile(decodeProfile((await profiler.merge()).data)), []);
  const storedAfterStop = profiler.stats().storedProfiles;
  await delay(300);
  assert.is(profiler.stats().storedProfiles, storedAfterStop, 'nothing runs after stop');
});

test('a wall clock stepped back an hour during a capture does not hold the next capture back', async () => {
  const clock = new FakeClock();
  const stepBack: CpuCaptureFunction = async ({ durationMs }) => {
    const startMs = clock.nowMs();
    clock.advance(-3_600_000);
    return encodeProfile(syntheticCpuProfile([{ stack: ['main', 'work'], values: [1, 10 * ms] }], startMs, durationMs));
  };
  const profiler = new ContinuousProfiler({ clock, capture: stepBack, config: { intervalMs: 200, captureDurationMs: 50 } });
  profiler.start();
  await delay(650);
  await profiler.stop();
  assert.ok(profiler.stats().completedCaptures >= 2, `${profiler.stats().completedCaptures} captures in 650 ms at 200 ms intervals`);
});

test('a wall clock stepped forward an hour during each capture does not start the next one back to back', async () => {
  // The timers are real, so the schedule runs on the real monotonic clock (the default); only the
  // wall clock the profiler stamps with is fake, and each capture steps it an hour on.
  const wall = new FakeClock();
  const starts: number[] = [];
  const stepForward: CpuCaptureFunction = async ({ durationMs, signal }) => {
    starts.push(performance.now());
    const startMs = wall.nowMs();
    wall.advance(3_600_000);
    await delay(durationMs, undefined, { signal });
    return encodeProfile(syntheticCpuProfile([{ stack: ['main', 'work'], values: [1, 10 * ms] }], startMs, durationMs));
  };
  const profiler = new ContinuousProfiler({ clock: wall, capture: stepForward, config: { intervalMs: 300, captureDurationMs: 50 } });
  profiler.start();
  await delay(750);
  await profiler.stop();
  assert.ok(starts.length >= 2 && starts.length <= 3, `${starts.length} captures in 750 ms at 300 ms intervals`);
  for (let i = 1; i < starts.length; i++) {
    assert.ok(starts[i] - starts[i - 1] >= 295, `capture ${i + 1} started ${(starts[i] - starts[i - 1]).toFixed(0)} ms after the one before`);
  }
});

test('stop abandons a capture in flight and releases the V8 profiler at once', async () => {
  const cpuCaptures = new CpuCaptures();
  const profiler = new ContinuousProfiler({ cpuCaptures, config: { intervalMs: 60_000, captureDurationMs: 20_000 } });
  profiler.start();
  await delay(200);
  const stopping = Date.now();
  await profiler.stop();
  assert.ok(Date.now() - stopping < 2_000, 'stop did not wait for the 20 s capture');
  assert.equal(profiler.stats(), {
    running: false,
    storedProfiles: 0,
    storedBytes: 0,
    evictedProfiles: 0,
    completedCaptures: 0,
    failedCaptures: 0,
    skippedCaptures: 0,
    oversizedCaptures: 0,
  });
  const started = Date.now();
  const next = decodeProfile(await cpuCaptures.capture({ durationMs: 50 }));
  assert.ok(Date.now() - started < 2_000, 'the next capture did not queue behind the abandoned one');
  assert.equal(validateProfile(next), []);
});

test.run();
