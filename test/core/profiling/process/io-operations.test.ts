import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { IoOperationRecorder, MAX_IO_BATCH, MAX_IO_BYTES, type IoOperation } from '../../../../src/core/profiling/process/io-operations.js';
import { LatencyHistogram, PERCENTILE_RELATIVE_ERROR } from '../../../../src/core/profiling/process/latency-histogram.js';
import { errorOf } from '../../../support/errors.js';

test('counts, bytes and average latency per direction', () => {
  const recorder = new IoOperationRecorder();
  recorder.record([
    { direction: 'read', bytes: 1024, latencyUs: 100 },
    { direction: 'read', bytes: 2048, latencyUs: 300 },
    { direction: 'write', bytes: 4096, latencyUs: 1000 },
  ]);
  recorder.record({ direction: 'write', bytes: 0, latencyUs: 0 });
  const stats = recorder.stats();
  assert.equal([stats.read.operations, stats.read.bytes, stats.read.avgLatencyUs], [2, 3072n, 200]);
  assert.equal([stats.write.operations, stats.write.bytes, stats.write.avgLatencyUs], [2, 4096n, 500]);
});

test('operations without a measured latency count in operations and bytes, not in the latency figures', () => {
  const recorder = new IoOperationRecorder();
  recorder.record([
    ...Array.from({ length: 10 }, (): IoOperation => ({ direction: 'read', bytes: 100, latencyUs: 1000 })),
    ...Array.from({ length: 11 }, (): IoOperation => ({ direction: 'read', bytes: 100 })),
    { direction: 'write', bytes: 7 },
  ]);
  const { read, write } = recorder.stats();
  assert.equal([read.operations, read.bytes, read.avgLatencyUs], [21, 2100n, 1000]);
  assert.ok(Math.abs(read.p50LatencyUs! - 1000) <= 1000 * PERCENTILE_RELATIVE_ERROR, `p50 ${read.p50LatencyUs}`);
  assert.equal(write, { operations: 1, bytes: 7n }, 'no latency figures without a measured latency');
});

test('an empty recorder reports zero operations and no latency figures', () => {
  const stats = new IoOperationRecorder().stats();
  assert.equal(stats.read, { operations: 0, bytes: 0n });
});

test('percentiles are within the stated error bound', () => {
  const recorder = new IoOperationRecorder();
  // A skewed spread: 1..100000 us, with a long tail.
  const latencies = Array.from({ length: 20000 }, (_, i) => 1 + ((i * 7919) % 20000) ** 2 / 4000);
  for (let i = 0; i < latencies.length; i += 1000) {
    recorder.record(latencies.slice(i, i + 1000).map((latencyUs) => ({ direction: 'read' as const, bytes: 1, latencyUs })));
  }
  const sorted = [...latencies].sort((a, b) => a - b);
  const exact = (q: number) => sorted[Math.ceil(q * sorted.length) - 1];
  const stats = recorder.stats();
  assert.ok(PERCENTILE_RELATIVE_ERROR < 0.01);
  for (const [q, estimate] of [[0.5, stats.read.p50LatencyUs], [0.95, stats.read.p95LatencyUs], [0.99, stats.read.p99LatencyUs]] as const) {
    const error = Math.abs((estimate ?? 0) - exact(q)) / exact(q);
    assert.ok(error <= PERCENTILE_RELATIVE_ERROR + 1e-12, `p${q * 100}: ${estimate} vs ${exact(q)} (${error})`);
  }
});

test('the histogram never grows, whatever is recorded', () => {
  const histogram = new LatencyHistogram();
  const buckets = histogram.bucketCount;
  for (let i = 0; i < 100_000; i++) histogram.record(Math.random() * 10 ** (i % 12));
  histogram.record(Number.MAX_VALUE);
  assert.is(histogram.bucketCount, buckets);
  assert.ok(buckets < 1200);
  assert.is(histogram.percentile(1), Number.MAX_VALUE);
  assert.is(histogram.count, 100_001);
});

