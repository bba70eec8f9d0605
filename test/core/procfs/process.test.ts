import { chmodSync, cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { exitedState, parseProcessStat } from '../../../src/core/procfs/process-stat.js';
import { ProcReader } from '../../../src/core/procfs/reader.js';
import { errorOf } from '../../support/errors.js';

const fixture = (name: string): string => fileURLToPath(new URL(`../../fixtures/procfs/${name}`, import.meta.url));
const v2 = new ProcReader({ root: fixture('cgroup-v2-limited') });

test('stat: fields are read after the last ")" even when comm holds ") (" and spaces', () => {
  const stat = v2.processStat(4242);
  assert.is(stat.comm, 'rs3gw) (io 2');
  assert.is(stat.state, 'S');
  assert.is(stat.ppid, 1);
  assert.is(stat.utimeTicks, 10000);
  assert.is(stat.stimeTicks, 5000);
  assert.is(stat.numThreads, 9);
  assert.is(stat.startTimeTicks, 100000);
  assert.is(stat.vsizeBytes, 1073741824);
  assert.is(stat.rssPages, 65536);
});

test('stat: a comm ending in ")" does not shift the fields', () => {
  const stat = parseProcessStat('7 (a b)) R 1 7 7 0 -1 0 0 0 0 0 11 22 0 0 20 0 3 0 44 55 66 0');
  assert.is(stat.comm, 'a b)');
  assert.equal([stat.utimeTicks, stat.stimeTicks, stat.numThreads, stat.startTimeTicks, stat.vsizeBytes, stat.rssPages], [11, 22, 3, 44, 55, 66]);
});

test('stat: a numeric field that is not a whole number is refused, naming it', () => {
  // Tick counts become exact microseconds in integer arithmetic, so a fraction must not slip through.
  assert.throws(() => parseProcessStat('7 (a) R 1 7 7 0 -1 0 0 0 0 0 11.5 22 0 0 20 0 3 0 44 55 66 0'), /field 14 \(utime\) is missing or not an integer/);
  assert.throws(() => parseProcessStat('7 (a) R 1 7 7 0 -1 0 0 0 0 0 11 22 0 0 20 0 3 0 4e400 55 66 0'), /field 22 \(starttime\)/);
});

test('stat: a zombie or dead process is recognised as exited; a running or sleeping one is not', () => {
  const zombie = v2.processStat(4343);
  assert.is(zombie.state, 'Z');
  assert.is(exitedState(zombie), 'zombie, not yet reaped by its parent 4242');
  assert.is(exitedState({ state: 'X', ppid: 1 }), 'state X, dead');
  assert.is(exitedState({ state: 'x', ppid: 1 }), 'state x, dead');
  for (const state of ['R', 'S', 'D', 'T', 't', 'I', 'P', 'W', 'K']) assert.is(exitedState({ state, ppid: 1 }), undefined, state);
  assert.is(exitedState(v2.processStat(4242)), undefined);
});

test('status: kB figures become bytes; Tgid names the process a thread belongs to', () => {
  assert.equal(v2.processStatus(4242), {
    rssBytes: 262144 * 1024,
    peakRssBytes: 393216 * 1024,
    virtualBytes: 1048576 * 1024,
    peakVirtualBytes: 1100000 * 1024,
    threads: 9,
    tgid: 4242,
  });
  assert.is(v2.processStatus(4250).tgid, 4242, '4250 is a thread of 4242');
});

test('io: all seven counters', () => {
  assert.equal(v2.processIo(4242), {
    available: true,
    rchar: 5000000,
    wchar: 3000000,
    syscr: 1200,
    syscw: 800,
    readBytes: 4096000,
    writeBytes: 2048000,
    cancelledWriteBytes: 4096,
  });
});

test('io: a kernel without I/O accounting is reported, not thrown', () => {
  const io = new ProcReader({ root: fixture('cgroup-v2-unlimited') }).processIo(4242);
  assert.is(io.available, false);
  assert.match(io.available ? '' : io.reason, /I\/O accounting/);
});

test('a pid that does not exist is notFound naming the pid', () => {
  const error = errorOf(() => v2.processStat(12345));
  assert.is(error.kind, 'not_found');
  assert.is(error.field, 'pid');
  assert.is(error.message, 'pid: process 12345 does not exist');
  assert.is(errorOf(() => v2.processIo(12345)).kind, 'not_found');
});

test('pids must be positive integers', () => {
  for (const pid of [0, -1, 1.5, Number.NaN, 5_000_000]) {
    const error = errorOf(() => v2.processStat(pid));
    assert.is(error.kind, 'invalid_argument');
    assert.is(error.field, 'pid');
  }
});

// Root reads any file, so an unreadable fixture can only be shown when the tests run as another user.
const runsAsRoot = process.getuid?.() === 0;
test(`an unreadable io file gives a reason; an unreadable stat is permissionDenied${runsAsRoot ? ' (skipped: running as root)' : ''}`, () => {
  if (runsAsRoot) return;
  const root = mkdtempSync(join(tmpdir(), 'procfs-'));
  try {
    cpSync(fixture('cgroup-v2-limited'), root, { recursive: true });
    chmodSync(join(root, 'proc/4242/io'), 0o000);
    chmodSync(join(root, 'proc/4242/stat'), 0o000);
    const reader = new ProcReader({ root });
    const io = reader.processIo(4242);
    assert.is(io.available, false);
    assert.match(io.available ? '' : io.reason, /EACCES/);
    assert.is(errorOf(() => reader.processStat(4242)).kind, 'permission_denied');
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('the real /proc: this process is found and its figures are sane', () => {
  const reader = new ProcReader();
  const stat = reader.processStat(process.pid);
  assert.ok(stat.numThreads >= 1);
  assert.ok((reader.processStatus(process.pid).rssBytes ?? 0) > 1024 * 1024);
});

test.run();
