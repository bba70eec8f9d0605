/**
 * ProfilingService over REST: pprof downloads that `go tool pprof` opens, recorded I/O with its
 * latency percentiles, snapshots, other watched processes, and the continuous-profiling store with
 * its retention cap.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { createClient } from '@connectrpc/connect';
import { createGrpcTransport } from '@connectrpc/connect-node';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { IoDirection, ProfilingService } from '../../gen/ts/rs3gw/observability/v1/profiling_pb.js';
import type { RunningServer } from '../support/server.js';
import { API, Rest, assertError, assertNear, assertSnakeCase, durationMs, eventually, int, startRestServer, timeMs, type Json } from './support/rest-http.js';
import { pprofTop, validPprof } from './support/rest-pprof.js';

/** A pid that existed a moment ago and has exited. */
const deadPid = spawnSync(process.execPath, ['-e', '0']).pid!;

/** `sh` starts a short sleep, then becomes a long sleep that never reaps it: the short one stays a zombie. */
const zombieParent: ChildProcess = spawn('sh', ['-c', 'sleep 0.1 & exec sleep 1000'], { stdio: 'ignore' });
process.on('exit', () => zombieParent.kill());

/** The pid of the parent's child once the kernel shows it in state Z. */
function zombieChild(parentPid: number): number | undefined {
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${name}/stat`, 'utf8');
    } catch {
      continue; // exited meanwhile
    }
    const [state, ppid] = stat.slice(stat.lastIndexOf(')') + 1).trim().split(/\s+/);
    if (Number(ppid) === parentPid && state === 'Z') return Number(name);
  }
  return undefined;
}

/**
 * A process whose first thread has exited (pthread_exit) while a second one keeps a core busy: the
 * kernel lists its first thread as Z, yet the process runs.
 */
const leaderGone: ChildProcess = spawn(
  'python3',
  ['-c', 'import ctypes, threading, time\nthreading.Thread(target=lambda: [0 for _ in iter(int, 1)]).start()\ntime.sleep(0.05)\nctypes.CDLL(None).pthread_exit(None)'],
  { stdio: 'ignore' },
);
process.on('exit', () => leaderGone.kill('SIGKILL'));

/** The state letter in /proc/<pid>/stat. */
function stateOf(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 1).trim().split(/\s+/)[0];
  } catch {
    return undefined;
  }
}

let zombiePid: number;
let server: RunningServer;
let rest: Rest;

test.before(async () => {
  zombiePid = await eventually('a zombie child of sh', async () => zombieChild(zombieParent.pid!), 5000, 20);
  await eventually('python3 with its first thread exited', async () => stateOf(leaderGone.pid!) === 'Z' || undefined, 5000, 20);
  // The test runner itself is a second watched process; a process that has exited is a third, one
  // that has exited but is not yet reaped (a zombie) a fourth, and one whose first thread exited a fifth.
  server = await startRestServer({
    RS3GW_PROFILING_PIDS: `${process.pid},${deadPid},${zombiePid},${leaderGone.pid}`,
    RS3GW_PROFILING_MAX_SECONDS: '5',
  });
  rest = new Rest(server.url);
});

test.after(async () => {
  zombieParent.kill(); // its zombie is then reaped by init (or the nearest subreaper)
  leaderGone.kill('SIGKILL');
  await server.stop();
});

async function download(path: string): Promise<{ response: Response; body: Uint8Array }> {
  const response = await fetch(server.url + path);
  const body = new Uint8Array(await response.arrayBuffer());
  assert.is(response.status, 200, `${path}: ${response.status} ${Buffer.from(body).toString().slice(0, 300)}`);
  return { response, body };
}

function assertPprofDownload(response: Response, kind: 'cpu' | 'heap'): void {
  assert.is(response.headers.get('content-type'), 'application/octet-stream');
  assert.match(response.headers.get('content-disposition') ?? '', new RegExp(`^attachment; filename="${kind}-[0-9TZ-]+\\.pb\\.gz"$`));
}

test('format=pprof&type=cpu&seconds=1 downloads a CPU profile go tool pprof opens', async () => {
  const started = Date.now();
  const { response, body } = await download(`${API}/profiling?format=pprof&type=cpu&seconds=1`);
  assert.ok(Date.now() - started >= 900, 'sampled for about the second asked for');
  assertPprofDownload(response, 'cpu');
  const profile = validPprof(body, 'cpu profile');
  const types = profile.sampleType.map((t) => profile.stringTable.strings[Number(t.type)]);
  assert.equal(types, ['samples', 'wall']);
  const top = await pprofTop(body);
  assert.match(top, /^Type: wall$/m);
  assert.match(top, /^Duration: 1(\.\d+)?s/m);
});

test('a CPU capture queued behind another reports when its sampling started, as its profile does', async () => {
  const capture = async () => {
    const response = await fetch(`${server.url}/rs3gw.observability.v1.ProfilingService/CaptureProfile`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"duration":"0.5s"}',
    });
    assert.is(response.status, 200);
    const body = (await response.json()) as { info: { startTime: string }; pprof: { data: string }; fileName: string };
    const profile = validPprof(new Uint8Array(Buffer.from(body.pprof.data, 'base64')), 'cpu profile');
    return { startMs: timeMs(body.info.startTime), profileStartMs: Number(BigInt(profile.timeNanos) / 1_000_000n), fileName: body.fileName };
  };
  const [first, second] = await Promise.all([capture(), capture()]);
  const [earlier, later] = first.startMs <= second.startMs ? [first, second] : [second, first];
  assert.ok(later.startMs - earlier.startMs >= 450, `the second capture started once the first had sampled 0.5 s: ${later.startMs - earlier.startMs} ms apart`);
  for (const c of [earlier, later]) {
    assert.is(c.startMs, c.profileStartMs, 'start_time is the profile’s own start');
    assert.is(c.fileName, `cpu-${new Date(c.startMs).toISOString().replace(/[:.]/g, '-')}.pb.gz`);
  }
});

test('format=pprof&type=heap downloads the live heap, in every enum spelling', async () => {
  for (const q of ['format=pprof&type=heap', 'format=PPROF&type=Heap', 'format=PROFILE_FORMAT_PPROF&type=PROFILE_TYPE_HEAP']) {
    const { response, body } = await download(`${API}/profiling?${q}`);
    assertPprofDownload(response, 'heap');
    const profile = validPprof(body, q);
    const types = profile.sampleType.map((t) => profile.stringTable.strings[Number(t.type)]);
    assert.equal(types, ['inuse_objects', 'inuse_space'], q);
  }
  const { body } = await download(`${API}/profiling?format=pprof&type=heap`);
  const top = await pprofTop(body);
  assert.match(top, /^Type: inuse_space$/m);
  assert.not.match(top, /^Duration:/m, 'live memory now: no duration (the service has been up for seconds)');
  // CaptureProfile's duration is ignored for a heap profile, as the proto says: not checked either.
  const heap = await fetch(`${server.url}/rs3gw.observability.v1.ProfilingService/CaptureProfile`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ type: 'PROFILE_TYPE_HEAP', duration: '-1s' }),
  });
  assert.is(heap.status, 200, await heap.clone().text());
  assert.ok((((await heap.json()) as Json).pprof?.data ?? '').length > 0, 'a heap profile');
});

test('a CPU profile that names no length lasts RS3GW_PROFILING_MAX_SECONDS when that is below 30 s', async () => {
  // The default of 30 s would exceed the maximum: it was refused although the client never asked for 30.
  const short = await startRestServer({ RS3GW_PROFILING_MAX_SECONDS: '1' });
  try {
    const rest = await fetch(`${short.url}${API}/profiling?format=pprof&type=cpu`);
    const body = new Uint8Array(await rest.arrayBuffer());
    assert.is(rest.status, 200, Buffer.from(body).toString().slice(0, 300));
    validPprof(body, 'REST');
    assert.match(await pprofTop(body), /^Duration: 1(\.\d+)?s/m);

    const debug = await fetch(`${short.url}/debug/pprof/profile`);
    assert.is(debug.status, 200, await debug.clone().text());
    validPprof(new Uint8Array(await debug.arrayBuffer()), '/debug/pprof/profile');

    const grpc = createClient(ProfilingService, createGrpcTransport({ baseUrl: short.url }));
    const captured = await grpc.captureProfile({});
    // The info says how long sampling ran, as the profile does: 1 s asked, a little more measured.
    const ranNanos = BigInt(validPprof(captured.pprof!.data, 'CaptureProfile').durationNanos);
    const infoMs = Number(captured.info!.duration!.seconds) * 1000 + captured.info!.duration!.nanos / 1e6;
    assert.ok(ranNanos >= 1_000_000_000n, `ran ${ranNanos} ns`);
    assert.is(infoMs, Math.round(Number(ranNanos) / 1e6), 'the measured duration, to the millisecond');
  } finally {
    await short.stop();
  }
});

test('HEAD of a profile or a merge is 405 with Allow: GET, as on /debug/pprof, rather than work that sends nothing', async () => {
  // It answered 200 after the whole capture (30 s without seconds), holding the one capture slot.
  for (const q of ['format=PROFILE_FORMAT_PPROF&seconds=5', 'format=pprof&type=cpu', 'format=pprof&type=heap', 'format=json']) {
    const r = await fetch(`${server.url}${API}/profiling?${q}`, { method: 'HEAD' });
    assert.is(r.status, 405, q);
    assert.is(r.headers.get('allow'), 'GET', q);
  }
  // A merge of stored profiles likewise: seconds of work on the merge's slot, for headers only.
  const merge = await fetch(`${server.url}${API}/profiling/merged`, { method: 'HEAD' });
  assert.is(merge.status, 405);
  assert.is(merge.headers.get('allow'), 'GET');
  // The other GET paths still answer HEAD with the headers of GET.
  const head = await fetch(`${server.url}${API}/profiling/processes`, { method: 'HEAD' });
  assert.is(head.status, 200);
  assert.is(await head.text(), '');
});

test('bad pprof requests are refused naming the parameter', async () => {
  assertError(await rest.get(`${API}/profiling?format=pprof&seconds=6`), 400, 'invalid_argument', 'seconds');
  assertError(await rest.get(`${API}/profiling?format=pprof&seconds=-1`), 400, 'invalid_argument', 'seconds');
  assertError(await rest.get(`${API}/profiling?format=pprof&type=wall`), 400, 'invalid_argument', 'type');
  // A field the asked profile does not read is refused, not dropped.
  assertError(await rest.get(`${API}/profiling?format=pprof&type=heap&seconds=5`), 400, 'invalid_argument', /^seconds: a heap profile is the heap now and takes no length/);
  assertError(await rest.get(`${API}/profiling?format=json&seconds=5`), 400, 'invalid_argument', /^seconds: applies to a CPU pprof profile only/);
  assertError(await rest.get(`${API}/profiling?type=heap`), 400, 'invalid_argument', /^type: applies to a pprof profile only/);
  assertError(await rest.get(`${API}/profiling?format=pprof&pid=${process.pid}`), 400, 'invalid_argument', 'pid');
  assertError(await rest.get(`${API}/profiling?format=pdf`), 400, 'invalid_argument', 'format');
  const reversed = await rest.get(`${API}/profiling/profiles?start_time=2026-12-06T00:00:00Z&end_time=2026-12-05T00:00:00Z`);
  assertError(reversed, 400, 'invalid_argument', /^end_time: must not be before start_time \(2026-12-06T00:00:00\.000Z\), got 2026-12-05T00:00:00\.000Z$/);
});

test('recorded I/O shows as counts, bytes and latency percentiles', async () => {
  // Reads of 0.1 .. 10 ms in 0.1 ms steps, writes of exactly 123.4 us.
  const operations: Json[] = [];
  for (let i = 1; i <= 100; i++) operations.push({ direction: 'IO_DIRECTION_READ', bytes: '4096', latency: `${(i / 10_000).toFixed(4)}s` });
  for (let i = 0; i < 20; i++) operations.push({ direction: 'IO_DIRECTION_WRITE', bytes: '1000', latency: '0.0001234s' });
  assert.equal(await rest.postOk(`${API}/profiling/io`, { operations }), { accepted: 120 });
  const io = (await rest.getOk(`${API}/profiling`)).io;
  assertSnakeCase(io);
  assert.is(io.read_ops, '100');
  assert.is(io.write_ops, '20');
  assert.is(int(io.read_bytes), 409_600);
  assert.is(int(io.write_bytes), 20_000);
  assertNear(io.read_latency_us, 5050, 1e-9, 'mean read latency');
  // Nearest-rank percentiles within the documented 1%.
  assertNear(io.read_latency_p50_us, 5000, 0.01, 'read p50');
  assertNear(io.read_latency_p95_us, 9500, 0.01, 'read p95');
  assertNear(io.read_latency_p99_us, 9900, 0.01, 'read p99');
  // In whole nanoseconds, as the Duration was sent (through milliseconds it read 123.40000000000005).
  assert.is(io.write_latency_us, 123.4, 'mean write latency');
  assertNear(io.write_latency_p50_us, 123.4, 0.01, 'write p50');
  assertNear(io.write_latency_p99_us, 123.4, 0.01, 'write p99');
  const h = await rest.getOk(`${API}/health`);
  assert.is(h.profiling.io.read_ops, '100', 'the health report shows the same figures');
  // Reads whose latency was not measured count as reads, not as reads of no time.
  await rest.postOk(`${API}/profiling/io`, { operations: Array.from({ length: 50 }, () => ({ direction: 'IO_DIRECTION_READ', bytes: '1' })) });
  const unmeasured = (await rest.getOk(`${API}/profiling`)).io;
  assert.is(unmeasured.read_ops, '150');
  assertNear(unmeasured.read_latency_us, 5050, 1e-9, 'mean of the measured read latencies');
  assertNear(unmeasured.read_latency_p50_us, 5000, 0.01, 'read p50 of the measured ones');
});

test('a bad I/O operation is refused naming it, and its batch records nothing', async () => {
  const read = { direction: 'IO_DIRECTION_READ', bytes: '1', latency: '0.001s' };
  const post = (operations: Json[]) => rest.post(`${API}/profiling/io`, { operations });
  assertError(await post([read, { bytes: '1' }]), 400, 'invalid_argument', 'operations[1].direction');
  assertError(await post([read, { ...read, direction: 5 }]), 400, 'invalid_argument', 'operations[1].direction');
  assertError(await post([read, read, { ...read, latency: '-0.5s' }]), 400, 'invalid_argument', 'operations[2].latency');
  assert.is((await rest.getOk(`${API}/profiling`)).io.read_ops, '150', 'nothing recorded');
});

test('byte counts are uint64: exact past 2^53, the largest accepted, and totals saturate at 2^64 - 1', async () => {
  const io = async () => (await rest.getOk(`${API}/profiling`)).io;
  const post = (direction: string, bytes: string) => rest.postOk(`${API}/profiling/io`, { operations: [{ direction, bytes, latency: '1s' }] });
  const before = await io();
  assert.equal(await post('IO_DIRECTION_READ', '9007199254740992'), { accepted: 1 });
  assert.is((await io()).read_bytes, String(BigInt(before.read_bytes) + 2n ** 53n));
  // 2^53 - 1 bytes, then five writes of one byte: each one counts.
  await post('IO_DIRECTION_WRITE', '9007199254740991');
  for (let i = 0; i < 5; i++) await post('IO_DIRECTION_WRITE', '1');
  const after = await io();
  assert.is(after.write_bytes, String(BigInt(before.write_bytes) + 9_007_199_254_740_996n));
  assert.is(after.write_ops, String(BigInt(before.write_ops) + 6n));

  // The same over native gRPC, with the largest uint64: accepted, and the total stops there.
  const grpc = createClient(ProfilingService, createGrpcTransport({ baseUrl: server.url }));
  const max = 2n ** 64n - 1n;
  const reply = await grpc.recordIo({ operations: [{ direction: IoDirection.WRITE, bytes: max, latency: { seconds: 1n } }] });
  assert.is(reply.accepted, 1);
  await post('IO_DIRECTION_WRITE', '1');
  const saturated = await io();
  assert.is(saturated.write_bytes, '18446744073709551615');
  assert.is(saturated.write_ops, String(BigInt(before.write_ops) + 8n));
  // One past uint64 is not a uint64: refused by the JSON reader before it reaches the engine.
  assert.is((await rest.post(`${API}/profiling/io`, { operations: [{ direction: 'IO_DIRECTION_READ', bytes: '18446744073709551616', latency: '1s' }] })).status, 400);
});

test('another allowlisted process is measured, and a process that exited is reported as such', async () => {
  const list = await rest.getOk(`${API}/profiling/processes`);
  const byPid = new Map<number, Json>(list.processes.map((p: Json) => [p.pid, p]));
  const self = server.process.pid!;
  assert.equal(byPid.get(self), { pid: self, command: 'node', self: true, alive: true, error: '' });
  assert.equal(byPid.get(process.pid), { pid: process.pid, command: 'node', self: false, alive: true, error: '' });
  const dead = byPid.get(deadPid);
  assert.ok(dead, `pid ${deadPid} listed`);
  assert.is(dead.alive, false);
  assert.ok(dead.error.length > 0, 'says why');

  const other = await rest.getOk(`${API}/profiling?pid=${process.pid}`);
  assert.is(other.pid, process.pid);
  assert.ok(int(other.memory.rss_bytes) > 0);
  assert.ok(int(other.cpu.total_time_us) > 0);
  assert.is(other.memory.heap_used_bytes, '0', 'V8 heap figures are for this service only');
  assertError(await rest.get(`${API}/profiling?pid=${deadPid}`), 404, 'not_found', 'pid');
});

test('a zombie (exited, not yet reaped by its parent) is reported as exited, not as an idle live process', async () => {
  const list = await rest.getOk(`${API}/profiling/processes`);
  const zombie = list.processes.find((p: Json) => p.pid === zombiePid);
  assert.ok(zombie, `pid ${zombiePid} listed`);
  assert.is(zombie.alive, false);
  // A zombie at start-up: the pid named no running process then, so none is served under it.
  const reason = `process ${zombiePid} has exited (zombie, not yet reaped by its parent ${zombieParent.pid})`;
  assert.is(zombie.error, `pid: ${zombiePid} is not served: at start-up it named no running process (${reason}), and a process that takes the pid later is not the one the allowlist meant`);
  assertError(await rest.get(`${API}/profiling?pid=${zombiePid}`), 404, 'not_found', /^pid: \d+ is not served: at start-up it named no running process \(process \d+ has exited \(zombie/);
});

test('a process whose first thread exited while another runs is measured as running, not as exited', async () => {
  const pid = leaderGone.pid!;
  assert.is(stateOf(pid), 'Z', 'the kernel lists its first thread as a zombie');
  const listed = (await rest.getOk(`${API}/profiling/processes`)).processes.find((p: Json) => p.pid === pid);
  assert.is(listed.alive, true, JSON.stringify(listed));
  const first = await rest.getOk(`${API}/profiling?pid=${pid}`);
  assert.ok(int(first.memory.rss_bytes) > 1 << 20, `the running thread's memory: rss ${first.memory.rss_bytes}`);
  assert.is(first.cpu.threads, 2);
  await new Promise((resolve) => setTimeout(resolve, 300));
  const later = await rest.getOk(`${API}/profiling?pid=${pid}`);
  assert.ok(int(later.cpu.total_time_us) > int(first.cpu.total_time_us), 'its CPU time grows');
});

