/**
 * CPU percentages, the continuous profiler's schedule and the health report's "last 5 minutes" are
 * intervals; GetResources' timestamp is a time shown to users. With the server's wall clock
 * stepped while it runs (libfaketime; the monotonic clock is left alone), the intervals keep to
 * real time and the timestamps follow the wall clock.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { API, Rest, durationMs, eventually, timeMs, type Json } from './support/rest-http.js';
import { startSteppableServer } from './support/wall-clock.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const HOUR = 3_600_000;

test('GetProfile measures CPU over the real interval when the wall clock steps forward', async () => {
  const server = await startSteppableServer();
  try {
    const rest = new Rest(server.url);
    await rest.getOk(`${API}/profiling`);
    await sleep(1200);
    server.step('+1h');
    await sleep(1200);
    const cpu = (await rest.getOk(`${API}/profiling`)).cpu;
    assert.is(cpu.basis, 'CPU_MEASUREMENT_BASIS_INTERVAL');
    // Before, the hour counted: interval 3602 s, and the percentage diluted 1500 times.
    assert.ok(durationMs(cpu.interval) < 10_000, `CPU interval ${cpu.interval} after a step of an hour`);
  } finally {
    await server.stop();
  }
});

test('GetResources and the health report\'s resources are stamped by the stepped wall clock', async () => {
  const server = await startSteppableServer();
  try {
    const rest = new Rest(server.url);
    server.step('+2h');
    const resources = await rest.getOk(`${API}/resources`);
    const health = await rest.getOk(`${API}/health`);
    // Before, the monotonic clock stamped them: two hours behind.
    for (const [what, stamp] of [['GetResources', resources.timestamp], ['the health report\'s resources', health.resources.timestamp]]) {
      assert.ok(Math.abs(timeMs(stamp) - (Date.now() + 2 * HOUR)) < 10_000, `${what} at ${stamp}, the server's wall clock two hours on`);
    }
  } finally {
    await server.stop();
  }
});

test('an anomaly stays in the health report\'s last 5 minutes and last hour when the wall clock steps forward', async () => {
  const server = await startSteppableServer();
  try {
    const rest = new Rest(server.url);
    const samples = Array.from({ length: 300 }, (_, i) => ({ metric: 'step_forward', value: 100 + (i % 2 === 0 ? -1 : 1) }));
    await rest.postOk(`${API}/anomalies/samples/batch`, { samples });
    const spike = await rest.postOk(`${API}/anomalies/samples`, { metric: 'step_forward', value: 100_000 });
    assert.is(spike.assessment.anomaly.severity, 'ANOMALY_SEVERITY_CRITICAL');
    server.step('+2h');
    const health = await rest.getOk(`${API}/health`);
    // Before, a step forward emptied both windows at once.
    assert.ok(health.reasons.includes('1 high or critical anomalies in the last 5 minutes'), `reasons ${JSON.stringify(health.reasons)}`);
    assert.is(health.anomalies.last_hour, '1');
  } finally {
    await server.stop();
  }
});

test('continuous profiling keeps its interval when the wall clock steps forward during a capture', async () => {
  const server = await startSteppableServer({
    RS3GW_PROFILING_CONTINUOUS: 'true',
    RS3GW_PROFILING_CONTINUOUS_INTERVAL: '2',
    RS3GW_PROFILING_CONTINUOUS_DURATION: '1.5',
  });
  try {
    const rest = new Rest(server.url);
    const stored = (count: number) =>
      eventually(`${count} stored profiles`, async () => {
        const { profiles } = await rest.getOk(`${API}/profiling/profiles`);
        return profiles.length >= count ? (profiles as Json[]) : undefined;
      }, 20_000, 50);
    // The first capture is stored 1.5 s after it started; the second starts 0.5 s later.
    await stored(1);
    await sleep(700);
    server.step('+1h');
    const bySequence = (await stored(3)).sort((a, b) => Number(a.id.split('-').pop()) - Number(b.id.split('-').pop()));
    const [, second, third] = bySequence;
    const gapMs = timeMs(third.start_time) - timeMs(second.start_time) - HOUR;
    // Before, the hour used up the rest of the interval: the third started as the second ended.
    assert.ok(gapMs >= 1900, `the third capture started ${gapMs} ms (real time) after the second, with a 2 s interval`);
  } finally {
    await server.stop();
  }
});

test.run();
