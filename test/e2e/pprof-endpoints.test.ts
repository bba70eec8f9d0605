/**
 * The Go-compatible /debug/pprof paths: an index, CPU and heap profiles that `go tool pprof` opens
 * and that show the service's own functions, flame graphs as self-contained SVG, and bad requests.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { RunningServer } from '../support/server.js';
import { API, Rest, assertError, startRestServer, type Json } from './support/rest-http.js';
import { assertSelfContained, parseSvg, pprofTop, serviceFunctions, validPprof } from './support/rest-pprof.js';

let server: RunningServer;
let rest: Rest;

test.before(async () => {
  server = await startRestServer({ RS3GW_PROFILING_MAX_SECONDS: '5' });
  rest = new Rest(server.url);
});

test.after(async () => {
  await server.stop();
});

/** Keeps the service busy with REST calls (4 at a time) until `done` settles; returns the calls made. */
async function loadUntil(done: Promise<unknown>): Promise<number> {
  let finished = false;
  void done.finally(() => (finished = true));
  let calls = 0;
  const samples = Array.from({ length: 200 }, (_, i) => ({ metric: `load_${i % 20}`, value: i % 7 }));
  const worker = async () => {
    // Bounded: a capture lasts about a second; 2,000 calls per worker is far beyond that.
    for (let i = 0; i < 2_000 && !finished; i++) {
      await rest.postOk(`${API}/anomalies/samples/batch`, { samples });
      await rest.getOk(`${API}/metrics-export`);
      calls += 2;
    }
  };
  await Promise.all([worker(), worker(), worker(), worker()]);
  return calls;
}

function assertShowsService(top: string, names: string[], what: string): void {
  assert.ok(names.length > 0, `${what}: the profile has functions from src/server or src/core`);
  const shown = names.filter((n) => new RegExp(`\\s${n.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`, 'm').test(top));
  assert.ok(shown.length > 0, `${what}: go tool pprof -top shows one of ${names.slice(0, 10).join(', ')}:\n${top.slice(0, 2000)}`);
}

test('the index page links the profiles', async () => {
  for (const path of ['/debug/pprof/', '/debug/pprof']) {
    const r = await fetch(server.url + path);
    assert.is(r.status, 200, path);
    assert.match(r.headers.get('content-type')!, /^text\/html/);
    const html = await r.text();
    for (const link of ['profile', 'heap', 'allocs', 'flamegraph?seconds=5']) assert.ok(html.includes(`href="${link}"`), `${path} links ${link}`);
    // Lengths the server serves under RS3GW_PROFILING_MAX_SECONDS=5: it linked profile?seconds=30 and flamegraph?seconds=10, both refused.
    assert.ok(html.includes('default 5, at most 5'), `${path}: the default length as served`);
    // HEAD, which every general-purpose server must take (RFC 9110), has the same headers and no body.
    const head = await fetch(server.url + path, { method: 'HEAD' });
    assert.is(head.status, 200, `HEAD ${path}`);
    assert.is(head.headers.get('content-length'), String(Buffer.byteLength(html)));
    assert.is(await head.text(), '');
  }
});

test('profile?seconds=1 under load is a CPU profile that shows the service at work', async () => {
  const capture = fetch(`${server.url}/debug/pprof/profile?seconds=1`);
  const calls = await loadUntil(capture);
  const r = await capture;
  assert.is(r.status, 200);
  assert.is(r.headers.get('content-type'), 'application/octet-stream');
  assert.match(r.headers.get('content-disposition')!, /^attachment; filename="cpu-[0-9TZ-]+\.pb\.gz"$/);
  assert.ok(calls > 0, 'load was generated during the capture');
  const body = new Uint8Array(await r.arrayBuffer());
  const profile = validPprof(body, 'cpu profile');
  const top = await pprofTop(body);
  assert.match(top, /^Type: wall$/m);
  assertShowsService(top, serviceFunctions(profile), 'cpu');
});