test('snapshots of this service carry its V8 heap figures, as its measurements do', async () => {
  // profiling.proto, MemoryUsage.heap_used_bytes: "V8 heap in use, bytes; only for this service."
  const s = (await rest.getOk(`${API}/profiling/snapshots?limit=1`)).snapshots[0];
  assert.is(s.pid, server.process.pid);
  assert.ok(int(s.memory.heap_used_bytes) > 0, `heap_used_bytes ${s.memory.heap_used_bytes}`);
  assert.ok(int(s.memory.heap_limit_bytes) > 0, `heap_limit_bytes ${s.memory.heap_limit_bytes}`);
});

test('snapshots are kept per process, newest first, with the caps', async () => {
  const body = await rest.getOk(`${API}/profiling/snapshots?pid=0&limit=1`);
  assert.is(body.snapshots.length, 1);
  assert.is(body.retention, 100);
  assert.is(durationMs(body.interval), 60_000);
  const other = await rest.getOk(`${API}/profiling/snapshots?pid=${process.pid}`);
  assert.ok(other.snapshots.every((x: Json) => x.pid === process.pid));
  assertError(await rest.get(`${API}/profiling/snapshots?pid=1`), 403, 'permission_denied', 'pid');
  assertError(await rest.get(`${API}/profiling/snapshots?limit=0x10`), 400, 'invalid_argument', 'limit');
});

