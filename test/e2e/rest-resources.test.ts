/**
 * Admission over REST: acquire a permit, release it with its outcome, and see the resource status
 * follow; unknown and reused permits, bad enums and durations; the permit cap and the lease.
 *
 * The machine running the tests is shared and often busy, and the service sheds on the host's
 * pressure: RS3GW_LOAD_SHEDDING_THRESHOLD=1 (busy CPU, where the kernel has no PSI) and
 * RS3GW_PSI_THRESHOLD=99 (tasks waiting) keep the neighbours' load from shedding, so these tests
 * see admission itself.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { RunningServer } from '../support/server.js';
import { API, Rest, assertError, assertNear, assertSnakeCase, durationMs, eventually, int, startRestServer, type Json } from './support/rest-http.js';

/** Thresholds the neighbours' load does not reach (see above). */
const CALM_HOST = { RS3GW_LOAD_SHEDDING_THRESHOLD: '1', RS3GW_PSI_THRESHOLD: '99' };

let server: RunningServer;
let rest: Rest;

/** Starts a server and waits until it admits critical work (see the first test for why it may not at once). */
async function startAdmittingServer(env: Record<string, string> = {}): Promise<RunningServer> {
  const started = await startRestServer({ ...CALM_HOST, ...env });
  const c = new Rest(started.url);
  await eventually('the server to stop shedding critical work', async () => {
    const s = await c.getOk(`${API}/resources`);
    return s.priorities.find((p: Json) => p.priority === 'PRIORITY_CRITICAL').shedding ? undefined : s;
  });
  return started;
}

test.before(async () => {
  server = await startAdmittingServer();
  rest = new Rest(server.url);
});

test.after(async () => {
  await server.stop();
});

const critical = { priority: 'PRIORITY_CRITICAL' };
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const priorityOf = (status: Json, p: string) => status.priorities.find((x: Json) => x.priority === p);