test('a CPU profile sampled the whole of its duration, which is the length asked: go tool pprof shows about 100%', async () => {
  // Starting a capture blocks the JS thread while V8 records the compiled code; that time, in which
  // nothing is sampled, was in the duration: 2 s captures read "Duration: 2.15s, Total samples = 2s (93%)".
  for (let i = 0; i < 3; i++) {
    const r = await fetch(`${server.url}/debug/pprof/profile?seconds=1`);
    assert.is(r.status, 200);
    const top = await pprofTop(new Uint8Array(await r.arrayBuffer()));
    const line = /^Duration: ([\d.]+)(m?s), Total samples = [\d.]+m?s \(\s*([\d.]+)%\)$/m.exec(top);
    assert.ok(line, `the Duration line of:\n${top.slice(0, 500)}`);
    const [, amount, unit, percent] = line;
    const seconds = Number(amount) / (unit === 'ms' ? 1000 : 1);
    assert.ok(Number(percent) >= 98, `capture ${i + 1}: ${line[0]}`);
    // Generous above: the stop is late on a loaded machine.
    assert.ok(seconds >= 0.99 && seconds < 1.5, `capture ${i + 1}: 1 s asked, ${line[0]}`);
  }
});

test('heap, and allocs (where Parca and Pyroscope look), are a live-heap profile that shows what the service keeps', async () => {
  // Three thousand anomaly metrics: their detectors are the service's own retained memory.
  const samples: Json[] = Array.from({ length: 3000 }, (_, i) => ({ metric: `heap_${i}`, value: 1 }));
  await rest.postOk(`${API}/anomalies/samples/batch`, { samples });
  for (const path of ['/debug/pprof/heap', '/debug/pprof/heap?gc=1', '/debug/pprof/allocs', '/debug/pprof/allocs?gc=1']) {
    const r = await fetch(server.url + path);
    assert.is(r.status, 200, path);
    assert.is(r.headers.get('content-type'), 'application/octet-stream');
    assert.match(r.headers.get('content-disposition')!, /^attachment; filename="heap-[0-9TZ-]+\.pb\.gz"$/);
    const body = new Uint8Array(await r.arrayBuffer());
    const profile = validPprof(body, path);
    const top = await pprofTop(body);
    assert.match(top, /^Type: inuse_space$/m);
    assertShowsService(top, serviceFunctions(profile), path);
  }
});

test('a heap profile taken just after start-up holds what the service loaded and built as it started', async () => {
  // The sampler used to start late in start-up, after every module had loaded: the profile held
  // 1.5 MB of a 20 MB heap. Node's own start and the sampler's modules are still not in it, nor
  // garbage not yet collected, so a third is asked.
  const fresh = await startRestServer();
  try {
    const r = await fetch(`${fresh.url}/debug/pprof/heap`);
    assert.is(r.status, 200);
    const profile = validPprof(new Uint8Array(await r.arrayBuffer()), 'heap');
    const inUse = profile.sample.reduce((sum, s) => sum + Number(s.value[1]), 0);
    const { memory } = await new Rest(fresh.url).getOk(`${API}/profiling`);
    const used = Number(memory.heap_used_bytes);
    assert.ok(inUse >= used / 3, `inuse_space ${inUse} bytes of heap_used_bytes ${used}`);
  } finally {
    await fresh.stop();
  }
});

test('flamegraph?seconds=1 is a self-contained SVG with a tooltip per frame', async () => {
  const capture = fetch(`${server.url}/debug/pprof/flamegraph?seconds=1`);
  await loadUntil(capture);
  const r = await capture;
  assert.is(r.status, 200);
  assert.is(r.headers.get('content-type'), 'image/svg+xml; charset=utf-8');
  const svg = await r.text();
  const facts = await parseSvg(svg);
  assert.is(facts.root, '{http://www.w3.org/2000/svg}svg');
  assert.ok(facts.titles > 3, `frames with <title> tooltips: ${facts.titles}`);
  assert.match(svg, /CPU/);
  assertSelfContained(svg);
});

test('flamegraph?type=heap is the heap as a self-contained SVG', async () => {
  const r = await fetch(`${server.url}/debug/pprof/flamegraph?type=heap`);
  assert.is(r.status, 200);
  assert.is(r.headers.get('content-type'), 'image/svg+xml; charset=utf-8');
  const svg = await r.text();
  const facts = await parseSvg(svg);
  assert.ok(facts.titles > 3, `frames with <title> tooltips: ${facts.titles}`);
  assert.match(svg, /heap/);
  assertSelfContained(svg);
});

