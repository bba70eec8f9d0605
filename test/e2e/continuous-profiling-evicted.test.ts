/**
 * Continuous profiling under a small count cap: the oldest stored profiles are dropped as new ones
 * arrive, and /metrics counts them, so an operator can tell that older ranges are gone (the count
 * used to be kept but shown nowhere).
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { API, Rest, eventually, field, startRestServer, type Json } from './support/rest-http.js';
import { scrapeMetrics } from './support/rpc-helpers.js';

/** The value of an unlabelled sample in a text exposition. */
function unlabelled(text: string, name: string): number {
  const line = text.split('\n').find((l) => l.startsWith(`${name} `));
  if (line === undefined) throw new Error(`no ${name} sample in:\n${text}`);
  return Number(line.slice(name.length + 1));
}

test('profiles evicted under RS3GW_PROFILING_MAX_PROFILES are counted on /metrics', async () => {
  const server = await startRestServer({
    RS3GW_PROFILING_CONTINUOUS: 'true',
    RS3GW_PROFILING_CONTINUOUS_INTERVAL: '0.3',
    RS3GW_PROFILING_CONTINUOUS_DURATION: '0.05',
    RS3GW_PROFILING_MAX_PROFILES: '2',
  });
  try {
    const rest = new Rest(server.url);
    const fresh = await scrapeMetrics(server.url);
    assert.match(fresh, /^# TYPE rs3gw_profiling_continuous_profiles_evicted_total counter$/m);
    assert.is(unlabelled(fresh, 'rs3gw_profiling_continuous_profiles_evicted_total'), 0, 'none evicted before the cap is reached');
    const status: Json = await eventually(
      'four completed captures in the health report',
      async () => {
        const part = field(await rest.getOk(`${API}/health`), 'continuous_profiling');
        return Number(part.completed_captures ?? 0) >= 4 ? part : undefined;
      },
      20_000,
      200,
    );
    assert.is(status.stored_profiles, 2, 'the count cap holds');
    // Four stored into a store of two: at least the two oldest were dropped.
    const evicted = unlabelled(await scrapeMetrics(server.url), 'rs3gw_profiling_continuous_profiles_evicted_total');
    assert.ok(evicted >= 2, `evicted profiles on /metrics: ${evicted}`);
  } finally {
    assert.is(await server.stop(), 0, `exit code after SIGTERM:\n${server.output()}`);
  }
});

test.run();