test('a server that has just started admits critical work', async () => {
  const fresh = await startRestServer(CALM_HOST);
  try {
    const c = new Rest(fresh.url);
    const a = await c.postOk(`${API}/resources/acquire`, critical);
    const pressure = (await c.getOk(`${API}/resources`)).pressure;
    // An idle service that just started is not overloaded; its own start-up is no reason to shed.
    assert.is(a.admitted, true, `refused: ${a.reason}; event loop ${JSON.stringify(pressure.event_loop)}, overload ${pressure.overload}`);
    // Without --max-old-space-size, V8 sized the heap itself: the limit is derived, and says so.
    assert.match(pressure.heap.source, /limit heap_size_limit less V8's \d+ MiB young generation$/, pressure.heap.source);
  } finally {
    await fresh.stop();
  }
});

test('an admitted permit shows as work in progress until it is released', async () => {
  const a = await rest.postOk(`${API}/resources/acquire`, critical);
  assertSnakeCase(a);
  assert.is(a.admitted, true, `admitted: ${JSON.stringify(a)}`);
  assert.match(a.permit_id, /^[A-Za-z0-9_-]{16,}$/);
  assert.is(a.reason, '');
  assert.ok(a.limit > 0);
  assert.is(a.inflight, 1);

  const during = await rest.getOk(`${API}/resources`);
  assert.is(during.active_requests, 1);
  assert.is(during.admission.inflight, 1);
  assert.is(during.admission.admitted_total, '1');
  assert.is(priorityOf(during, 'PRIORITY_CRITICAL').admitted_total, '1');

  // The work takes what it reports: a latency counts at most as long as the permit was held.
  await sleep(120);
  assert.equal(await rest.postOk(`${API}/resources/release`, { permit_id: a.permit_id, outcome: 'REQUEST_OUTCOME_SUCCESS', latency: '0.120s' }), {});
  const after = await rest.getOk(`${API}/resources`);
  assert.is(after.active_requests, 0);
  assert.is(after.window_completions, '1');
  assert.is(after.success_rate, 1);
  assertNear(after.p50_latency_ms, 120, 0.05, 'p50 of the one completion');
  assertNear(after.p99_latency_ms, 120, 0.05, 'p99 of the one completion');
});

test('a failed completion lowers the success rate', async () => {
  const a = await rest.postOk(`${API}/resources/acquire`, critical);
  assert.is(a.admitted, true);
  await rest.postOk(`${API}/resources/release`, { permit_id: a.permit_id, outcome: 'REQUEST_OUTCOME_ERROR', latency: '0.050s' });
  const s = await rest.getOk(`${API}/resources`);
  assert.is(s.window_completions, '2');
  assert.is(s.success_rate, 0.5);
});

test('latency percentiles cover failed completions too, rather than reading 0 as if instant', async () => {
  const fresh = await startAdmittingServer();
  try {
    const c = new Rest(fresh.url);
    for (let i = 0; i < 4; i++) {
      const a = await c.postOk(`${API}/resources/acquire`, critical);
      assert.is(a.admitted, true);
      await sleep(250);
      await c.postOk(`${API}/resources/release`, { permit_id: a.permit_id, outcome: 'REQUEST_OUTCOME_ERROR', latency: '0.250s' });
    }
    const s = await c.getOk(`${API}/resources`);
    assert.is(s.window_completions, '4');
    assert.is(s.success_rate, 0);
    assertNear(s.p50_latency_ms, 250, 0.05, 'p50 of the four failures');
    assertNear(s.p99_latency_ms, 250, 0.05, 'p99 of the four failures');
  } finally {
    await fresh.stop();
  }
});

test('a Release that claims more time than its permit was held moves no percentile, and refusals stay answerable', async () => {
  const fresh = await startAdmittingServer({ RS3GW_MAX_PERMITS: '1' });
  try {
    const c = new Rest(fresh.url);
    const a = await c.postOk(`${API}/resources/acquire`, critical);
    assert.is(a.admitted, true);
    // The longest Duration there is: ten thousand years.
    await c.postOk(`${API}/resources/release`, { permit_id: a.permit_id, latency: '315576000000s' });
    const s = await c.getOk(`${API}/resources`);
    assert.ok(s.p50_latency_ms < 1000, `p50 ${s.p50_latency_ms} ms`);
    assert.is((await c.postOk(`${API}/resources/acquire`, critical)).admitted, true);
    for (let i = 0; i < 3; i++) {
      const refused = await c.postOk(`${API}/resources/acquire`, critical);
      assert.is(refused.admitted, false);
      assert.ok(durationMs(refused.retry_after) < 10_000, `retry_after ${refused.retry_after}`);
    }
  } finally {
    await fresh.stop();
  }
});

test('a released, an unknown or a missing permit cannot be released', async () => {
  const a = await rest.postOk(`${API}/resources/acquire`, critical);
  assert.is(a.admitted, true);
  await rest.postOk(`${API}/resources/release`, { permit_id: a.permit_id });
  assertError(await rest.post(`${API}/resources/release`, { permit_id: a.permit_id }), 404, 'not_found', 'permit_id');
  assertError(await rest.post(`${API}/resources/release`, { permit_id: 'no-such-permit' }), 404, 'not_found', 'permit_id');
  assertError(await rest.post(`${API}/resources/release`, {}), 400, 'invalid_argument', 'permit_id');
});

test('bad enums and durations are refused naming the field, and hold no permit', async () => {
  assertError(await rest.post(`${API}/resources/acquire`, { priority: 7 }), 400, 'invalid_argument', 'priority');
  const a = await rest.postOk(`${API}/resources/acquire`, critical);
  assertError(await rest.post(`${API}/resources/release`, { permit_id: a.permit_id, outcome: 9 }), 400, 'invalid_argument', 'outcome');
  assertError(await rest.post(`${API}/resources/release`, { permit_id: a.permit_id, latency: '-1s' }), 400, 'invalid_argument', 'latency');
  // The refused releases left the permit outstanding; it still releases.
  assert.is((await rest.getOk(`${API}/resources`)).active_requests, 1);
  await rest.postOk(`${API}/resources/release`, { permit_id: a.permit_id });
  assert.is((await rest.getOk(`${API}/resources`)).active_requests, 0);
});

test('RS3GW_MAX_PERMITS refuses work beyond the cap with a reason and a retry hint', async () => {
  const capped = await startAdmittingServer({ RS3GW_MAX_PERMITS: '1' });
  try {
    const c = new Rest(capped.url);
    const first = await c.postOk(`${API}/resources/acquire`, critical);
    assert.is(first.admitted, true);
    const second = await c.postOk(`${API}/resources/acquire`, critical);
    assertSnakeCase(second);
    assert.is(second.admitted, false);
    assert.is(second.permit_id, '');
    assert.match(second.reason, /outstanding permits \(cap 1\)/);
    assert.ok(durationMs(second.retry_after) > 0, `retry_after ${second.retry_after}`);
    const s = await c.getOk(`${API}/resources`);
    assert.is(s.active_requests, 1, 'the cap holds');
    assert.is(int(s.admission.rejected_total), 1);
    await c.postOk(`${API}/resources/release`, { permit_id: first.permit_id });
    assert.is((await c.postOk(`${API}/resources/acquire`, critical)).admitted, true, 'a slot is free again');
  } finally {
    await capped.stop();
  }
});

test('RS3GW_PERMIT_LEASE reclaims a forgotten permit as dropped', async () => {
  const leased = await startAdmittingServer({ RS3GW_PERMIT_LEASE: '1' });
  try {
    const c = new Rest(leased.url);
    const a = await c.postOk(`${API}/resources/acquire`, critical);
    assert.is(a.admitted, true);
    const s = await eventually('the lease to run out', async () => {
      const status = await c.getOk(`${API}/resources`);
      return status.active_requests === 0 ? status : undefined;
    });
    assert.is(s.window_completions, '1');
    assert.is(s.success_rate, 0, 'a reclaimed permit counts as dropped');
    assert.is(s.p50_latency_ms, 0, 'without a latency: the lease is not how long work takes');
    assertError(await c.post(`${API}/resources/release`, { permit_id: a.permit_id }), 404, 'not_found', 'permit_id');
  } finally {
    await leased.stop();
  }
});

test('a client that takes every permit and crashes locks others out for seconds, not for its lease', async () => {
  const fresh = await startAdmittingServer();
  try {
    const c = new Rest(fresh.url);
    // Work that takes a few milliseconds: what the service learns a permit is usually held for.
    for (let i = 0; i < 10; i++) {
      const a = await c.postOk(`${API}/resources/acquire`, critical);
      assert.is(a.admitted, true);
      await c.postOk(`${API}/resources/release`, { permit_id: a.permit_id });
    }
    const crashed: string[] = [];
    for (let a = await c.postOk(`${API}/resources/acquire`, critical); a.admitted; a = await c.postOk(`${API}/resources/acquire`, critical)) {
      crashed.push(a.permit_id);
    }
    const since = Date.now();
    const admitted = await eventually('another request to be admitted', async () => {
      const a = await c.postOk(`${API}/resources/acquire`, critical);
      return a.admitted ? a : undefined;
    }, 15_000);
    const waitedMs = Date.now() - since;
    // Nothing is released while the crashed client holds every slot: a stall of 5 s frees them.
    assert.ok(waitedMs < 10_000, `admitted after ${waitedMs} ms, against a lease of 60 s`);

    // The crashed client's permits are presumed lost in the order it took them.
    const s = await eventually('every permit of the crashed client to be presumed lost', async () => {
      const status = await c.getOk(`${API}/resources`);
      return status.presumed_lost_permits === crashed.length ? status : undefined;
    }, 5_000);
    assert.is(s.active_requests, 1, 'only the work admitted since is in progress');
    assert.is(s.pending_requests, 0);
    // Within its lease, a presumed-lost permit still releases (once).
    assert.equal(await c.postOk(`${API}/resources/release`, { permit_id: crashed[0] }), {});
    assertError(await c.post(`${API}/resources/release`, { permit_id: crashed[0] }), 404, 'not_found', 'permit_id');
    assert.is((await c.getOk(`${API}/resources`)).presumed_lost_permits, crashed.length - 1);
    await c.postOk(`${API}/resources/release`, { permit_id: admitted.permit_id });
  } finally {
    await fresh.stop();
  }
});

test('under --max-old-space-size=40 the heap signal is the old generation against its 40 MiB, not against the 88 MiB heap_size_limit', async () => {
  // V8's heap_size_limit adds the young generation's 48 MiB reservation to the flag; the process
  // dies when the old generation is full, so the signal must reach 1 there.
  const small = await startRestServer({ ...CALM_HOST, NODE_OPTIONS: '--max-old-space-size=40' });
  try {
    const { heap } = (await new Rest(small.url).getOk(`${API}/resources`)).pressure;
    assert.is(int(heap.limit_bytes), 40 * 2 ** 20);
    assert.match(heap.source, /limit --max-old-space-size=40$/, 'the source names the flag as the limit');
    const used = int(heap.used_bytes);
    assert.ok(used > 0 && used < 40 * 2 ** 20, `old generation used ${used}`);
    assertNear(heap.utilization, used / (40 * 2 ** 20), 1e-9, 'utilisation against the old generation');
  } finally {
    await small.stop();
  }
});

test('under the seed controller, sheddable Acquires that drain the bucket leave critical and normal work admitted', async () => {
  const seed = await startAdmittingServer({ RS3GW_ADMISSION_CONTROLLER: 'seed', RS3GW_INITIAL_RATE_LIMIT: '100' });
  try {
    const c = new Rest(seed.url);
    const acquire = (priority: string): Promise<Json> => c.postOk(`${API}/resources/acquire`, { priority: `PRIORITY_${priority}` });
    // Twenty at once, so that the bucket drains whatever a round trip takes on a busy machine (it
    // refills a token every 10 ms).
    let sheddable = 0;
    let refused: Json | undefined;
    for (let round = 0; round < 10 && refused === undefined; round++) {
      const answers = await Promise.all(Array.from({ length: 20 }, () => acquire('SHEDDABLE')));
      sheddable += answers.filter((a) => a.admitted).length;
      refused = answers.find((a) => !a.admitted);
    }
    assert.ok(refused, `${sheddable} sheddable admitted, none refused`);
    assert.match(refused.reason, /^rate limit reached \(100 requests\/s less a reserve for higher priorities, seed\)$/);
    assert.ok(sheddable >= 8, `${sheddable} sheddable admitted of a burst of 10`);
    const critical = await acquire('CRITICAL');
    assert.is(critical.admitted, true, critical.reason);
    assert.is(critical.limit, 100, 'the limit is the rate, requests per second');
    assert.is((await acquire('NORMAL')).admitted, true);
  } finally {
    await seed.stop();
  }
});

test('the seed controller changes its rate every RS3GW_ADJUSTMENT_INTERVAL', async () => {
  // Half a second, against the 5 s the controller takes when no interval reaches it.
  const seed = await startAdmittingServer({ RS3GW_ADMISSION_CONTROLLER: 'seed', RS3GW_ADJUSTMENT_INTERVAL: '0.5' });
  try {
    const c = new Rest(seed.url);
    assert.is((await c.getOk(`${API}/resources`)).current_rate_limit, 1000, 'RS3GW_INITIAL_RATE_LIMIT');
    const raised = await eventually('the rate to rise after fast successes', async () => {
      const permit = await c.postOk(`${API}/resources/acquire`, {});
      await c.postOk(`${API}/resources/release`, { permit_id: permit.permit_id, outcome: 'REQUEST_OUTCOME_SUCCESS' });
      const rate = (await c.getOk(`${API}/resources`)).current_rate_limit;
      return rate > 1000 ? rate : undefined;
    }, 3000, 100);
    assert.is(raised, 1100, 'x1.1 after an interval of successes under 100 ms');
  } finally {
    await seed.stop();
  }
});

test.run();
