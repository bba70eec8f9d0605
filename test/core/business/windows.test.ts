import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { LATENCY_RELATIVE_ERROR } from '../../../src/core/business/index.js';
import { BIN_COUNT, binOf, quantileOf } from '../../../src/core/business/latency-histogram.js';
import { event, setup } from './setup.js';

const MIN = 60_000;
const GIB = 2 ** 30;

function assertNear(got: number, want: number, relative: number, what: string): void {
  assert.ok(Math.abs(got - want) <= relative * Math.abs(want), `${what}: ${got}, want ${want}`);
}

test('transfer rates cover the sliding window and forget older seconds', () => {
  const { business, clock } = setup();
  business.ingest([event({ operation: 'put_object', bytesIn: 6000 }), event({ bytesOut: 60_000 })]);
  let t = business.report().dataTransfer;
  assert.equal([t.uploadRateBytesPerSec, t.downloadRateBytesPerSec], [100, 1000]);
  clock.advance(59_000);
  t = business.report().dataTransfer;
  assert.is(t.uploadRateBytesPerSec, 100, 'still inside the 60 s window');
  clock.advance(1_000);
  t = business.report().dataTransfer;
  assert.equal([t.uploadRateBytesPerSec, t.downloadRateBytesPerSec], [0, 0]);
  assert.equal([t.totalUploadedBytes, t.totalDownloadedBytes], [6000n, 60_000n], 'totals are kept');
  assert.equal([t.peakUploadRateBytesPerSec, t.peakDownloadRateBytesPerSec], [100, 1000], 'peaks are kept');
});

test('the peak is the highest window rate seen, forgotten after a day', () => {
  const { business, clock } = setup();
  business.ingest([event({ bytesOut: 6000 })]);
  clock.advance(10_000);
  business.ingest([event({ bytesOut: 12_000 })]);
  assert.is(business.report().dataTransfer.peakDownloadRateBytesPerSec, 300, 'both in the window: 18000 / 60');
  clock.advance(5 * MIN);
  business.ingest([event({ bytesOut: 600 })]);
  const t = business.report().dataTransfer;
  assert.equal([t.downloadRateBytesPerSec, t.peakDownloadRateBytesPerSec], [10, 300]);
  clock.advance(24 * 60 * MIN);
  assert.is(business.report().dataTransfer.peakDownloadRateBytesPerSec, 0);
});

test('after the wall clock steps back a day, new requests count in the window and the peak at once', () => {
  const { business, clock } = setup();
  business.ingest([event({ bytesOut: 60_000 })]);
  clock.advance(-24 * 60 * MIN);
  business.ingest([event({ bytesOut: 6000, latencyMs: 40 })]);
  const r = business.report();
  assert.is(r.dataTransfer.downloadRateBytesPerSec, 100, 'the new second only: the one a day ahead is not in the window');
  assert.ok(r.requestPatterns.p50LatencyMs !== null && Math.abs(r.requestPatterns.p50LatencyMs - 40) <= 40 * LATENCY_RELATIVE_ERROR);
  clock.advance(2 * MIN);
  assert.is(business.report().dataTransfer.peakDownloadRateBytesPerSec, 100, 'the peak of the new minute, kept once the window moved on');
});

test('the 60 s window holds 60 s: one upload a second for a minute reads its rate, in every figure', () => {
  const { business, clock } = setup();
  const now = clock.nowMs();
  // One 1e6-byte upload a second at now - 59.5 s ... now - 0.5 s; the first one failed, slowly.
  business.ingest(
    Array.from({ length: 60 }, (_, k) =>
      event({ operation: 'put_object', timeMs: now - 59_500 + k * 1000, bytesIn: 1e6, ...(k === 0 ? { status: 503, latencyMs: 500 } : {}) }),
    ),
  );
  let r = business.report();
  // Whole-second slots held 59 of them, and read 983,333 B/s and 0.9833 requests a second.
  assertNear(r.dataTransfer.uploadRateBytesPerSec, 1e6, 1e-9, 'upload rate');
  assertNear(r.requestPatterns.requestsPerSec, 1, 1e-9, 'requests per second');
  assertNear(r.requestPatterns.errorRate, 1 / 60, 1e-9, 'the failed one is in the window of the error rate');
  assertNear(r.requestPatterns.p99LatencyMs!, 500, LATENCY_RELATIVE_ERROR, 'and in the window of the latency percentiles: p99');
  // (now - 60 s, now]: 59.001 s ago is in it, 60 s ago is not.
  business.ingest([event({ timeMs: now - 60_000, bytesOut: 7, latencyMs: undefined }), event({ timeMs: now - 59_001, bytesOut: 11, latencyMs: undefined })]);
  r = business.report();
  assertNear(r.dataTransfer.downloadRateBytesPerSec * 60, 11, 1e-9, 'bytes out in the window');
});

