/**
 * An export or a scrape whose client goes away stops: the server does not build and write 100,000
 * series for no one. Measured in the service's own CPU time (/proc/<pid>/stat of the real process)
 * against a full answer of the same series in the same test, so no threshold depends on the
 * machine's speed: abandoned calls must cost under a quarter of answering them (they cost all of it
 * before, and the JSON export, whose writes went nowhere, over half).
 */
import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { RunningServer } from '../support/server.js';
import { API, eventually, startRestServer } from './support/rest-http.js';

const METRICS = 100;
const SERIES = 1_000;
const ABANDONED = 8;

let server: RunningServer;

/** The service's CPU time so far, seconds (utime + stime, in clock ticks of 1/100 s). */
function cpuSeconds(): number {
  const fields = readFileSync(`/proc/${server.process.pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

/** Waits until the service's CPU time stops growing: whatever it still did for past calls is done. */
async function settled(): Promise<number> {
  let last = cpuSeconds();
  for (;;) {
    await sleep(300);
    const now = cpuSeconds();
    if (now - last < 0.02) return now;
    last = now;
  }
}

async function post(path: string, body: unknown): Promise<void> {
  const r = await fetch(`${server.url}${API}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  assert.ok(r.ok, `${path}: ${r.status} ${await r.text()}`);
}

test.before(async () => {
  // No periodic snapshots or profiling: the CPU time measured is the exports'.
  server = await startRestServer({ RS3GW_METRICS_SNAPSHOT_INTERVAL: '86400', RS3GW_PROFILING_ENABLED: 'false', RS3GW_METRICS_MAX_TOTAL_SERIES: String(METRICS * SERIES) });
  for (let m = 0; m < METRICS; m++) {
    await post('/metrics', { name: `fill_${m}`, type: 'METRIC_TYPE_COUNTER', description: 'fill', label_names: ['id'] });
    await post('/metrics/batch', { records: Array.from({ length: SERIES }, (_, k) => ({ name: `fill_${m}`, value: 1, labels: { id: `value-${k}` } })) });
  }
});

test.after(async () => {
  await server.stop();
});

/**
 * The CPU time of one full answer of `url` (read to the end), and of ABANDONED calls of it whose
 * clients go away after 50 ms, until the server has stopped working on them.
 */
async function costs(url: string, minLength: number): Promise<{ full: number; abandoned: number }> {
  await (await fetch(url)).text(); // warms the code up
  const before = await settled();
  const text = await (await fetch(url)).text();
  assert.ok(text.length > minLength, `${text.length} characters`);
  const full = (await settled()) - before;

  const start = await settled();
  const outcomes = await Promise.all(
    Array.from({ length: ABANDONED }, async () => {
      try {
        await fetch(url, { signal: AbortSignal.timeout(50) });
        return 'answered';
      } catch (error) {
        return (error as Error).name;
      }
    }),
  );
  assert.equal(outcomes, Array(ABANDONED).fill('TimeoutError'), 'the clients went away before the answer');
  // A cheaper call afterwards is answered. Its answer (1,000 series) counts against
  // RS3GW_MAX_UNSENT_BYTES, which the abandoned exports hold until the server has seen their
  // clients go, so it may be refused (503) for a moment first; not for long.
  await eventually('GET /metrics/fill_0 answered after the abandoned exports', async () => {
    const cheap = await fetch(`${server.url}${API}/metrics/fill_0`);
    const body = await cheap.text();
    if (cheap.status === 503) return undefined;
    assert.is(cheap.status, 200, body.slice(0, 300));
    return true;
  }, 5_000);
  const abandoned = (await settled()) - start;
  return { full, abandoned };
}

/** Abandoned calls cost under a quarter of what answering them all would have. */
function assertStopped(what: string, { full, abandoned }: { full: number; abandoned: number }): void {
  assert.ok(abandoned < (ABANDONED * full) / 4, `${ABANDONED} abandoned ${what} cost ${abandoned.toFixed(2)} s of CPU, one full ${full.toFixed(2)} s`);
}

test('REST JSON exports abandoned by their clients stop early', async () => {
  assertStopped('JSON exports', await costs(`${server.url}${API}/metrics-export`, 5_000_000));
});

test('Prometheus-text exports abandoned by their clients stop early', async () => {
  assertStopped('Prometheus exports', await costs(`${server.url}${API}/metrics-export?format=prometheus`, 2_000_000));
});

test('/metrics scrapes abandoned by their scrapers stop early', async () => {
  assertStopped('scrapes', await costs(`${server.url}/metrics`, 2_000_000));
});

test.run();