test('bad seconds, types and parameters are 400 naming the parameter', async () => {
  for (const seconds of ['-1', 'abc', '1.5', 'NaN', 'Infinity']) {
    assertError(await rest.get(`/debug/pprof/profile?seconds=${seconds}`), 400, 'invalid_argument', 'seconds');
    assertError(await rest.get(`/debug/pprof/flamegraph?seconds=${seconds}`), 400, 'invalid_argument', 'seconds');
  }
  assertError(await rest.get('/debug/pprof/flamegraph?type=wall'), 400, 'invalid_argument', 'type');
  assertError(await rest.get('/debug/pprof/profile?duration=1'), 400, 'invalid_argument', 'duration');
  assertError(await rest.get('/debug/pprof/heap?seconds=1'), 400, 'invalid_argument', /seconds: delta heap profiles are not served; \/debug\/pprof\/heap is/);
  assertError(await rest.get('/debug/pprof/allocs?seconds=1'), 400, 'invalid_argument', /seconds: delta heap profiles are not served; \/debug\/pprof\/allocs is/);
  // The heap flame graph is the live heap too: a length, even one above the maximum, was ignored with a 200.
  for (const seconds of ['1', '61', '0', '']) {
    assertError(await rest.get(`/debug/pprof/flamegraph?type=heap&seconds=${seconds}`), 400, 'invalid_argument', /^seconds: a heap flame graph is the live heap now/);
  }
  assertError(await rest.get('/debug/pprof/?debug=1'), 400, 'invalid_argument', 'debug');
  // Go's debug=0 is the binary profile, as without it; text output (debug=1) is not served.
  assertError(await rest.get('/debug/pprof/heap?debug=1'), 400, 'invalid_argument', /^debug: text profiles are not served, got '1'/);
  assertError(await rest.get('/debug/pprof/profile?seconds=1&debug=2'), 400, 'invalid_argument', /^debug: text profiles are not served/);
  // An escape that is not UTF-8 is named as such, as on the REST paths, not echoed as U+FFFD.
  assertError(await rest.get('/debug/pprof/profile?seconds=%FF'), 400, 'invalid_argument', /^seconds: must be percent-encoded UTF-8 in the query .*, got "%FF"$/);
  assertError(await rest.get('/debug/pprof/profile?%FF=1'), 400, 'invalid_argument', /^query: a parameter name must be percent-encoded UTF-8 .*, got "%FF"$/);
});

test('a parameter given twice is 400 naming it, as on the REST paths, rather than one of its values taken', async () => {
  // profile?seconds=1&seconds=3 ran a 3 s capture.
  const started = Date.now();
  assertError(await rest.get('/debug/pprof/profile?seconds=1&seconds=3'), 400, 'invalid_argument', /^seconds: given more than once$/);
  assert.ok(Date.now() - started < 900, `refused at once, not after a capture: ${Date.now() - started} ms`);
  assertError(await rest.get('/debug/pprof/flamegraph?seconds=1&seconds=1'), 400, 'invalid_argument', 'seconds');
  assertError(await rest.get('/debug/pprof/flamegraph?type=heap&type=cpu'), 400, 'invalid_argument', 'type');
  assertError(await rest.get('/debug/pprof/heap?gc=1&gc=0'), 400, 'invalid_argument', 'gc');
  assertError(await rest.get(`${API}/profiling?seconds=1&seconds=3`), 400, 'invalid_argument', /^seconds: given more than once$/);
});

test('seconds=0 and an empty seconds mean the default length, as in Go and on the REST path', async () => {
  for (const seconds of ['0', '']) {
    // A refusal would come at once; the capture itself runs for its default length, so stop waiting.
    const outcome = await fetch(`${server.url}/debug/pprof/profile?seconds=${seconds}`, { signal: AbortSignal.timeout(500) }).then(
      async (r) => `status ${r.status}: ${await r.text()}`,
      (error: Error) => error.name,
    );
    assert.is(outcome, 'TimeoutError', `seconds=${seconds}`);
  }
});

test("Go's debug=0 is taken: the binary profile, as without it", async () => {
  for (const path of ['/debug/pprof/heap?debug=0', '/debug/pprof/allocs?debug=', '/debug/pprof/profile?seconds=1&debug=0']) {
    const r = await fetch(server.url + path);
    assert.is(r.status, 200, `${path}: ${r.status === 200 ? '' : await r.text()}`);
    assert.is(r.headers.get('content-type'), 'application/octet-stream', path);
    await r.arrayBuffer();
  }
});

test('seconds beyond RS3GW_PROFILING_MAX_SECONDS is 400 naming seconds, the parameter the user gave', async () => {
  assertError(await rest.get('/debug/pprof/profile?seconds=6'), 400, 'invalid_argument', 'seconds');
  assertError(await rest.get('/debug/pprof/flamegraph?seconds=6'), 400, 'invalid_argument', 'seconds');
});

