/**
 * Continuous profiling beside on-demand captures: the background capture never takes a client's
 * waiting place, runs as soon as the capture running ends (ahead of the queued ones), and the due
 * times it misses meanwhile are counted on /metrics, logged, and shown in the health report.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createObservabilityClient } from '../../clients/ts/client.js';
import { MAX_WAITING_CPU_CAPTURES } from '../../src/core/profiling/pprof/index.js';
import { startServer } from '../support/server.js';
import { sampleValue, scrapeMetrics, within } from './support/rpc-helpers.js';

const ms = (t: { seconds: bigint; nanos: number } | undefined) => Number(t!.seconds) * 1000 + t!.nanos / 1e6;

test(`a client can queue ${MAX_WAITING_CPU_CAPTURES} captures while the background one waits; it runs first, and what it missed is counted and logged`, async () => {
  const server = await startServer({
    RS3GW_PROFILING_CONTINUOUS: 'true',
    RS3GW_PROFILING_CONTINUOUS_INTERVAL: '1',
    RS3GW_PROFILING_CONTINUOUS_DURATION: '0.5',
    RS3GW_PROFILING_MAX_SECONDS: '20',
    RS3GW_SHUTDOWN_GRACE: '1',
  });
  const { profiling, health } = createObservabilityClient(server.url, { protocol: 'grpc' });
  try {
    // A 4 s capture runs; a second on, the background capture falls due and waits for it.
    const running = profiling.captureProfile({ duration: { seconds: 4n } });
    await sleep(1500);
    const queued = await Promise.allSettled(
      Array.from({ length: MAX_WAITING_CPU_CAPTURES }, () => profiling.captureProfile({ duration: { nanos: 100_000_000 } })),
    );
    const refused = queued.filter((r) => r.status === 'rejected').map((r) => String((r as PromiseRejectedResult).reason));
    assert.equal(refused, [], `${MAX_WAITING_CPU_CAPTURES} captures queue behind the running one, whatever the background one does`);
    const longOne = (await within(running, 'the 4 s capture')).info!;
    const longEnd = ms(longOne.startTime) + ms(longOne.duration);
    const queuedStarts = queued.map((r) => ms((r as PromiseFulfilledResult<{ info?: { startTime?: { seconds: bigint; nanos: number } } }>).value.info!.startTime));

    const { profiles } = await profiling.listStoredProfiles({});
    const waited = profiles.map((p) => ms(p.startTime)).filter((start) => start > ms(longOne.startTime)).sort((a, b) => a - b)[0];
    assert.ok(waited !== undefined, 'a background profile was taken after the long capture started');
    assert.ok(waited >= longEnd - 5, `it ran once the long capture ended (${waited - longEnd} ms after)`);
    assert.ok(queuedStarts.every((start) => start >= waited), 'ahead of the captures queued before it ran');

    // Due every second, it waited about 3 s: those due times got no capture.
    const skipped = sampleValue(await scrapeMetrics(server.url), 'rs3gw_profiling_continuous_captures_total', { outcome: 'skipped' });
    assert.ok(skipped >= 1, `skipped captures on /metrics: ${skipped}`);
    const report = await health.getHealthReport({});
    assert.ok(Number(report.continuousProfiling?.skippedCaptures) >= skipped, 'and in the health report');
    assert.ok(report.continuousProfiling?.running);
    assert.ok(Number(report.continuousProfiling?.completedCaptures) >= 2);
    const lines = server.output().split('\n').filter((l) => l.includes('continuous profiling'));
    assert.equal(lines.length, 1, `logged once: ${lines.join('\n')}`);
    assert.match(lines[0], /^rs3gw-obs: continuous profiling: captures \d+ skipped \(due while the capture before still waited or ran: behind an on-demand capture, or longer than the interval\)/);
  } finally {
    assert.is(await server.stop(), 0, `exit code after SIGTERM:\n${server.output()}`);
  }
});

test.run();
