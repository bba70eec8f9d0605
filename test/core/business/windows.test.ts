import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { LATENCY_RELATIVE_ERROR } from '../../../src/core/business/index.js';
import { BIN_COUNT, binOf, quantileOf } from '../../../src/core/business/latency-histogram.js';
import { event, setup } from './setup.js';

const MIN = 60_000;

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
