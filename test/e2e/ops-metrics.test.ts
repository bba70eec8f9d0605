/**
 * What an operator sees of admission, health and anomalies on /metrics and stderr, against the
 * real server: after Acquires, Releases and each kind of refusal; while memory pressure and CPU
 * saturation (written into a /proc fixture tree, RS3GW_FS_ROOT) make it shed and turn it unhealthy,
 * and once they are gone; with anomalies raised and streams open.
 *
 * The fixture's CPU and memory are what the test writes; only the event loop is measured for real,
 * and the tests wait for the service to be calm before counting.
 */
import { createClient } from '@connectrpc/connect';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createTransport } from '../../clients/ts/client.js';
import { Health, type HealthCheckResponse } from '../../gen/ts/grpc/health/v1/health_pb.js';
import { AnomalyService, type WatchAnomaliesResponse } from '../../gen/ts/rs3gw/observability/v1/anomaly_pb.js';
import { FixtureRoot } from '../core/procfs/fixture-root.js';
import type { RunningServer } from '../support/server.js';
import { StreamReader } from './support/rpc-helpers.js';
import { API, Rest, eventually, startRestServer, type Json } from './support/rest-http.js';

/** /metrics as a map from `name{labels}` (as written) to its value. */
async function scrape(rest: Rest): Promise<Map<string, number>> {
  const r = await rest.get('/metrics');
  assert.is(r.status, 200);
  const samples = new Map<string, number>();
  for (const line of r.text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const space = line.lastIndexOf(' ');
    samples.set(line.slice(0, space), Number(line.slice(space + 1)));
  }
  return samples;
}

/** The samples of the families named, as `name{labels} value` lines (sorted), for exact comparison. */
function family(samples: Map<string, number>, name: string): string[] {
  return [...samples]
    .filter(([key]) => key === name || key.startsWith(`${name}{`))
    .map(([key, value]) => `${key} ${value}`)
    .sort();
}

const MEMINFO = (availableKiB: number) => `MemTotal:       8388608 kB\nMemFree:        ${availableKiB} kB\nMemAvailable:   ${availableKiB} kB\n`;
/** /proc/stat with `busy` user ticks and `idle` idle ticks on the whole machine. */
const STAT = (busy: number, idle: number) => `cpu  ${busy} 0 0 ${idle} 0 0 0 0 0 0\nbtime 1767225600\n`;

/** A server reading the fixture tree, once it sheds nothing (its own start-up may load the event loop). */
async function startCalmServer(root: FixtureRoot, env: Record<string, string> = {}): Promise<{ server: RunningServer; rest: Rest }> {
  const server = await startRestServer({ RS3GW_FS_ROOT: root.path, ...env });
  const rest = new Rest(server.url);
  try {
    await eventually('the service to shed nothing', async () => {
      const s: Json = await rest.getOk(`${API}/resources`);
      return s.pressure.overload === 0 && !s.is_under_memory_pressure ? true : undefined;
    });
  } catch (error) {
    await server.stop();
    throw error;
  }
  return { server, rest };
}

const acquire = (rest: Rest, priority: string) => rest.postOk(`${API}/resources/acquire`, { priority: `PRIORITY_${priority.toUpperCase()}` });