test('stored profiles are filtered by their exact start time, not by the bounds rounded to the millisecond', async () => {
  const continuous = await startRestServer({
    RS3GW_PROFILING_CONTINUOUS: 'true',
    RS3GW_PROFILING_CONTINUOUS_INTERVAL: '3600',
    RS3GW_PROFILING_CONTINUOUS_DURATION: '0.1',
  });
  try {
    const c = new Rest(continuous.url);
    const [profile] = await eventually('the first background profile', async () => {
      const l = await c.getOk(`${API}/profiling/profiles`);
      return l.profiles.length > 0 ? l.profiles : undefined;
    });
    // Start times are whole milliseconds (e.g. 11:34:25.256Z); bounds may carry nanoseconds.
    const start = new Date(timeMs(profile.start_time)).toISOString();
    const plus = (digits: string) => encodeURIComponent(start.replace(/Z$/, `${digits}Z`));
    const before = encodeURIComponent(new Date(timeMs(profile.start_time) - 1).toISOString().replace(/Z$/, '999999Z'));
    const ids = async (q: string) => (await c.getOk(`${API}/profiling/profiles?${q}`)).profiles.map((p: Json) => p.id);
    const merged = async (q: string) => (await c.get(`${API}/profiling/merged?${q}`)).status;

    // start_time: "started at or after".
    assert.equal(await ids(`start_time=${plus('')}`), [profile.id]);
    assert.equal(await ids(`start_time=${before}`), [profile.id], 'a nanosecond earlier');
    assert.equal(await ids(`start_time=${plus('1')}`), [], 'a tenth of a millisecond later');
    assert.is(await merged(`start_time=${plus('1')}`), 400);
    // end_time: "started before".
    assert.equal(await ids(`end_time=${plus('')}`), []);
    assert.equal(await ids(`end_time=${plus('000001')}`), [profile.id], 'a nanosecond later');
    assert.is(await merged(`end_time=${plus('000001')}`), 200);
    assert.equal(await ids(`end_time=${before}`), [], 'a nanosecond earlier');
  } finally {
    await continuous.stop();
  }
});

