/**
 * A summary's quantiles cover the last 8 to 10 minutes. With no observation in that window, or none
 * ever, /metrics exposes them as NaN (as Prometheus's Go client does), in Prometheus text and in
 * OpenMetrics, so a p99 panel shows a gap rather than dropping to 0; count and sum keep counting.
 * GetMetric keeps metrics.proto's 0. The server's wall clock is moved past the window (libfaketime).
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { parseExposition } from '../core/metrics/exposition-format.js';
import { API, Rest, type Json } from './support/rest-http.js';
import { startSteppableServer, type SteppableServer } from './support/wall-clock.js';

let server: SteppableServer;
let rest: Rest;

test.before(async () => {
  server = await startSteppableServer();
  rest = new Rest(server.url);
});

test.after(async () => {
  await server.stop();
});

const FORMATS = [false, true];

async function scrape(openMetrics: boolean) {
  const accept = openMetrics ? 'application/openmetrics-text; version=1.0.0' : 'text/plain';
  const text = await (await fetch(`${server.url}/metrics`, { headers: { accept } })).text();
  return { text, x: parseExposition(text, openMetrics) };
}

const quantileLines = (text: string, name: string) => text.split('\n').filter((l) => l.startsWith(`${name}{`) && l.includes('quantile='));

test('a summary never observed exposes NaN quantiles, count 0 and sum 0; GetMetric reads 0', async () => {
  await rest.postOk(`${API}/metrics`, { name: 'idle_ms', type: 'METRIC_TYPE_SUMMARY', description: 'Never observed', quantiles: [0.5, 0.99] });
  for (const openMetrics of FORMATS) {
    const { text, x } = await scrape(openMetrics);
    assert.equal(quantileLines(text, 'idle_ms'), ['idle_ms{quantile="0.5"} NaN', 'idle_ms{quantile="0.99"} NaN'], `openMetrics=${openMetrics}`);
    assert.is(x.value('idle_ms_count'), 0);
    assert.is(x.value('idle_ms_sum'), 0);
  }
  const s = (await rest.getOk(`${API}/metrics/idle_ms`)).series[0];
  assert.equal(s.quantiles, [
    { quantile: 0.5, value: 0 },
    { quantile: 0.99, value: 0 },
  ]);
});

test('observations in the window give quantiles; 11 minutes later they are NaN, and count and sum remain', async () => {
  await rest.postOk(`${API}/metrics`, { name: 'rv_lat', type: 'METRIC_TYPE_SUMMARY', description: 'summary window test', label_names: ['op'] });
  await rest.postOk(`${API}/metrics/batch`, { records: Array.from({ length: 10 }, (_, i) => ({ name: 'rv_lat', value: i + 1, labels: { op: 'get' } })) });
  // A genuine 0 is a value, not an empty window.
  await rest.postOk(`${API}/metrics/record`, { name: 'rv_lat', value: 0, labels: { op: 'zero' } });
  for (const openMetrics of FORMATS) {
    const { x } = await scrape(openMetrics);
    const p50 = x.value('rv_lat', { op: 'get', quantile: '0.5' })!;
    assert.ok(p50 >= 5 && p50 <= 6, `p50 ${p50}`);
    assert.is(x.value('rv_lat', { op: 'zero', quantile: '0.99' }), 0, 'an observed 0 stays 0');
  }

  server.step('+11m');
  for (const openMetrics of FORMATS) {
    const { text, x } = await scrape(openMetrics);
    const at = `openMetrics=${openMetrics}`;
    const lines = quantileLines(text, 'rv_lat');
    assert.is(lines.length, 6, at);
    for (const line of lines) assert.match(line, / NaN$/, `${line} (${at})`);
    assert.ok(Number.isNaN(x.value('rv_lat', { op: 'get', quantile: '0.99' })), at);
    assert.is(x.value('rv_lat_count', { op: 'get' }), 10, at);
    assert.is(x.value('rv_lat_sum', { op: 'get' }), 55, at);
    assert.is(x.value('rv_lat_count', { op: 'zero' }), 1, at);
  }
  const exported = await (await fetch(`${server.url}${API}/metrics-export?format=prometheus`)).text();
  assert.match(exported, /^rv_lat\{quantile="0.5",op="get"\} NaN$/m, 'the Prometheus export as /metrics');

  const reading = await rest.getOk(`${API}/metrics/rv_lat`);
  const get = reading.series.find((s: Json) => s.labels.op === 'get');
  assert.equal(get.quantiles.map((q: Json) => q.value), [0, 0, 0], 'JSON keeps metrics.proto\'s 0');
  assert.is(get.count, '10');
  assert.is(get.sum, 55);

  // Observed again: quantiles of the new window only.
  await rest.postOk(`${API}/metrics/record`, { name: 'rv_lat', value: 100, labels: { op: 'get' } });
  const { x } = await scrape(true);
  assert.is(x.value('rv_lat', { op: 'get', quantile: '0.5' }), 100);
  assert.ok(Number.isNaN(x.value('rv_lat', { op: 'zero', quantile: '0.5' })));
});

test.run();
