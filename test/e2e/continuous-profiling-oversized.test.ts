/**
 * Continuous profiling under a byte cap smaller than one profile: such a profile is not stored (it
 * used to evict every stored profile, then itself, unseen), and the operator sees it in the health
 * report, on /metrics and once on stderr.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { API, Rest, eventually, field, int, startRestServer, type Json } from './support/rest-http.js';
import { sampleValue, scrapeMetrics } from './support/rpc-helpers.js';

test('profiles each larger than RS3GW_PROFILING_MAX_PROFILE_BYTES are counted as oversized, logged once, and not stored', async () => {
  const server = await startRestServer({
    RS3GW_PROFILING_CONTINUOUS: 'true',
    RS3GW_PROFILING_CONTINUOUS_INTERVAL: '0.5',
    RS3GW_PROFILING_CONTINUOUS_DURATION: '0.2',
    RS3GW_PROFILING_MAX_PROFILE_BYTES: '100',
  });
  try {
    const rest = new Rest(server.url);
    const status: Json = await eventually(
      'three oversized captures in the health report',
      async () => {
        const part = field(await rest.getOk(`${API}/health`), 'continuous_profiling');
        return Number(part.oversized_captures ?? 0) >= 3 ? part : undefined;
      },
      20_000,
      200,
    );
    assert.ok(int(status.oversized_captures) >= 3);
    assert.is(status.stored_profiles ?? 0, 0);
    assert.is(Number(status.completed_captures ?? 0), 0, 'a profile not stored is no completed capture');
    assert.is(Number(status.failed_captures ?? 0), 0);
    assert.equal((await rest.getOk(`${API}/profiling/profiles`)).profiles ?? [], []);
    const oversized = sampleValue(await scrapeMetrics(server.url), 'rs3gw_profiling_continuous_captures_total', { outcome: 'oversized' });
    assert.ok(oversized >= 3, `oversized captures on /metrics: ${oversized}`);
    const lines = server.output().split('\n').filter((l) => l.includes('continuous profiling'));
    assert.is(lines.length, 1, `logged once, not once per capture:\n${lines.join('\n')}`);
    assert.match(lines[0], /^rs3gw-obs: continuous profiling: a profile of \d+ bytes is larger than RS3GW_PROFILING_MAX_PROFILE_BYTES \(100\) on its own, so it was not stored/);
  } finally {
    assert.is(await server.stop(), 0, `exit code after SIGTERM:\n${server.output()}`);
  }
});

test.run();
