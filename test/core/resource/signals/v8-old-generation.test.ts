/**
 * The heap signal is the V8 old generation against its own limit: heap_size_limit less the young
 * generation's reservation, which --max-old-space-size gives exactly and V8's own sizing rule gives
 * otherwise. The rule is checked against figures measured on Node 20 and against the Node running
 * the tests; the monitor is fed statistics and flags through the injected source.
 */
import { spawn } from 'node:child_process';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ProcReader } from '../../../../src/core/procfs/reader.js';
import { PressureMonitor } from '../../../../src/core/resource/signals/monitor.js';
import { v8OldGeneration, type V8HeapSource } from '../../../../src/core/resource/signals/providers.js';
import { v8FlagMiB, youngGenerationBytes } from '../../../../src/core/resource/signals/v8-old-generation.js';
import { FakeClock } from '../../../support/fake-clock.js';
import { FixtureRoot } from '../../procfs/fixture-root.js';

const MiB = 2 ** 20;

test('--max-old-space-size: NODE_OPTIONS, then the command line, the last one winning; 0 is not set', () => {
  assert.is(v8FlagMiB('max-old-space-size', [], undefined), undefined);
  assert.is(v8FlagMiB('max-old-space-size', ['--max-semi-space-size=4', '--inspect'], '--enable-source-maps'), undefined);
  assert.is(v8FlagMiB('max-old-space-size', ['--max-old-space-size=40'], undefined), 40);
  assert.is(v8FlagMiB('max-old-space-size', [], '--max_old_space_size=256'), 256);
  assert.is(v8FlagMiB('max-old-space-size', [], '--max-old-space-size="80" --trace-warnings'), 80);
  assert.is(v8FlagMiB('max-old-space-size', [], '--max-old-space-size=60 --max_old_space_size=70'), 70);
  assert.is(v8FlagMiB('max-old-space-size', ['--max-old-space-size=40'], '--max-old-space-size=60'), 40, 'the command line comes after NODE_OPTIONS');
  assert.is(v8FlagMiB('max-old-space-size', ['--max-old-space-size=0'], '--max-old-space-size=60'), undefined, "0 is V8's default");
});

test('the young reservation: heap_size_limit less --max-old-space-size where set, else V8 own rule (measured on Node 20)', () => {
  // node --max-old-space-size=40: 88 MiB; with --max-semi-space-size=4 as well: 52 MiB.
  assert.is(youngGenerationBytes(88 * MiB, 40), 48 * MiB);
  assert.is(youngGenerationBytes(52 * MiB, 40), 12 * MiB);
  assert.is(youngGenerationBytes(1072 * MiB, 1024), 48 * MiB);
  // --max-semi-space-size alone (node --max-semi-space-size=64: 4288 MiB; =5: 4120, rounded up to 8).
  assert.is(v8FlagMiB('max-semi-space-size', ['--max-semi-space-size=64'], undefined), 64);
  assert.is(youngGenerationBytes(4288 * MiB, undefined, 64), 192 * MiB);
  assert.is(youngGenerationBytes(4120 * MiB, undefined, 5), 24 * MiB);
  // Limits V8 derived itself (from memory, or --max-heap-size), with the semi-space V8 gave each.
  const measured: Array<[limitMiB: number, semiMiB: number]> = [
    [100, 1],
    [200, 1],
    [259, 1],
    [300, 4],
    [500, 4],
    [1000, 8],
    [1048, 8],
    [2000, 16],
    [4144, 16],
  ];
  for (const [limit, semi] of measured) assert.is(youngGenerationBytes(limit * MiB) / MiB, 3 * semi, `${limit} MiB`);
});

/** The semi-space a real Node gives a heap, from its new space grown to full size by churn. */
function measureNode(flags: string[]): Promise<{ limit: number; semi: number }> {
  const script = `const v8 = require('v8'); let keep = [];
for (let i = 0; i < 3e6; i++) { keep.push({ a: i, b: [i, i] }); if (keep.length > 200000) keep = []; }
const ns = v8.getHeapSpaceStatistics().find((s) => s.space_name === 'new_space');
console.log(JSON.stringify({ limit: v8.getHeapStatistics().heap_size_limit, semi: ns.space_size / 2 }));`;
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...flags, '-e', script], { env: { ...process.env, NODE_OPTIONS: '' } });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve(JSON.parse(out)) : reject(new Error(`node ${flags.join(' ')} exited with ${code}`))));
  });
}

test('the rule holds for the Node running the tests: its default heap and heaps it sizes from --max-heap-size', async () => {
  const cases = [[], ['--max-heap-size=259'], ['--max-heap-size=500'], ['--max-heap-size=1000'], ['--max-heap-size=2000']];
  const measured = await Promise.all(cases.map(measureNode));
  cases.forEach((flags, i) => {
    const { limit, semi } = measured[i]!;
    assert.is(youngGenerationBytes(limit), 3 * semi, `node ${flags.join(' ')}: heap_size_limit ${limit / MiB} MiB, semi-space ${semi / MiB} MiB`);
  });
});

/** V8 figures the test sets: `usedMiB` in all, `youngMiB` of it in the new spaces. */
function v8Source(heapSizeLimitMiB: number, usedMiB: number, youngMiB: number, execArgv: string[] = [], nodeOptions?: string): V8HeapSource {
  return {
    heapStatistics: () => ({ used_heap_size: usedMiB * MiB, heap_size_limit: heapSizeLimitMiB * MiB }),
    heapSpaceStatistics: () => [
      { space_name: 'read_only_space', space_used_size: 0 },
      { space_name: 'new_space', space_used_size: (youngMiB / 2) * MiB },
      { space_name: 'old_space', space_used_size: (usedMiB - youngMiB - 2) * MiB },
      { space_name: 'code_space', space_used_size: 1 * MiB },
      { space_name: 'large_object_space', space_used_size: 1 * MiB },
      { space_name: 'new_large_object_space', space_used_size: (youngMiB / 2) * MiB },
    ],
    execArgv,
    nodeOptions,
  };
}

test('the old generation against its own limit: the new spaces and the young reservation left out', () => {
  const flagged = v8OldGeneration(v8Source(88, 45, 8, [], '--max-old-space-size=40'))();
  assert.equal(flagged, { usedBytes: 37 * MiB, limitBytes: 40 * MiB, source: 'v8 old generation (heap less new spaces), limit --max-old-space-size=40' });
  const sized = v8OldGeneration(v8Source(4144, 100, 10))();
  assert.equal(sized, { usedBytes: 90 * MiB, limitBytes: 4096 * MiB, source: "v8 old generation (heap less new spaces), limit heap_size_limit less V8's 48 MiB young generation" });
});

test('a 40 MiB old generation 92 % full is memory pressure, though the heap is only 42 % of heap_size_limit', () => {
  const root = new FixtureRoot('cgroup-v2-limited');
  const monitor = new PressureMonitor({
    clock: new FakeClock(),
    reader: new ProcReader({ root: root.path }),
    heap: v8OldGeneration(v8Source(88, 37, 0.2, ['--max-old-space-size=40'])),
    eventLoop: { sample: () => ({ delayP99Ms: 0, utilization: 0 }) },
  });
  try {
    const snap = monitor.sample();
    assert.ok(Math.abs(snap.heap!.utilization - 36.8 / 40) < 1e-12, `old generation ${snap.heap!.utilization}`);
    assert.is(snap.heap!.limitBytes, 40 * MiB);
    assert.is(snap.memoryPressure, true);
    assert.equal(monitor.detail().memoryPressureCauses, ['heap']);
  } finally {
    monitor.close();
    root.remove();
  }
});

test.run();