test('a length beyond RS3GW_PROFILING_MAX_SECONDS is refused naming the setting, the maximum and the length as given', async () => {
  for (const path of ['profile', 'flamegraph']) {
    // From 2^32 on it said "must be a whole number of seconds", which it is.
    for (const seconds of ['6', '4294967295', '4294967296', '99999999999999999999']) {
      const r = await rest.get(`/debug/pprof/${path}?seconds=${seconds}`);
      assertError(r, 400, 'invalid_argument', new RegExp(`^seconds: must be at most 5 \\(RS3GW_PROFILING_MAX_SECONDS\\), got ${seconds}$`));
    }
  }
  // Said "got 5.000100000000001", the length after a trip through milliseconds.
  const r = await rest.post('/rs3gw.observability.v1.ProfilingService/CaptureProfile', { duration: '5.0001s' });
  assertError(r, 400, 'invalid_argument', /^duration: must be at most 5 \(RS3GW_PROFILING_MAX_SECONDS\), got 5\.0001$/);
});

test('/debug/pprof calls, refused ones included, are counted as the CaptureProfile calls they are', async () => {
  const counts = async () => {
    const text = await (await fetch(`${server.url}/metrics`)).text();
    const lines = text.split('\n').filter((l) => l.startsWith('rs3gw_rpc_server_duration_seconds_count{') && l.includes('ProfilingService'));
    const count = (method: string, code: string) =>
      lines.filter((l) => l.includes(`method="${method}"`) && l.includes('protocol="rest"') && l.includes(`code="${code}"`)).reduce((n, l) => n + Number(l.split(' ').at(-1)), 0);
    return { ok: count('CaptureProfile', 'ok'), refused: count('CaptureProfile', 'invalid_argument'), getProfile: count('GetProfile', 'ok') + count('GetProfile', 'invalid_argument') };
  };
  const before = await counts();
  assert.is((await fetch(`${server.url}/debug/pprof/heap`).then(async (r) => (await r.arrayBuffer(), r))).status, 200);
  assertError(await rest.get('/debug/pprof/profile?seconds=6'), 400, 'invalid_argument', 'seconds');
  // Refused while reading the query: still a CaptureProfile call, refused.
  assertError(await rest.get('/debug/pprof/profile?seconds=abc'), 400, 'invalid_argument', 'seconds');
  assertError(await rest.get('/debug/pprof/flamegraph?type=wall'), 400, 'invalid_argument', 'type');
  assertError(await rest.get('/debug/pprof/heap?debug=1'), 400, 'invalid_argument', 'debug');
  const after = await counts();
  assert.equal(
    { ok: after.ok - before.ok, refused: after.refused - before.refused, getProfile: after.getProfile - before.getProfile },
    { ok: 1, refused: 4, getProfile: 0 },
  );
});

test('heap?seconds= (empty) is the live heap, as Go serves it; a length is still refused', async () => {
  for (const path of ['heap', 'allocs']) {
    // Refused as a delta profile before; Go's handler takes a delta only for a seconds not empty.
    const r = await fetch(`${server.url}/debug/pprof/${path}?seconds=`);
    assert.is(r.status, 200, `${path}?seconds=: ${r.status}`);
    validPprof(new Uint8Array(await r.arrayBuffer()), `${path}?seconds=`);
    assertError(await rest.get(`/debug/pprof/${path}?seconds=0`), 400, 'invalid_argument', /^seconds: delta heap profiles are not served/);
  }
});

test('an unknown pprof path is 404', async () => {
  assertError(await rest.get('/debug/pprof/goroutine'), 404, 'not_found', /no pprof path \/debug\/pprof\/goroutine/);
});

test('a method other than GET is 405 with Allow, as on /metrics and the REST paths', async () => {
  for (const path of ['/debug/pprof/heap', '/debug/pprof/profile?seconds=1', '/debug/pprof/']) {
    const r = await fetch(server.url + path, { method: 'POST', body: '' });
    assert.is(r.status, 405, `POST ${path}: ${r.status}`);
    assert.match(r.headers.get('allow') ?? '', /GET/, `POST ${path}: Allow`);
  }
  // HEAD of a profile would capture one only to send nothing.
  const head = await fetch(`${server.url}/debug/pprof/profile?seconds=1`, { method: 'HEAD' });
  assert.is(head.status, 405);
  assert.is(head.headers.get('allow'), 'GET');
});

test.run();