test('Acquires, Releases and refusals at the permit cap are counted by priority and reason', async () => {
  const root = new FixtureRoot('cgroup-v2-unlimited');
  const { server, rest } = await startCalmServer(root, { RS3GW_MAX_PERMITS: '2' });
  try {
    const a = await acquire(rest, 'critical');
    const b = await acquire(rest, 'normal');
    assert.ok(a.admitted && b.admitted, JSON.stringify([a, b]));
    const c = await acquire(rest, 'sheddable');
    assert.match(c.reason, /outstanding permits/);
    await rest.postOk(`${API}/resources/release`, { permit_id: a.permit_id });

    const m = await scrape(rest);
    assert.equal(family(m, 'rs3gw_admission_admitted_total'), [
      'rs3gw_admission_admitted_total{priority="critical"} 1',
      'rs3gw_admission_admitted_total{priority="normal"} 1',
      'rs3gw_admission_admitted_total{priority="sheddable"} 0',
    ]);
    assert.equal(family(m, 'rs3gw_admission_refused_total'), [
      'rs3gw_admission_refused_total{priority="critical",reason="controller_limit"} 0',
      'rs3gw_admission_refused_total{priority="critical",reason="outstanding_cap"} 0',
      'rs3gw_admission_refused_total{priority="critical",reason="shedding"} 0',
      'rs3gw_admission_refused_total{priority="normal",reason="controller_limit"} 0',
      'rs3gw_admission_refused_total{priority="normal",reason="outstanding_cap"} 0',
      'rs3gw_admission_refused_total{priority="normal",reason="shedding"} 0',
      'rs3gw_admission_refused_total{priority="sheddable",reason="controller_limit"} 0',
      'rs3gw_admission_refused_total{priority="sheddable",reason="outstanding_cap"} 1',
      'rs3gw_admission_refused_total{priority="sheddable",reason="shedding"} 0',
    ]);
    assert.is(m.get('rs3gw_admission_permits_in_flight')! + m.get('rs3gw_admission_permits_presumed_lost')!, 1, 'the normal permit, held');
    const status: Json = await rest.getOk(`${API}/resources`);
    assert.is(m.get('rs3gw_admission_concurrency_limit'), status.admission.limit, 'the limit GetResources reports');
    assert.not.ok(m.has('rs3gw_admission_rate_limit_requests_per_second'), 'the adaptive controller has no rate');
    assert.is(m.get('rs3gw_admission_permits_reclaimed_total'), 0);
    assert.equal(family(m, 'rs3gw_admission_shedding'), [
      'rs3gw_admission_shedding{priority="critical"} 0',
      'rs3gw_admission_shedding{priority="normal"} 0',
      'rs3gw_admission_shedding{priority="sheddable"} 0',
    ]);
    assert.is(m.get('rs3gw_memory_pressure'), 0);
    assert.equal(family(m, 'rs3gw_health_status'), [
      'rs3gw_health_status{status="degraded"} 0',
      'rs3gw_health_status{status="healthy"} 1',
      'rs3gw_health_status{status="unhealthy"} 0',
    ]);
    assert.not.match(server.output(), 'rs3gw-obs: admission:', 'nothing to say while nothing is shed');
    // Held far longer than the critical one took (at least 1 s), the normal permit is presumed lost.
    await eventually('the held permit to be presumed lost', async () => {
      const s = await scrape(rest);
      return s.get('rs3gw_admission_permits_presumed_lost') === 1 && s.get('rs3gw_admission_permits_in_flight') === 0 ? true : undefined;
    });
  } finally {
    await server.stop();
    root.remove();
  }
});

