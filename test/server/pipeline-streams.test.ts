/**
 * The call pipeline's server streams, in process: a stream that ends leaves nothing behind on the
 * server's shutdown signal, which lives as long as the process. Node 20's AbortSignal.any kept a
 * reference in it for every stream (about 100 bytes each, for good: a client re-opening its
 * WatchAnomalies or a load balancer's health Watch grew the heap without bound).
 */
import { create } from '@bufbuild/protobuf';
import { trace } from '@opentelemetry/api';
import { getEventListeners } from 'node:events';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Health, HealthCheckRequestSchema, type HealthCheckResponse } from '../../gen/ts/grpc/health/v1/health_pb.js';
import { CallPipeline } from '../../src/server/pipeline/invoke.js';
import { healthBinding, HealthStatuses } from '../../src/server/services/grpc-health.js';

/** Where Node 20 keeps the signals AbortSignal.any made from this one (an internal Set of WeakRefs). */
function dependants(signal: AbortSignal): number {
  const key = Object.getOwnPropertySymbols(signal).find((s) => s.description === 'kDependantSignals');
  return key === undefined ? 0 : (signal as unknown as Record<symbol, Set<unknown>>)[key]!.size;
}

test('ended streams leave no reference on the shutdown signal', async () => {
  const shutdown = new AbortController();
  const pipeline = new CallPipeline(trace.getTracer('test'), () => undefined, shutdown.signal);
  const binding = healthBinding(new HealthStatuses(['svc']));
  const watch = Health.method.watch;
  const streams = 2_000;
  for (let i = 0; i < streams; i++) {
    const call = new AbortController();
    const ctx = { protocol: 'grpc' as const, method: watch, requestHeaders: new Headers(), signal: call.signal };
    const stream = pipeline.serverStream(binding, watch, create(HealthCheckRequestSchema, { service: 'svc' }), ctx);
    await stream.next();
    call.abort(); // the client goes away after the first status
    const end = await stream.next().catch((error: Error) => error);
    assert.instance(end, Error, 'a canceled stream ends with its error');
  }
  assert.is(dependants(shutdown.signal), 0, 'signals combined with the shutdown signal');
  assert.is(getEventListeners(shutdown.signal, 'abort').length, 0, 'listeners left on the shutdown signal');
});

test('a stream still ends cleanly when the server shuts down', async () => {
  const shutdown = new AbortController();
  const pipeline = new CallPipeline(trace.getTracer('test'), () => undefined, shutdown.signal);
  const statuses = new HealthStatuses(['svc']);
  const watch = Health.method.watch;
  const ctx = { protocol: 'grpc' as const, method: watch, requestHeaders: new Headers(), signal: new AbortController().signal };
  const seen: number[] = [];
  for await (const message of pipeline.serverStream(healthBinding(statuses), watch, create(HealthCheckRequestSchema, { service: 'svc' }), ctx)) {
    seen.push((message as HealthCheckResponse).status);
    if (seen.length === 1) shutdown.abort();
  }
  assert.ok(seen.length >= 1, 'the first status came');
});

test.run();