test('bad operations are rejected naming the element and field, and nothing is recorded', () => {
  const recorder = new IoOperationRecorder();
  const ok: IoOperation = { direction: 'read', bytes: 1, latencyUs: 1 };
  const cases: [unknown, string][] = [
    [[ok, ok, { ...ok, latencyUs: -1 }], 'operations[2].latency_us'],
    [[ok, { ...ok, latencyUs: Number.NaN }], 'operations[1].latency_us'],
    [[{ ...ok, bytes: -5 }], 'operations[0].bytes'],
    [[ok, { ...ok, bytes: 1.5 }], 'operations[1].bytes'],
    [[{ ...ok, direction: 'delete' }], 'operations[0].direction'],
    [{ ...ok, latencyUs: Number.POSITIVE_INFINITY }, 'latency_us'],
  ];
  for (const [input, field] of cases) {
    const error = errorOf(() => recorder.record(input as IoOperation[]));
    assert.is(error.kind, 'invalid_argument');
    assert.is(error.field, field);
  }
  assert.is(recorder.stats().read.operations, 0);
});

test('byte counts and totals are exact over the uint64 range, past 2^53', () => {
  const recorder = new IoOperationRecorder();
  // 2^53 as a uint64 arrives as a bigint; 2^53 - 1 is still a safe number.
  recorder.record({ direction: 'read', bytes: 2n ** 53n, latencyUs: 1 });
  recorder.record({ direction: 'write', bytes: Number.MAX_SAFE_INTEGER, latencyUs: 1 });
  for (let i = 0; i < 5; i++) recorder.record({ direction: 'write', bytes: 1, latencyUs: 1 });
  recorder.record({ direction: 'write', bytes: 1n, latencyUs: 1 });
  const stats = recorder.stats();
  assert.is(stats.read.bytes, 9_007_199_254_740_992n);
  assert.is(stats.write.bytes, 9_007_199_254_740_997n, 'no 1-byte write lost above 2^53');
  assert.is(stats.write.operations, 7);
});

test('the largest uint64 is accepted, and a total that reaches it saturates instead of wrapping or dropping', () => {
  const recorder = new IoOperationRecorder();
  assert.is(MAX_IO_BYTES, 18_446_744_073_709_551_615n);
  recorder.record({ direction: 'read', bytes: 10n, latencyUs: 1 });
  recorder.record({ direction: 'read', bytes: MAX_IO_BYTES, latencyUs: 1 });
  recorder.record([{ direction: 'read', bytes: 1, latencyUs: 1 }, { direction: 'read', bytes: MAX_IO_BYTES, latencyUs: 1 }]);
  const { read } = recorder.stats();
  assert.is(read.bytes, MAX_IO_BYTES);
  assert.is(read.operations, 4, 'the operations themselves are all counted');
});

test('byte counts outside uint64 are refused with a message naming the bound', () => {
  const recorder = new IoOperationRecorder();
  const ok: IoOperation = { direction: 'write', bytes: 1, latencyUs: 1 };
  const cases: [IoOperation['bytes'], string][] = [
    [-1n, 'operations[1].bytes: must be an integer from 0 to 18446744073709551615 (2^64 - 1), got -1'],
    [2n ** 64n, 'operations[1].bytes: must be an integer from 0 to 18446744073709551615 (2^64 - 1), got 18446744073709551616'],
    [-5, 'operations[1].bytes: must be an integer from 0 to 18446744073709551615 (2^64 - 1)'],
    [1.5, 'operations[1].bytes: must be an integer from 0 to 18446744073709551615 (2^64 - 1)'],
    [2 ** 53, 'operations[1].bytes: a number above 9007199254740991 (2^53 - 1) is not exact; give the count as a bigint'],
  ];
  for (const [bytes, message] of cases) {
    const error = errorOf(() => recorder.record([ok, { ...ok, bytes }]));
    assert.is(error.kind, 'invalid_argument');
    assert.is(error.field, 'operations[1].bytes');
    assert.is(error.message, message);
  }
  assert.equal(recorder.stats().write, { operations: 0, bytes: 0n }, 'nothing recorded');
});

test('a batch larger than the cap is refused whole', () => {
  const recorder = new IoOperationRecorder();
  const batch = Array.from({ length: MAX_IO_BATCH + 1 }, () => ({ direction: 'write' as const, bytes: 1, latencyUs: 1 }));
  assert.is(errorOf(() => recorder.record(batch)).field, 'operations');
  recorder.record(batch.slice(0, MAX_IO_BATCH));
  assert.is(recorder.stats().write.operations, MAX_IO_BATCH);
});

test.run();