test('memory pressure and a saturated CPU shed, turn the service unhealthy, are logged when they start and stop, and are on /metrics', async () => {
  const root = new FixtureRoot('cgroup-v2-unlimited');
  root.write('proc/stat', STAT(1000, 1000));
  const { server, rest } = await startCalmServer(root);
  try {
    // 99% of memory in use: memory pressure (RS3GW_MEMORY_THRESHOLD 0.85), which sheds sheddable work.
    root.write('proc/meminfo', MEMINFO(83886));
    const m = await eventually('memory pressure', async () => {
      const s = await scrape(rest);
      return s.get('rs3gw_memory_pressure') === 1 && s.get('rs3gw_admission_shedding{priority="sheddable"}') === 1 ? s : undefined;
    });
    assert.is(m.get('rs3gw_admission_pressure_level'), 0.6);
    assert.is(m.get('rs3gw_admission_shedding{priority="normal"}'), 0);
    assert.is(m.get('rs3gw_health_status{status="unhealthy"}'), 1, 'no memory headroom');
    assert.is((await acquire(rest, 'sheddable')).admitted, false);
    assert.is((await acquire(rest, 'normal')).admitted, true);
    // The log hears of it at the next admission tick.
    await eventually('the shedding line', async () => (server.output().includes('shedding sheddable requests started') ? true : undefined), 2000);
    assert.match(server.output(), /rs3gw-obs: admission: memory pressure on: memory 99\.0% of 8192 MiB \(\/proc\/meminfo/);
    assert.match(server.output(), /rs3gw-obs: admission: shedding sheddable requests started: pressure level 0\.60; memory pressure from memory 99\.0% of 8192 MiB/);

    // Memory back to 25%, and the whole CPU busy since the last sample: overload 1 sheds everything,
    // critical work last (priorities escalate 10 s apart).
    root.write('proc/meminfo', MEMINFO(6291456));
    root.write('proc/stat', STAT(1_000_000, 1000));
    await eventually(
      'critical shedding',
      async () => ((await scrape(rest)).get('rs3gw_admission_shedding{priority="critical"}') === 1 ? true : undefined),
      40_000,
    );
    const refused = await acquire(rest, 'critical');
    assert.match(refused.reason, /shedding critical traffic: pressure level 1\.00/);
    const during = await scrape(rest);
    assert.is(during.get('rs3gw_admission_pressure_level'), 1);
    assert.is(during.get('rs3gw_memory_pressure'), 0);
    assert.is(during.get('rs3gw_health_status{status="unhealthy"}'), 1, 'shedding critical work');
    assert.is((await rest.getOk(`${API}/health`)).status, 'HEALTH_STATUS_UNHEALTHY', 'as the health report says');
    assert.is(during.get('rs3gw_admission_refused_total{priority="critical",reason="shedding"}'), 1);
    assert.is(during.get('rs3gw_admission_refused_total{priority="sheddable",reason="shedding"}'), 1);
    assert.is(during.get('rs3gw_admission_admitted_total{priority="normal"}'), 1);
    assert.match(server.output(), /rs3gw-obs: admission: memory pressure off: memory 25\.0% of 8192 MiB/);
    // A scrape reads the shedding state as it is; the log hears of it at the next admission tick.
    const criticalLine = /rs3gw-obs: admission: shedding critical requests started: pressure level 1\.00; overload 1\.00 from cpu 100\.0% of 4 cores \(\/proc\/stat\)\n/;
    await eventually('the critical shedding line', async () => (criticalLine.test(server.output()) ? true : undefined), 2000);

    // The CPU idle since: shedding stops, each priority saying so once.
    root.write('proc/stat', STAT(1_000_000, 2_000_000));
    const after = await eventually('shedding to stop', async () => {
      const s = await scrape(rest);
      return s.get('rs3gw_admission_pressure_level') === 0 ? s : undefined;
    });
    assert.is(after.get('rs3gw_admission_shedding{priority="critical"}'), 0);
    assert.is(after.get('rs3gw_health_status{status="healthy"}'), 1);
    assert.is((await rest.getOk(`${API}/health`)).status, 'HEALTH_STATUS_HEALTHY');
    await eventually('the last line', async () => (server.output().includes('shedding sheddable requests stopped') ? true : undefined));
    const lines = server.output().split('\n').filter((l) => l.startsWith('rs3gw-obs: admission:'));
    assert.equal(
      lines.map((l) => /^rs3gw-obs: admission: [a-z ]+? (on|off|started|stopped)(?=:)/.exec(l)?.[0]),
      [
        'rs3gw-obs: admission: memory pressure on',
        'rs3gw-obs: admission: shedding sheddable requests started',
        'rs3gw-obs: admission: memory pressure off',
        'rs3gw-obs: admission: shedding normal requests started',
        'rs3gw-obs: admission: shedding critical requests started',
        'rs3gw-obs: admission: shedding critical requests stopped',
        'rs3gw-obs: admission: shedding normal requests stopped',
        'rs3gw-obs: admission: shedding sheddable requests stopped',
      ],
      lines.join('\n'),
    );
  } finally {
    await server.stop();
    root.remove();
  }
});

test('the seed controller shows its rate, refusals at its limit, and permits reclaimed after their lease', async () => {
  const root = new FixtureRoot('cgroup-v2-unlimited');
  const { server, rest } = await startCalmServer(root, {
    RS3GW_ADAPTIVE_RATE_LIMIT: 'false',
    RS3GW_MIN_RATE_LIMIT: '1',
    RS3GW_INITIAL_RATE_LIMIT: '1',
    RS3GW_PERMIT_LEASE: '0.5',
  });
  try {
    assert.is((await acquire(rest, 'normal')).admitted, true);
    const refused = await acquire(rest, 'normal');
    assert.match(refused.reason, /rate limit reached/);
    const m = await eventually('the lease to run out', async () => {
      const s = await scrape(rest);
      return s.get('rs3gw_admission_permits_reclaimed_total') === 1 ? s : undefined;
    });
    assert.is(m.get('rs3gw_admission_rate_limit_requests_per_second'), 1);
    assert.not.ok(m.has('rs3gw_admission_concurrency_limit'));
    assert.is(m.get('rs3gw_admission_refused_total{priority="normal",reason="controller_limit"}'), 1);
    assert.is(m.get('rs3gw_admission_refused_total{priority="normal",reason="outstanding_cap"}'), 0);
    assert.is(m.get('rs3gw_admission_permits_in_flight'), 0);
  } finally {
    await server.stop();
    root.remove();
  }
});

test('anomalies detected by severity and the WatchAnomalies and health Watch streams open', async () => {
  const server = await startRestServer();
  const rest = new Rest(server.url);
  const transport = createTransport(server.url, { protocol: 'connect' });
  const watch = new StreamReader<WatchAnomaliesResponse>((signal) => createClient(AnomalyService, transport).watchAnomalies({}, { signal }));
  const health = new StreamReader<HealthCheckResponse>((signal) => createClient(Health, transport).watch({ service: '' }, { signal }));
  try {
    await watch.next('caught_up');
    await health.next('SERVING');
    await rest.postOk(`${API}/anomalies/config`, { metric: 'api_latency_ms', config: { min_samples: 30 } });
    const t0 = Date.parse('2026-01-01T00:00:00Z');
    const samples = Array.from({ length: 60 }, (_, k) => ({ metric: 'api_latency_ms', value: 100 + (k % 3) - 1, time: new Date(t0 + k * 1000).toISOString() }));
    samples.push({ metric: 'api_latency_ms', value: 1000, time: new Date(t0 + 60_000).toISOString() });
    await rest.postOk(`${API}/anomalies/samples/batch`, { samples });
    const listed: Json[] = (await rest.getOk(`${API}/anomalies`)).anomalies;
    assert.ok(listed.length > 0, 'the spike raised an anomaly');
    const m = await scrape(rest);
    for (const severity of ['low', 'medium', 'high', 'critical']) {
      const expected = listed.filter((a) => a.severity === `ANOMALY_SEVERITY_${severity.toUpperCase()}`).length;
      assert.is(m.get(`rs3gw_anomalies_detected_total{severity="${severity}"}`), expected, severity);
    }
    assert.is(m.get('rs3gw_anomaly_watch_subscribers'), 1);
    assert.is(m.get('rs3gw_health_watch_subscribers'), 1);
    assert.is(m.get('rs3gw_anomaly_watch_missed_events_total'), 0, 'the subscriber keeps up');
    watch.close();
    health.close();
    await eventually('the streams to close', async () => {
      const s = await scrape(rest);
      return s.get('rs3gw_anomaly_watch_subscribers') === 0 && s.get('rs3gw_health_watch_subscribers') === 0 ? true : undefined;
    });
  } finally {
    watch.close();
    health.close();
    await server.stop();
  }
});

test.run();