test('a steady stream reads its rate whatever the phase of now within the second', () => {
  const { business, clock } = setup();
  const start = clock.nowMs();
  // Ten 1000-byte downloads a second, one every 100 ms, up to `ms` after the start.
  let next = 0;
  const runUntil = (ms: number) => {
    for (; next <= ms; next += 100) {
      clock.set(start + next);
      business.ingest([event({ bytesOut: 1000, latencyMs: undefined })]);
    }
    clock.set(start + ms);
  };
  for (let phase = 0; phase < 1000; phase += 37) {
    runUntil(120_000 + phase);
    const r = business.report();
    // Whole-second slots read up to 1/60 (1.7%) low; the oldest second's ten downloads count as if
    // spread evenly over it, at most one off of the 600.
    assertNear(r.dataTransfer.downloadRateBytesPerSec, 10_000, 0.002, `download rate at +${phase} ms`);
    assertNear(r.requestPatterns.requestsPerSec, 10, 0.002, `requests per second at +${phase} ms`);
  }
});

test("a request's bytes are spread over its latency: a one-hour upload counts the minute of it in the window", () => {
  const { business, clock } = setup();
  business.ingest([event({ operation: 'multipart_upload', bytesIn: 100 * GIB, latencyMs: 3_600_000 })]);
  let t = business.report().dataTransfer;
  // All of it in the second it completed read 100 GiB / 60 s, 1,789,569,707 B/s, as rate and peak.
  assertNear(t.uploadRateBytesPerSec, (100 * GIB) / 3600, 1e-9, 'upload rate');
  assertNear(t.peakUploadRateBytesPerSec, (100 * GIB) / 3600, 1e-9, 'peak upload rate');
  assert.is(business.report().requestPatterns.requestsPerSec, 1 / 60, 'the request counts once, when it completed');
  clock.advance(30_000);
  t = business.report().dataTransfer;
  assertNear(t.uploadRateBytesPerSec, (100 * GIB) / 3600 / 2, 1e-9, 'half a minute later the window holds half a minute of it');
  // A two-minute download completing at a half second: 60 of its 120 seconds in the window.
  clock.advance(500);
  business.ingest([event({ bytesOut: 120e6, latencyMs: 120_000 })]);
  assertNear(business.report().dataTransfer.downloadRateBytesPerSec, 1e6, 1e-9, 'download rate');
  assertNear(business.report().dataTransfer.peakDownloadRateBytesPerSec, 1e6, 1e-9, 'peak download rate');
  // A latency under a microsecond, which epoch milliseconds would round away: all of it counts.
  business.ingest([event({ bytesOut: 60e6, latencyMs: 0.0001 })]);
  assertNear(business.report().dataTransfer.downloadRateBytesPerSec, 2e6, 1e-9, 'download rate with a 100 ns request');
});

test('a latency of centuries costs one add per second of the window, and counts its share', () => {
  const { business } = setup();
  const centuriesMs = 300 * 365 * 24 * 3_600_000;
  const started = performance.now();
  for (let i = 0; i < 1000; i++) business.ingest([event({ bytesOut: 1e15, latencyMs: centuriesMs })]);
  const tookMs = performance.now() - started;
  // Of each, the 60 s in the window; a loop over its 9.5e9 seconds would not end for hours.
  assertNear(business.report().dataTransfer.downloadRateBytesPerSec, (1000 * 1e15) / (centuriesMs / 1000), 1e-9, 'download rate');
  assert.ok(tookMs < 5000, `1000 events took ${tookMs.toFixed(0)} ms`);
});

test('events older than the window count in totals only', () => {
  const { business, clock } = setup();
  business.ingest([event({ timeMs: clock.nowMs() - 2 * MIN, bytesOut: 999, latencyMs: 5 })]);
  const r = business.report();
  assert.is(r.dataTransfer.downloadRateBytesPerSec, 0);
  assert.is(r.requestPatterns.p50LatencyMs, null);
  assert.is(r.requestPatterns.totalRequests, 1);
  assert.is(r.dataTransfer.totalDownloadedBytes, 999n);
});