test('snapshots are filtered by their exact time: since a tenth of a millisecond after one leaves it out', async () => {
  const [newest] = (await rest.getOk(`${API}/profiling/snapshots?limit=1`)).snapshots;
  const at = new Date(timeMs(newest.timestamp)).toISOString();
  const since = async (t: string) => (await rest.getOk(`${API}/profiling/snapshots?since=${encodeURIComponent(t)}`)).snapshots.map((s: Json) => timeMs(s.timestamp));
  assert.ok((await since(at)).includes(timeMs(newest.timestamp)), 'at its time');
  assert.ok((await since(at.replace(/Z$/, '1Z'))).every((t: number) => t > timeMs(newest.timestamp)), 'after its time');
});

test('continuous profiling stores profiles under its cap; each downloads and they merge', async () => {
  const continuous = await startRestServer({
    RS3GW_PROFILING_CONTINUOUS: 'true',
    RS3GW_PROFILING_CONTINUOUS_INTERVAL: '1.2',
    RS3GW_PROFILING_CONTINUOUS_DURATION: '0.4',
    RS3GW_PROFILING_MAX_PROFILES: '2',
  });
  try {
    const c = new Rest(continuous.url);
    // Ids end in the capture's sequence number: wait until a third capture was stored.
    const list = await eventually('a third background profile', async () => {
      const l = await c.getOk(`${API}/profiling/profiles`);
      return l.profiles.some((p: Json) => Number(p.id.split('-').pop()) >= 3) ? l : undefined;
    }, 30_000, 200);
    assertSnakeCase(list);
    assert.is(list.profiles.length, 2, 'RS3GW_PROFILING_MAX_PROFILES=2 keeps two');
    const [newest, older] = list.profiles;
    assert.ok(timeMs(newest.start_time) > timeMs(older.start_time), 'newest first');
    assert.is(newest.type, 'PROFILE_TYPE_CPU');
    assertNear(durationMs(newest.duration), 400, 0.5, 'each capture lasts about RS3GW_PROFILING_CONTINUOUS_DURATION');
    assert.ok(int(newest.size_bytes) > 0);

    const one = await fetch(`${continuous.url}${API}/profiling/profiles/${encodeURIComponent(newest.id)}`);
    assert.is(one.status, 200);
    assertPprofDownload(one, 'cpu');
    const body = new Uint8Array(await one.arrayBuffer());
    assert.is(body.length, int(newest.size_bytes));
    validPprof(body, 'stored profile');
    assert.match(await pprofTop(body), /^Type: wall$/m);

    const merged = await fetch(`${continuous.url}${API}/profiling/merged?start_time=${encodeURIComponent(older.start_time)}`);
    assert.is(merged.status, 200);
    assert.match(merged.headers.get('content-disposition') ?? '', /^attachment; filename="cpu-merged-[0-9TZ-]+\.pb\.gz"$/);
    const mergedBody = new Uint8Array(await merged.arrayBuffer());
    validPprof(mergedBody, 'merged profile');
    assert.match(await pprofTop(mergedBody), /^Type: wall$/m);

    assert.is((await c.getOk(`${API}/profiling/profiles?limit=1`)).profiles.length, 1);
    assert.equal((await c.getOk(`${API}/profiling/profiles?type=heap`)).profiles, [], 'only CPU profiles are stored');
    const future = new Date(Date.now() + 3_600_000).toISOString();
    assert.equal((await c.getOk(`${API}/profiling/profiles?start_time=${future}`)).profiles, []);
    assertError(await c.get(`${API}/profiling/merged?type=heap`), 400, 'invalid_argument', 'type');
    assertError(await c.get(`${API}/profiling/merged?start_time=${future}`), 400, 'failed_precondition', /no stored profiles/);
    assertError(await c.get(`${API}/profiling/profiles/cpu-0-0`), 404, 'not_found', 'id');
  } finally {
    await continuous.stop();
  }
});

test.run();