test('latency percentiles over the window, within the stated error', () => {
  const { business, clock } = setup();
  business.ingest(Array.from({ length: 1000 }, (_, i) => event({ latencyMs: i + 1 })));
  const r = business.report().requestPatterns;
  for (const [got, want] of [
    [r.p50LatencyMs, 500],
    [r.p95LatencyMs, 950],
    [r.p99LatencyMs, 990],
  ] as const) {
    assert.ok(got !== null && Math.abs(got - want) <= want * LATENCY_RELATIVE_ERROR, `${got} vs ${want}`);
  }
  clock.advance(MIN);
  assert.is(business.report().requestPatterns.p99LatencyMs, null, 'the window forgot them');
});

test('requests without a measured latency count in every figure but the latency ones', async () => {
  const { business, metrics } = setup();
  business.ingest([
    ...Array.from({ length: 10 }, () => event({ operation: 'head_object', latencyMs: 100 })),
    ...Array.from({ length: 11 }, () => event({ operation: 'head_object', latencyMs: undefined })),
  ]);
  const r = business.report().requestPatterns;
  assert.is(r.totalRequests, 21);
  for (const got of [r.p50LatencyMs, r.p99LatencyMs]) {
    assert.ok(got !== null && Math.abs(got - 100) <= 100 * LATENCY_RELATIVE_ERROR, `${got}: only measured latencies make the percentiles`);
  }
  const text = await metrics.exportPrometheus();
  assert.match(text, /^rs3gw_request_duration_seconds_count\{operation="head_object"\} 10$/m);
  assert.match(text, /^rs3gw_requests_total\{operation="head_object",status_class="2xx"\} 21$/m);
});

test('log histogram quantiles stay within 1% of the exact nearest-rank quantile', () => {
  let seed = 42;
  const random = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
  for (let trial = 0; trial < 20; trial++) {
    const values = Array.from({ length: 500 }, () => Math.exp(random() * 16 - 4)); // ~0.02 ms .. 160 s
    const counts = new Uint32Array(BIN_COUNT);
    for (const v of values) counts[binOf(v)] += 1;
    const sorted = [...values].sort((a, b) => a - b);
    for (const q of [0.01, 0.5, 0.9, 0.95, 0.99, 1]) {
      const exact = sorted[Math.max(1, Math.ceil(q * values.length)) - 1];
      const got = quantileOf(counts, values.length, q)!;
      assert.ok(Math.abs(got - exact) <= exact * LATENCY_RELATIVE_ERROR + 1e-12, `q${q}: ${got} vs ${exact}`);
    }
  }
  assert.is(quantileOf(new Uint32Array(BIN_COUNT), 0, 0.5), null);
  assert.is(binOf(0), 0);
  assert.is(binOf(1e12), BIN_COUNT - 1, 'huge latencies land in the top bin');
});

test('error rates over the window: errorRate counts 4xx and 5xx, also given apart', () => {
  const { business, clock } = setup();
  business.ingest([
    ...Array.from({ length: 6 }, () => event()),
    event({ status: 404 }),
    event({ status: 403 }),
    event({ status: 503 }),
    event({ status: 301 }),
  ]);
  let r = business.report().requestPatterns;
  assert.equal([r.errorRate, r.clientErrorRate, r.serverErrorRate], [0.3, 0.2, 0.1]);
  assert.equal([r.serverErrors, r.clientErrors, r.totalRequests], [1, 2, 10]);
  assert.is(r.requestsPerSec, 10 / 60);
  clock.advance(MIN);
  business.ingest([event()]);
  r = business.report().requestPatterns;
  assert.equal([r.errorRate, r.clientErrorRate, r.serverErrorRate, r.totalRequests, r.serverErrors], [0, 0, 0, 11, 1]);
});

test('a shorter configured window forgets sooner', () => {
  const { business, clock } = setup({ limits: { windowSeconds: 10 } });
  business.ingest([event({ bytesIn: 100, operation: 'put_object' })]);
  assert.is(business.report().dataTransfer.uploadRateBytesPerSec, 10);
  clock.advance(10_000);
  assert.is(business.report().dataTransfer.uploadRateBytesPerSec, 0);
});

test.run();
